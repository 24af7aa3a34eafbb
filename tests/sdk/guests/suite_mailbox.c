/* Conformance: hearth::mailbox — create, destroy, make_capability, monitor,
 * recv, try_recv, poll, destroy_signal, get_signal_kind,
 * get_down_capability, get_message_data_len, get_message_data,
 * get_message_caps_num, get_message_caps. Spawned with (reporter). */
#include "check.h"

static void child_return_on_message(void) {
    hearth_signal s;
    hearth_recv(HEARTH_PARENT, &s);
}

static void child_destroy_parent_mailbox(void) { hearth_mailbox_destroy(HEARTH_PARENT); }
static void child_recv_unknown_mailbox(void) { hearth_abi_mailbox_recv(77); }
static void child_destroy_twice(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_mailbox_destroy(mb);
    hearth_mailbox_destroy(mb);
}
static void child_make_capability_unknown_bits(void) { hearth_make_capability(HEARTH_PARENT, 32); }
static void child_monitor_without_monitor(void) {
    hearth_cap c = hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND);
    hearth_monitor(HEARTH_PARENT, c);
}
static void child_poll_nothing(void) { hearth_abi_mailbox_poll(0, 0); }
static void child_destroy_signal_twice(void) {
    hearth_cap me = hearth_make_capability(HEARTH_PARENT, HEARTH_SEND);
    hearth_send(me, "x", 1, 0, 0);
    hearth_sig sig = hearth_abi_mailbox_recv(HEARTH_PARENT);
    hearth_abi_mailbox_destroy_signal(sig);
    hearth_abi_mailbox_destroy_signal(sig);
}
/* Receives a Down, then asks it for message data. */
static void child_message_data_of_a_down(void) {
    hearth_mb target = hearth_mailbox_create();
    hearth_cap c = hearth_make_capability(target, HEARTH_MONITOR);
    hearth_mb watcher = hearth_mailbox_create();
    hearth_mailbox_destroy(target);
    hearth_monitor(watcher, c);
    hearth_abi_mailbox_get_message_data_len(hearth_abi_mailbox_recv(watcher));
}
static void child_down_capability_of_a_message(void) {
    hearth_cap me = hearth_make_capability(HEARTH_PARENT, HEARTH_SEND);
    hearth_send(me, "x", 1, 0, 0);
    hearth_abi_mailbox_get_down_capability(hearth_abi_mailbox_recv(HEARTH_PARENT));
}

static void test_create_and_destroy(void) {
    hearth_mb a = hearth_mailbox_create();
    hearth_mb b = hearth_mailbox_create();
    CHECK(a != HEARTH_PARENT && b != HEARTH_PARENT && a != b);
    hearth_mailbox_destroy(a);
    hearth_mailbox_destroy(b);
    EXPECT_TRAP(child_destroy_parent_mailbox, 0, 0, "hearth::mailbox::destroy: the parent mailbox (0) can't be destroyed");
    EXPECT_TRAP(child_destroy_twice, 0, 0, "hearth::mailbox::destroy: unknown mailbox");
    EXPECT_TRAP(child_recv_unknown_mailbox, 0, 0, "hearth::mailbox::recv: unknown mailbox handle 77");
}

static void test_make_capability_with_any_permissions(void) {
    hearth_mb mb = hearth_mailbox_create();
    for (uint32_t perms = 0; perms <= HEARTH_ALL; perms++) {
        hearth_cap c = hearth_make_capability(mb, perms);
        CHECK(hearth_permissions(c) == perms);
        hearth_dec_ref(c);
    }
    hearth_mailbox_destroy(mb);
    EXPECT_TRAP(child_make_capability_unknown_bits, 0, 0, "hearth::mailbox::make_capability: unknown permission bits");
}

/* The raw signal calls, one by one, on a message carrying two caps. */
static void test_raw_signal_accessors(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap to = hearth_make_capability(mb, HEARTH_SEND | HEARTH_LINK);
    hearth_cap extra = hearth_make_capability(mb, HEARTH_MONITOR);
    hearth_cap pass[2] = {to, extra};
    hearth_send(to, "raw bytes", 9, pass, 2);
    hearth_sig sig = hearth_abi_mailbox_recv(mb);
    CHECK(hearth_abi_mailbox_get_signal_kind(sig) == HEARTH_MESSAGE);
    CHECK(hearth_abi_mailbox_get_message_data_len(sig) == 9);
    char data[16] = {0};
    hearth_abi_mailbox_get_message_data(sig, data);
    CHECK(memcmp(data, "raw bytes", 9) == 0 && data[9] == 0);
    CHECK(hearth_abi_mailbox_get_message_caps_num(sig) == 2);
    hearth_cap got[3] = {0, 0, 0xAAAAAAAAu};
    hearth_abi_mailbox_get_message_caps(sig, got);
    CHECK(got[0] == to && got[1] == extra && got[2] == 0xAAAAAAAAu);
    hearth_abi_mailbox_destroy_signal(sig);
    /* The caps outlive the signal: they are references we own. */
    CHECK(hearth_permissions(got[0]) == (HEARTH_SEND | HEARTH_LINK));
    hearth_dec_ref(got[0]);
    hearth_dec_ref(got[1]);
    hearth_dec_ref(to);
    hearth_dec_ref(extra);
    hearth_mailbox_destroy(mb);
    EXPECT_TRAP(child_destroy_signal_twice, 0, 0, "hearth::mailbox::destroy_signal: unknown signal");
    EXPECT_TRAP(child_message_data_of_a_down, 0, 0, "hearth::mailbox::get_message_data_len: signal");
    EXPECT_TRAP(child_down_capability_of_a_message, 0, 0, "hearth::mailbox::get_down_capability: signal");
}

static void test_recv_and_try_recv(void) {
    uint32_t mark = hearth_mark();
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap to = hearth_make_capability(mb, HEARTH_SEND);
    hearth_signal s;
    CHECK(hearth_abi_mailbox_try_recv(mb) == HEARTH_NONE); /* empty: never waits */
    hearth_send_str(to, "one");
    hearth_send_str(to, "two");
    hearth_send_str(to, "three");
    hearth_recv(mb, &s); /* waits for the first; the rest were sent before */
    CHECK(s.len == 3 && memcmp(s.data, "one", 3) == 0);
    flush_sends();
    CHECK(hearth_try_recv(mb, &s) && s.len == 3 && memcmp(s.data, "two", 3) == 0);
    CHECK(hearth_try_recv(mb, &s) && s.len == 5 && memcmp(s.data, "three", 5) == 0);
    CHECK(!hearth_try_recv(mb, &s));
    hearth_dec_ref(to);
    hearth_mailbox_destroy(mb);
    hearth_release(mark);
}

static void test_poll_says_which_mailbox_delivered(void) {
    uint32_t mark = hearth_mark();
    hearth_mb mbs[2] = {hearth_mailbox_create(), hearth_mailbox_create()};
    hearth_cap a = hearth_make_capability(mbs[0], HEARTH_SEND);
    hearth_cap b = hearth_make_capability(mbs[1], HEARTH_SEND);
    hearth_signal s;
    hearth_send_str(b, "to b");
    hearth_poll(mbs, 2, &s);
    CHECK(s.index == 1 && s.len == 4 && memcmp(s.data, "to b", 4) == 0);
    hearth_send_str(b, "b again");
    hearth_send_str(a, "a");
    flush_sends();
    hearth_poll(mbs, 2, &s); /* both have one: the earlier mailbox wins */
    CHECK(s.index == 0 && s.len == 1);
    hearth_poll(mbs, 2, &s);
    CHECK(s.index == 1 && s.len == 7);
    /* Raw: the index in the high half, the signal handle in the low half. */
    hearth_send_str(a, "raw");
    uint64_t got = hearth_abi_mailbox_poll(mbs, 2);
    CHECK(got >> 32 == 0);
    CHECK(hearth_abi_mailbox_get_message_data_len((hearth_sig)got) == 3);
    hearth_abi_mailbox_destroy_signal((hearth_sig)got);
    hearth_dec_ref(a);
    hearth_dec_ref(b);
    hearth_mailbox_destroy(mbs[0]);
    hearth_mailbox_destroy(mbs[1]);
    hearth_release(mark);
    EXPECT_TRAP(child_poll_nothing, 0, 0, "hearth::mailbox::poll: needs at least one mailbox");
}

static void test_monitor(void) {
    uint32_t mark = hearth_mark();
    hearth_signal s;
    /* A destroyed mailbox: Down `closed`, through a no-permission capability. */
    hearth_mb target = hearth_mailbox_create();
    hearth_mb watcher = hearth_mailbox_create();
    hearth_cap c = hearth_make_capability(target, HEARTH_MONITOR);
    hearth_monitor(watcher, c);
    hearth_mailbox_destroy(target);
    hearth_recv(watcher, &s);
    CHECK(s.kind == HEARTH_DOWN);
    CHECK(hearth_reason_is(&s, "closed"));
    CHECK(s.cap != HEARTH_NONE && hearth_permissions(s.cap) == 0);
    hearth_signal_release(&s);
    /* Monitoring a route that is already closed: Down `noproc` at once. */
    hearth_monitor(watcher, c);
    hearth_recv(watcher, &s);
    CHECK(s.kind == HEARTH_DOWN && hearth_reason_is(&s, "noproc"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);
    /* A process that returns: Down `normal`. */
    hearth_cap child = hearth_spawn(child_return_on_message, 0, 0);
    hearth_monitor(watcher, child);
    hearth_send_str(child, "go");
    hearth_recv(watcher, &s);
    CHECK(s.kind == HEARTH_DOWN && hearth_reason_is(&s, "normal"));
    hearth_signal_release(&s);
    hearth_dec_ref(child);
    hearth_mailbox_destroy(watcher);
    hearth_release(mark);
    EXPECT_TRAP(child_monitor_without_monitor, 0, 0, "hearth::mailbox::monitor: capability");
}

/* The raw Down accessors. */
static void test_raw_down(void) {
    hearth_mb target = hearth_mailbox_create();
    hearth_mb watcher = hearth_mailbox_create();
    hearth_cap c = hearth_make_capability(target, HEARTH_MONITOR);
    hearth_monitor(watcher, c);
    hearth_mailbox_destroy(target);
    hearth_sig sig = hearth_abi_mailbox_recv(watcher);
    CHECK(hearth_abi_mailbox_get_signal_kind(sig) == HEARTH_DOWN);
    hearth_cap down = hearth_abi_mailbox_get_down_capability(sig);
    CHECK(hearth_permissions(down) == 0);
    uint8_t reason[16];
    CHECK(hearth_abi_process_get_down_reason_len(sig) == 7);
    hearth_abi_process_get_down_reason(sig, reason);
    CHECK(memcmp(reason, "\xa6" "closed", 7) == 0);
    hearth_abi_mailbox_destroy_signal(sig);
    hearth_dec_ref(down);
    hearth_dec_ref(c);
    hearth_mailbox_destroy(watcher);
}

void run(void) {
    test_create_and_destroy();
    test_make_capability_with_any_permissions();
    test_raw_signal_accessors();
    test_recv_and_try_recv();
    test_poll_says_which_mailbox_delivered();
    test_monitor();
    test_raw_down();
    check_report(0, "mailbox");
}
