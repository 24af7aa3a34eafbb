/* The SDK's own C: msgpack writer and reader, allocator, string helpers.
 * Spawned with (reporter). It first runs its checks and reports; then it
 * serves Python's tests, one message at a time on mailbox 0, each carrying
 * its reply capability as caps[0]:
 *
 * - data "canned" (msgpack str): reply with a fixed term written with every
 *   writer call; Python compares the bytes with its own encoding.
 * - any other msgpack: read it and write it again (capabilities too), and
 *   reply with the bytes and caps [reply, ...] -- the same bytes as the
 *   request if the writer picks the shortest forms as Python's msgpack does.
 *   Input that isn't exactly one msgpack value gets ["malformed"].
 * - empty data: return. */
#include "check.h"

/* ---- checks ----------------------------------------------------------------- */

static void test_writer_overflow(void) {
    uint8_t buf[4];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_str(&w, "abc");
    CHECK(!w.overflow && w.len == 4);
    hearth_mp_put_nil(&w);
    CHECK(w.overflow && w.len == 4);
    CHECK(!hearth_mp_send(&w, 0));
    hearth_mp_writer_init(&w, buf, sizeof buf);
    for (uint32_t i = 0; i < HEARTH_MP_MAX_CAPS; i++)
        CHECK(hearth_mp_attach(&w, 0) == i);
    CHECK(!w.overflow && w.ncaps == HEARTH_MP_MAX_CAPS);
    CHECK(hearth_mp_attach(&w, 0) == HEARTH_NONE && w.overflow);
}

static void test_reader_finds_keys_and_reads_typed_values(void) {
    uint8_t buf[128];
    hearth_cap caps[3] = {0, 0, 0};
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_map(&w, 5);
    hearth_mp_put_str(&w, "n");
    hearth_mp_put_int(&w, -7);
    hearth_mp_put_array(&w, 1); /* a non-str key, skipped over */
    hearth_mp_put_map(&w, 1);
    hearth_mp_put_nil(&w);
    hearth_mp_put_nil(&w);
    hearth_mp_put_nil(&w);
    hearth_mp_put_str(&w, "deep");
    hearth_mp_put_array(&w, 2);
    hearth_mp_put_array(&w, 1);
    hearth_mp_put_map(&w, 0);
    hearth_mp_put_bool(&w, true);
    hearth_mp_put_str(&w, "flag");
    hearth_mp_put_bool(&w, true);
    hearth_mp_put_str(&w, "c");
    hearth_mp_put_cap(&w, 55);
    CHECK(!w.overflow && w.ncaps == 1 && w.caps[0] == 55);
    caps[0] = 55;

    hearth_mp_reader r;
    int64_t i;
    bool b;
    hearth_cap cap;
    const char *s;
    uint32_t n;
    hearth_mp_reader_init(&r, buf, w.len, caps, 1);
    CHECK(hearth_mp_find(&r, "flag") && hearth_mp_read_bool(&r, &b) && b);
    hearth_mp_reader_init(&r, buf, w.len, caps, 1);
    CHECK(hearth_mp_find(&r, "c") && hearth_mp_read_cap(&r, &cap) && cap == 55);
    hearth_mp_reader_init(&r, buf, w.len, caps, 1);
    CHECK(hearth_mp_find(&r, "n") && hearth_mp_read_int(&r, &i) && i == -7);
    hearth_mp_reader_init(&r, buf, w.len, caps, 1);
    CHECK(!hearth_mp_find(&r, "missing") && !r.error && hearth_mp_at_end(&r));
    hearth_mp_reader_init(&r, buf, w.len, caps, 1);
    CHECK(hearth_mp_skip(&r) && hearth_mp_at_end(&r));
    /* A capability index the message doesn't carry is an error. */
    hearth_mp_reader_init(&r, buf, w.len, caps, 0);
    CHECK(!hearth_mp_find(&r, "c") || !hearth_mp_read_cap(&r, &cap));
    CHECK(r.error);
    /* The wrong type: false, and every read fails after. */
    hearth_mp_reader_init(&r, buf, w.len, caps, 1);
    CHECK(!hearth_mp_read_array(&r, &n) && r.error);
    CHECK(!hearth_mp_read_map(&r, &n));
    /* A whole value's bytes, copied into another message as they are. */
    const uint8_t *raw;
    uint8_t copy[128];
    hearth_mp_writer w2;
    hearth_mp_reader_init(&r, buf, w.len, caps, 1);
    CHECK(hearth_mp_read_raw(&r, &raw, &n) && raw == buf && n == w.len && hearth_mp_at_end(&r));
    hearth_mp_writer_init(&w2, copy, sizeof copy);
    hearth_mp_put_array(&w2, 1);
    hearth_mp_put_raw(&w2, raw, n);
    CHECK(!w2.overflow && w2.len == n + 1 && memcmp(copy + 1, buf, n) == 0);
    hearth_mp_reader_init(&r, "\xa2hi", 3, 0, 0);
    CHECK(!hearth_mp_find(&r, "x") && r.error);
    hearth_mp_reader_init(&r, "\xa2hi", 3, 0, 0);
    CHECK(hearth_mp_read_str(&r, &s, &n) && n == 2 && memcmp(s, "hi", 2) == 0 && hearth_mp_at_end(&r));
}

static void test_reader_decodes_every_form(void) {
    hearth_mp_reader r;
    hearth_mp_value v;
    hearth_mp_reader_init(&r, "\xca\x3f\xc0\x00\x00", 5, 0, 0); /* float32 1.5 */
    CHECK(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_FLOAT && v.f == 1.5);
    hearth_mp_reader_init(&r, "\xcb\xc0\x04\x00\x00\x00\x00\x00\x00", 9, 0, 0); /* -2.5 */
    CHECK(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_FLOAT && v.f == -2.5);
    hearth_mp_reader_init(&r, "\xd0\x80", 2, 0, 0);
    CHECK(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_INT && v.i == -128);
    hearth_mp_reader_init(&r, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, 0, 0);
    CHECK(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_INT && v.i == INT64_MIN);
    hearth_mp_reader_init(&r, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, 0, 0);
    CHECK(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_UINT && v.u == UINT64_MAX);
    int64_t i;
    hearth_mp_reader_init(&r, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, 0, 0);
    CHECK(!hearth_mp_read_int(&r, &i) && r.error);
    hearth_mp_reader_init(&r, "\xe0", 1, 0, 0);
    CHECK(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_INT && v.i == -32);
    hearth_mp_reader_init(&r, "\xc7\x03\x07xyz", 6, 0, 0);
    CHECK(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_EXT && v.ext_type == 7 && v.len == 3 &&
          memcmp(v.ptr, "xyz", 3) == 0);
    /* Truncated input never reads past its end. */
    hearth_mp_reader_init(&r, "\xdb\xff\xff\xff\xff", 5, 0, 0);
    CHECK(!hearth_mp_read(&r, &v) && r.error);
    hearth_mp_reader_init(&r, "\xdd\xff\xff\xff\xff", 5, 0, 0);
    CHECK(!hearth_mp_skip(&r) && r.error);
    hearth_mp_reader_init(&r, "", 0, 0, 0);
    CHECK(!hearth_mp_read(&r, &v) && r.error);
}

static void test_strings_and_memory_helpers(void) {
    char num[21];
    CHECK(hearth_itoa(0, num) == 1 && hearth_streq(num, "0"));
    CHECK(hearth_itoa(-42, num) == 3 && hearth_streq(num, "-42"));
    CHECK(hearth_itoa(INT64_MIN, num) == 20 && hearth_streq(num, "-9223372036854775808"));
    CHECK(hearth_strlen("") == 0 && hearth_strlen("four") == 4);
    CHECK(hearth_streq("", "") && !hearth_streq("a", "ab") && !hearth_streq("ab", "a"));
    char buf[8] = "abcdef";
    memmove(buf + 1, buf, 5);
    CHECK(memcmp(buf, "aabcde", 6) == 0);
    memmove(buf, buf + 2, 4);
    CHECK(memcmp(buf, "bcdede", 6) == 0);
    memset(buf, 'z', 3);
    CHECK(memcmp(buf, "zzzede", 6) == 0 && memcmp("a", "b", 1) < 0 && memcmp("b", "a", 1) > 0);
}

static void child_alloc_past_the_memory_limit(void) { hearth_alloc(64u << 20); }

static void test_allocator(void) {
    uint32_t mark = hearth_mark();
    uint8_t *a = hearth_alloc(3);
    uint8_t *b = hearth_alloc(5);
    CHECK(((uintptr_t)a & 7) == 0 && ((uintptr_t)b & 7) == 0 && b >= a + 3);
    hearth_release(mark);
    CHECK(hearth_alloc(1) == a); /* released memory is handed out again */
    uint32_t pages = (uint32_t)__builtin_wasm_memory_size(0);
    uint8_t *big = hearth_alloc(3u << 20); /* grows the memory */
    CHECK((uint32_t)__builtin_wasm_memory_size(0) >= pages + 48);
    big[0] = 1;
    big[(3u << 20) - 1] = 2;
    CHECK(big[0] == 1 && big[(3u << 20) - 1] == 2);
    hearth_release(mark);
    EXPECT_TRAP(child_alloc_past_the_memory_limit, 0, 0, "wasm trap");
}

/* ---- serving Python's tests -------------------------------------------------- */

static void canned(hearth_mp_writer *w, hearth_cap reply) {
    static const int64_t ints[] = {0, 127, 128, 255, 256, 65535, 65536, 4294967295ll, 4294967296ll,
                                   INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769,
                                   INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN};
    uint32_t n = sizeof ints / sizeof ints[0];
    hearth_mp_put_array(w, n + 13);
    for (uint32_t i = 0; i < n; i++)
        hearth_mp_put_int(w, ints[i]);
    hearth_mp_put_uint(w, UINT64_MAX);
    hearth_mp_put_nil(w);
    hearth_mp_put_bool(w, true);
    hearth_mp_put_bool(w, false);
    hearth_mp_put_double(w, 1.5);
    hearth_mp_put_str(w, "");
    hearth_mp_put_strn(w, "abcdefghijklmnopqrstuvwxyz01234567", 31);
    hearth_mp_put_strn(w, "abcdefghijklmnopqrstuvwxyz01234567", 32);
    hearth_mp_put_bin(w, "\x00\x01", 2);
    hearth_mp_put_map(w, 1);
    hearth_mp_put_str(w, "k");
    hearth_mp_put_array(w, 0);
    hearth_mp_put_cap(w, reply);
    hearth_mp_put_ext(w, 5, "xy", 2);
    hearth_mp_put_ext(w, 6, "abc", 3);
}

/* Read one value and write it again; false if the input is not exactly one
 * msgpack value. A loop with a count, so deep nesting needs no stack. */
static bool transcode(hearth_mp_reader *r, hearth_mp_writer *w) {
    uint64_t todo = 1;
    hearth_mp_value v;
    while (todo) {
        if (!hearth_mp_read(r, &v))
            return false;
        todo--;
        switch (v.type) {
        case HEARTH_MP_NIL: hearth_mp_put_nil(w); break;
        case HEARTH_MP_BOOL: hearth_mp_put_bool(w, v.b); break;
        case HEARTH_MP_INT: hearth_mp_put_int(w, v.i); break;
        case HEARTH_MP_UINT: hearth_mp_put_uint(w, v.u); break;
        case HEARTH_MP_FLOAT: hearth_mp_put_double(w, v.f); break;
        case HEARTH_MP_STR: hearth_mp_put_strn(w, (const char *)v.ptr, v.len); break;
        case HEARTH_MP_BIN: hearth_mp_put_bin(w, v.ptr, v.len); break;
        case HEARTH_MP_ARRAY: hearth_mp_put_array(w, v.len); todo += v.len; break;
        case HEARTH_MP_MAP: hearth_mp_put_map(w, v.len); todo += 2ull * v.len; break;
        case HEARTH_MP_CAP: hearth_mp_put_cap(w, v.cap); break;
        case HEARTH_MP_EXT: hearth_mp_put_ext(w, v.ext_type, v.ptr, v.len); break;
        }
    }
    return hearth_mp_at_end(r);
}

static void serve(void) {
    hearth_signal s;
    for (;;) {
        uint32_t mark = hearth_mark();
        hearth_recv(HEARTH_PARENT, &s);
        if (s.len == 0)
            return;
        hearth_cap reply = s.caps[0];
        uint32_t size = 2 * s.len + 1024; /* float32 in, float64 out: at most 9/5; "canned" */
        hearth_mp_writer w;
        hearth_mp_reader r;
        hearth_mp_writer_init(&w, hearth_alloc(size), size);
        hearth_mp_attach(&w, reply);
        hearth_mp_reader_init(&r, s.data, s.len, s.caps, s.ncaps);
        if (s.len == 7 && memcmp(s.data, "\xa6" "canned", 7) == 0) {
            canned(&w, reply);
        } else if (!transcode(&r, &w)) {
            hearth_mp_writer_init(&w, w.buf, size);
            hearth_mp_put_array(&w, 1);
            hearth_mp_put_str(&w, "malformed");
        }
        if (!hearth_mp_send(&w, reply))
            __builtin_trap();
        hearth_signal_release(&s);
        hearth_release(mark);
    }
}

void run(void) {
    test_writer_overflow();
    test_reader_finds_keys_and_reads_typed_values();
    test_reader_decodes_every_form();
    test_strings_and_memory_helpers();
    test_allocator();
    check_report(0, "msgpack");
    serve();
}
