/* fly-camera: moves the window's camera from keyboard and mouse events — a
 * guest service.
 *
 * It subscribes to hearth.Window (found in the registry view at handle 0)
 * and, on each redraw, moves the camera by the keys held (W/A/S/D along the
 * ground, Space up, Shift down, at SPEED units a second) and sends
 * set_camera. Dragging with the right mouse button turns it (mouse_motion
 * deltas, TURN radians a pixel). set_camera's replies go to a mailbox of
 * their own and are dropped: no round trip a frame. It has no requests of
 * its own (each gets invalid_request); an Exit (an upgrade) ends it.
 */
#include <hearth.h>

#define REGISTRY 0u
#define SPEED 5.0
#define TURN 0.005
#define VFOV 60.0
#define NEAR 0.05

static const char *const KEYS[6] = {"w", "s", "a", "d", "space", "left shift"};
static const double MOVES[6][3] = {{0, 0, -1}, {0, 0, 1}, {-1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, -1, 0}};

typedef struct camera {
    double position[3], yaw, pitch;
    uint32_t held; /* bit i: KEYS[i] is held */
    bool dragging;
    hearth_cap window, reply_to;
    hearth_mb mbs[2]; /* events, replies */
} camera;

/* World to camera, column-major: the inverse of (Ry(yaw) Rx(pitch), position). */
static void view(const camera *c, float out[16]) {
    double cy = hearth_cos(c->yaw), sy = hearth_sin(c->yaw);
    double cp = hearth_cos(c->pitch), sp = hearth_sin(c->pitch);
    const double r[3][3] = {{cy, sy * sp, sy * cp}, {0, cp, -sp}, {-sy, cy * sp, cy * cp}};
    for (int i = 0; i < 3; i++) {
        double t = 0;
        for (int j = 0; j < 3; j++) {
            out[j * 4 + i] = (float)r[j][i];
            t -= r[j][i] * c->position[j];
        }
        out[12 + i] = (float)t;
        out[i * 4 + 3] = 0;
    }
    out[15] = 1;
}

static bool step(camera *c, double dt) {
    double move[3] = {0, 0, 0};
    for (int k = 0; k < 6; k++)
        if (c->held & (1u << k))
            for (int i = 0; i < 3; i++)
                move[i] += MOVES[k][i];
    if (move[0] == 0 && move[1] == 0 && move[2] == 0)
        return false;
    double cy = hearth_cos(c->yaw), sy = hearth_sin(c->yaw), f = SPEED * (dt < 0.1 ? dt : 0.1);
    c->position[0] += (cy * move[0] + sy * move[2]) * f; /* yaw only: stay level */
    c->position[1] += move[1] * f;
    c->position[2] += (-sy * move[0] + cy * move[2]) * f;
    return true;
}

/* Apply one window event; true if the view changed. */
static bool apply(camera *c, const hearth_window_event *e) {
    switch (e->kind) {
    case HEARTH_EV_REDRAW:
        return step(c, e->dt);
    case HEARTH_EV_KEYBOARD_INPUT:
        for (int k = 0; k < 6; k++)
            if (hearth_key_is(e, KEYS[k]))
                c->held = e->pressed ? c->held | (1u << k) : c->held & ~(1u << k);
        return false;
    case HEARTH_EV_MOUSE_INPUT:
        if (e->button == 3)
            c->dragging = e->pressed;
        return false;
    case HEARTH_EV_MOUSE_MOTION:
        if (!c->dragging)
            return false;
        c->yaw -= e->dx * TURN;
        c->pitch -= e->dy * TURN;
        c->pitch = c->pitch < -1.5 ? -1.5 : c->pitch > 1.5 ? 1.5 : c->pitch;
        return true;
    case HEARTH_EV_FOCUSED:
        if (!e->focused)
            c->held = 0, c->dragging = false;
        return false;
    default:
        return false;
    }
}

static void info(void *state, const hearth_signal *sig) {
    camera *c = state;
    hearth_window_event e;
    float m[16];
    if (sig->index != 1 || hearth_window_event_decode(sig, &e) != HEARTH_OK)
        return; /* set_camera's replies (index 2), Downs: nothing to do */
    if (apply(c, &e)) {
        view(c, m);
        hearth_window_set_camera_send(c->window, c->reply_to, VFOV, NEAR, m);
    }
}

static bool handle(void *state, const hearth_request *req) {
    (void)state;
    hearth_reply_error(req, "invalid_request", "fly-camera has no requests");
    return true;
}

void hearth_metadata(void) {
    hearth_set_name("fly-camera");
    hearth_set_description("A fly camera: W/A/S/D to move, Space/Shift up and down, drag with the right mouse button to look");
}

void run(void) {
    static camera c = {{0.0, 3.0, 9.0}, 0.0, -0.25, 0, false, 0, 0, {0, 0}};
    float m[16];
    if (hearth_registry_lookup(REGISTRY, "hearth.Window", &c.window) != HEARTH_OK)
        hearth_exit_error("Unavailable", "hearth.Window");
    /* Subscribed first: once the camera shows our view, every later event
     * reaches us. */
    c.mbs[0] = hearth_mailbox_create();
    c.mbs[1] = hearth_mailbox_create();
    c.reply_to = hearth_make_capability(c.mbs[1], HEARTH_SEND);
    hearth_cap target = hearth_make_capability(c.mbs[0], HEARTH_SEND | HEARTH_MONITOR);
    if (hearth_window_subscribe(c.window, target) != HEARTH_OK)
        hearth_exit_error("Unavailable", "hearth.Window refused subscribe");
    hearth_dec_ref(target);
    /* Start where the window's camera is (the client puts each name at a
     * place of its own), as yaw and pitch: its rotation is Ry(yaw) Rx(pitch). */
    if (hearth_window_camera(c.window, m) == HEARTH_OK && (m[0] != 0 || m[8] != 0)) {
        c.yaw = hearth_atan2(-m[8], m[0]);
        c.pitch = hearth_atan2(-m[6], m[5]);
        for (int a = 0; a < 3; a++)
            c.position[a] = -(m[a * 4] * m[12] + m[a * 4 + 1] * m[13] + m[a * 4 + 2] * m[14]);
    }
    view(&c, m);
    if (hearth_window_set_camera(c.window, VFOV, NEAR, m) != HEARTH_OK)
        hearth_exit_error("Unavailable", "hearth.Window refused set_camera");
    hearth_server server = {.handle = handle, .info = info, .state = &c, .mailboxes = c.mbs,
                            .nmailboxes = 2};
    hearth_serve(&server);
}
