/* demo-scene: lit objects and a canvas, animated by the window's redraws —
 * a guest service.
 *
 * It makes a cube mesh lump and a few material lumps (the formats of
 * docs/client.md), adds a sun and ambient light, a ring of cubes and one
 * spinning in the middle, and a canvas whose bouncing square is blitted
 * every frame. Everything it adds belongs to its owner capability (a
 * MONITOR capability to its parent mailbox), so it all goes when the guest
 * ends, an upgrade included: the new version builds the scene again.
 * Window events arrive in a mailbox of their own; the service has no
 * requests (each gets invalid_request).
 */
#include <hearth.h>

#define REGISTRY 0u
#define CANVAS_W 64
#define CANVAS_H 32
#define SQUARE 6

static const float COLORS[5][4] = {{0.9f, 0.3f, 0.25f, 1}, {0.95f, 0.75f, 0.2f, 1}, {0.3f, 0.8f, 0.35f, 1},
                                   {0.25f, 0.55f, 0.95f, 1}, {0.7f, 0.4f, 0.9f, 1}};

typedef struct scene {
    hearth_cap spinner, canvas;
    hearth_mb events;
    double t;
    int last_x, last_y; /* where the square was; -1: nowhere yet */
    uint8_t pixels[CANVAS_H][CANVAS_W][4];
    uint8_t square[SQUARE * SQUARE * 4];
} scene;

static scene S;

/* A rotation about y by `angle`, a uniform `scale`, then a move to (x, y, z):
 * 16 floats, column-major. */
static void transform(float out[16], double x, double y, double z, double angle, double scale) {
    double c = hearth_cos(angle) * scale, s = hearth_sin(angle) * scale;
    const float m[16] = {(float)c, 0, (float)-s, 0, 0, (float)scale, 0, 0,
                         (float)s, 0, (float)c, 0, (float)x, (float)y, (float)z, 1};
    memcpy(out, m, sizeof m);
}

static void checker(void) {
    for (int y = 0; y < CANVAS_H; y++)
        for (int x = 0; x < CANVAS_W; x++) {
            int dark = (x / 8 + y / 8) % 2;
            uint8_t *p = S.pixels[y][x];
            p[0] = p[1] = (uint8_t)(30 + 40 * dark);
            p[2] = (uint8_t)(60 + 50 * dark);
            p[3] = 255;
        }
}

static void need(hearth_status st, const char *what) {
    if (st != HEARTH_OK)
        hearth_exit_error("Unavailable", what);
}

static void redraw(double dt) {
    S.t += dt < 0.1 ? dt : 0.1;
    float m[16];
    transform(m, 0, 1.2, 0, S.t, 0.8);
    hearth_object_set_transform(S.spinner, m); /* sinks: no round trip a frame */
    int x = (int)((hearth_sin(S.t * 1.3) * 0.5 + 0.5) * (CANVAS_W - SQUARE));
    int y = (int)((hearth_sin(S.t * 2.1) * 0.5 + 0.5) * (CANVAS_H - SQUARE));
    if (S.last_x >= 0) { /* repaint where the square was */
        uint8_t patch[SQUARE * SQUARE * 4];
        for (int r = 0; r < SQUARE; r++)
            memcpy(patch + r * SQUARE * 4, S.pixels[S.last_y + r][S.last_x], SQUARE * 4);
        hearth_canvas_blit(S.canvas, S.last_x, S.last_y, SQUARE, SQUARE, patch);
    }
    hearth_canvas_blit(S.canvas, x, y, SQUARE, SQUARE, S.square);
    S.last_x = x, S.last_y = y;
}

static void info(void *state, const hearth_signal *sig) {
    (void)state;
    hearth_window_event e;
    if (sig->index == 1 && hearth_window_event_decode(sig, &e) == HEARTH_OK &&
        e.kind == HEARTH_EV_REDRAW)
        redraw(e.dt);
}

static bool handle(void *state, const hearth_request *req) {
    (void)state;
    hearth_reply_error(req, "invalid_request", "demo-scene has no requests");
    return true;
}

void hearth_metadata(void) {
    hearth_set_name("demo-scene");
    hearth_set_description("A demo scene: lit cubes (one spinning), a sun, ambient light and a canvas");
}

void run(void) {
    hearth_cap renderer, canvases, window, light, object;
    need(hearth_registry_lookup(REGISTRY, "hearth.Renderer", &renderer), "hearth.Renderer");
    need(hearth_registry_lookup(REGISTRY, "hearth.canvas.CanvasFactory", &canvases),
         "hearth.canvas.CanvasFactory");
    need(hearth_registry_lookup(REGISTRY, "hearth.Window", &window), "hearth.Window");
    hearth_cap owner = hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR); /* lives as long as we do */

    const float ambient[4] = {0.35f, 0.38f, 0.45f, 0.5f};
    const float sun[3] = {1.0f, 0.95f, 0.85f}, toward[3] = {-0.45f, -0.8f, -0.7f};
    need(hearth_renderer_set_ambient(renderer, ambient), "set_ambient_lighting");
    need(hearth_renderer_add_directional_light(renderer, owner, sun, 1.0f, toward, &light),
         "add_directional_light");
    hearth_lump cube = hearth_lump_cube_mesh(1.0f);
    float m[16];
    for (int i = 0; i < 5; i++) {
        double a = 2 * HEARTH_PI * i / 5;
        hearth_lump material = hearth_lump_material(COLORS[i], HEARTH_NONE);
        transform(m, 4 * hearth_sin(a), 0.5, 4 * hearth_cos(a), a, 0.5);
        need(hearth_renderer_add_object(renderer, owner, cube, material, m, &object), "add_object");
        hearth_dec_ref(object);
        hearth_lump_free(material);
    }
    const float white[4] = {0.9f, 0.9f, 0.9f, 1};
    hearth_lump material = hearth_lump_material(white, HEARTH_NONE);
    transform(m, 0, 1.2, 0, 0, 0.8);
    need(hearth_renderer_add_object(renderer, owner, cube, material, m, &S.spinner), "add_object");
    hearth_lump_free(material);
    hearth_lump_free(cube);

    checker();
    for (int i = 0; i < SQUARE * SQUARE; i++) {
        S.square[i * 4 + 0] = 250, S.square[i * 4 + 1] = 200, S.square[i * 4 + 2] = 60;
        S.square[i * 4 + 3] = 255;
    }
    /* Subscribe before the canvas is there: redraws queue meanwhile, and the
     * first frame that shows the canvas already has its animation coming. */
    S.last_x = S.last_y = -1;
    S.events = hearth_mailbox_create();
    hearth_cap target = hearth_make_capability(S.events, HEARTH_SEND | HEARTH_MONITOR);
    need(hearth_window_subscribe(window, target), "subscribe to hearth.Window");
    hearth_dec_ref(target);
    const hearth_canvas_position at = {{0.0f, 3.5f, -3.0f}, {0, 0, 0, 1}, {2.0f, 1.0f}};
    need(hearth_canvas_create(canvases, owner, &at, CANVAS_W, CANVAS_H, &S.pixels[0][0][0], false,
                              &S.canvas), "create a canvas");

    hearth_server server = {.handle = handle, .info = info, .mailboxes = &S.events, .nmailboxes = 1};
    hearth_serve(&server);
}
