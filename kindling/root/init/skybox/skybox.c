/* skybox: paints a sky cube map and sets it as the renderer's skybox — a
 * guest service.
 *
 * The cube map is made here (a gradient from a pale horizon to a deep
 * zenith, a dark ground below), put in the lump store as a cube texture
 * lump ({"label", "size", "faces"}, docs/client.md) and handed to
 * hearth.Renderer's set_skybox (found in the registry view at handle 0).
 * Then the service waits; it has no requests of its own (each gets
 * invalid_request). An Exit (an upgrade) ends it; a renderer that can't be
 * found or refuses the sky is a crash, for the supervisor to retry.
 */
#include <hearth.h>

#define REGISTRY 0u
#define SIZE 64

static const double ZENITH[3] = {40, 80, 170};
static const double HORIZON[3] = {190, 210, 235};
static const double GROUND[3] = {60, 58, 55};

static double clip(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The unit direction of texel (row, col) of OpenGL cube face `face` (+X,
 * -X, +Y, -Y, +Z, -Z), rows from the top. */
static void direction(int face, int row, int col, double d[3]) {
    double s = (col + 0.5) / SIZE * 2 - 1, t = (row + 0.5) / SIZE * 2 - 1;
    switch (face) {
    case 0: d[0] = 1; d[1] = -t; d[2] = -s; break;
    case 1: d[0] = -1; d[1] = -t; d[2] = s; break;
    case 2: d[0] = s; d[1] = 1; d[2] = t; break;
    case 3: d[0] = s; d[1] = -1; d[2] = -t; break;
    case 4: d[0] = s; d[1] = -t; d[2] = 1; break;
    default: d[0] = -s; d[1] = -t; d[2] = -1; break;
    }
    double n = hearth_sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    d[0] /= n, d[1] /= n, d[2] /= n;
}

static void paint(int face, uint8_t *rgba) {
    for (int row = 0; row < SIZE; row++)
        for (int col = 0; col < SIZE; col++) {
            double d[3];
            direction(face, row, col, d);
            double up = d[1];
            uint8_t *px = rgba + (row * SIZE + col) * 4;
            for (int c = 0; c < 3; c++) {
                double v;
                if (up >= 0)
                    v = HORIZON[c] + (ZENITH[c] - HORIZON[c]) * hearth_sqrt(clip(up, 0, 1));
                else
                    v = HORIZON[c] * 0.5 + (GROUND[c] - HORIZON[c] * 0.5) *
                        clip(hearth_sqrt(clip(-up, 0, 1) * 4), 0, 1);
                px[c] = (uint8_t)v;
            }
            px[3] = 255;
        }
}

static bool handle(void *state, const hearth_request *req) {
    (void)state;
    hearth_reply_error(req, "invalid_request", "skybox has no requests");
    return true;
}

void hearth_metadata(void) {
    hearth_set_name("skybox");
    hearth_set_description("A sky: a gradient cube map from the horizon to the zenith");
}

void run(void) {
    hearth_cap renderer;
    hearth_status st = hearth_registry_lookup(REGISTRY, "hearth.Renderer", &renderer);
    if (st != HEARTH_OK)
        hearth_exit_error("Unavailable", "hearth.Renderer: not found in the registry");
    uint32_t mark = hearth_mark();
    const uint8_t *faces[6];
    for (int f = 0; f < 6; f++) {
        uint8_t *rgba = hearth_alloc(SIZE * SIZE * 4);
        paint(f, rgba);
        faces[f] = rgba;
    }
    hearth_lump sky = hearth_lump_cube_texture("sky", SIZE, faces);
    hearth_release(mark);
    st = hearth_renderer_set_skybox(renderer, sky);
    if (st != HEARTH_OK)
        hearth_exit_error("Unavailable", hearth_status_name(st));
    hearth_lump_free(sky);
    hearth_server server = {.handle = handle};
    hearth_serve(&server);
    hearth_dec_ref(renderer);
}
