/* hearth_requests.c — the request encoders of the SDK's service clients, one
 * function per operation and nothing else, so that code generated from the
 * services' protocol schema can replace this file. Each writes one request
 * (after hearth_mp_request_init) in the map form of docs/protocols.md. */
#include "hearth.h"
#include "hearth_requests.h"

static void op(hearth_mp_writer *w, uint32_t fields, const char *name) {
    hearth_mp_put_map(w, fields + 1);
    hearth_mp_put_str(w, "op");
    hearth_mp_put_str(w, name);
}

void hearth_enc_registry_get(hearth_mp_writer *w, const char *name) {
    op(w, 1, "get");
    hearth_mp_put_str(w, "name");
    hearth_mp_put_str(w, name);
}

void hearth_enc_registry_register(hearth_mp_writer *w, const char *name, hearth_cap cap) {
    hearth_mp_attach(w, cap); /* the registry takes the request's caps[1] */
    op(w, 1, "register");
    hearth_mp_put_str(w, "name");
    hearth_mp_put_str(w, name);
}

void hearth_enc_registry_list(hearth_mp_writer *w) { op(w, 0, "list"); }

void hearth_enc_time_now(hearth_mp_writer *w) { op(w, 0, "now"); }

void hearth_enc_renderer_set_skybox(hearth_mp_writer *w, const hearth_lump_id *texture) {
    op(w, 1, "set_skybox");
    hearth_mp_put_str(w, "texture");
    hearth_mp_put_bin(w, texture->bytes, sizeof texture->bytes);
}
