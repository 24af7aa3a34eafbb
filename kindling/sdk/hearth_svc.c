/* hearth_svc.c — typed service clients and the server side of the
 * request/response convention. See hearth_svc.h. Every request is written
 * by an encoder generated from the services' schemas (hearth_protocols.h). */
#include "hearth.h"
#include "hearth_protocols.h" /* the request encoders, generated from the schemas */

#define DEFAULT_TIMEOUT (5 * HEARTH_SECOND)
#define MAX_DEPTH 64
#define HEARTH_MAX_FIELDS 256

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
    /* No operation has more than a few fields: a huge array or map is
     * refused at its header, before anything in it is read. */
    if ((v.type == HEARTH_MP_ARRAY || v.type == HEARTH_MP_MAP) && v.len > HEARTH_MAX_FIELDS)
        return false;
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
        /* Polled in the order watches, other mailboxes, mailbox 0: earlier
         * mailboxes win, so a Down or a tick queued before a request is
         * handled before it. `index` is then renumbered as documented:
         * 0 for mailbox 0, 1.. for `mailboxes`, 9.. for watches. */
        hearth_mb mbs[1 + 8 + HEARTH_MAX_WATCHES];
        uint32_t n = 0, nwatch = sv->watches ? sv->watches->n : 0;
        uint32_t nextra = sv->nmailboxes < 8 ? sv->nmailboxes : 8;
        for (uint32_t i = 0; i < nwatch; i++)
            mbs[n++] = sv->watches->mbs[i];
        for (uint32_t i = 0; i < nextra; i++)
            mbs[n++] = sv->mailboxes[i];
        mbs[n++] = HEARTH_PARENT;
        uint32_t first_watch = 9;
        if (wait == HEARTH_FOREVER)
            hearth_poll(mbs, n, &s);
        else
            got = hearth_poll_timeout(mbs, n, wait, &s);
        if (got)
            s.index = s.index < nwatch ? first_watch + s.index
                    : s.index < nwatch + nextra ? 1 + s.index - nwatch : 0;
        if (!got) {
            if (sv->timeout)
                go = sv->timeout(sv->state);
        } else if (s.index >= first_watch) {
            uint32_t i = s.index - first_watch; /* a watched route closed */
            if (sv->down)
                sv->down(sv->state, sv->watches->caps[i], &s);
            hearth_unwatch_at(sv->watches, i);
            hearth_signal_release(&s);
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
            else if (req.reply_to != HEARTH_NONE && s.refused_len > 0)
                hearth_reply_error(&req, "invalid_request",
                                   "message refused: longer than this service takes");
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

void hearth_exit_error(const char *name, const char *message) {
    uint32_t size = hearth_strlen(name) + hearth_strlen(message) + 32;
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, hearth_alloc(size), size);
    hearth_mp_put_array(&w, 4);
    hearth_mp_put_str(&w, "error");
    hearth_mp_put_str(&w, name);
    hearth_mp_put_str(&w, message);
    hearth_mp_put_str(&w, "");
    hearth_exit(w.buf, w.len);
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
    hearth_req_registry_get(&w, name);
    hearth_status st = hearth_ask(registry, &w, DEFAULT_TIMEOUT, &reply);
    if (st == HEARTH_ERR_REPLY && hearth_reply_err_is(&reply, "not_found"))
        st = HEARTH_ERR_NOT_FOUND;
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
    hearth_req_registry_register(&w, cap, name);
    hearth_status st = hearth_ask(registry, &w, DEFAULT_TIMEOUT, &reply);
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

hearth_status hearth_registry_list(hearth_cap registry, hearth_reply *out) {
    uint8_t buf[32];
    hearth_mp_writer w;
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_registry_list(&w);
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
    hearth_req_unixtime_now(&w);
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

/* A timer's or ticker's start: watch the parent (caps[1], MONITOR) first,
 * then wait for its orders (8 bytes of nanos, then the payload), so a
 * parent that dies before sending them never leaves us waiting. Returns
 * the watch mailbox, or HEARTH_NONE if the parent is gone. */
static hearth_mb await_orders(hearth_signal *orders, uint64_t *nanos) {
    hearth_mb mbs[2] = {hearth_mailbox_create(), HEARTH_PARENT};
    hearth_monitor(mbs[0], 1);
    hearth_poll(mbs, 2, orders);
    if (orders->index == 0 || orders->kind != HEARTH_MESSAGE || orders->len < 8)
        return HEARTH_NONE;
    memcpy(nanos, orders->data, 8);
    return mbs[0];
}

static void timer_main(void) {
    hearth_signal s, down;
    uint64_t nanos;
    hearth_mb watch = await_orders(&s, &nanos);
    if (watch == HEARTH_NONE)
        return;
    if (hearth_recv_timeout(watch, nanos, &down))
        return; /* the parent is gone: nobody to tell */
    hearth_send(0, s.data + 8, s.len - 8, 0, 0);
}

/* A child running `entry` (timer_main or ticker_main), sending `data` to `to`
 * after (or every) `nanos`, watching its parent: its capability, or
 * HEARTH_NONE if `data` is over TIMER_MAX. */
static hearth_cap start_clock_child(hearth_entry entry, uint64_t nanos, hearth_cap to,
                                    const void *data, uint32_t len) {
    uint8_t msg[8 + TIMER_MAX];
    if (len > TIMER_MAX)
        return HEARTH_NONE;
    hearth_cap caps[2] = {to, hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR)};
    hearth_cap child = hearth_spawn(entry, caps, 2);
    hearth_dec_ref(caps[1]);
    memcpy(msg, &nanos, 8);
    memcpy(msg + 8, data, len);
    hearth_send(child, msg, 8 + len, 0, 0);
    return child;
}

hearth_cap hearth_timer_after(uint64_t nanos, hearth_cap to, const void *data, uint32_t len) {
    return start_clock_child(timer_main, nanos, to, data, len);
}

/* ---- requests with a reply of a known shape ------------------------------------ */

/* A writer of `size` bytes from hearth_alloc, caps[0] reserved. */
static void begin(hearth_mp_writer *w, uint32_t size) {
    hearth_mp_request_init(w, hearth_alloc(size), size);
}

/* Ask; with `out`, the ok value must be a capability, which is kept. */
static hearth_status finish(uint32_t mark, hearth_cap service, hearth_mp_writer *w, hearth_cap *out) {
    hearth_reply reply;
    hearth_mp_value v;
    if (out)
        *out = HEARTH_NONE;
    hearth_status st = hearth_ask(service, w, DEFAULT_TIMEOUT, &reply);
    if (st == HEARTH_OK && out) {
        if (!hearth_mp_read(&reply.value, &v) || v.type != HEARTH_MP_CAP)
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

/* Send `w` (begun with hearth_mp_writer_init) without a reply capability. */
static bool sink(uint32_t mark, hearth_cap to, hearth_mp_writer *w) {
    bool ok = hearth_mp_send(w, to);
    hearth_release(mark);
    return ok;
}

static void ticker_main(void) {
    hearth_signal s;
    uint64_t nanos;
    hearth_mb watch = await_orders(&s, &nanos);
    if (watch == HEARTH_NONE)
        return;
    for (;;) {
        hearth_signal down;
        if (hearth_recv_timeout(watch, nanos, &down))
            return; /* the parent is gone */
        hearth_send(0, s.data + 8, s.len - 8, 0, 0);
    }
}

hearth_cap hearth_ticker_start(uint64_t nanos, hearth_cap to, const void *data, uint32_t len) {
    return start_clock_child(ticker_main, nanos, to, data, len);
}

/* ---- lumps ------------------------------------------------------------------------------ */

/* A writer over `size` bytes of scratch (taken after the caller's mark),
 * for a lump too big for the stack. */
static void scratch_writer(hearth_mp_writer *w, uint32_t size) {
    hearth_mp_writer_init(w, hearth_alloc(size), size);
}

/* The lump of what `w` wrote into scratch, the scratch let go to `mark`. */
static hearth_lump load_scratch(const hearth_mp_writer *w, uint32_t mark) {
    hearth_lump lump = hearth_lump_load(w->buf, w->len);
    hearth_release(mark);
    return lump;
}

/* A texture's map up to its pixels: {"label": label, "size": [width,
 * height], pixels_key: <the caller writes it next>}. */
static void put_texture_head(hearth_mp_writer *w, const char *label, uint32_t width,
                             uint32_t height, const char *pixels_key) {
    hearth_mp_put_map(w, 3);
    hearth_mp_put_str(w, "label");
    hearth_mp_put_str(w, label);
    hearth_mp_put_str(w, "size");
    hearth_mp_put_array(w, 2);
    hearth_mp_put_uint(w, width);
    hearth_mp_put_uint(w, height);
    hearth_mp_put_str(w, pixels_key);
}

hearth_lump hearth_lump_cube_texture(const char *label, uint32_t size, const uint8_t *const faces[6]) {
    uint32_t face = size * size * 4, total = 6 * (face + 8) + hearth_strlen(label) + 64;
    uint32_t mark = hearth_mark();
    hearth_mp_writer w;
    scratch_writer(&w, total);
    put_texture_head(&w, label, size, size, "faces");
    hearth_mp_put_array(&w, 6);
    for (int i = 0; i < 6; i++)
        hearth_mp_put_bin(&w, faces[i], face);
    return load_scratch(&w, mark);
}

hearth_lump hearth_lump_texture(const char *label, uint32_t width, uint32_t height, const uint8_t *rgba) {
    uint32_t bytes = width * height * 4, total = bytes + hearth_strlen(label) + 64;
    uint32_t mark = hearth_mark();
    hearth_mp_writer w;
    scratch_writer(&w, total);
    put_texture_head(&w, label, width, height, "rgba");
    hearth_mp_put_bin(&w, rgba, bytes);
    return load_scratch(&w, mark);
}

hearth_lump hearth_lump_mesh(const float *positions, const float *normals, uint32_t nvertices,
                             const uint32_t *indices, uint32_t nindices) {
    uint32_t total = nvertices * 24 + nindices * 4 + 64;
    uint32_t mark = hearth_mark();
    hearth_mp_writer w;
    scratch_writer(&w, total);
    hearth_mp_put_map(&w, normals ? 3 : 2);
    hearth_mp_put_str(&w, "positions");
    hearth_mp_put_bin(&w, positions, nvertices * 12);
    hearth_mp_put_str(&w, "indices");
    hearth_mp_put_bin(&w, indices, nindices * 4);
    if (normals) {
        hearth_mp_put_str(&w, "normals");
        hearth_mp_put_bin(&w, normals, nvertices * 12);
    }
    return load_scratch(&w, mark);
}

hearth_lump hearth_lump_material(const float albedo[4], hearth_lump texture) {
    uint8_t buf[128];
    hearth_mp_writer w;
    hearth_lump_id id;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_map(&w, texture == HEARTH_NONE ? 1 : 2);
    hearth_mp_put_str(&w, "albedo");
    hearth_mp_put_array(&w, 4);
    for (int i = 0; i < 4; i++)
        hearth_mp_put_double(&w, albedo[i]);
    if (texture != HEARTH_NONE) {
        hearth_lump_get_id(texture, &id);
        hearth_mp_put_str(&w, "albedo_texture");
        hearth_mp_put_bin(&w, id.bytes, sizeof id.bytes);
    }
    return hearth_lump_load(w.buf, w.len);
}

hearth_lump hearth_lump_cube_mesh(float half) {
    float positions[24 * 3], normals[24 * 3];
    uint32_t indices[36];
    uint32_t nv = 0, ni = 0;
    static const int corners[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    for (int axis = 0; axis < 3; axis++) {
        int u = axis == 0 ? 1 : 0, v = axis == 2 ? 1 : 2;
        for (int sign = -1; sign <= 1; sign += 2) {
            uint32_t base = nv;
            for (int c = 0; c < 4; c++, nv++) {
                float *p = positions + nv * 3, *n = normals + nv * 3;
                p[axis] = sign * half;
                p[u] = corners[c][0] * half;
                p[v] = corners[c][1] * half;
                n[0] = n[1] = n[2] = 0;
                n[axis] = (float)sign;
            }
            static const uint32_t tri[6] = {0, 1, 2, 0, 2, 3};
            for (int k = 0; k < 6; k++)
                indices[ni++] = base + tri[k];
        }
    }
    return hearth_lump_mesh(positions, normals, nv, indices, ni);
}

/* ---- renderer ------------------------------------------------------------------------ */

hearth_status hearth_renderer_set_skybox(hearth_cap renderer, hearth_lump texture) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 96);
    hearth_req_renderer_set_skybox(&w, texture);
    return finish(mark, renderer, &w, NULL);
}

hearth_status hearth_renderer_set_ambient(hearth_cap renderer, const float color[4]) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 96);
    hearth_req_renderer_set_ambient_lighting(&w, color);
    return finish(mark, renderer, &w, NULL);
}

hearth_status hearth_renderer_add_object(hearth_cap renderer, hearth_cap owner, hearth_lump mesh,
                                         hearth_lump material, const float transform[16],
                                         hearth_cap *out) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 192);
    hearth_req_renderer_add_object(&w, owner, mesh, material, transform);
    return finish(mark, renderer, &w, out);
}

hearth_status hearth_renderer_add_directional_light(hearth_cap renderer, hearth_cap owner,
                                                    const float color[3], float intensity,
                                                    const float direction[3], hearth_cap *out) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 160);
    hearth_req_renderer_add_directional_light(&w, owner, color, intensity, direction);
    return finish(mark, renderer, &w, out);
}

bool hearth_object_set_transform(hearth_cap object, const float transform[16]) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    hearth_mp_writer_init(&w, hearth_alloc(112), 112);
    hearth_req_renderer_object_set_transform(&w, transform);
    return sink(mark, object, &w);
}

/* ---- canvas and debug draw --------------------------------------------------------------- */

hearth_status hearth_canvas_create(hearth_cap factory, hearth_cap owner, const hearth_canvas_position *position,
                                   uint32_t width, uint32_t height, const uint8_t *rgba, bool linear,
                                   hearth_cap *out) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, width * height * 4 + 256);
    hearth_req_canvas_canvasfactory_create(&w, owner, position, width, height, rgba, width * height * 4,
                                          linear ? "linear" : "nearest");
    return finish(mark, factory, &w, out);
}

bool hearth_canvas_blit(hearth_cap canvas, int32_t x, int32_t y, uint32_t width, uint32_t height,
                        const uint8_t *rgba) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark(), size = width * height * 4 + 96;
    hearth_mp_writer_init(&w, hearth_alloc(size), size);
    hearth_req_canvas_blit(&w, x, y, width, height, rgba, width * height * 4);
    return sink(mark, canvas, &w);
}

bool hearth_canvas_relocate(hearth_cap canvas, const hearth_canvas_position *position) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    hearth_mp_writer_init(&w, hearth_alloc(192), 192);
    hearth_req_canvas_relocate(&w, position);
    return sink(mark, canvas, &w);
}

hearth_status hearth_debug_draw_new(hearth_cap factory, hearth_cap owner, hearth_cap *out) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 32);
    hearth_req_debugdrawfactory_new(&w, owner);
    return finish(mark, factory, &w, out);
}

hearth_status hearth_debug_draw_contents(hearth_cap draw, const float *positions, const uint8_t *colors,
                                         uint32_t nvertices, const uint32_t *indices, uint32_t nindices) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, nvertices * 16 + nindices * 4 + 96);
    hearth_req_debugdraw_contents(&w, positions, nvertices * 12, colors, nvertices * 4, indices, nindices * 4);
    return finish(mark, draw, &w, NULL);
}

/* ---- window ------------------------------------------------------------------------------- */

hearth_status hearth_window_subscribe(hearth_cap window, hearth_cap target) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 48);
    hearth_req_window_subscribe(&w, target);
    return finish(mark, window, &w, NULL);
}

hearth_status hearth_window_set_camera(hearth_cap window, double vfov, double near, const float view[16]) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 128);
    hearth_req_window_set_camera(&w, vfov, near, view);
    return finish(mark, window, &w, NULL);
}

static bool read_number(hearth_mp_reader *r, double *out);

hearth_status hearth_window_camera(hearth_cap window, float view[16]) {
    hearth_mp_writer w;
    hearth_reply reply;
    hearth_mp_value v;
    uint32_t mark = hearth_mark();
    begin(&w, 32);
    hearth_req_window_camera(&w);
    hearth_status st = hearth_ask(window, &w, DEFAULT_TIMEOUT, &reply);
    if (st == HEARTH_OK) {
        hearth_mp_reader f = reply.value;
        st = HEARTH_ERR_BAD_REPLY;
        if (hearth_mp_find(&f, "view") && hearth_mp_read(&f, &v)) {
            if (v.type == HEARTH_MP_BIN && v.len == 64) {
                memcpy(view, v.ptr, 64); /* float32, little-endian, as wasm is */
                st = HEARTH_OK;
            } else if (v.type == HEARTH_MP_ARRAY && v.len == 16) {
                st = HEARTH_OK;
                for (int i = 0; i < 16 && st == HEARTH_OK; i++) {
                    double d;
                    if (read_number(&f, &d))
                        view[i] = (float)d;
                    else
                        st = HEARTH_ERR_BAD_REPLY;
                }
            }
        }
    }
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

bool hearth_window_set_camera_send(hearth_cap window, hearth_cap reply_to, double vfov, double near,
                                   const float view[16]) {
    uint8_t buf[128];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_attach(&w, reply_to);
    hearth_req_window_set_camera(&w, vfov, near, view);
    return hearth_mp_send(&w, window);
}

static const struct { const char *name; hearth_event_kind kind; } EVENTS[] = {
    {"redraw", HEARTH_EV_REDRAW}, {"resized", HEARTH_EV_RESIZED},
    {"received_character", HEARTH_EV_RECEIVED_CHARACTER}, {"keyboard_input", HEARTH_EV_KEYBOARD_INPUT},
    {"modifiers_changed", HEARTH_EV_MODIFIERS_CHANGED}, {"cursor_moved", HEARTH_EV_CURSOR_MOVED},
    {"cursor_entered", HEARTH_EV_CURSOR_ENTERED}, {"cursor_left", HEARTH_EV_CURSOR_LEFT},
    {"mouse_input", HEARTH_EV_MOUSE_INPUT}, {"mouse_wheel", HEARTH_EV_MOUSE_WHEEL},
    {"mouse_motion", HEARTH_EV_MOUSE_MOTION}, {"focused", HEARTH_EV_FOCUSED},
    {"close_requested", HEARTH_EV_CLOSE_REQUESTED},
};

static bool read_number(hearth_mp_reader *r, double *out) {
    hearth_mp_value v;
    if (!hearth_mp_read(r, &v))
        return false;
    if (v.type == HEARTH_MP_INT)
        *out = (double)v.i;
    else if (v.type == HEARTH_MP_UINT)
        *out = (double)v.u;
    else if (v.type == HEARTH_MP_FLOAT)
        *out = v.f;
    else
        return false;
    return true;
}

static void copy_str(char *dst, uint32_t size, const uint8_t *src, uint32_t len) {
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

static bool read_modifiers(hearth_mp_reader *r, uint32_t *out) {
    static const char *const names[4] = {"shift", "ctrl", "alt", "logo"};
    uint32_t n;
    hearth_mp_value k, v;
    if (!hearth_mp_read_map(r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!hearth_mp_read(r, &k) || !hearth_mp_read(r, &v))
            return false;
        for (int b = 0; b < 4; b++)
            if (k.type == HEARTH_MP_STR && v.type == HEARTH_MP_BOOL && v.b && hearth_mp_str_is(&k, names[b]))
                *out |= 1u << b;
    }
    return true;
}

hearth_status hearth_window_event_decode(const hearth_signal *s, hearth_window_event *e) {
    hearth_mp_reader r;
    hearth_mp_value k, v;
    uint32_t n;
    memset(e, 0, sizeof *e);
    if (s->kind != HEARTH_MESSAGE)
        return HEARTH_ERR_BAD_REPLY;
    hearth_mp_reader_of(&r, s);
    if (!hearth_mp_read_map(&r, &n))
        return HEARTH_ERR_BAD_REPLY;
    bool named = false;
    for (uint32_t i = 0; i < n; i++) {
        if (!hearth_mp_read(&r, &k) || k.type != HEARTH_MP_STR)
            return HEARTH_ERR_BAD_REPLY;
        double d;
        bool ok = true;
        if (hearth_mp_str_is(&k, "event")) {
            ok = hearth_mp_read(&r, &v) && v.type == HEARTH_MP_STR;
            for (uint32_t j = 0; ok && j < sizeof EVENTS / sizeof EVENTS[0]; j++)
                if (hearth_mp_str_is(&v, EVENTS[j].name))
                    e->kind = EVENTS[j].kind;
            named = ok;
        } else if (hearth_mp_str_is(&k, "dt")) {
            ok = read_number(&r, &e->dt);
        } else if (hearth_mp_str_is(&k, "width") || hearth_mp_str_is(&k, "height")) {
            ok = read_number(&r, &d) && d >= 0 && d < 4294967296.0;
            if (ok)
                *(hearth_mp_str_is(&k, "width") ? &e->width : &e->height) = (uint32_t)d;
        } else if (hearth_mp_str_is(&k, "x") || hearth_mp_str_is(&k, "y")) {
            ok = read_number(&r, hearth_mp_str_is(&k, "x") ? &e->x : &e->y);
        } else if (hearth_mp_str_is(&k, "dx") || hearth_mp_str_is(&k, "dy")) {
            ok = read_number(&r, hearth_mp_str_is(&k, "dx") ? &e->dx : &e->dy);
        } else if (hearth_mp_str_is(&k, "char") || hearth_mp_str_is(&k, "key")) {
            ok = hearth_mp_read(&r, &v) && v.type == HEARTH_MP_STR;
            if (ok && hearth_mp_str_is(&k, "char"))
                copy_str(e->text, sizeof e->text, v.ptr, v.len);
            else if (ok)
                copy_str(e->key, sizeof e->key, v.ptr, v.len);
        } else if (hearth_mp_str_is(&k, "scancode")) {
            ok = hearth_mp_read_int(&r, &e->scancode);
        } else if (hearth_mp_str_is(&k, "state")) {
            ok = hearth_mp_read(&r, &v) && v.type == HEARTH_MP_STR;
            e->pressed = ok && hearth_mp_str_is(&v, "pressed");
        } else if (hearth_mp_str_is(&k, "button")) {
            ok = hearth_mp_read(&r, &v);
            if (ok && v.type == HEARTH_MP_STR)
                e->button = hearth_mp_str_is(&v, "left") ? 1 : hearth_mp_str_is(&v, "middle") ? 2
                          : hearth_mp_str_is(&v, "right") ? 3 : 0;
            else if (ok && v.type == HEARTH_MP_INT)
                e->button = (int32_t)v.i;
        } else if (hearth_mp_str_is(&k, "focused")) {
            ok = hearth_mp_read_bool(&r, &e->focused);
        } else if (hearth_mp_str_is(&k, "modifiers")) {
            ok = read_modifiers(&r, &e->modifiers);
        } else {
            ok = hearth_mp_skip(&r); /* a field this SDK does not know */
        }
        if (!ok)
            return HEARTH_ERR_BAD_REPLY;
    }
    return named && hearth_mp_at_end(&r) ? HEARTH_OK : HEARTH_ERR_BAD_REPLY;
}

bool hearth_key_is(const hearth_window_event *e, const char *name) { return hearth_streq(e->key, name); }

/* ---- terminal ------------------------------------------------------------------------------ */

hearth_status hearth_terminal_create(hearth_cap factory, hearth_cap owner, const hearth_canvas_position *position,
                                     uint32_t columns, uint32_t rows, const char *const *argv,
                                     hearth_cap *out) {
    hearth_mp_writer w;
    uint32_t size = 256;
    for (uint32_t i = 0; argv && argv[i]; i++)
        size += hearth_strlen(argv[i]) + 8;
    uint32_t mark = hearth_mark();
    begin(&w, size);
    hearth_req_terminal_terminalfactory_create(&w, owner, position, columns, rows, argv);
    return finish(mark, factory, &w, out);
}

bool hearth_terminal_input(hearth_cap terminal, const char *text) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark(), size = hearth_strlen(text) + 32;
    hearth_mp_writer_init(&w, hearth_alloc(size), size);
    hearth_req_terminal_input(&w, text);
    return sink(mark, terminal, &w);
}

bool hearth_terminal_quit(hearth_cap terminal) {
    uint8_t buf[16];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_req_terminal_quit(&w);
    return hearth_mp_send(&w, terminal);
}

/* ---- world ------------------------------------------------------------------------------- */

hearth_status hearth_world_add(hearth_cap world, hearth_cap owner, hearth_lump mesh, hearth_lump material,
                               const float transform[16], const char *label, int64_t *id,
                               hearth_cap *entity) {
    hearth_mp_writer w;
    hearth_reply reply;
    hearth_mp_value v;
    uint32_t mark = hearth_mark();
    *entity = HEARTH_NONE;
    *id = -1;
    begin(&w, 512 + (label ? hearth_strlen(label) : 0));
    hearth_req_world_add(&w, owner, mesh, transform, material, label, NULL);
    hearth_status st = hearth_ask(world, &w, DEFAULT_TIMEOUT, &reply);
    if (st == HEARTH_OK) {
        hearth_mp_reader f = reply.value;
        if (!hearth_mp_find(&f, "id") || !hearth_mp_read_int(&f, id))
            st = HEARTH_ERR_BAD_REPLY;
        f = reply.value;
        if (st == HEARTH_OK && (!hearth_mp_find(&f, "entity") || !hearth_mp_read(&f, &v) ||
                                v.type != HEARTH_MP_CAP))
            st = HEARTH_ERR_BAD_REPLY;
        if (st == HEARTH_OK) {
            *entity = v.cap;
            hearth_reply_keep(&reply, v.cap);
        }
    }
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

hearth_status hearth_world_move(hearth_cap entity, const float transform[16]) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 256);
    hearth_req_world_entity_update_transform(&w, transform);
    return finish(mark, entity, &w, NULL);
}

hearth_status hearth_world_relabel(hearth_cap entity, const char *label) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 64 + (label ? hearth_strlen(label) : 0));
    hearth_req_world_entity_update_label(&w, label);
    return finish(mark, entity, &w, NULL);
}

hearth_status hearth_world_remove(hearth_cap entity) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 32);
    hearth_req_world_entity_remove(&w);
    return finish(mark, entity, &w, NULL);
}

hearth_status hearth_world_subscribe(hearth_cap world, hearth_cap subscriber) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, 32);
    hearth_req_world_subscribe(&w, subscriber);
    return finish(mark, world, &w, NULL);
}

/* ---- filesystem and spawner ---------------------------------------------------------- */

hearth_status hearth_fs_get(hearth_cap fs, const char *path, hearth_lump_id *out) {
    hearth_mp_writer w;
    hearth_reply reply;
    hearth_mp_value v;
    uint32_t mark = hearth_mark();
    memset(out, 0, sizeof *out);
    begin(&w, hearth_strlen(path) + 32);
    hearth_req_fs_filesystem_get(&w, path);
    hearth_status st = hearth_ask(fs, &w, DEFAULT_TIMEOUT, &reply);
    if (st == HEARTH_ERR_REPLY && hearth_reply_err_is(&reply, "not_found"))
        st = HEARTH_ERR_NOT_FOUND;
    if (st == HEARTH_OK) {
        if (!hearth_mp_read(&reply.value, &v) || v.type != HEARTH_MP_BIN || v.len != 32)
            st = HEARTH_ERR_BAD_REPLY;
        else
            memcpy(out->bytes, v.ptr, 32);
    }
    hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

hearth_status hearth_fs_put(hearth_cap fs, const char *path, hearth_lump lump) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    begin(&w, hearth_strlen(path) + 64);
    hearth_req_fs_filesystem_put(&w, path, lump);
    return finish(mark, fs, &w, NULL);
}

hearth_status hearth_fs_list(hearth_cap fs, const char *path, hearth_reply *out) {
    hearth_mp_writer w;
    begin(&w, hearth_strlen(path) + 32);
    hearth_req_fs_filesystem_list(&w, path);
    hearth_status st = hearth_ask(fs, &w, DEFAULT_TIMEOUT, out);
    hearth_mp_reader check = out->value;
    uint32_t n;
    if (st == HEARTH_ERR_REPLY && hearth_reply_err_is(out, "not_found"))
        st = HEARTH_ERR_NOT_FOUND;
    if (st == HEARTH_OK && !hearth_mp_read_array(&check, &n))
        st = HEARTH_ERR_BAD_REPLY;
    return st;
}

hearth_status hearth_spawner_spawn(hearth_cap spawner, hearth_lump module, const hearth_cap *caps,
                                   uint32_t ncaps, hearth_cap *out) {
    hearth_mp_writer w;
    uint32_t mark = hearth_mark();
    if (ncaps > HEARTH_MP_MAX_CAPS - 1) {
        *out = HEARTH_NONE;
        return HEARTH_ERR_OVERFLOW;
    }
    begin(&w, 64);
    hearth_req_wasm_wasmprocessspawner_spawn(&w, caps, ncaps, module, NULL);
    return finish(mark, spawner, &w, out);
}

/* ---- numbers ---------------------------------------------------------------------------- */

double hearth_sin(double x) {
    /* Reduce to [-pi, pi], then to [-pi/2, pi/2] (sin(pi - x) = sin x), then
     * a Taylor series to x^15: error below 1e-12 there. */
    double k = __builtin_floor(x / (2 * HEARTH_PI) + 0.5);
    x -= k * 2 * HEARTH_PI;
    if (x > HEARTH_PI / 2)
        x = HEARTH_PI - x;
    else if (x < -HEARTH_PI / 2)
        x = -HEARTH_PI - x;
    double x2 = x * x, term = x, sum = x;
    for (int i = 1; i <= 7; i++) {
        term *= -x2 / ((2 * i) * (2 * i + 1));
        sum += term;
    }
    return sum;
}

double hearth_cos(double x) { return hearth_sin(x + HEARTH_PI / 2); }

double hearth_atan2(double y, double x) {
    if (x == 0 && y == 0)
        return 0;
    /* A start within pi/4 of the answer (the nearest axis), then Newton on
     * f(t) = sin(t) x - cos(t) y, whose slope there is positive. */
    double ax = x < 0 ? -x : x, ay = y < 0 ? -y : y;
    double t = ax >= ay ? (x >= 0 ? 0 : HEARTH_PI) : (y >= 0 ? HEARTH_PI / 2 : -HEARTH_PI / 2);
    for (int i = 0; i < 12; i++) {
        double s = hearth_sin(t), c = hearth_cos(t);
        t -= (s * x - c * y) / (c * x + s * y);
    }
    while (t > HEARTH_PI)
        t -= 2 * HEARTH_PI;
    while (t < -HEARTH_PI)
        t += 2 * HEARTH_PI;
    return t;
}
