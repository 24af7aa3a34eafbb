/* check.h — the conformance suite's harness: checks, traps, the report.
 *
 * A suite is a guest whose `run` calls its tests and then `check_report`,
 * which sends one msgpack map to the capability it names:
 *
 *     {"suite": str, "passed": int, "failed": [str, ...], "notes": {str: bin}}
 *
 * `failed` lists "line N: what" for each check that failed; `notes` carries
 * values the Python side checks against its own truth (a lump id, say).
 * Checks that a call traps run the call in a child spawned by index and
 * read the trap message from its Down.
 */
#ifndef CHECK_H
#define CHECK_H

#include <hearth.h>

static uint32_t check_passed;
static uint32_t check_nfailed;
static char check_failures[4096]; /* NUL-separated failure lines */
static uint32_t check_failures_len;

#define MAX_NOTES 8
static struct { const char *key; uint8_t data[64]; uint32_t len; } check_notes[MAX_NOTES];
static uint32_t check_nnotes;

static inline void check_append(const char *s, uint32_t n) {
    if (check_failures_len + n + 1 >= sizeof check_failures)
        n = 0; /* full: the count still says how many failed */
    memcpy(check_failures + check_failures_len, s, n);
    check_failures_len += n;
}

/* Record a failure: "line N: " then `a`, `b`, and `c_len` bytes of `c`. */
static inline void check_fail(int line, const char *a, const char *b, const char *c, uint32_t c_len) {
    char num[21];
    uint32_t start = check_failures_len;
    check_append("line ", 5);
    check_append(num, hearth_itoa(line, num));
    check_append(": ", 2);
    check_append(a, hearth_strlen(a));
    check_append(b, hearth_strlen(b));
    check_append(c, c_len);
    if (check_failures_len + 1 < sizeof check_failures)
        check_failures[check_failures_len++] = 0;
    else
        check_failures_len = start;
    check_nfailed++;
}

static inline bool check_(bool ok, const char *expr, int line) {
    if (ok)
        check_passed++;
    else
        check_fail(line, expr, "", "", 0);
    return ok;
}

#define CHECK(cond) check_((cond), #cond, __LINE__)

static inline void check_note(const char *key, const void *data, uint32_t len) {
    if (check_nnotes == MAX_NOTES || len > sizeof check_notes[0].data)
        __builtin_trap();
    check_notes[check_nnotes].key = key;
    memcpy(check_notes[check_nnotes].data, data, len);
    check_notes[check_nnotes++].len = len;
}

static inline void check_report(hearth_cap to, const char *suite) {
    static uint8_t buf[8192];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_map(&w, 4);
    hearth_mp_put_str(&w, "suite");
    hearth_mp_put_str(&w, suite);
    hearth_mp_put_str(&w, "passed");
    hearth_mp_put_uint(&w, check_passed);
    hearth_mp_put_str(&w, "failed");
    uint32_t shown = 0;
    for (uint32_t at = 0; at < check_failures_len; at += hearth_strlen(check_failures + at) + 1)
        shown++;
    hearth_mp_put_array(&w, shown);
    for (uint32_t at = 0; at < check_failures_len; at += hearth_strlen(check_failures + at) + 1)
        hearth_mp_put_str(&w, check_failures + at);
    hearth_mp_put_str(&w, "notes");
    hearth_mp_put_map(&w, check_nnotes);
    for (uint32_t i = 0; i < check_nnotes; i++) {
        hearth_mp_put_str(&w, check_notes[i].key);
        hearth_mp_put_bin(&w, check_notes[i].data, check_notes[i].len);
    }
    if (!hearth_mp_send(&w, to))
        __builtin_trap();
}

/* ---- exit reasons ------------------------------------------------------------ */

/* The message of a trap reason ["error", "Trap", message, report]. */
static inline bool trap_message(const hearth_signal *s, const char **msg, uint32_t *len) {
    hearth_mp_reader r;
    hearth_mp_value v;
    uint32_t n;
    hearth_mp_reader_of(&r, s);
    if (s->kind == HEARTH_MESSAGE || !hearth_mp_read_array(&r, &n) || n != 4)
        return false;
    if (!hearth_mp_read(&r, &v) || !hearth_mp_str_is(&v, "error"))
        return false;
    if (!hearth_mp_read(&r, &v) || !hearth_mp_str_is(&v, "Trap"))
        return false;
    return hearth_mp_read_str(&r, msg, len);
}

static inline bool contains(const char *hay, uint32_t n, const char *needle) {
    uint32_t m = hearth_strlen(needle);
    for (uint32_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* Is the signal's reason exactly these msgpack bytes? */
static inline bool reason_equals(const hearth_signal *s, const void *mp, uint32_t len) {
    return s->kind != HEARTH_MESSAGE && s->reason_len == len && memcmp(s->reason, mp, len) == 0;
}

/* Run `fn` in a child (with `caps`), and check that it traps with a message
 * containing `needle`. */
static inline bool expect_trap_(hearth_entry fn, const hearth_cap *caps, uint32_t n, const char *needle,
                         const char *what, int line) {
    uint32_t mark = hearth_mark();
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap child = hearth_spawn_monitor(fn, caps, n, mb);
    hearth_signal down;
    const char *msg = "";
    uint32_t len = 0;
    hearth_recv(mb, &down);
    bool ok = down.kind == HEARTH_DOWN && trap_message(&down, &msg, &len) && contains(msg, len, needle);
    if (ok) {
        check_passed++;
    } else {
        check_fail(line, what, " did not trap as expected; its trap: ", msg, len);
    }
    hearth_signal_release(&down);
    hearth_dec_ref(child);
    hearth_mailbox_destroy(mb);
    hearth_release(mark);
    return ok;
}

#define EXPECT_TRAP(fn, caps, n, needle) expect_trap_((fn), (caps), (n), (needle), #fn, __LINE__)

/* A guest's sends are delivered by the hub after the call returns, in order:
 * once a message to a fresh mailbox of ours has arrived, every message we
 * sent before it has been delivered too. */
static inline void flush_sends(void) {
    uint32_t mark = hearth_mark();
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap cap = hearth_make_capability(mb, HEARTH_SEND);
    hearth_signal s;
    hearth_send(cap, 0, 0, 0, 0);
    hearth_recv(mb, &s);
    hearth_dec_ref(cap);
    hearth_mailbox_destroy(mb);
    hearth_release(mark);
}

/* Spawn `fn` monitored from a fresh mailbox and wait for its Down. */
static inline void run_child(hearth_entry fn, const hearth_cap *caps, uint32_t n, hearth_signal *down) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap child = hearth_spawn_monitor(fn, caps, n, mb);
    hearth_recv(mb, down);
    hearth_dec_ref(child);
    hearth_mailbox_destroy(mb);
}

#endif
