/* Conformance: hearth::lump — this_lump, load_by_id, load, get_id, get_len,
 * get_data, free. Spawned with (reporter); notes the ids it saw for the
 * Python side to check: "this_lump", "payload_id", "empty_id", "this_len". */
#include "check.h"

static void child_get_len_after_free(void) {
    hearth_lump h = hearth_lump_load("x", 1);
    hearth_lump_free(h);
    hearth_lump_len(h);
}
static void child_get_id_unknown(void) {
    hearth_lump_id id;
    hearth_lump_get_id(77, &id);
}
static void child_get_data_unknown(void) {
    char buf[4];
    hearth_lump_read(77, buf);
}
static void child_free_unknown(void) { hearth_lump_free(77); }
static void child_load_by_unknown_id(void) {
    hearth_lump_id id;
    memset(&id, 0xab, sizeof id);
    hearth_lump_load_by_id(&id);
}

static void test_this_lump(void) {
    uint32_t mark = hearth_mark();
    hearth_lump_id me, again;
    hearth_this_lump(&me);
    check_note("this_lump", &me, sizeof me);
    /* Our own module is in the store: load it and look. */
    hearth_lump h = hearth_lump_load_by_id(&me);
    hearth_lump_get_id(h, &again);
    CHECK(memcmp(&me, &again, sizeof me) == 0);
    uint32_t len;
    uint8_t *wasm = hearth_lump_data(h, &len);
    CHECK(len > 8 && memcmp(wasm, "\0asm", 4) == 0);
    uint8_t le[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    check_note("this_len", le, 4);
    hearth_lump_free(h);
    hearth_release(mark);
}

static void test_load_get_and_free(void) {
    hearth_lump_id id, id2;
    char buf[16] = {0};
    hearth_lump h = hearth_lump_load("payload", 7);
    CHECK(hearth_lump_len(h) == 7);
    hearth_lump_read(h, buf);
    CHECK(memcmp(buf, "payload", 7) == 0 && buf[7] == 0);
    hearth_abi_lump_get_id(h, &id);
    check_note("payload_id", &id, sizeof id);
    hearth_abi_lump_free(h);

    /* Freed handle; the lump stays in the store, found by its id. */
    h = hearth_abi_lump_load_by_id(&id);
    CHECK(hearth_abi_lump_get_len(h) == 7);
    memset(buf, 0, sizeof buf);
    hearth_abi_lump_get_data(h, buf);
    CHECK(memcmp(buf, "payload", 7) == 0);
    hearth_lump_get_id(h, &id2);
    CHECK(memcmp(&id, &id2, sizeof id) == 0);

    /* The same bytes are the same lump. */
    hearth_lump h2 = hearth_abi_lump_load("payload", 7);
    hearth_lump_get_id(h2, &id2);
    CHECK(memcmp(&id, &id2, sizeof id) == 0);
    hearth_lump_free(h2);
    hearth_lump_free(h);

    hearth_lump e = hearth_lump_load(0, 0);
    CHECK(hearth_lump_len(e) == 0);
    hearth_lump_get_id(e, &id);
    check_note("empty_id", &id, sizeof id);
    hearth_lump_free(e);

    EXPECT_TRAP(child_get_len_after_free, 0, 0, "hearth::lump::get_len: unknown lump");
    EXPECT_TRAP(child_get_id_unknown, 0, 0, "hearth::lump::get_id: unknown lump");
    EXPECT_TRAP(child_get_data_unknown, 0, 0, "hearth::lump::get_data: unknown lump");
    EXPECT_TRAP(child_free_unknown, 0, 0, "hearth::lump::free: unknown lump");
    EXPECT_TRAP(child_load_by_unknown_id, 0, 0, "hearth::lump::load_by_id:");
}

void run(void) {
    test_this_lump();
    test_load_get_and_free();
    check_report(0, "lump");
}
