/* Conformance: hearth::account (of_message, of_capability, mine, is_closed,
 * name) and hearth::process::now. Spawned with (reporter), charged to an
 * account or not; notes "mine" (its own account id, u32) and "name" (its
 * own account's name), which the Python side checks. Everything else here
 * is the server's own side: messages from itself, its own mailboxes. */
#include "check.h"

static void child_of_message_on_a_down(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_mb watch = hearth_mailbox_create();
    hearth_cap cap = hearth_make_capability(mb, HEARTH_MONITOR);
    hearth_monitor(watch, cap);
    hearth_mailbox_destroy(mb);
    hearth_sig sig = hearth_abi_mailbox_recv(watch);
    hearth_abi_account_of_message(sig);
}
static void child_of_unknown_signal(void) { hearth_abi_account_of_message(77); }
static void child_of_unknown_capability(void) { hearth_account_of(999); }
static void child_is_closed_unknown(void) { hearth_account_closed(5); }
static void child_name_unknown(void) {
    char buf[8];
    hearth_account_name(7, buf, sizeof buf);
}
static void child_name_out_of_memory(void) { hearth_abi_account_name(0, (char *)0xfffffff0u, 64); }

static void test_now(void) {
    int64_t t0 = hearth_now(), t1 = hearth_now();
    CHECK(t1 >= t0);
    hearth_signal s;
    CHECK(!hearth_recv_timeout(HEARTH_PARENT, 20 * 1000000ull, &s));
    CHECK(hearth_now() - t0 >= 20 * 1000000ll); /* the clock recv_timeout waits on */
}

static void test_the_servers_own_side_is_0(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap cap = hearth_make_capability(mb, HEARTH_SEND);
    hearth_send(cap, "x", 1, &cap, 1);
    hearth_sig sig = hearth_abi_mailbox_recv(mb);
    hearth_account mine = hearth_account_mine();
    /* A message this guest sent is stamped with its own account. */
    CHECK(hearth_abi_account_of_message(sig) == mine);
    CHECK(hearth_account_of(cap) == mine); /* its own mailbox is its account's */
    hearth_signal s;
    hearth_signal_read(sig, &s);
    hearth_signal_release(&s);
    CHECK(!hearth_account_closed(0));
    char buf[4] = "abc";
    CHECK(hearth_account_name(0, buf, sizeof buf) == 0 && buf[0] == 0);
    CHECK(hearth_abi_account_name(0, 0, 0) == 0);
    if (mine) {
        CHECK(!hearth_account_closed(mine));
        CHECK(hearth_account_mine() == mine); /* the same id every time */
        char name[64];
        uint32_t n = hearth_account_name(mine, name, sizeof name);
        CHECK(n > 0 && n < sizeof name && hearth_strlen(name) == n);
        char cut[3];
        CHECK(hearth_account_name(mine, cut, sizeof cut) == n && hearth_strlen(cut) == 2);
        check_note("name", name, n);
    }
    check_note("mine", &mine, sizeof mine);
    hearth_dec_ref(cap);
    hearth_mailbox_destroy(mb);
}

static void test_misuse_traps(void) {
    EXPECT_TRAP(child_of_message_on_a_down, 0, 0,
                "hearth::account::of_message: signal 0 is a Down, not a Message");
    EXPECT_TRAP(child_of_unknown_signal, 0, 0, "hearth::account::of_message: unknown signal handle 77");
    EXPECT_TRAP(child_of_unknown_capability, 0, 0,
                "hearth::account::of_capability: unknown capability handle 999");
    EXPECT_TRAP(child_is_closed_unknown, 0, 0, "hearth::account::is_closed: unknown account id 5");
    EXPECT_TRAP(child_name_unknown, 0, 0, "hearth::account::name: unknown account id 7");
    EXPECT_TRAP(child_name_out_of_memory, 0, 0, "hearth::account::name:");
}

void run(void) {
    test_now();
    test_the_servers_own_side_is_0();
    test_misuse_traps();
    check_report(0, "account");
}
