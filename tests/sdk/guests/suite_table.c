/* Conformance: hearth::table — inc_ref, dec_ref, get_permissions, demote,
 * send, kill. Spawned with (reporter). */
#include "check.h"

static void child_demote_up(void) {
    hearth_cap c = hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND);
    hearth_demote(c, HEARTH_SEND | HEARTH_KILL);
}

static void child_demote_unknown_bits(void) {
    hearth_cap c = hearth_make_capability(hearth_mailbox_create(), HEARTH_ALL);
    hearth_demote(c, 16);
}

static void child_send_without_send(void) {
    hearth_cap c = hearth_make_capability(hearth_mailbox_create(), HEARTH_MONITOR);
    hearth_send_str(c, "no");
}

static void child_kill_without_kill(void) {
    hearth_cap c = hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND);
    hearth_kill(c);
}

static void child_use_after_last_dec_ref(void) {
    hearth_cap c = hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND);
    hearth_dec_ref(c);
    hearth_permissions(c);
}

static void child_inc_ref_unknown(void) { hearth_inc_ref(4242); }
static void child_dec_ref_unknown(void) { hearth_dec_ref(4242); }

static void child_send_passing_unknown_cap(void) {
    hearth_cap c = hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND);
    hearth_cap bad = 4242;
    hearth_send(c, "x", 1, &bad, 1);
}

static void child_wait_forever(void) {
    hearth_signal s;
    for (;;)
        hearth_recv(HEARTH_PARENT, &s);
}

static void test_permissions_and_demote(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap all = hearth_make_capability(mb, HEARTH_ALL);
    CHECK(hearth_permissions(all) == HEARTH_ALL);
    hearth_cap sm = hearth_demote(all, HEARTH_SEND | HEARTH_MONITOR);
    CHECK(sm != all);
    CHECK(hearth_permissions(sm) == (HEARTH_SEND | HEARTH_MONITOR));
    hearth_cap none = hearth_demote(sm, 0);
    CHECK(hearth_permissions(none) == 0);
    CHECK(hearth_demote(all, HEARTH_ALL) == all); /* same route and permissions: same handle (V1) */
    CHECK(hearth_demote(none, 0) == none);
    hearth_dec_ref(all);
    hearth_dec_ref(all);
    hearth_dec_ref(sm);
    hearth_dec_ref(none);
    hearth_dec_ref(none);
    hearth_mailbox_destroy(mb);
    EXPECT_TRAP(child_demote_up, 0, 0, "hearth::table::demote");
    EXPECT_TRAP(child_demote_unknown_bits, 0, 0, "hearth::table::demote");
}

static void test_references_count_per_handle(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap c = hearth_make_capability(mb, HEARTH_SEND);
    CHECK(hearth_make_capability(mb, HEARTH_SEND) == c); /* two references, one handle */
    hearth_inc_ref(c);                                      /* three */
    hearth_dec_ref(c);
    hearth_dec_ref(c);
    CHECK(hearth_permissions(c) == HEARTH_SEND); /* one left: still usable */
    hearth_dec_ref(c);
    hearth_mailbox_destroy(mb);
    EXPECT_TRAP(child_use_after_last_dec_ref, 0, 0, "hearth::table::get_permissions: unknown capability");
    EXPECT_TRAP(child_inc_ref_unknown, 0, 0, "hearth::table::inc_ref: unknown capability");
    EXPECT_TRAP(child_dec_ref_unknown, 0, 0, "hearth::table::dec_ref: unknown capability");
}

static void test_send_carries_bytes_and_capabilities(void) {
    uint32_t mark = hearth_mark();
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap to = hearth_make_capability(mb, HEARTH_SEND);
    hearth_cap extra = hearth_make_capability(mb, HEARTH_MONITOR);
    hearth_cap pass[3] = {extra, to, extra};
    hearth_send(to, "hello", 5, pass, 3);
    hearth_send(to, 0, 0, 0, 0);
    flush_sends();
    hearth_signal s;
    CHECK(hearth_try_recv(mb, &s));
    CHECK(s.kind == HEARTH_MESSAGE);
    CHECK(s.len == 5 && memcmp(s.data, "hello", 5) == 0);
    CHECK(s.ncaps == 3);
    /* Imported into our own table: the same handles, order and duplicates kept. */
    CHECK(s.ncaps == 3 && s.caps[0] == extra && s.caps[1] == to && s.caps[2] == extra);
    CHECK(hearth_permissions(s.caps[0]) == HEARTH_MONITOR);
    hearth_signal_release(&s);
    CHECK(hearth_try_recv(mb, &s));
    CHECK(s.kind == HEARTH_MESSAGE && s.len == 0 && s.ncaps == 0);
    CHECK(!hearth_try_recv(mb, &s));
    /* The sender kept its references: both handles still work. */
    CHECK(hearth_permissions(to) == HEARTH_SEND && hearth_permissions(extra) == HEARTH_MONITOR);
    hearth_dec_ref(to);
    hearth_dec_ref(extra);
    hearth_mailbox_destroy(mb);
    hearth_release(mark);
    EXPECT_TRAP(child_send_without_send, 0, 0, "hearth::table::send: capability");
    EXPECT_TRAP(child_send_without_send, 0, 0, "lacks SEND");
    EXPECT_TRAP(child_send_passing_unknown_cap, 0, 0, "hearth::table::send: unknown capability");
}

static void test_send_to_a_closed_route_is_dropped(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap to = hearth_make_capability(mb, HEARTH_SEND);
    hearth_mailbox_destroy(mb);
    hearth_send_str(to, "into the void"); /* no trap, no effect */
    CHECK(hearth_permissions(to) == HEARTH_SEND);
    hearth_dec_ref(to);
}

static void test_kill(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap child = hearth_spawn_monitor(child_wait_forever, 0, 0, mb);
    CHECK(hearth_permissions(child) == HEARTH_ALL);
    hearth_kill(child);
    hearth_signal down;
    hearth_recv(mb, &down);
    CHECK(down.kind == HEARTH_DOWN);
    CHECK(hearth_reason_is(&down, "killed"));
    CHECK(hearth_permissions(down.cap) == 0);
    hearth_signal_release(&down);
    hearth_dec_ref(child);
    hearth_mailbox_destroy(mb);
    EXPECT_TRAP(child_kill_without_kill, 0, 0, "hearth::table::kill: capability");
}

void run(void) {
    test_permissions_and_demote();
    test_references_count_per_handle();
    test_send_carries_bytes_and_capabilities();
    test_send_to_a_closed_route_is_dropped();
    test_kill();
    check_report(0, "table");
}
