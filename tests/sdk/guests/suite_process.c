/* Conformance: hearth::process — link, unlink, trap_exit, exit, exit_with,
 * recv_timeout, poll_timeout, get_down_reason_len, get_down_reason,
 * spawn_by_index, spawn_link_by_index, spawn_monitor_by_index.
 * Spawned with (reporter). */
#include "check.h"

#define MS 1000000ull
#define FOREVER (3600ull * 1000 * MS)

/* msgpack ["shutdown", "bye"] and "boom" */
static const uint8_t SHUTDOWN_BYE[] = "\x92\xa8shutdown\xa3" "bye";
static const uint8_t BOOM[] = "\xa4" "boom";

/* ---- children --------------------------------------------------------------- */

static void child_return(void) {}
static void child_unreachable(void) { __builtin_trap(); }
static void child_exit_shutdown(void) { hearth_exit(SHUTDOWN_BYE, sizeof SHUTDOWN_BYE - 1); }
static void child_exit_normal(void) { hearth_exit_atom("normal"); }
static void child_exit_boom(void) { hearth_exit_atom("boom"); }
static void child_exit_not_msgpack(void) { hearth_exit("\xc1", 1); }

static void child_wait_then_boom(void) {
    hearth_signal s;
    hearth_recv(HEARTH_PARENT, &s);
    hearth_exit_atom("boom");
}

/* Not trapping exits, linked to a child that exits "boom": taken down too. */
static void child_linked_to_a_crasher(void) {
    hearth_spawn_link(child_exit_boom, 0, 0);
    hearth_signal s;
    hearth_recv(HEARTH_PARENT, &s); /* never comes */
}

/* caps: (reply). Traps exits, says "ready", and sends back the reason of the
 * Exit it then receives, prefixed by its kind. */
static void child_trapping_reporter(void) {
    hearth_trap_exit(true);
    hearth_send_str(0, "ready");
    hearth_signal s;
    hearth_recv(HEARTH_PARENT, &s);
    uint8_t buf[64];
    buf[0] = (uint8_t)s.kind;
    memcpy(buf + 1, s.reason, s.reason_len);
    hearth_send(0, buf, 1 + s.reason_len, 0, 0);
}

/* caps: (reply). Echoes every message to the reply capability. */
static void child_echo(void) {
    hearth_signal s;
    for (;;) {
        uint32_t mark = hearth_mark();
        hearth_recv(HEARTH_PARENT, &s);
        hearth_send(0, s.data, s.len, 0, 0);
        hearth_release(mark);
    }
}

/* caps: (reply, extra). Reports the permissions it sees at handles 0 and 1,
 * and sends handle 1 back. */
static void child_report_caps(void) {
    uint8_t perms[2] = {(uint8_t)hearth_permissions(0), (uint8_t)hearth_permissions(1)};
    hearth_cap back = 1;
    hearth_send(0, perms, 2, &back, 1);
}

/* caps: (reply). Spawns a grandchild with the same caps, which says hello. */
static void grandchild_hello(void) { hearth_send_str(0, "hello from the grandchild"); }
static void child_spawning(void) {
    hearth_cap reply = 0;
    hearth_dec_ref(hearth_spawn(grandchild_hello, &reply, 1));
}

static void child_send_to_cap0(void) { hearth_send_str(0, "late"); }

static void child_link_without_link(void) {
    hearth_link(hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND));
}
static void child_unlink_without_link(void) {
    hearth_unlink(hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND));
}
static void child_exit_with_without_kill(void) {
    hearth_exit_with_atom(hearth_make_capability(hearth_mailbox_create(), HEARTH_SEND), "x");
}
static void child_exit_with_bad_reason(void) {
    hearth_exit_with(hearth_make_capability(hearth_mailbox_create(), HEARTH_ALL), "\x81\x01\x02", 3);
}
static void child_recv_timeout_negative(void) { hearth_abi_process_recv_timeout(HEARTH_PARENT, -1); }
static void child_poll_timeout_negative(void) {
    hearth_mb mb = HEARTH_PARENT;
    hearth_abi_process_poll_timeout(&mb, 1, -5);
}
static void child_get_down_reason_of_a_message(void) {
    hearth_cap me = hearth_make_capability(HEARTH_PARENT, HEARTH_SEND);
    hearth_send(me, "x", 1, 0, 0);
    hearth_abi_process_get_down_reason_len(hearth_abi_mailbox_recv(HEARTH_PARENT));
}
static void child_spawn_passing_unknown_cap(void) {
    hearth_cap bad = 4242;
    hearth_spawn(child_return, &bad, 1);
}
static void child_spawn_link_passing_unknown_cap(void) {
    hearth_cap bad = 4242;
    hearth_spawn_link(child_return, &bad, 1);
}
static void child_spawn_monitor_unknown_mailbox(void) { hearth_spawn_monitor(child_return, 0, 0, 99); }

/* ---- tests ------------------------------------------------------------------ */

static void test_trap_exit_returns_the_old_flag(void) {
    CHECK(hearth_trap_exit(true) == false);
    CHECK(hearth_abi_process_trap_exit(1) == 1);
    CHECK(hearth_trap_exit(false) == true);
    CHECK(hearth_abi_process_trap_exit(0) == 0);
}

/* The pid is positive and the same on every call. */
static void test_pid(void) {
    int64_t pid = hearth_pid();
    CHECK(pid > 0);
    CHECK(hearth_abi_process_pid() == pid);
}

static void test_exit_reasons(void) {
    hearth_signal down;
    run_child(child_exit_shutdown, 0, 0, &down);
    CHECK(reason_equals(&down, SHUTDOWN_BYE, sizeof SHUTDOWN_BYE - 1));
    hearth_signal_release(&down);
    run_child(child_exit_normal, 0, 0, &down);
    CHECK(hearth_reason_is(&down, "normal"));
    hearth_signal_release(&down);
    run_child(child_return, 0, 0, &down);
    CHECK(hearth_reason_is(&down, "normal"));
    hearth_signal_release(&down);
    EXPECT_TRAP(child_unreachable, 0, 0, "wasm trap");
    EXPECT_TRAP(child_exit_not_msgpack, 0, 0, "hearth::process::exit: the reason is not msgpack");
    /* An ext type in a reason should trap too: tests/sdk/test_conformance.py
     * checks that apart. */
}

static void test_links(void) {
    uint32_t mark = hearth_mark();
    hearth_signal s;
    hearth_trap_exit(true);

    /* A linked child's exit arrives as an Exit in the parent mailbox. */
    hearth_cap c = hearth_spawn_link(child_exit_boom, 0, 0);
    hearth_recv(HEARTH_PARENT, &s);
    CHECK(s.kind == HEARTH_EXIT);
    CHECK(reason_equals(&s, BOOM, sizeof BOOM - 1));
    CHECK(hearth_permissions(s.cap) == 0);
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    /* link, then the child dies: Down (monitors fire first), then Exit. */
    c = hearth_spawn_monitor(child_wait_then_boom, 0, 0, HEARTH_PARENT);
    hearth_link(c);
    hearth_send_str(c, "go");
    hearth_recv(HEARTH_PARENT, &s);
    CHECK(s.kind == HEARTH_DOWN && hearth_reason_is(&s, "boom"));
    hearth_signal_release(&s);
    CHECK(hearth_try_recv(HEARTH_PARENT, &s) && s.kind == HEARTH_EXIT && hearth_reason_is(&s, "boom"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    /* link then unlink: the Down comes, no Exit. */
    c = hearth_spawn_monitor(child_wait_then_boom, 0, 0, HEARTH_PARENT);
    hearth_link(c);
    hearth_unlink(c);
    hearth_unlink(c); /* no link: nothing to do */
    hearth_send_str(c, "go");
    hearth_recv(HEARTH_PARENT, &s);
    CHECK(s.kind == HEARTH_DOWN && hearth_reason_is(&s, "boom"));
    hearth_signal_release(&s);
    CHECK(!hearth_try_recv(HEARTH_PARENT, &s));
    hearth_dec_ref(c);

    /* Linking to a dead process: an Exit `noproc`. */
    hearth_mb mb = hearth_mailbox_create();
    c = hearth_spawn_monitor(child_return, 0, 0, mb);
    hearth_recv(mb, &s);
    hearth_signal_release(&s);
    hearth_link(c);
    hearth_recv(HEARTH_PARENT, &s);
    CHECK(s.kind == HEARTH_EXIT && hearth_reason_is(&s, "noproc"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);
    hearth_mailbox_destroy(mb);

    /* A crash along a link: the Exit carries the trap reason. */
    c = hearth_spawn_link(child_unreachable, 0, 0);
    hearth_recv(HEARTH_PARENT, &s);
    const char *msg;
    uint32_t len;
    CHECK(s.kind == HEARTH_EXIT && trap_message(&s, &msg, &len) && contains(msg, len, "wasm trap"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    CHECK(hearth_trap_exit(false) == true);

    /* Not trapping exits: a link takes the process down with the reason. */
    run_child(child_linked_to_a_crasher, 0, 0, &s);
    CHECK(reason_equals(&s, BOOM, sizeof BOOM - 1));
    hearth_signal_release(&s);

    hearth_release(mark);
    EXPECT_TRAP(child_link_without_link, 0, 0, "hearth::process::link: capability");
    EXPECT_TRAP(child_unlink_without_link, 0, 0, "hearth::process::unlink: capability");
}

static void test_exit_with(void) {
    uint32_t mark = hearth_mark();
    hearth_signal s;
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap reply = hearth_make_capability(mb, HEARTH_SEND);

    /* To a process trapping exits: it receives an Exit with the reason. */
    hearth_cap c = hearth_spawn_monitor(child_trapping_reporter, &reply, 1, mb);
    hearth_recv(mb, &s);
    CHECK(s.kind == HEARTH_MESSAGE && s.len == 5 && memcmp(s.data, "ready", 5) == 0);
    hearth_exit_with_atom(c, "please");
    hearth_recv(mb, &s);
    CHECK(s.kind == HEARTH_MESSAGE && s.len == 8 && memcmp(s.data, "\x02\xa6please", 8) == 0);
    hearth_recv(mb, &s);
    CHECK(s.kind == HEARTH_DOWN && hearth_reason_is(&s, "normal"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    /* `kill` is never trapped. */
    c = hearth_spawn_monitor(child_trapping_reporter, &reply, 1, mb);
    hearth_recv(mb, &s);
    hearth_exit_with_atom(c, "kill");
    hearth_recv(mb, &s);
    CHECK(s.kind == HEARTH_DOWN && hearth_reason_is(&s, "killed"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    /* Not trapping: `normal` is ignored, anything else ends the process. */
    c = hearth_spawn_monitor(child_echo, &reply, 1, mb);
    hearth_exit_with_atom(c, "normal");
    hearth_send_str(c, "still here");
    hearth_recv(mb, &s);
    CHECK(s.kind == HEARTH_MESSAGE && s.len == 10 && memcmp(s.data, "still here", 10) == 0);
    hearth_exit_with(c, SHUTDOWN_BYE, sizeof SHUTDOWN_BYE - 1);
    hearth_recv(mb, &s);
    CHECK(s.kind == HEARTH_DOWN && reason_equals(&s, SHUTDOWN_BYE, sizeof SHUTDOWN_BYE - 1));
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    hearth_dec_ref(reply);
    hearth_mailbox_destroy(mb);
    hearth_release(mark);
    EXPECT_TRAP(child_exit_with_without_kill, 0, 0, "hearth::process::exit_with: capability");
    EXPECT_TRAP(child_exit_with_bad_reason, 0, 0, "hearth::process::exit_with: the reason");
}

static void test_timeouts(void) {
    uint32_t mark = hearth_mark();
    hearth_signal s;
    hearth_mb mbs[2] = {hearth_mailbox_create(), hearth_mailbox_create()};
    hearth_cap b = hearth_make_capability(mbs[1], HEARTH_SEND);

    CHECK(hearth_abi_process_recv_timeout(mbs[0], 0) == HEARTH_NONE);
    CHECK(!hearth_recv_timeout(mbs[0], 1 * MS, &s)); /* waits 1 ms, loses nothing */
    CHECK(hearth_abi_process_poll_timeout(mbs, 2, 0) == -1);
    CHECK(!hearth_poll_timeout(mbs, 2, 1 * MS, &s));

    hearth_send_str(b, "for b");
    CHECK(hearth_poll_timeout(mbs, 2, FOREVER, &s) && s.index == 1 && s.len == 5);
    hearth_send_str(b, "again");
    CHECK(hearth_recv_timeout(mbs[1], FOREVER, &s) && s.len == 5 && memcmp(s.data, "again", 5) == 0);
    hearth_send_str(b, "raw");
    int64_t got = hearth_abi_process_poll_timeout(mbs, 2, (int64_t)FOREVER);
    CHECK(got != -1 && (uint64_t)got >> 32 == 1);
    hearth_abi_mailbox_destroy_signal((hearth_sig)got);

    /* A wait that a message from another process ends. */
    hearth_cap reply = hearth_make_capability(mbs[0], HEARTH_SEND);
    hearth_cap child = hearth_spawn(child_send_to_cap0, &reply, 1);
    CHECK(hearth_recv_timeout(mbs[0], FOREVER, &s) && s.len == 4 && memcmp(s.data, "late", 4) == 0);
    hearth_dec_ref(child);
    hearth_dec_ref(reply);
    hearth_dec_ref(b);
    hearth_mailbox_destroy(mbs[0]);
    hearth_mailbox_destroy(mbs[1]);
    hearth_release(mark);
    EXPECT_TRAP(child_recv_timeout_negative, 0, 0, "hearth::process::recv_timeout: a timeout can't be negative");
    EXPECT_TRAP(child_poll_timeout_negative, 0, 0, "hearth::process::poll_timeout: a timeout can't be negative");
}

static void test_down_reasons_raw(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap c = hearth_spawn_monitor(child_exit_shutdown, 0, 0, mb);
    hearth_sig sig = hearth_abi_mailbox_recv(mb);
    uint32_t n = hearth_abi_process_get_down_reason_len(sig);
    CHECK(n == sizeof SHUTDOWN_BYE - 1);
    uint8_t buf[32];
    hearth_abi_process_get_down_reason(sig, buf);
    CHECK(memcmp(buf, SHUTDOWN_BYE, sizeof SHUTDOWN_BYE - 1) == 0);
    hearth_dec_ref(hearth_abi_mailbox_get_down_capability(sig));
    hearth_abi_mailbox_destroy_signal(sig);
    hearth_dec_ref(c);
    hearth_mailbox_destroy(mb);
    EXPECT_TRAP(child_get_down_reason_of_a_message, 0, 0, "hearth::process::get_down_reason_len: signal");
}

static void test_spawning(void) {
    uint32_t mark = hearth_mark();
    hearth_signal s;
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap reply = hearth_make_capability(mb, HEARTH_SEND);
    hearth_cap extra = hearth_make_capability(mb, HEARTH_MONITOR | HEARTH_LINK);

    /* The child finds the caps at 0..n-1; we get a cap with all permissions. */
    hearth_cap caps[2] = {reply, extra};
    hearth_cap c = hearth_spawn(child_report_caps, caps, 2);
    CHECK(hearth_permissions(c) == HEARTH_ALL);
    hearth_recv(mb, &s);
    CHECK(s.len == 2 && s.data[0] == HEARTH_SEND && s.data[1] == (HEARTH_MONITOR | HEARTH_LINK));
    CHECK(s.ncaps == 1 && s.caps[0] == extra); /* came home: the same handle */
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    /* Raw spawn_by_index with a function's table index, from a child too. */
    c = hearth_abi_process_spawn_by_index((uint32_t)(uintptr_t)child_spawning, &reply, 1);
    hearth_recv(mb, &s);
    CHECK(s.len == 25 && memcmp(s.data, "hello from the grandchild", 25) == 0);
    hearth_dec_ref(c);

    /* spawn_monitor_by_index: the Down goes to the mailbox given. */
    c = hearth_abi_process_spawn_monitor_by_index((uint32_t)(uintptr_t)child_exit_boom, 0, 0, mb);
    hearth_recv(mb, &s);
    CHECK(s.kind == HEARTH_DOWN && hearth_reason_is(&s, "boom"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    /* spawn_link_by_index: linked before it can run. */
    hearth_trap_exit(true);
    c = hearth_abi_process_spawn_link_by_index((uint32_t)(uintptr_t)child_exit_boom, 0, 0);
    hearth_recv(HEARTH_PARENT, &s);
    CHECK(s.kind == HEARTH_EXIT && hearth_reason_is(&s, "boom"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);
    hearth_trap_exit(false);

    /* An index that names no function: the child traps, not the parent. */
    c = hearth_abi_process_spawn_monitor_by_index(999999, 0, 0, mb);
    hearth_recv(mb, &s);
    const char *msg;
    uint32_t len;
    CHECK(trap_message(&s, &msg, &len) && contains(msg, len, "_hearth_spawn_by_index(999999)"));
    hearth_signal_release(&s);
    hearth_dec_ref(c);

    hearth_dec_ref(reply);
    hearth_dec_ref(extra);
    hearth_mailbox_destroy(mb);
    hearth_release(mark);
    EXPECT_TRAP(child_spawn_passing_unknown_cap, 0, 0, "hearth::process::spawn_by_index: unknown capability");
    EXPECT_TRAP(child_spawn_link_passing_unknown_cap, 0, 0, "hearth::process::spawn_link_by_index: unknown capability");
    EXPECT_TRAP(child_spawn_monitor_unknown_mailbox, 0, 0, "hearth::process::spawn_monitor_by_index: unknown mailbox");
}

void run(void) {
    test_trap_exit_returns_the_old_flag();
    test_pid();
    test_exit_reasons();
    test_links();
    test_exit_with();
    test_timeouts();
    test_down_reasons_raw();
    test_spawning();
    check_report(0, "process");
}
