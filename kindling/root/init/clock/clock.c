/* clock: tells the time and echoes — a guest service (the SDK's server loop).
 *
 * Requests (docs/protocols.md's request/response convention, any op form):
 *
 *   "now", ["now"], {"op": "now"}
 *       ok: an int, nanoseconds since the epoch, from hearth.UnixTime
 *       (looked up in the service's registry view, handle 0; its only need).
 *   ["echo", value], {"op": "echo", "value": v} (bare "echo": nil)
 *       ok: `value`, unchanged (capabilities in it come back too).
 *
 * Errors: invalid_request for a malformed request; unavailable when
 * hearth.UnixTime is not registered, does not answer in 5 s, or fails.
 * The service keeps serving either way.
 *
 * The time service's capability is cached; when a call finds its route
 * closed (a restart, say), the clock looks it up again and asks once more.
 * An Exit on mailbox 0 (an upgrade, or the front ending) ends the service.
 */
#include <hearth.h>

#define REGISTRY 0u
#define UNIX_TIME "hearth.UnixTime"

typedef struct clock_state {
    hearth_cap unix_time; /* cached, or HEARTH_NONE */
} clock_state;

static void forget(clock_state *c) {
    if (c->unix_time != HEARTH_NONE)
        hearth_dec_ref(c->unix_time);
    c->unix_time = HEARTH_NONE;
}

static void now(clock_state *c, const hearth_request *req) {
    hearth_status st = HEARTH_OK;
    int64_t t = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->unix_time == HEARTH_NONE) {
            st = hearth_registry_lookup(REGISTRY, UNIX_TIME, &c->unix_time);
            if (st == HEARTH_ERR_NOT_FOUND) {
                hearth_reply_error(req, "unavailable", UNIX_TIME " is not registered");
                return;
            }
            if (st != HEARTH_OK) {
                hearth_reply_error(req, "unavailable", "the registry did not answer");
                return;
            }
        }
        st = hearth_time_unix_now(c->unix_time, &t);
        if (st == HEARTH_OK) {
            hearth_reply_int(req, t);
            return;
        }
        if (st != HEARTH_ERR_GONE)
            break;
        forget(c); /* restarted: look it up again */
    }
    if (st == HEARTH_ERR_TIMEOUT || st == HEARTH_ERR_GONE)
        forget(c);
    hearth_reply_error(req, "unavailable", st == HEARTH_ERR_REPLY ? UNIX_TIME " failed"
                                         : st == HEARTH_ERR_BAD_REPLY ? UNIX_TIME " did not reply an int"
                                                                      : UNIX_TIME " did not answer");
}

static void echo(const hearth_request *req) {
    hearth_mp_reader value;
    hearth_mp_writer w;
    uint32_t size = req->sig->len + 16;
    hearth_reply_begin(&w, hearth_alloc(size), size);
    if (!hearth_request_field(req, 0, "value", &value))
        hearth_mp_put_nil(&w);
    else if (!hearth_mp_copy(&w, &value)) {
        hearth_reply_error(req, "invalid_request", "echo's value is malformed");
        return;
    }
    hearth_reply_send(req, &w);
}

static bool handle(void *state, const hearth_request *req) {
    if (hearth_request_is(req, "now", 0))
        now(state, req);
    else if (hearth_request_is(req, "echo", 1))
        echo(req);
    else
        hearth_reply_error(req, "invalid_request", "unknown op, or wrong fields; ops: now, echo [value]");
    return true;
}

void hearth_metadata(void) {
    hearth_set_name("clock");
    hearth_set_description("Tells the time (\"now\", from hearth.UnixTime) and echoes (\"echo\")");
}

void run(void) {
    clock_state c = {HEARTH_NONE};
    hearth_server server = {.handle = handle, .state = &c};
    hearth_serve(&server);
    forget(&c);
}
