/* hearth_requests.c — the request encoders of the SDK's service clients, one
 * function per operation and nothing else, so that code generated from the
 * services' protocol schema can replace this file. Each writes one request
 * (after hearth_mp_request_init) in the array form of docs/protocols.md. */
#include "hearth.h"
#include "hearth_requests.h"

/* ["name", field, ...]: the array form, whose fields go by position as
 * each service's docstring lists them. */
static void op(hearth_mp_writer *w, uint32_t fields, const char *name) {
    hearth_mp_put_array(w, fields + 1);
    hearth_mp_put_str(w, name);
}

void hearth_enc_registry_get(hearth_mp_writer *w, const char *name) {
    op(w, 1, "get");
    hearth_mp_put_str(w, name);
}

void hearth_enc_registry_register(hearth_mp_writer *w, const char *name, hearth_cap cap) {
    hearth_mp_attach(w, cap); /* the registry takes the request's caps[1] */
    op(w, 1, "register");
    hearth_mp_put_str(w, name);
}

void hearth_enc_registry_list(hearth_mp_writer *w) { op(w, 0, "list"); }

void hearth_enc_time_now(hearth_mp_writer *w) { op(w, 0, "now"); }

void hearth_enc_renderer_set_skybox(hearth_mp_writer *w, const hearth_lump_id *texture) {
    op(w, 1, "set_skybox");
    hearth_mp_put_bin(w, texture->bytes, sizeof texture->bytes);
}

static void put_floats_bin(hearth_mp_writer *w, const float *v, uint32_t n) {
    hearth_mp_put_bin(w, v, n * 4); /* wasm32 is little-endian: as the services read them */
}

static void put_floats(hearth_mp_writer *w, const float *v, uint32_t n) {
    hearth_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++)
        hearth_mp_put_double(w, v[i]);
}

static void put_lump_id(hearth_mp_writer *w, hearth_lump lump) {
    hearth_lump_id id;
    if (lump == HEARTH_NONE) {
        hearth_mp_put_nil(w);
        return;
    }
    hearth_lump_get_id(lump, &id);
    hearth_mp_put_bin(w, id.bytes, sizeof id.bytes);
}

/* Requests that make a resource attach its owner as caps[1]: the resource
 * lives as long as the owner's route (it needs MONITOR). */

void hearth_enc_renderer_add_object(hearth_mp_writer *w, hearth_cap owner, hearth_lump mesh,
                                    hearth_lump material, const float transform[16]) {
    hearth_mp_attach(w, owner);
    op(w, 3, "add_object");
    put_lump_id(w, mesh);
    put_lump_id(w, material);
    put_floats_bin(w, transform, 16);
}

void hearth_enc_renderer_add_directional_light(hearth_mp_writer *w, hearth_cap owner, const float color[3],
                                               float intensity, const float direction[3]) {
    hearth_mp_attach(w, owner);
    op(w, 3, "add_directional_light");
    put_floats(w, color, 3);
    hearth_mp_put_double(w, intensity);
    put_floats(w, direction, 3);
}

void hearth_enc_renderer_set_ambient_lighting(hearth_mp_writer *w, const float color[4]) {
    op(w, 1, "set_ambient_lighting");
    put_floats(w, color, 4);
}

void hearth_enc_object_set_transform(hearth_mp_writer *w, const float transform[16]) {
    op(w, 1, "set_transform");
    put_floats_bin(w, transform, 16);
}

void hearth_enc_window_subscribe(hearth_mp_writer *w, hearth_cap target) {
    op(w, 1, "subscribe");
    hearth_mp_put_cap(w, target);
}

void hearth_enc_window_camera(hearth_mp_writer *w) {
    op(w, 0, "camera");
}

void hearth_enc_window_set_camera(hearth_mp_writer *w, double vfov, double near, const float view[16]) {
    op(w, 3, "set_camera");
    hearth_mp_put_double(w, vfov);
    hearth_mp_put_double(w, near);
    put_floats_bin(w, view, 16);
}

static void put_pixels(hearth_mp_writer *w, uint32_t width, uint32_t height, const uint8_t *rgba) {
    hearth_mp_put_map(w, 3);
    hearth_mp_put_str(w, "width");
    hearth_mp_put_uint(w, width);
    hearth_mp_put_str(w, "height");
    hearth_mp_put_uint(w, height);
    hearth_mp_put_str(w, "rgba");
    hearth_mp_put_bin(w, rgba, width * height * 4);
}

static void put_position(hearth_mp_writer *w, const hearth_canvas_position *p) {
    hearth_mp_put_map(w, 3);
    hearth_mp_put_str(w, "origin");
    put_floats(w, p->origin, 3);
    hearth_mp_put_str(w, "orientation");
    put_floats(w, p->orientation, 4);
    hearth_mp_put_str(w, "half_size");
    put_floats(w, p->half_size, 2);
}

void hearth_enc_canvas_create(hearth_mp_writer *w, hearth_cap owner, const hearth_canvas_position *position,
                              uint32_t width, uint32_t height, const uint8_t *rgba, bool linear) {
    hearth_mp_attach(w, owner);
    op(w, 3, "create");
    put_position(w, position);
    put_pixels(w, width, height, rgba);
    hearth_mp_put_str(w, linear ? "linear" : "nearest");
}

void hearth_enc_canvas_blit(hearth_mp_writer *w, int32_t x, int32_t y, uint32_t width, uint32_t height,
                            const uint8_t *rgba) {
    op(w, 3, "blit");
    hearth_mp_put_int(w, x);
    hearth_mp_put_int(w, y);
    put_pixels(w, width, height, rgba);
}

void hearth_enc_canvas_relocate(hearth_mp_writer *w, const hearth_canvas_position *position) {
    op(w, 1, "relocate");
    put_position(w, position);
}

void hearth_enc_debug_draw_new(hearth_mp_writer *w, hearth_cap owner) {
    hearth_mp_attach(w, owner);
    op(w, 0, "new");
}

void hearth_enc_debug_draw_contents(hearth_mp_writer *w, const float *positions, const uint8_t *colors,
                                    uint32_t nvertices, const uint32_t *indices, uint32_t nindices) {
    op(w, 3, "contents");
    hearth_mp_put_bin(w, positions, nvertices * 12);
    hearth_mp_put_bin(w, colors, nvertices * 4);
    hearth_mp_put_bin(w, indices, nindices * 4);
}

/* hearth.World (docs/world.md) */

void hearth_enc_world_add(hearth_mp_writer *w, hearth_cap owner, hearth_lump mesh, hearth_lump material,
                          const float transform[16], const char *label) {
    hearth_mp_attach(w, owner);
    op(w, 1, "add");
    hearth_mp_put_map(w, 2 + (material != HEARTH_NONE) + (label != NULL));
    hearth_mp_put_str(w, "mesh");
    put_lump_id(w, mesh);
    hearth_mp_put_str(w, "transform");
    put_floats(w, transform, 16);
    if (material != HEARTH_NONE) {
        hearth_mp_put_str(w, "material");
        put_lump_id(w, material);
    }
    if (label != NULL) {
        hearth_mp_put_str(w, "label");
        hearth_mp_put_str(w, label);
    }
}

void hearth_enc_world_move(hearth_mp_writer *w, const float transform[16]) {
    op(w, 1, "update");
    hearth_mp_put_map(w, 1);
    hearth_mp_put_str(w, "transform");
    put_floats(w, transform, 16);
}

void hearth_enc_world_relabel(hearth_mp_writer *w, const char *label) {
    op(w, 1, "update");
    hearth_mp_put_map(w, 1);
    hearth_mp_put_str(w, "label");
    if (label)
        hearth_mp_put_str(w, label);
    else
        hearth_mp_put_nil(w);
}

void hearth_enc_world_remove(hearth_mp_writer *w) { op(w, 0, "remove"); }

void hearth_enc_world_subscribe(hearth_mp_writer *w, hearth_cap subscriber) {
    hearth_mp_attach(w, subscriber);
    op(w, 0, "subscribe");
}

/* hearth.terminal.TerminalFactory (hearth/gfx/terminal/_factory.py) */

void hearth_enc_terminal_create(hearth_mp_writer *w, hearth_cap owner, const hearth_canvas_position *position,
                                uint32_t columns, uint32_t rows, const char *const *argv) {
    uint32_t argc = 0;
    while (argv && argv[argc])
        argc++;
    hearth_mp_attach(w, owner);
    op(w, 1, "create");
    hearth_mp_put_map(w, 3 + (argc > 0));
    hearth_mp_put_str(w, "position");
    put_position(w, position);
    hearth_mp_put_str(w, "columns");
    hearth_mp_put_uint(w, columns);
    hearth_mp_put_str(w, "rows");
    hearth_mp_put_uint(w, rows);
    if (argc > 0) {
        hearth_mp_put_str(w, "command");
        hearth_mp_put_array(w, argc);
        for (uint32_t i = 0; i < argc; i++)
            hearth_mp_put_str(w, argv[i]);
    }
}

void hearth_enc_terminal_input(hearth_mp_writer *w, const char *text) {
    op(w, 1, "input");
    hearth_mp_put_str(w, text);
}

void hearth_enc_terminal_quit(hearth_mp_writer *w) {
    hearth_mp_put_str(w, "quit");
}

/* hearth.fs.Filesystem (hearth/native/_fs.py) */

void hearth_enc_fs_get(hearth_mp_writer *w, const char *path) {
    op(w, 1, "get");
    hearth_mp_put_str(w, path);
}

void hearth_enc_fs_put(hearth_mp_writer *w, const char *path, hearth_lump lump) {
    op(w, 2, "put");
    hearth_mp_put_str(w, path);
    put_lump_id(w, lump);
}

void hearth_enc_fs_list(hearth_mp_writer *w, const char *path) {
    op(w, 1, "list");
    hearth_mp_put_str(w, path);
}

/* hearth.wasm.WasmProcessSpawner (hearth/native/_wasm_spawner.py): the new
 * guest's capabilities go after the reply capability, caps[1..]. */

void hearth_enc_spawner_spawn(hearth_mp_writer *w, hearth_lump module, const hearth_cap *caps, uint32_t ncaps) {
    for (uint32_t i = 0; i < ncaps; i++)
        hearth_mp_attach(w, caps[i]);
    op(w, 1, "spawn");
    put_lump_id(w, module);
}
