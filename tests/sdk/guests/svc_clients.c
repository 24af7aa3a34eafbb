/* Drives the SDK's typed clients against real services and against a
 * service that answers badly, and reports what each call returned.
 *
 * caps: 0 report (SEND), 1 registry, 2 hearth.UnixTime, 3 a liar (answers
 * each request as its script says), 4 a dead route, 5 a registry that may
 * not register (read-only view).
 * Report (msgpack map to caps[0]): name -> status (int), and a few values. */
#include <hearth.h>

#define REPORT 0u
#define REGISTRY 1u
#define UNIX_TIME 2u
#define LIAR 3u
#define DEAD 4u
#define READ_ONLY 5u

static hearth_mp_writer out;
static uint32_t nentries;

static void entry_int(const char *name, int64_t v) {
    hearth_mp_put_str(&out, name);
    hearth_mp_put_int(&out, v);
    nentries++;
}

void run(void) {
    static uint8_t body[4096];
    uint8_t head[8];
    hearth_mp_writer_init(&out, body, sizeof body);
    int64_t t;
    hearth_cap cap;
    hearth_reply reply;

    /* Real services. */
    entry_int("time", hearth_time_unix_now(UNIX_TIME, &t));
    entry_int("time_value", t);
    hearth_cap me = hearth_make_capability(HEARTH_PARENT, HEARTH_SEND | HEARTH_MONITOR);
    entry_int("register", hearth_registry_put(REGISTRY, "sdk.me", me));
    entry_int("register_taken", hearth_registry_put(REGISTRY, "sdk.me", me));
    entry_int("register_read_only", hearth_registry_put(READ_ONLY, "sdk.other", me));
    entry_int("lookup", hearth_registry_lookup(REGISTRY, "sdk.me", &cap));
    entry_int("lookup_perms", hearth_permissions(cap));
    hearth_dec_ref(cap);
    entry_int("lookup_missing", hearth_registry_lookup(REGISTRY, "sdk.nobody", &cap));
    entry_int("lookup_missing_cap", cap == HEARTH_NONE);
    uint32_t mark = hearth_mark();
    entry_int("list", hearth_registry_list(REGISTRY, &reply));
    uint32_t n = 0;
    hearth_mp_read_array(&reply.value, &n);
    entry_int("list_len", n);
    hearth_reply_release(&reply);
    hearth_release(mark);

    /* The liar's script: see test_service_clients.py. */
    entry_int("time_not_msgpack", hearth_time_unix_now(LIAR, &t));
    entry_int("time_not_an_int", hearth_time_unix_now(LIAR, &t));
    entry_int("time_err", hearth_time_unix_now(LIAR, &t));
    entry_int("lookup_not_a_cap", hearth_registry_lookup(LIAR, "x", &cap));
    entry_int("lookup_not_a_cap_none", cap == HEARTH_NONE);
    entry_int("time_two_keys", hearth_time_unix_now(LIAR, &t));
    entry_int("time_not_a_map", hearth_time_unix_now(LIAR, &t));
    entry_int("time_err_without_kind", hearth_time_unix_now(LIAR, &t));
    entry_int("list_not_an_array", hearth_registry_list(LIAR, &reply));
    hearth_reply_release(&reply);
    /* An err reply: its kind and message are readable. */
    uint8_t buf[32];
    hearth_mp_writer w;
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_mp_put_str(&w, "anything");
    mark = hearth_mark();
    entry_int("ask_err", hearth_ask(LIAR, &w, HEARTH_FOREVER, &reply));
    entry_int("ask_err_kind_is", hearth_reply_err_is(&reply, "nope"));
    entry_int("ask_err_message_len", reply.err_message_len);
    hearth_reply_release(&reply);
    hearth_release(mark);
    /* Silence: a timeout; a late answer must not confuse the next call. */
    entry_int("ask_silent", hearth_ask(LIAR, &w, 50 * 1000000ull, &reply));
    entry_int("time_after_silence", hearth_time_unix_now(LIAR, &t));
    entry_int("time_after_silence_value", t);
    /* A closed route, and an overflowing request. */
    entry_int("time_dead", hearth_time_unix_now(DEAD, &t));
    hearth_mp_request_init(&w, buf, 4);
    hearth_mp_put_str(&w, "far too long for four bytes");
    entry_int("ask_overflow", hearth_ask(REGISTRY, &w, HEARTH_FOREVER, &reply));

    hearth_mp_writer_init(&w, head, sizeof head);
    hearth_mp_put_map(&w, nentries);
    uint8_t *msg = hearth_alloc(w.len + out.len);
    memcpy(msg, head, w.len);
    memcpy(msg + w.len, body, out.len);
    hearth_send(REPORT, msg, w.len + out.len, 0, 0);
}
