/* Ping-pong: answer every "ping ..." with "pong ..." through the reply
 * capability the message carries (caps[0]); an empty message ends it.
 *
 * Build: python -m kindling.sdk build ping_pong.c -o ping_pong.wasm */
#include <hearth.h>

void hearth_metadata(void) {
    hearth_set_name("ping-pong");
    hearth_set_description("answers ping with pong");
}

void run(void) {
    hearth_signal msg;
    for (;;) {
        uint32_t mark = hearth_mark(); /* everything received is freed at the release */
        hearth_recv(HEARTH_PARENT, &msg);
        if (msg.kind != HEARTH_MESSAGE || msg.len == 0)
            return; /* reason: normal */
        if (msg.ncaps > 0 && msg.len >= 4 && memcmp(msg.data, "ping", 4) == 0) {
            memcpy(msg.data, "pong", 4);
            hearth_send(msg.caps[0], msg.data, msg.len, 0, 0);
        }
        hearth_signal_release(&msg);
        hearth_release(mark);
    }
}
