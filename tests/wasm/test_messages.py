"""Messages, capabilities, Down and Exit signals between guests and Python."""

import msgpack
import pytest

from hearth import vm
from hearth.vm import ALL, LINK, MONITOR, SEND
from hearth.vm._wasm import spawn_guest

from .guests import ECHO_TO_CAP0, ECHO_VIA_REPLY_CAP
from .wat import NONE, data, module


def test_a_guest_and_python_exchange_bytes_and_capabilities(proc):
    echo = spawn_guest(ECHO_VIA_REPLY_CAP)
    me = vm.make_capability(SEND)
    extra_mb = vm.create_mailbox()
    extra = extra_mb.make_capability(SEND | MONITOR)
    echo.send(b"hello", [me, extra, extra])
    reply = vm.recv(timeout=10)
    assert reply.data == b"hello"
    assert len(reply.caps) == 2 and all(c.same_route(extra) for c in reply.caps)
    assert reply.caps[0].permissions == SEND | MONITOR
    reply.caps[0].send(b"through the passed capability")
    assert extra_mb.recv(timeout=10).data == b"through the passed capability"
    echo.send(b"")


def test_messages_from_python_arrive_in_order_whether_queued_or_awaited(proc):
    guest, ref = spawn_guest(ECHO_TO_CAP0, vm.make_capability(SEND), monitor=True)
    for i in range(50):  # queued before the guest first runs
        guest.send(b"%d" % i)
    assert [vm.recv(timeout=10).data for _ in range(50)] == [b"%d" % i for i in range(50)]
    for i in range(50):  # one at a time: the guest waits in recv each time
        guest.send(b"again %d" % i)
        assert vm.recv(timeout=10).data == b"again %d" % i
    guest.send(b"")
    assert vm.recv(timeout=10).reason == vm.NORMAL


# A client guest spawned with (server, observer): it mints a capability to
# its own mailbox 0, sends "ping" to the server carrying (itself, observer),
# receives the reply, and forwards the reply's bytes to every capability the
# reply carried.
CLIENT = module(
    data(0, "ping")
    + """
    (func (export "run") (local $s i32) (local $n i32) (local $c i32) (local $i i32)
      (i32.store (i32.const 512) (call $make_capability (i32.const 0) (i32.const 1)))
      (i32.store (i32.const 516) (i32.const 1))
      (call $send (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 512) (i32.const 2))
      (local.set $s (call $recv (i32.const 0)))
      (local.set $n (call $get_message_data_len (local.get $s)))
      (local.set $c (call $get_message_caps_num (local.get $s)))
      (call $get_message_data (local.get $s) (i32.const 1024))
      (call $get_message_caps (local.get $s) (i32.const 768))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $c)))
        (call $send (i32.load (i32.add (i32.const 768) (i32.shl (local.get $i) (i32.const 2))))
                    (i32.const 1024) (local.get $n) (i32.const 0) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))""",
    "make_capability", "send", "recv", "get_message_data_len", "get_message_caps_num",
    "get_message_data", "get_message_caps",
)


def test_two_guests_exchange_bytes_and_capabilities(proc):
    server = spawn_guest(ECHO_VIA_REPLY_CAP)
    observer = vm.make_capability(SEND)
    client, ref = spawn_guest(CLIENT, server, observer, monitor=True)
    assert vm.recv(timeout=10).data == b"ping"  # server -> client -> observer (us)
    assert vm.recv(timeout=10).reason == vm.NORMAL
    server.send(b"")


# Spawned with (target, reporter): monitors target from mailbox 0, waits for
# the Down, and reports to the reporter: kind (u32), the permissions of the
# Down's capability (u32), then the reason as msgpack.
DOWN_REPORTER = module(
    """
    (func (export "run") (local $s i32) (local $n i32)
      (call $monitor (i32.const 0) (i32.const 0))
      (local.set $s (call $recv (i32.const 0)))
      (i32.store (i32.const 0) (call $get_signal_kind (local.get $s)))
      (i32.store (i32.const 4)
        (call $get_permissions (call $get_down_capability (local.get $s))))
      (local.set $n (call $get_down_reason_len (local.get $s)))
      (call $get_down_reason (local.get $s) (i32.const 8))
      (call $send (i32.const 1) (i32.const 0) (i32.add (i32.const 8) (local.get $n))
                  (i32.const 0) (i32.const 0)))""",
    "monitor", "recv", "get_signal_kind", "get_permissions", "get_down_capability",
    "get_down_reason_len", "get_down_reason", "send",
)


def _report(sig):
    kind = int.from_bytes(sig.data[:4], "little")
    perms = int.from_bytes(sig.data[4:8], "little")
    return kind, perms, msgpack.unpackb(sig.data[8:], use_list=False)


def test_a_guest_monitoring_a_python_process_gets_down_with_its_reason(proc):
    target = vm.spawn(vm.recv)
    spawn_guest(DOWN_REPORTER, target.demote(MONITOR), vm.make_capability(SEND))
    proc.runtime.wait_all_blocked()
    target.exit(("shutdown", {"why": "done", "n": [1, 2.5, b"\x00"]}))
    reason = ("shutdown", {"why": "done", "n": (1, 2.5, b"\x00")})
    assert _report(vm.recv(timeout=10)) == (1, 0, reason)


def test_a_guest_monitoring_a_dead_route_gets_down_noproc(proc):
    target, ref = vm.spawn_monitor(lambda: None)
    assert vm.recv(timeout=10).ref == ref
    spawn_guest(DOWN_REPORTER, target, vm.make_capability(SEND))
    assert _report(vm.recv(timeout=10)) == (1, 0, "noproc")


def test_a_python_process_monitoring_a_guest_gets_down_with_the_guests_reason(proc):
    guest = spawn_guest(module('(func (export "run") unreachable)'))
    guest.monitor()
    reason = vm.recv(timeout=10).reason
    assert vm.is_error(reason) and reason[1] == "Trap"
    assert vm.format_reason(reason) == (
        "Trap: run: wasm trap: wasm `unreachable` instruction executed"
    )


# Traps exits, links to capability 0, and reports the first signal like
# DOWN_REPORTER does.
EXIT_REPORTER = module(
    """
    (func (export "run") (local $s i32) (local $n i32)
      (drop (call $trap_exit (i32.const 1)))
      (call $link (i32.const 0))
      (local.set $s (call $recv (i32.const 0)))
      (i32.store (i32.const 0) (call $get_signal_kind (local.get $s)))
      (i32.store (i32.const 4)
        (call $get_permissions (call $get_down_capability (local.get $s))))
      (local.set $n (call $get_down_reason_len (local.get $s)))
      (call $get_down_reason (local.get $s) (i32.const 8))
      (call $send (i32.const 1) (i32.const 0) (i32.add (i32.const 8) (local.get $n))
                  (i32.const 0) (i32.const 0)))""",
    "trap_exit", "link", "recv", "get_signal_kind", "get_permissions", "get_down_capability",
    "get_down_reason_len", "get_down_reason", "send",
)


def test_a_guest_trapping_exits_receives_an_exit_signal_of_kind_2(proc):
    target = vm.spawn(vm.recv)
    spawn_guest(EXIT_REPORTER, target.demote(LINK), vm.make_capability(SEND))
    proc.runtime.wait_all_blocked()
    target.exit("boom")
    assert _report(vm.recv(timeout=10)) == (2, 0, "boom")


def test_a_linked_guest_that_does_not_trap_exits_dies_with_the_peers_reason(proc):
    guest = module(
        '(func (export "run") (call $link (i32.const 0)) (drop (call $recv (i32.const 0))))',
        "link", "recv",
    )
    target = vm.spawn(vm.recv)
    cap, ref = spawn_guest(guest, target, monitor=True)
    proc.runtime.wait_all_blocked()
    target.exit("boom")
    assert vm.recv(timeout=10).reason == "boom"


# Creates mailbox 1, sends a SEND capability to it through capability 0,
# polls (0, 1), and reports the poll's result (i64) through capability 0.
POLLER = module(
    """
    (func (export "run") (local $mb i32) (local $r i64)
      (local.set $mb (call $create))
      (i32.store (i32.const 0) (call $make_capability (local.get $mb) (i32.const 1)))
      (call $send (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1))
      (i32.store (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (local.get $mb))
      (local.set $r (call $poll (i32.const 16) (i32.const 2)))
      (i64.store (i32.const 32) (local.get $r))
      (i32.store (i32.const 40) (call $get_message_data_len (i32.wrap_i64 (local.get $r))))
      (call $send (i32.const 0) (i32.const 32) (i32.const 12) (i32.const 0) (i32.const 0)))""",
    "create", "make_capability", "send", "poll", "get_message_data_len",
)


def test_poll_says_which_mailbox_delivered(proc):
    spawn_guest(POLLER, vm.make_capability(SEND))
    (second,) = vm.recv(timeout=10).caps
    proc.runtime.wait_all_blocked()  # the guest now waits in poll
    second.send(b"abc")
    report = vm.recv(timeout=10).data
    result = int.from_bytes(report[:8], "little")
    assert result >> 32 == 1  # mailbox index 1 of the list
    assert int.from_bytes(report[8:], "little") == 3


# try_recv on an empty mailbox, then recv_timeout(0, 30 s): reports both
# results (u32 each) through capability 0.
TIMEOUTS = module(
    """
    (func (export "run")
      (i32.store (i32.const 0) (call $try_recv (i32.const 0)))
      (i32.store (i32.const 4) (call $recv_timeout (i32.const 0) (i64.const 30000000000)))
      (call $send (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0)))""",
    "try_recv", "recv_timeout", "send",
)


def test_try_recv_on_empty_and_recv_timeout_return_none_and_lose_nothing(proc, virtual_clock):
    started = virtual_clock.now()
    guest = spawn_guest(TIMEOUTS, vm.make_capability(SEND))
    report = vm.recv(timeout=60).data
    assert virtual_clock.now() - started == pytest.approx(30)
    assert report == NONE.to_bytes(4, "little") * 2


def test_make_capability_mints_any_permissions_to_own_mailboxes(proc):
    guest = module(
        """
        (func (export "run")
          (i32.store (i32.const 0) (call $get_permissions
            (call $make_capability (i32.const 0) (i32.const 15))))
          (i32.store (i32.const 4) (call $get_permissions
            (call $demote (call $make_capability (i32.const 0) (i32.const 15)) (i32.const 3))))
          (call $send (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0)))""",
        "get_permissions", "make_capability", "demote", "send",
    )
    spawn_guest(guest, vm.make_capability(SEND))
    report = vm.recv(timeout=10).data
    assert (report[:4], report[4:]) == (ALL.to_bytes(4, "little"), (3).to_bytes(4, "little"))


def test_destroying_a_guests_mailbox_fires_its_monitors_with_closed(proc):
    guest = module(
        """(func (export "run") (local $mb i32)
             (local.set $mb (call $create))
             (i32.store (i32.const 0) (call $make_capability (local.get $mb) (i32.const 2)))
             (call $send (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1))
             (drop (call $recv (i32.const 0)))
             (call $destroy (local.get $mb))
             (drop (call $recv (i32.const 0))))""",
        "create", "make_capability", "send", "recv", "destroy",
    )
    cap = spawn_guest(guest, vm.make_capability(SEND))
    (second,) = vm.recv(timeout=10).caps
    ref = second.monitor()
    cap.send(b"destroy it")
    down = vm.recv(timeout=10)
    assert (down.ref, down.reason) == (ref, vm.CLOSED)
    proc.runtime.wait_all_blocked()
    assert [p.reason for p in proc.runtime.processes()] == [None, None]  # the guest lives on
    cap.kill()


# recv_timeout(0, 5 s) and poll_timeout([0], 5 s) in turn, reporting each
# result's low 32 bits (a signal handle, or all ones) through capability 0.
WAIT_A_BIT = module(
    """(func (export "run")
         (i32.store (i32.const 0) (call $recv_timeout (i32.const 0) (i64.const 5000000000)))
         (call $send (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0))
         (i32.store (i32.const 16) (i32.const 0))
         (i64.store (i32.const 0) (call $poll_timeout (i32.const 16) (i32.const 1)
                                                     (i64.const 5000000000)))
         (call $send (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0)))""",
    "recv_timeout", "poll_timeout", "send",
)


def test_receive_timeouts_return_a_signal_that_arrives_in_time_or_nothing(proc, virtual_clock):
    guest = spawn_guest(WAIT_A_BIT, vm.make_capability(SEND))
    proc.runtime.wait_all_blocked()
    guest.send(b"in time")
    assert vm.recv(timeout=60).data == (0).to_bytes(4, "little")  # signal handle 0
    started = virtual_clock.now()
    assert vm.recv(timeout=60).data == (2**64 - 1).to_bytes(8, "little")  # -1: timed out
    assert virtual_clock.now() - started == pytest.approx(5)


def test_each_occurrence_of_a_capability_in_a_message_is_one_reference(proc):
    guest = module(
        """(func (export "run") (local $s i32)
             (local.set $s (call $recv (i32.const 0)))
             (call $get_message_caps (local.get $s) (i32.const 0))
             (call $dec_ref (i32.load (i32.const 0)))
             (call $send (i32.load (i32.const 4)) (i32.const 0) (i32.const 8)
                         (i32.const 0) (i32.const 0))
             (call $dec_ref (i32.load (i32.const 4)))
             (call $dec_ref (i32.load (i32.const 4))))""",
        "recv", "get_message_caps", "dec_ref", "send",
    )
    cap, ref = spawn_guest(guest, monitor=True)
    me = vm.make_capability(SEND)
    cap.send(b"", [me, me])
    report = vm.recv(timeout=10).data
    assert report[:4] == report[4:]  # one handle, twice
    reason = vm.recv(timeout=10).reason  # the third dec_ref found it released
    assert reason[2] == f"hearth::table::dec_ref: unknown capability handle {report[0]}"
