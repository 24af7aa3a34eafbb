/* hearth_requests.h — the request encoders of hearth_requests.c, internal
 * to the SDK: each writes one request into a writer (after
 * hearth_mp_request_init for a request, hearth_mp_writer_init for a sink). */
#ifndef HEARTH_REQUESTS_H
#define HEARTH_REQUESTS_H
void hearth_enc_registry_get(hearth_mp_writer *w, const char *name);
void hearth_enc_registry_register(hearth_mp_writer *w, const char *name, hearth_cap cap);
void hearth_enc_registry_list(hearth_mp_writer *w);
void hearth_enc_time_now(hearth_mp_writer *w);
void hearth_enc_renderer_set_skybox(hearth_mp_writer *w, const hearth_lump_id *texture);
void hearth_enc_renderer_add_object(hearth_mp_writer *w, hearth_cap owner, hearth_lump mesh, hearth_lump material, const float transform[16]);
void hearth_enc_renderer_add_directional_light(hearth_mp_writer *w, hearth_cap owner, const float color[3], float intensity, const float direction[3]);
void hearth_enc_renderer_set_ambient_lighting(hearth_mp_writer *w, const float color[4]);
void hearth_enc_object_set_transform(hearth_mp_writer *w, const float transform[16]);
void hearth_enc_window_subscribe(hearth_mp_writer *w, hearth_cap target);
void hearth_enc_window_camera(hearth_mp_writer *w);
void hearth_enc_window_set_camera(hearth_mp_writer *w, double vfov, double near, const float view[16]);
void hearth_enc_canvas_create(hearth_mp_writer *w, hearth_cap owner, const hearth_canvas_position *position, uint32_t width, uint32_t height, const uint8_t *rgba, bool linear);
void hearth_enc_canvas_blit(hearth_mp_writer *w, int32_t x, int32_t y, uint32_t width, uint32_t height, const uint8_t *rgba);
void hearth_enc_canvas_relocate(hearth_mp_writer *w, const hearth_canvas_position *position);
void hearth_enc_debug_draw_new(hearth_mp_writer *w, hearth_cap owner);
void hearth_enc_debug_draw_contents(hearth_mp_writer *w, const float *positions, const uint8_t *colors, uint32_t nvertices, const uint32_t *indices, uint32_t nindices);
void hearth_enc_world_add(hearth_mp_writer *w, hearth_cap owner, hearth_lump mesh, hearth_lump material, const float transform[16], const char *label);
void hearth_enc_world_move(hearth_mp_writer *w, const float transform[16]);
void hearth_enc_world_relabel(hearth_mp_writer *w, const char *label);
void hearth_enc_world_remove(hearth_mp_writer *w);
void hearth_enc_world_subscribe(hearth_mp_writer *w, hearth_cap subscriber);
void hearth_enc_terminal_create(hearth_mp_writer *w, hearth_cap owner, const hearth_canvas_position *position, uint32_t columns, uint32_t rows, const char *const *argv);
void hearth_enc_terminal_input(hearth_mp_writer *w, const char *text);
void hearth_enc_terminal_quit(hearth_mp_writer *w);
void hearth_enc_fs_get(hearth_mp_writer *w, const char *path);
void hearth_enc_fs_put(hearth_mp_writer *w, const char *path, hearth_lump lump);
void hearth_enc_fs_list(hearth_mp_writer *w, const char *path);
void hearth_enc_spawner_spawn(hearth_mp_writer *w, hearth_lump module, const hearth_cap *caps, uint32_t ncaps);
#endif
