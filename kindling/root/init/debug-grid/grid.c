/* debug-grid: a stock graphical service written in C with the guest SDK.
 *
 * At start it asks hearth.DebugDrawFactory (its one need, looked up in its
 * registry view at handle 0) for a debug draw it owns, and fills it with a
 * grid of lines on the ground plane (y = 0, from -HALF to +HALF, one line
 * a unit) in grey, with the x axis red and the z axis blue. Then it serves
 * requests on mailbox 0 (docs/protocols.md's convention):
 *
 *   "hide"  -> nil: the grid is hidden
 *   "show"  -> nil: the grid is shown again
 *
 * The debug draw belongs to this guest's mailbox 0: it goes when the guest
 * does, and a restarted guest draws a fresh one.
 *
 * Build: python -m kindling.sdk build grid.c -o grid.wasm */
#include <hearth.h>

#define HALF 10
#define LINES (2 * (2 * HALF + 1))
#define VERTS (2 * LINES)

static float positions[VERTS * 3];
static uint8_t colors[VERTS * 4];
static uint32_t indices[VERTS];
static uint8_t buf[VERTS * 3 * 4 + VERTS * 4 + VERTS * 4 + 256];
static hearth_cap lines = HEARTH_NONE;

void hearth_metadata(void) {
    hearth_set_name("debug-grid");
    hearth_set_description("a grid on the ground plane, drawn with hearth.DebugDrawFactory");
}

static void vertex(uint32_t i, float x, float z, uint8_t r, uint8_t g, uint8_t b) {
    positions[3 * i] = x;
    positions[3 * i + 1] = 0.0f;
    positions[3 * i + 2] = z;
    colors[4 * i] = r;
    colors[4 * i + 1] = g;
    colors[4 * i + 2] = b;
    colors[4 * i + 3] = 255;
    indices[i] = i;
}

static void build(void) {
    uint32_t v = 0;
    for (int k = -HALF; k <= HALF; k++) {
        float f = (float)k;
        /* a line along x at z = k: the x axis (k = 0) is red */
        uint8_t r = k == 0 ? 230 : 90, g = k == 0 ? 40 : 90, b = k == 0 ? 40 : 90;
        vertex(v++, -HALF, f, r, g, b);
        vertex(v++, HALF, f, r, g, b);
        /* a line along z at x = k: the z axis is blue */
        r = k == 0 ? 40 : 90; g = k == 0 ? 80 : 90; b = k == 0 ? 230 : 90;
        vertex(v++, f, -HALF, r, g, b);
        vertex(v++, f, HALF, r, g, b);
    }
}

static bool request_new(hearth_cap factory) {
    hearth_mp_writer w;
    hearth_signal reply;
    hearth_mp_reader r;
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_mp_put_str(&w, "new");
    /* caps[1]: the owner, a MONITOR capability to mailbox 0 (lives as long as we do) */
    hearth_mp_attach(&w, hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR));
    if (!hearth_call(factory, &w, &reply))
        return false;
    hearth_mp_reader_of(&r, &reply);
    if (hearth_mp_find(&r, "ok") && hearth_mp_read_cap(&r, &lines)) {
        hearth_inc_ref(lines); /* keep it past the reply's release */
        hearth_signal_release(&reply);
        return true;
    }
    hearth_signal_release(&reply);
    return false;
}

static void send_contents(void) {
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf); /* no reply capability: a sink update */
    hearth_mp_put_array(&w, 4);
    hearth_mp_put_str(&w, "contents");
    hearth_mp_put_bin(&w, positions, sizeof positions);
    hearth_mp_put_bin(&w, colors, sizeof colors);
    hearth_mp_put_bin(&w, indices, sizeof indices);
    hearth_mp_send(&w, lines);
}

static void set_hidden(bool hidden) {
    uint8_t small[32];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, small, sizeof small);
    hearth_mp_put_array(&w, 2);
    hearth_mp_put_str(&w, "hide");
    hearth_mp_put_bool(&w, hidden);
    hearth_mp_send(&w, lines);
}

static void reply_nil(hearth_cap to) {
    static const uint8_t ok_nil[] = {0x81, 0xa2, 'o', 'k', 0xc0};
    hearth_send(to, ok_nil, sizeof ok_nil, 0, 0);
}

void run(void) {
    hearth_cap factory = hearth_registry_get(0, "hearth.DebugDrawFactory");
    if (factory == HEARTH_NONE)
        hearth_exit_atom("no_debug_draw_factory");
    build();
    if (!request_new(factory))
        hearth_exit_atom("debug_draw_refused");
    hearth_dec_ref(factory);
    send_contents();
    hearth_log(HEARTH_INFO, "debug-grid", "grid drawn");
    for (;;) {
        hearth_signal msg;
        uint32_t mark = hearth_mark();
        hearth_recv(HEARTH_PARENT, &msg);
        if (msg.kind == HEARTH_EXIT)
            return; /* an upgrade (or a shutdown) asks us to finish: the new version takes over */
        if (msg.kind == HEARTH_MESSAGE && msg.ncaps > 0
                && (hearth_permissions(msg.caps[0]) & HEARTH_SEND)) {
            hearth_mp_reader r;
            hearth_mp_value v;
            hearth_mp_reader_of(&r, &msg);
            if (hearth_mp_read(&r, &v) && v.type == HEARTH_MP_STR
                    && (hearth_mp_str_is(&v, "hide") || hearth_mp_str_is(&v, "show"))) {
                set_hidden(hearth_mp_str_is(&v, "hide"));
                reply_nil(msg.caps[0]);
            }
        }
        hearth_signal_release(&msg);
        hearth_release(mark);
    }
}
