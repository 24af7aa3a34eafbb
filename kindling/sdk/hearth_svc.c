/* hearth_svc.c — typed service clients and the server side of the
 * request/response convention. See hearth_svc.h. Request encodings live in
 * hearth_requests.c. */
#include "hearth.h"
#include "hearth_requests.h"

#define DEFAULT_TIMEOUT (5 * HEARTH_SECOND)
#define MAX_DEPTH 64

const char *hearth_status_name(hearth_status s) {
    static const char *const names[] = {"ok", "error reply", "gone", "timeout", "overflow",
                                        "bad reply", "not found"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown status";
}

static bool str_eq(const uint8_t *p, uint32_t len, const char *s) {
    return hearth_strlen(s) == len && memcmp(p, s, len) == 0;
}

/* ---- requests as a client --------------------------------------------------- */

static hearth_status read_reply(hearth_reply *out) {
    hearth_mp_reader r;
    hearth_mp_value key;
    uint32_t n;
    hearth_mp_reader_of(&r, &out->sig);
    if (!hearth_mp_read_map(&r, &n) || n != 1 || !hearth_mp_read(&r, &key) ||
        key.type != HEARTH_MP_STR)
        return HEARTH_ERR_BAD_REPLY;
    out->value = r;
    if (str_eq(key.ptr, key.len, "ok"))
        return hearth_mp_skip(&r) && hearth_mp_at_end(&r) ? HEARTH_OK : HEARTH_ERR_BAD_REPLY;
    if (!str_eq(key.ptr, key.len, "err"))
        return HEARTH_ERR_BAD_REPLY;
    hearth_mp_reader f = out->value;
    if (!hearth_mp_find(&f, "kind") || !hearth_mp_read_str(&f, &out->err_kind, &out->err_kind_len))
        return HEARTH_ERR_BAD_REPLY;
    f = out->value;
    if (hearth_mp_find(&f, "message"))
        hearth_mp_read_str(&f, &out->err_message, &out->err_message_len);
    return HEARTH_ERR_REPLY;
}

hearth_status hearth_ask(hearth_cap service, const hearth_mp_writer *request, uint64_t nanos,
                             hearth_reply *out) {
    memset(out, 0, sizeof *out);
    out->sig.cap = HEARTH_NONE;
    if (request->overflow || request->ncaps == 0)
        return HEARTH_ERR_OVERFLOW;
    hearth_mb mb = hearth_abi_mailbox_create();
    hearth_cap caps[HEARTH_MP_MAX_CAPS];
    memcpy(caps, request->caps, request->ncaps * sizeof(hearth_cap));
    caps[0] = hearth_abi_mailbox_make_capability(mb, HEARTH_SEND);
    if (hearth_abi_table_get_permissions(service) & HEARTH_MONITOR)
        hearth_abi_mailbox_monitor(mb, service); /* a dead service must not leave us waiting */
    hearth_abi_table_send(service, request->buf, request->len, caps, request->ncaps);
    hearth_abi_table_dec_ref(caps[0]);
    bool got = true;
    if (nanos == HEARTH_FOREVER)
        hearth_recv(mb, &out->sig);
    else
        got = hearth_recv_timeout(mb, nanos, &out->sig);
    hearth_abi_mailbox_destroy(mb); /* a late reply goes nowhere */
    if (!got) {
        memset(&out->sig, 0, sizeof out->sig);
        out->sig.cap = HEARTH_NONE;
        return HEARTH_ERR_TIMEOUT;
    }
    if (out->sig.kind != HEARTH_MESSAGE) {
        hearth_signal_release(&out->sig);
        out->sig.ncaps = 0;
        out->sig.cap = HEARTH_NONE;
        return HEARTH_ERR_GONE;
    }
    return read_reply(out);
}

void hearth_reply_release(hearth_reply *reply) {
    for (uint32_t i = 0; i < reply->sig.ncaps; i++)
        if (reply->sig.caps[i] != HEARTH_NONE)
            hearth_abi_table_dec_ref(reply->sig.caps[i]);
    reply->sig.ncaps = 0;
}

void hearth_reply_keep(hearth_reply *reply, hearth_cap cap) {
    for (uint32_t i = 0; i < reply->sig.ncaps; i++)
        if (reply->sig.caps[i] == cap) {
            reply->sig.caps[i] = HEARTH_NONE;
            return;
        }
}

bool hearth_reply_err_is(const hearth_reply *reply, const char *kind) {
    return reply->err_kind != NULL && str_eq((const uint8_t *)reply->err_kind, reply->err_kind_len, kind);
}

static bool copy(hearth_mp_writer *w, hearth_mp_reader *r, int depth) {
    hearth_mp_value v;
    if (depth > MAX_DEPTH || !hearth_mp_read(r, &v))
        return false;
    switch (v.type) {
    case HEARTH_MP_NIL: hearth_mp_put_nil(w); break;
    case HEARTH_MP_BOOL: hearth_mp_put_bool(w, v.b); break;
    case HEARTH_MP_INT: hearth_mp_put_int(w, v.i); break;
    case HEARTH_MP_UINT: hearth_mp_put_uint(w, v.u); break;
    case HEARTH_MP_FLOAT: hearth_mp_put_double(w, v.f); break;
    case HEARTH_MP_STR: hearth_mp_put_strn(w, (const char *)v.ptr, v.len); break;
    case HEARTH_MP_BIN: hearth_mp_put_bin(w, v.ptr, v.len); break;
    case HEARTH_MP_CAP: hearth_mp_put_cap(w, v.cap); break;
    case HEARTH_MP_EXT: hearth_mp_put_ext(w, v.ext_type, v.ptr, v.len); break;
    case HEARTH_MP_ARRAY:
    case HEARTH_MP_MAP: {
        uint64_t items = v.type == HEARTH_MP_ARRAY ? v.len : 2ull * v.len;
        if (v.type == HEARTH_MP_ARRAY)
            hearth_mp_put_array(w, v.len);
        else
            hearth_mp_put_map(w, v.len);
        for (uint64_t i = 0; i < items; i++)
            if (!copy(w, r, depth + 1))
                return false;
        break;
    }
    }
    return !r->error && !w->overflow;
}

bool hearth_mp_copy(hearth_mp_writer *w, hearth_mp_reader *r) { return copy(w, r, 0); }

/* ---- serving requests --------------------------------------------------------- */

bool hearth_request_parse(const hearth_signal *s, hearth_request *req) {
    memset(req, 0, sizeof *req);
    req->sig = s;
    req->reply_to = s->kind == HEARTH_MESSAGE && s->ncaps > 0 ? s->caps[0] : HEARTH_NONE;
    if (req->reply_to == HEARTH_NONE)
        return false;
    hearth_mp_reader r, start;
    hearth_mp_value v;
    hearth_mp_reader_of(&r, s);
    start = r;
    if (!hearth_mp_read(&r, &v))
        return false;
    if (v.type == HEARTH_MP_STR) {
        req->op = (const char *)v.ptr;
        req->op_len = v.len;
        return hearth_mp_at_end(&r);
    }
    if (v.type == HEARTH_MP_ARRAY) {
        if (v.len == 0 || !hearth_mp_read(&r, &v) || v.type != HEARTH_MP_STR)
            return false;
        req->op = (const char *)v.ptr;
        req->op_len = v.len;
        req->form = 1;
        req->nfields = v.len;
        hearth_mp_reader fields = r;
        uint32_t n = 0;
        while (!hearth_mp_at_end(&r) && hearth_mp_skip(&r))
            n++;
        req->nfields = n;
        req->rest = fields;
        return !r.error;
    }
    if (v.type == HEARTH_MP_MAP) {
        req->form = 2;
        req->nfields = v.len;
        req->rest = start;
        hearth_mp_reader f = start, all = start;
        if (!hearth_mp_skip(&all) || !hearth_mp_at_end(&all))
            return false;
        uint32_t len;
        if (!hearth_mp_find(&f, "op") || !hearth_mp_read_str(&f, &req->op, &len))
            return false;
        req->op_len = len;
        return true;
    }
    return false;
}

bool hearth_request_is(const hearth_request *req, const char *op, uint32_t nfields) {
    return str_eq((const uint8_t *)req->op, req->op_len, op) &&
           (req->form != 1 || req->nfields == nfields);
}

bool hearth_request_field(const hearth_request *req, uint32_t index, const char *name,
                          hearth_mp_reader *out) {
    *out = req->rest;
    if (req->form == 1) {
        if (index >= req->nfields)
            return false;
        for (uint32_t i = 0; i < index; i++)
            hearth_mp_skip(out);
        return true;
    }
    return req->form == 2 && hearth_mp_find(out, name);
}

void hearth_reply_begin(hearth_mp_writer *w, void *buf, uint32_t size) {
    hearth_mp_writer_init(w, buf, size);
    hearth_mp_put_map(w, 1);
    hearth_mp_put_str(w, "ok");
}

bool hearth_reply_send(const hearth_request *req, const hearth_mp_writer *w) {
    return req->reply_to != HEARTH_NONE && hearth_mp_send(w, req->reply_to);
}

void hearth_reply_nil(const hearth_request *req) {
    uint8_t buf[16];
    hearth_mp_writer w;
    hearth_reply_begin(&w, buf, sizeof buf);
    hearth_mp_put_nil(&w);
    hearth_reply_send(req, &w);
}

void hearth_reply_int(const hearth_request *req, int64_t v) {
    uint8_t buf[32];
    hearth_mp_writer w;
    hearth_reply_begin(&w, buf, sizeof buf);
    hearth_mp_put_int(&w, v);
    hearth_reply_send(req, &w);
}

void hearth_reply_bool(const hearth_request *req, bool v) {
    uint8_t buf[16];
    hearth_mp_writer w;
    hearth_reply_begin(&w, buf, sizeof buf);
    hearth_mp_put_bool(&w, v);
    hearth_reply_send(req, &w);
}

void hearth_reply_str(const hearth_request *req, const char *s) {
    uint32_t size = hearth_strlen(s) + 16;
    hearth_mp_writer w;
    hearth_reply_begin(&w, hearth_alloc(size), size);
    hearth_mp_put_str(&w, s);
    hearth_reply_send(req, &w);
}

void hearth_reply_error(const hearth_request *req, const char *kind, const char *message) {
    uint32_t size = hearth_strlen(kind) + hearth_strlen(message) + 48;
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, hearth_alloc(size), size);
    hearth_mp_put_map(&w, 1);
    hearth_mp_put_str(&w, "err");
    hearth_mp_put_map(&w, 2);
    hearth_mp_put_str(&w, "kind");
    hearth_mp_put_str(&w, kind);
    hearth_mp_put_str(&w, "message");
    hearth_mp_put_str(&w, message);
    hearth_reply_send(req, &w);
}

void hearth_serve(const hearth_server *sv) {
    for (;;) {
        uint32_t mark = hearth_mark();
        hearth_signal s;
        bool go = true, got = true;
        uint64_t wait = sv->deadline ? sv->deadline(sv->state) : HEARTH_FOREVER;
        hearth_mb mbs[9] = {HEARTH_PARENT};
        uint32_t n = 1;
        for (uint32_t i = 0; i < sv->nmailboxes && n < 9; i++)
            mbs[n++] = sv->mailboxes[i];
        if (wait == HEARTH_FOREVER)
            hearth_poll(mbs, n, &s);
        else
            got = hearth_poll_timeout(mbs, n, wait, &s);
        if (!got) {
            if (sv->timeout)
                go = sv->timeout(sv->state);
        } else if (s.index != 0) {
            if (sv->info)
                sv->info(sv->state, &s);
            hearth_signal_release(&s);
        } else if (s.kind == HEARTH_EXIT) {
            hearth_signal_release(&s);
            hearth_release(mark);
            return;
        } else if (s.kind == HEARTH_MESSAGE) {
            hearth_request req;
            if (hearth_request_parse(&s, &req))
                go = sv->handle(sv->state, &req);
            else if (req.reply_to != HEARTH_NONE)
                hearth_reply_error(&req, "invalid_request",
                                   "not a request: \"op\", [\"op\", fields...] or {\"op\": ...}");
            hearth_signal_release(&s);
        } else {
            if (sv->info)
                sv->info(sv->state, &s);
            hearth_signal_release(&s);
        }
        hearth_release(mark);
        if (!go)
            return;
    }
}

/* ---- registry ------------------------------------------------------------------- */

hearth_status hearth_registry_lookup(hearth_cap registry, const char *name, hearth_cap *out) {
    uint32_t size = hearth_strlen(name) + 32;
    hearth_mp_writer w;
    hearth_reply reply;
    hearth_mp_value v;
    *out = HEARTH_NONE;
    uint32_t mark = hearth_mark();
    hearth_mp_request_init(&w, hearth_alloc(size), size);
    hearth_enc_registry_get(&w, name);
    hearth_status st = hearth_ask(registry, &w, DEFAULT_TIMEOUT, &reply);
    if (st == HEARTH_OK) {
        if (!hearth_mp_read(&reply.value, &v))
            st = HEARTH_ERR_BAD_REPLY;
        else if (v.type == HEARTH_MP_NIL)
            st = HEARTH_ERR_NOT_FOUND;
        else if (v.type != HEARTH_MP_CAP)
            st = HEARTH_ERR_BAD_REPLY;
        else {
            *out = v.cap;
            hearth_reply_keep(&reply, v.cap);
        }
    }
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

hearth_status hearth_registry_put(hearth_cap registry, const char *name, hearth_cap cap) {
    uint32_t size = hearth_strlen(name) + 32;
    hearth_mp_writer w;
    hearth_reply reply;
    uint32_t mark = hearth_mark();
    hearth_mp_request_init(&w, hearth_alloc(size), size);
    hearth_enc_registry_register(&w, name, cap);
    hearth_status st = hearth_ask(registry, &w, DEFAULT_TIMEOUT, &reply);
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

hearth_status hearth_registry_list(hearth_cap registry, hearth_reply *out) {
    uint8_t buf[32];
    hearth_mp_writer w;
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_enc_registry_list(&w);
    hearth_status st = hearth_ask(registry, &w, DEFAULT_TIMEOUT, out);
    hearth_mp_reader check = out->value;
    uint32_t n;
    if (st == HEARTH_OK && !hearth_mp_read_array(&check, &n))
        st = HEARTH_ERR_BAD_REPLY;
    return st;
}

/* ---- time --------------------------------------------------------------------------- */

hearth_status hearth_time_unix_now(hearth_cap unix_time, int64_t *out) {
    uint8_t buf[32];
    hearth_mp_writer w;
    hearth_reply reply;
    uint32_t mark = hearth_mark();
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_enc_time_now(&w);
    hearth_status st = hearth_ask(unix_time, &w, DEFAULT_TIMEOUT, &reply);
    if (st == HEARTH_OK && !hearth_mp_read_int(&reply.value, out))
        st = HEARTH_ERR_BAD_REPLY;
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

void hearth_sleep(uint64_t nanos) {
    hearth_mb mb = hearth_abi_mailbox_create(); /* nothing is ever sent here */
    hearth_signal s;
    if (hearth_recv_timeout(mb, nanos, &s))
        hearth_signal_release(&s);
    hearth_abi_mailbox_destroy(mb);
}

#define TIMER_MAX 256

static void timer_main(void) {
    hearth_signal s;
    hearth_recv(HEARTH_PARENT, &s); /* 8 bytes of nanos, then the payload */
    if (s.kind != HEARTH_MESSAGE || s.len < 8)
        return;
    uint64_t nanos;
    memcpy(&nanos, s.data, 8);
    hearth_sleep(nanos);
    hearth_send(0, s.data + 8, s.len - 8, 0, 0);
}

hearth_cap hearth_timer_after(uint64_t nanos, hearth_cap to, const void *data, uint32_t len) {
    uint8_t msg[8 + TIMER_MAX];
    if (len > TIMER_MAX)
        return HEARTH_NONE;
    hearth_cap timer = hearth_spawn(timer_main, &to, 1);
    memcpy(msg, &nanos, 8);
    memcpy(msg + 8, data, len);
    hearth_send(timer, msg, 8 + len, 0, 0);
    return timer;
}

/* ---- renderer ------------------------------------------------------------------------ */

hearth_lump hearth_lump_cube_texture(const char *label, uint32_t size, const uint8_t *const faces[6]) {
    uint32_t face = size * size * 4, total = 6 * (face + 8) + hearth_strlen(label) + 64;
    uint32_t mark = hearth_mark();
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, hearth_alloc(total), total);
    hearth_mp_put_map(&w, 3);
    hearth_mp_put_str(&w, "label");
    hearth_mp_put_str(&w, label);
    hearth_mp_put_str(&w, "size");
    hearth_mp_put_array(&w, 2);
    hearth_mp_put_uint(&w, size);
    hearth_mp_put_uint(&w, size);
    hearth_mp_put_str(&w, "faces");
    hearth_mp_put_array(&w, 6);
    for (int i = 0; i < 6; i++)
        hearth_mp_put_bin(&w, faces[i], face);
    hearth_lump lump = hearth_lump_load(w.buf, w.len);
    hearth_release(mark);
    return lump;
}

hearth_status hearth_renderer_set_skybox(hearth_cap renderer, hearth_lump texture) {
    uint8_t buf[96];
    hearth_mp_writer w;
    hearth_reply reply;
    hearth_lump_id id;
    hearth_lump_get_id(texture, &id);
    uint32_t mark = hearth_mark();
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_enc_renderer_set_skybox(&w, &id);
    hearth_status st = hearth_ask(renderer, &w, DEFAULT_TIMEOUT, &reply);
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}
