/* counter-guest: a stock counter service written in C with the guest SDK.
 *
 * Init spawns it with its scoped, read-only registry view at handle 0 and
 * registers the capability of its mailbox 0 as "counter-guest"; requests
 * arrive on mailbox 0 in the convention of docs/protocols.md (caps[0] is the
 * reply capability; the reply is {"ok": value} or
 * {"err": {"kind": ..., "message": ...}}). Ops, in any of three forms:
 *
 *   "get"        ["get"]        {"op": "get"}          -> the count
 *   ["add", N]                  {"op": "add", "n": N}  -> the new count
 *   "reset"      ["reset"]      {"op": "reset"}        -> the count before
 *
 * A malformed request gets an invalid_request error; one without a reply
 * capability is dropped. The service keeps serving either way.
 *
 * Build: python -m kindling.sdk build counter.c -o counter.wasm */
#include <hearth.h>

static int64_t count;

void hearth_metadata(void) {
    hearth_set_name("counter-guest");
    hearth_set_description("a counter service written in C (stock kindling service)");
}

static void reply_ok(hearth_cap to, int64_t value) {
    uint8_t buf[32];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_map(&w, 1);
    hearth_mp_put_str(&w, "ok");
    hearth_mp_put_int(&w, value);
    hearth_mp_send(&w, to);
}

static void reply_err(hearth_cap to, const char *kind, const char *message) {
    uint8_t buf[256];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_map(&w, 1);
    hearth_mp_put_str(&w, "err");
    hearth_mp_put_map(&w, 2);
    hearth_mp_put_str(&w, "kind");
    hearth_mp_put_str(&w, kind);
    hearth_mp_put_str(&w, "message");
    hearth_mp_put_str(&w, message);
    hearth_mp_send(&w, to);
}

#define OP_NONE 0
#define OP_GET 1
#define OP_ADD 2
#define OP_RESET 3

static int op_of(const hearth_mp_value *v) {
    if (v->type != HEARTH_MP_STR)
        return OP_NONE;
    if (hearth_mp_str_is(v, "get"))
        return OP_GET;
    if (hearth_mp_str_is(v, "add"))
        return OP_ADD;
    if (hearth_mp_str_is(v, "reset"))
        return OP_RESET;
    return OP_NONE;
}

static void handle(const hearth_signal *msg) {
    hearth_mp_reader r;
    hearth_mp_value v, opv;
    int64_t n = 0;
    bool have_n = false;
    uint32_t nfields = 0;
    int op;
    if (msg->ncaps == 0)
        return; /* no reply capability: nobody to answer */
    hearth_cap reply = msg->caps[0];
    if (!(hearth_permissions(reply) & HEARTH_SEND))
        return;
    hearth_mp_reader_of(&r, msg);
    if (!hearth_mp_read(&r, &v)) {
        reply_err(reply, "invalid_request", "the request is not msgpack");
        return;
    }
    if (v.type == HEARTH_MP_STR) {                     /* "get" */
        op = op_of(&v);
    } else if (v.type == HEARTH_MP_ARRAY && v.len > 0) { /* ["add", 5] */
        if (!hearth_mp_read(&r, &opv)) {
            reply_err(reply, "invalid_request", "the request is not msgpack");
            return;
        }
        op = op_of(&opv);
        nfields = v.len - 1;
        if (op == OP_ADD && nfields == 1)
            have_n = hearth_mp_read_int(&r, &n);
    } else if (v.type == HEARTH_MP_MAP) {               /* {"op": "add", "n": 5} */
        hearth_mp_reader_of(&r, msg);
        if (!hearth_mp_find(&r, "op") || !hearth_mp_read(&r, &opv)) {
            reply_err(reply, "invalid_request", "the request map has no 'op'");
            return;
        }
        op = op_of(&opv);
        if (op == OP_ADD) {
            hearth_mp_reader_of(&r, msg);
            have_n = hearth_mp_find(&r, "n") && hearth_mp_read_int(&r, &n);
            nfields = 1;
        }
    } else {
        reply_err(reply, "invalid_request", "a request is a str, a non-empty array or a map");
        return;
    }
    switch (op) {
    case OP_GET:
        if (nfields != 0) {
            reply_err(reply, "invalid_request", "get takes no fields");
            return;
        }
        reply_ok(reply, count);
        return;
    case OP_ADD:
        if (!have_n || nfields != 1) {
            reply_err(reply, "invalid_request", "add needs an integer n");
            return;
        }
        count += n;
        reply_ok(reply, count);
        return;
    case OP_RESET:
        if (nfields != 0) {
            reply_err(reply, "invalid_request", "reset takes no fields");
            return;
        }
        reply_ok(reply, count);
        count = 0;
        return;
    default:
        reply_err(reply, "invalid_request", "unknown op; one of get, add, reset");
        return;
    }
}

void run(void) {
    hearth_log(HEARTH_INFO, "counter-guest", "serving");
    hearth_signal msg;
    for (;;) {
        uint32_t mark = hearth_mark();
        hearth_recv(HEARTH_PARENT, &msg);
        if (msg.kind == HEARTH_EXIT)
            return; /* an upgrade (or a shutdown) asks us to finish: the new version takes over */
        if (msg.kind == HEARTH_MESSAGE)
            handle(&msg);
        hearth_signal_release(&msg);
        hearth_release(mark);
    }
}
