/* hearth_mp.c — msgpack for guests: a writer into a caller's buffer and a
 * reader that never reads past its input. Capabilities travel as ext type 1
 * with their index into the message's caps (little-endian u32), as
 * hearth/otp/_codec.py does. The writer always picks the shortest form,
 * like Python's msgpack, so both sides produce the same bytes. */
#include "hearth.h"

/* ---- writing --------------------------------------------------------------- */

void hearth_mp_writer_init(hearth_mp_writer *w, void *buf, uint32_t size) {
    w->buf = buf;
    w->len = 0;
    w->size = size;
    w->ncaps = 0;
    w->overflow = false;
}

static void put(hearth_mp_writer *w, const void *data, uint32_t n) {
    if (w->overflow || n > w->size - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

/* A marker byte followed by `n` bytes of `v`, big-endian. */
static void put_be(hearth_mp_writer *w, uint8_t marker, uint64_t v, uint32_t n) {
    uint8_t b[9];
    b[0] = marker;
    for (uint32_t i = 0; i < n; i++)
        b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put(w, b, 1 + n);
}

void hearth_mp_put_nil(hearth_mp_writer *w) { put_be(w, 0xc0, 0, 0); }
void hearth_mp_put_bool(hearth_mp_writer *w, bool v) { put_be(w, v ? 0xc3 : 0xc2, 0, 0); }

void hearth_mp_put_uint(hearth_mp_writer *w, uint64_t v) {
    if (v < 0x80) put_be(w, (uint8_t)v, 0, 0);
    else if (v <= 0xff) put_be(w, 0xcc, v, 1);
    else if (v <= 0xffff) put_be(w, 0xcd, v, 2);
    else if (v <= 0xffffffffu) put_be(w, 0xce, v, 4);
    else put_be(w, 0xcf, v, 8);
}

void hearth_mp_put_int(hearth_mp_writer *w, int64_t v) {
    if (v >= 0) hearth_mp_put_uint(w, (uint64_t)v);
    else if (v >= -32) put_be(w, (uint8_t)v, 0, 0);
    else if (v >= INT8_MIN) put_be(w, 0xd0, (uint64_t)v, 1);
    else if (v >= INT16_MIN) put_be(w, 0xd1, (uint64_t)v, 2);
    else if (v >= INT32_MIN) put_be(w, 0xd2, (uint64_t)v, 4);
    else put_be(w, 0xd3, (uint64_t)v, 8);
}

void hearth_mp_put_double(hearth_mp_writer *w, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    put_be(w, 0xcb, bits, 8);
}

/* A header for a str, bin, array or map: the fix form (if any) below
 * `fix_limit`, else the 8-, 16- or 32-bit length form. */
static void put_header(hearth_mp_writer *w, uint8_t fix, uint32_t fix_limit, uint8_t m8,
                       uint8_t m16, uint8_t m32, uint32_t n) {
    if (n < fix_limit) put_be(w, (uint8_t)(fix | n), 0, 0);
    else if (m8 && n <= 0xff) put_be(w, m8, n, 1);
    else if (n <= 0xffff) put_be(w, m16, n, 2);
    else put_be(w, m32, n, 4);
}

void hearth_mp_put_strn(hearth_mp_writer *w, const char *s, uint32_t len) {
    put_header(w, 0xa0, 32, 0xd9, 0xda, 0xdb, len);
    put(w, s, len);
}

void hearth_mp_put_str(hearth_mp_writer *w, const char *s) { hearth_mp_put_strn(w, s, hearth_strlen(s)); }

void hearth_mp_put_bin(hearth_mp_writer *w, const void *data, uint32_t len) {
    put_header(w, 0, 0, 0xc4, 0xc5, 0xc6, len);
    put(w, data, len);
}

void hearth_mp_put_array(hearth_mp_writer *w, uint32_t n) { put_header(w, 0x90, 16, 0, 0xdc, 0xdd, n); }
void hearth_mp_put_map(hearth_mp_writer *w, uint32_t n) { put_header(w, 0x80, 16, 0, 0xde, 0xdf, n); }

void hearth_mp_put_ext(hearth_mp_writer *w, int8_t type, const void *data, uint32_t len) {
    switch (len) {
    case 1: put_be(w, 0xd4, 0, 0); break;
    case 2: put_be(w, 0xd5, 0, 0); break;
    case 4: put_be(w, 0xd6, 0, 0); break;
    case 8: put_be(w, 0xd7, 0, 0); break;
    case 16: put_be(w, 0xd8, 0, 0); break;
    default: put_header(w, 0, 0, 0xc7, 0xc8, 0xc9, len);
    }
    put(w, &type, 1);
    put(w, data, len);
}

void hearth_mp_put_raw(hearth_mp_writer *w, const void *data, uint32_t len) { put(w, data, len); }

uint32_t hearth_mp_attach(hearth_mp_writer *w, hearth_cap cap) {
    if (w->ncaps == HEARTH_MP_MAX_CAPS) {
        w->overflow = true;
        return HEARTH_NONE;
    }
    w->caps[w->ncaps] = cap;
    return w->ncaps++;
}

void hearth_mp_put_cap(hearth_mp_writer *w, hearth_cap cap) {
    uint32_t index = hearth_mp_attach(w, cap);
    uint8_t le[4] = {(uint8_t)index, (uint8_t)(index >> 8), (uint8_t)(index >> 16), (uint8_t)(index >> 24)};
    hearth_mp_put_ext(w, HEARTH_MP_CAP_EXT, le, 4);
}

bool hearth_mp_send(const hearth_mp_writer *w, hearth_cap to) {
    if (w->overflow)
        return false;
    hearth_send(to, w->buf, w->len, w->caps, w->ncaps);
    return true;
}

/* ---- reading --------------------------------------------------------------- */

void hearth_mp_reader_init(hearth_mp_reader *r, const void *data, uint32_t len,
                           const hearth_cap *caps, uint32_t ncaps) {
    r->p = data;
    r->end = r->p + len;
    r->caps = caps;
    r->ncaps = ncaps;
    r->error = false;
}

void hearth_mp_reader_of(hearth_mp_reader *r, const hearth_signal *s) {
    if (s->kind == HEARTH_MESSAGE)
        hearth_mp_reader_init(r, s->data, s->len, s->caps, s->ncaps);
    else
        hearth_mp_reader_init(r, s->reason, s->reason_len, 0, 0);
}

static bool fail(hearth_mp_reader *r) {
    r->error = true;
    return false;
}

/* The next `n` bytes as a big-endian number; false if they aren't there. */
static bool take_be(hearth_mp_reader *r, uint32_t n, uint64_t *out) {
    if ((uint32_t)(r->end - r->p) < n)
        return fail(r);
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++)
        v = v << 8 | *r->p++;
    *out = v;
    return true;
}

/* `n` bytes of payload: `v->ptr` points at them. */
static bool take_bytes(hearth_mp_reader *r, hearth_mp_value *v, uint64_t n) {
    if ((uint64_t)(r->end - r->p) < n)
        return fail(r);
    v->ptr = r->p;
    v->len = (uint32_t)n;
    r->p += n;
    return true;
}

static bool read_ext(hearth_mp_reader *r, hearth_mp_value *v, uint64_t n) {
    uint64_t type;
    if (!take_be(r, 1, &type) || !take_bytes(r, v, n))
        return false;
    v->ext_type = (int8_t)type;
    v->type = HEARTH_MP_EXT;
    if (v->ext_type != HEARTH_MP_CAP_EXT)
        return true;
    if (n != 4)
        return fail(r);
    uint32_t index = v->ptr[0] | v->ptr[1] << 8 | v->ptr[2] << 16 | (uint32_t)v->ptr[3] << 24;
    if (index >= r->ncaps)
        return fail(r); /* names a capability the message doesn't carry */
    v->type = HEARTH_MP_CAP;
    v->cap = r->caps[index];
    return true;
}

bool hearth_mp_read(hearth_mp_reader *r, hearth_mp_value *v) {
    uint64_t n;
    memset(v, 0, sizeof *v);
    if (r->error || !take_be(r, 1, &n))
        return fail(r);
    uint8_t b = (uint8_t)n;
    if (b <= 0x7f || b >= 0xe0) {
        v->type = HEARTH_MP_INT;
        v->i = (int8_t)b;
        return true;
    }
    if (b >= 0x80 && b <= 0x9f) {
        v->type = b < 0x90 ? HEARTH_MP_MAP : HEARTH_MP_ARRAY;
        v->len = b & 0x0f;
        return true;
    }
    if (b >= 0xa0 && b <= 0xbf) {
        v->type = HEARTH_MP_STR;
        return take_bytes(r, v, b & 0x1f);
    }
    switch (b) {
    case 0xc0: v->type = HEARTH_MP_NIL; return true;
    case 0xc2: case 0xc3: v->type = HEARTH_MP_BOOL; v->b = b == 0xc3; return true;
    case 0xc4: case 0xc5: case 0xc6:
        v->type = HEARTH_MP_BIN;
        return take_be(r, 1u << (b - 0xc4), &n) && take_bytes(r, v, n);
    case 0xc7: case 0xc8: case 0xc9:
        return take_be(r, 1u << (b - 0xc7), &n) && read_ext(r, v, n);
    case 0xca: case 0xcb: {
        if (!take_be(r, b == 0xca ? 4 : 8, &n))
            return false;
        v->type = HEARTH_MP_FLOAT;
        if (b == 0xca) {
            uint32_t bits = (uint32_t)n;
            float f;
            memcpy(&f, &bits, 4);
            v->f = f;
        } else {
            memcpy(&v->f, &n, 8);
        }
        return true;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        if (!take_be(r, 1u << (b - 0xcc), &n))
            return false;
        v->type = n > (uint64_t)INT64_MAX ? HEARTH_MP_UINT : HEARTH_MP_INT;
        v->i = (int64_t)n;
        v->u = n;
        return true;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        uint32_t size = 1u << (b - 0xd0);
        if (!take_be(r, size, &n))
            return false;
        uint32_t shift = 64 - 8 * size; /* sign-extend */
        v->type = HEARTH_MP_INT;
        v->i = (int64_t)(n << shift) >> shift;
        return true;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        return read_ext(r, v, 1u << (b - 0xd4));
    case 0xd9: case 0xda: case 0xdb:
        v->type = HEARTH_MP_STR;
        return take_be(r, 1u << (b - 0xd9), &n) && take_bytes(r, v, n);
    case 0xdc: case 0xdd: case 0xde: case 0xdf:
        v->type = b <= 0xdd ? HEARTH_MP_ARRAY : HEARTH_MP_MAP;
        if (!take_be(r, b == 0xdc || b == 0xde ? 2 : 4, &n))
            return false;
        v->len = (uint32_t)n;
        return true;
    default:
        return fail(r); /* 0xc1 is never used */
    }
}

/* Skip what an item just read still owns: an array's or map's elements.
 * A loop with a count, not recursion, so deep nesting costs no stack. */
static bool skip_children(hearth_mp_reader *r, const hearth_mp_value *v) {
    uint64_t todo = v->type == HEARTH_MP_ARRAY ? v->len : v->type == HEARTH_MP_MAP ? 2ull * v->len : 0;
    hearth_mp_value item;
    while (todo) {
        if (!hearth_mp_read(r, &item))
            return false;
        todo--;
        if (item.type == HEARTH_MP_ARRAY)
            todo += item.len;
        else if (item.type == HEARTH_MP_MAP)
            todo += 2ull * item.len;
    }
    return true;
}

bool hearth_mp_skip(hearth_mp_reader *r) {
    hearth_mp_value v;
    return hearth_mp_read(r, &v) && skip_children(r, &v);
}

bool hearth_mp_read_raw(hearth_mp_reader *r, const uint8_t **data, uint32_t *len) {
    const uint8_t *start = r->p;
    if (!hearth_mp_skip(r))
        return false;
    *data = start;
    *len = (uint32_t)(r->p - start);
    return true;
}

bool hearth_mp_at_end(const hearth_mp_reader *r) { return !r->error && r->p == r->end; }

bool hearth_mp_str_is(const hearth_mp_value *v, const char *s) {
    uint32_t n = hearth_strlen(s);
    return v->type == HEARTH_MP_STR && v->len == n && memcmp(v->ptr, s, n) == 0;
}

bool hearth_mp_find(hearth_mp_reader *r, const char *key) {
    uint32_t n;
    hearth_mp_value k;
    if (!hearth_mp_read_map(r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!hearth_mp_read(r, &k))
            return false;
        if (hearth_mp_str_is(&k, key))
            return true;
        if (!skip_children(r, &k) || !hearth_mp_skip(r))
            return false;
    }
    return false;
}

static bool read_as(hearth_mp_reader *r, hearth_mp_value *v, hearth_mp_type type) {
    if (!hearth_mp_read(r, v))
        return false;
    return v->type == type || fail(r);
}

bool hearth_mp_read_int(hearth_mp_reader *r, int64_t *out) {
    hearth_mp_value v;
    if (!read_as(r, &v, HEARTH_MP_INT))
        return false;
    *out = v.i;
    return true;
}

bool hearth_mp_read_bool(hearth_mp_reader *r, bool *out) {
    hearth_mp_value v;
    if (!read_as(r, &v, HEARTH_MP_BOOL))
        return false;
    *out = v.b;
    return true;
}

bool hearth_mp_read_str(hearth_mp_reader *r, const char **s, uint32_t *len) {
    hearth_mp_value v;
    if (!read_as(r, &v, HEARTH_MP_STR))
        return false;
    *s = (const char *)v.ptr;
    *len = v.len;
    return true;
}

bool hearth_mp_read_cap(hearth_mp_reader *r, hearth_cap *out) {
    hearth_mp_value v;
    if (!read_as(r, &v, HEARTH_MP_CAP))
        return false;
    *out = v.cap;
    return true;
}

bool hearth_mp_read_array(hearth_mp_reader *r, uint32_t *n) {
    hearth_mp_value v;
    if (!read_as(r, &v, HEARTH_MP_ARRAY))
        return false;
    *n = v.len;
    return true;
}

bool hearth_mp_read_map(hearth_mp_reader *r, uint32_t *n) {
    hearth_mp_value v;
    if (!read_as(r, &v, HEARTH_MP_MAP))
        return false;
    *n = v.len;
    return true;
}
