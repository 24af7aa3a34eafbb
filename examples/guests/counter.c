/* A counter service: registers itself in the registry it is spawned with
 * (capability 0) as "counter", then answers requests in the convention of
 * docs/protocols.md: msgpack {"op": "add", "n": N} or {"op": "get"}, the reply
 * capability in caps[0]; the reply is {"ok": value} or
 * {"err": {"kind": ..., "message": ...}}. {"op": "stop"} ends it.
 *
 * Build: python -m kindling.sdk build counter.c -o counter.wasm */
#include <hearth.h>

#define REGISTRY 0

static int64_t count;

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

/* Handle one request; false when told to stop. */
static bool handle(const hearth_signal *msg) {
    hearth_mp_reader r;
    hearth_mp_value op;
    int64_t n;
    if (msg->ncaps == 0)
        return true; /* no reply capability: nobody to answer */
    hearth_cap reply = msg->caps[0];
    hearth_mp_reader_of(&r, msg);
    if (!hearth_mp_find(&r, "op") || !hearth_mp_read(&r, &op)) {
        reply_err(reply, "invalid_request", "expected a map with an \"op\"");
    } else if (hearth_mp_str_is(&op, "get")) {
        reply_ok(reply, count);
    } else if (hearth_mp_str_is(&op, "add")) {
        hearth_mp_reader_of(&r, msg);
        if (hearth_mp_find(&r, "n") && hearth_mp_read_int(&r, &n)) {
            count += n;
            reply_ok(reply, count);
        } else {
            reply_err(reply, "invalid_request", "add needs an integer \"n\"");
        }
    } else if (hearth_mp_str_is(&op, "stop")) {
        reply_ok(reply, count);
        return false;
    } else {
        reply_err(reply, "invalid_request", "unknown op");
    }
    return true;
}

void run(void) {
    hearth_cap me = hearth_make_capability(HEARTH_PARENT, HEARTH_SEND);
    if (!hearth_registry_register(REGISTRY, "counter", me))
        hearth_exit_atom("name_taken");
    hearth_dec_ref(me);
    hearth_log(HEARTH_INFO, "counter", "registered as \"counter\"");

    hearth_signal msg;
    bool go_on = true;
    while (go_on) {
        uint32_t mark = hearth_mark();
        hearth_recv(HEARTH_PARENT, &msg);
        if (msg.kind == HEARTH_MESSAGE)
            go_on = handle(&msg);
        hearth_signal_release(&msg);
        hearth_release(mark);
    }
}
