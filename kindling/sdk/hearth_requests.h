/* hearth_requests.h — request encoders (hearth_requests.c), internal to the SDK. */
#ifndef HEARTH_REQUESTS_H
#define HEARTH_REQUESTS_H
void hearth_enc_registry_get(hearth_mp_writer *w, const char *name);
void hearth_enc_registry_register(hearth_mp_writer *w, const char *name, hearth_cap cap);
void hearth_enc_registry_list(hearth_mp_writer *w);
void hearth_enc_time_now(hearth_mp_writer *w);
void hearth_enc_renderer_set_skybox(hearth_mp_writer *w, const hearth_lump_id *texture);
#endif
