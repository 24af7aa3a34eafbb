/* A room built on the SDK's patterns: pub-sub over watches, in the server
 * loop. join/leave take the member in caps[1] (SEND and MONITOR); post
 * [text] sends text to every member; members and dropped count them (a
 * member whose route closed is dropped by the loop, and `down` counts it). */
#include <hearth.h>

typedef struct room {
    hearth_watches members;
    int64_t dropped;
} room;

static void down(void *state, hearth_cap watched, const hearth_signal *sig) {
    (void)watched, (void)sig;
    ((room *)state)->dropped++;
}

static bool handle(void *state, const hearth_request *req) {
    room *r = state;
    hearth_cap member = req->sig->ncaps == 2 ? req->sig->caps[1] : HEARTH_NONE;
    if (hearth_request_is(req, "join", 0) || hearth_request_is(req, "leave", 0)) {
        if (member == HEARTH_NONE) {
            hearth_reply_error(req, "invalid_request", "the member goes in caps[1]");
            return true;
        }
        bool joining = hearth_request_is(req, "join", 0);
        hearth_reply_bool(req, joining ? hearth_pubsub_join(&r->members, member)
                                       : hearth_pubsub_leave(&r->members, member));
    } else if (hearth_request_is(req, "post", 1)) {
        hearth_mp_reader f;
        const char *text;
        uint32_t len;
        if (!hearth_request_field(req, 0, "text", &f) || !hearth_mp_read_str(&f, &text, &len))
            hearth_reply_error(req, "invalid_request", "post takes a str");
        else
            hearth_reply_int(req, hearth_pubsub_publish(&r->members, text, len));
    } else if (hearth_request_is(req, "members", 0))
        hearth_reply_int(req, r->members.n);
    else if (hearth_request_is(req, "dropped", 0))
        hearth_reply_int(req, r->dropped);
    else
        hearth_reply_error(req, "invalid_request", "ops: join, leave, post text, members, dropped");
    return true;
}

void run(void) {
    static room r;
    hearth_server server = {.handle = handle, .state = &r, .watches = &r.members, .down = down};
    hearth_serve(&server);
}
