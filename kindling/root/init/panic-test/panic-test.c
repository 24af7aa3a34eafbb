/* panic-test: a guest service that crashes on purpose, to watch its
 * supervisor restart it.
 *
 * Requests (docs/protocols.md's request/response convention, any op form):
 *
 *   "ping"                 ok: "pong".
 *   "pid"                  ok: this incarnation's pid (a restart gives a new one).
 *   "panic", ["panic", seconds], {"op": "panic", "seconds": s}
 *       ok: "panicking"; then, once `seconds` (default 0, a finite number
 *       >= 0) have passed on the runtime's clock, the guest exits with the
 *       error reason ("error", "PanicTest", message, ""). The reply is sent
 *       first, so a client sees its answer and then the Down. Other
 *       requests are served until the crash is due; the earliest panic
 *       asked for stands.
 *
 * Malformed requests get invalid_request replies. The delay is an SDK
 * timer (a child that sleeps, then writes to the `due` mailbox).
 */
#include <hearth.h>

static const char PANIC_REASON[] =
    "\x94\xa5" "error" "\xa9" "PanicTest"
    "\xd9\x31" "panic-test crashed on purpose, as it was asked to" "\xa0";

typedef struct panic_state {
    hearth_mb due; /* a timer writes here when a panic is due */
} panic_state;

static bool seconds_of(const hearth_request *req, double *out) {
    hearth_mp_reader r;
    hearth_mp_value v;
    *out = 0;
    if (!hearth_request_field(req, 0, "seconds", &r))
        return true; /* the default */
    if (!hearth_mp_read(&r, &v))
        return false;
    if (v.type == HEARTH_MP_INT)
        *out = (double)v.i;
    else if (v.type == HEARTH_MP_UINT)
        *out = (double)v.u;
    else if (v.type == HEARTH_MP_FLOAT)
        *out = v.f;
    else
        return false;
    return *out >= 0 && *out <= 1e9; /* finite (NaN fails both), and a timeout wasm can hold */
}

static void crash(void) { hearth_exit(PANIC_REASON, sizeof PANIC_REASON - 1); }

static bool handle(void *state, const hearth_request *req) {
    panic_state *p = state;
    double seconds;
    if (hearth_request_is(req, "ping", 0))
        hearth_reply_str(req, "pong");
    else if (hearth_request_is(req, "pid", 0))
        hearth_reply_int(req, hearth_pid());
    else if (hearth_request_is(req, "panic", 1)) {
        if (!seconds_of(req, &seconds)) {
            hearth_reply_error(req, "invalid_request", "seconds is a finite number >= 0");
            return true;
        }
        /* Armed before the answer; the crash comes through the loop, after it. */
        hearth_cap due = hearth_make_capability(p->due, HEARTH_SEND);
        hearth_cap timer = hearth_timer_after((uint64_t)(seconds * 1e9), due, "due", 3);
        hearth_dec_ref(timer);
        hearth_dec_ref(due);
        hearth_reply_str(req, "panicking");
    } else
        hearth_reply_error(req, "invalid_request", "unknown op, or wrong fields; ops: ping, pid, panic [seconds]");
    return true;
}

static void info(void *state, const hearth_signal *sig) {
    (void)state;
    if (sig->index == 1 && sig->kind == HEARTH_MESSAGE)
        crash(); /* the first timer to fire: the earliest panic */
}

void hearth_metadata(void) {
    hearth_set_name("panic-test");
    hearth_set_description("Crashes on purpose when asked (\"panic\")");
}

void run(void) {
    panic_state p = {hearth_mailbox_create()};
    hearth_server server = {.handle = handle, .info = info, .state = &p,
                            .mailboxes = &p.due, .nmailboxes = 1};
    hearth_serve(&server);
}
