"""Messages between guests that skip the hub (`hearth/vm/_wasm/_handoff.py`):
a guest parks in `recv` on its own thread and other guests send straight
into its mailbox. The kernel's rules still hold (V9, V10, V16, V22) and
`wait_all_blocked` stays exact."""

import contextlib
import struct
import sys
import time

from hearth import vm
from hearth.vm import MONITOR, SEND
from hearth.vm._wasm import spawn_guest

from .guests import ECHO_TO_CAP0, ECHO_VIA_REPLY_CAP
from .wat import data, module

PINGS = 500


def _pinger(n):
    """Spawned with (echo, reporter): waits for a message, then `n` times
    sends "x" to the echo carrying a capability to itself and waits for the
    reply; then sends "done" to the reporter."""
    return module(
        data(8, "x") + data(32, "done")
        + """
        (func (export "run") (local $n i32) (local $s i32)
          (local.set $n (i32.const %d))
          (i32.store (i32.const 24) (call $make_capability (i32.const 0) (i32.const 1)))
          (drop (call $recv (i32.const 0)))
          (block $done (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (call $send (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 24) (i32.const 1))
            (local.set $s (call $recv (i32.const 0)))
            (call $destroy_signal (local.get $s))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
          (call $send (i32.const 1) (i32.const 32) (i32.const 4) (i32.const 0) (i32.const 0))
          (drop (call $recv (i32.const 0))))"""
        % n,
        "make_capability", "recv", "send", "destroy_signal",
    )


def _guest_of(cap):
    return cap._route._proc.guest


def test_guests_ping_pong_straight_into_each_others_mailboxes(runtime, proc):
    echo = spawn_guest(ECHO_VIA_REPLY_CAP)
    ping = spawn_guest(_pinger(PINGS), echo, vm.make_capability(SEND))
    runtime.wait_all_blocked()
    # Both are parked on their own threads, which counts as waiting.
    for cap in (echo, ping):
        assert runtime.process_info(cap._route._proc.pid).state == "waiting"
    assert runtime._sched.n_parked == 2
    ping.send(b"go")
    assert vm.recv(timeout=30).data == b"done"
    # Every ping and every pong went guest to guest, none through the hub.
    assert _guest_of(ping).n_direct_out == PINGS
    assert _guest_of(echo).n_direct_out == PINGS
    assert _guest_of(echo).n_direct_in == PINGS
    info = runtime.process_info(echo._route._proc.pid)
    assert (info.messages_in, info.messages_out) == (PINGS, PINGS)
    echo.send(b"")
    ping.send(b"")


def test_wait_all_blocked_waits_for_guests_that_only_talk_to_each_other(runtime, proc):
    # wait_all_blocked is exact: the pair runs 500 round trips without the
    # hub, and the helper must not return before the pinger has reported.
    echo = spawn_guest(ECHO_VIA_REPLY_CAP)
    ping = spawn_guest(_pinger(PINGS), echo, vm.make_capability(SEND))
    runtime.wait_all_blocked()
    ping.send(b"go")
    runtime.wait_all_blocked()
    assert vm.try_recv().data == b"done"
    assert runtime._sched.n_parked == 2
    echo.send(b"")
    ping.send(b"")


# Waits for a message carrying a capability, then sends i = 0, 1, ... 2999
# through it as fast as it can.
COUNT = module(
    """
    (func (export "run") (local $i i32) (local $s i32) (local $to i32)
      (local.set $s (call $recv (i32.const 0)))
      (call $get_message_caps (local.get $s) (i32.const 512))
      (local.set $to (i32.load (i32.const 512)))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.const 3000)))
        (i32.store (i32.const 0) (local.get $i))
        (call $send (local.get $to) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))""",
    "recv", "get_message_caps", "send",
)


def test_a_guests_messages_to_a_guest_keep_their_order_through_hub_and_handoff(runtime, proc):
    # V9: the sender starts before the receiver's proxy has run, so its
    # first messages go through the hub and the later ones straight in; a
    # direct send waits until the hub has delivered the sender's earlier
    # posts (without that wait, this fails every time). The receiver must
    # see 0..2999 in order, every time. Whether the receiver ever parks (so
    # that later messages go straight in) depends on how the OS schedules
    # the two guest threads: the run is repeated, a bounded number of
    # times, until one has taken both ways.
    mixed = []
    for _ in range(ATTEMPTS):
        direct = _count_through_hub_and_handoff(runtime)
        mixed.append(direct)
        if 0 < direct < 3000:
            break
    assert any(0 < d < 3000 for d in mixed), f"never both ways: direct counts {mixed}"


ATTEMPTS = 10


def _count_through_hub_and_handoff(runtime):
    """One run: the 3,000 messages arrive in order; returns how many of
    them the receiver took straight from the sender (not through the hub)."""
    counter = spawn_guest(COUNT)
    runtime.wait_all_blocked()
    with _switching_often():
        peer = spawn_guest(ECHO_TO_CAP0, vm.make_capability(SEND))  # starts at our next switch
        counter.send(b"go", [peer])  # wakes the counter's thread at once
        # Hold the hub (no switch) until the counter has sent through it.
        sender, deadline = _guest_of(counter), time.monotonic() + 10
        while sender.n_posted < 100 and time.monotonic() < deadline:
            pass
        assert sender.n_posted >= 100
        got = [struct.unpack("<I", vm.recv(timeout=30).data)[0] for _ in range(3000)]
    assert got == list(range(3000))
    direct = _guest_of(peer).n_direct_in
    peer.send(b"")
    for guest in (counter, peer):
        ref = vm.monitor(guest)
        guest.kill()
        assert vm.recv(timeout=10).ref == ref
    return direct


@contextlib.contextmanager
def _switching_often():
    # Threads switch often, so that guest threads run in the middle of the
    # hub's work.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


# Spawned with (target): sends "m" to the target forever.
FLOOD = module(
    data(0, "m")
    + """
    (func (export "run")
      (loop $l
        (call $send (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0))
        (br $l)))""",
    "send",
)

# Forwards every signal on mailbox 0 to capability 0 (a Python process):
# a message's bytes as they are, a Down as "down". A message carrying a
# capability makes it monitor that capability instead.
FORWARD = module(
    data(16, "down")
    + """
    (func (export "run") (local $s i32) (local $n i32)
      (loop $l
        (local.set $s (call $recv (i32.const 0)))
        (if (i32.eq (call $get_signal_kind (local.get $s)) (i32.const 1))
          (then (call $send (i32.const 0) (i32.const 16) (i32.const 4) (i32.const 0) (i32.const 0)))
          (else
            (if (call $get_message_caps_num (local.get $s))
              (then
                (call $get_message_caps (local.get $s) (i32.const 32))
                (call $monitor (i32.const 0) (i32.load (i32.const 32))))
              (else
                (local.set $n (call $get_message_data_len (local.get $s)))
                (call $get_message_data (local.get $s) (i32.const 1024))
                (call $send (i32.const 0) (i32.const 1024) (local.get $n)
                            (i32.const 0) (i32.const 0))))))
        (call $destroy_signal (local.get $s))
        (br $l)))""",
    "recv", "get_signal_kind", "get_message_caps_num", "get_message_caps", "monitor",
    "get_message_data_len", "get_message_data", "destroy_signal", "send",
)


def test_no_message_of_a_killed_guest_arrives_after_its_down(runtime, proc):
    # V9 with V16: a guest killed while it sends straight into another
    # guest's mailbox; its Down there comes after every message it sent.
    # The flooder runs in the middle of the kernel's exit path (without the
    # exit hook of `_handoff`, this fails every time).
    with _switching_often():
        _kill_floods(runtime)


def _kill_floods(runtime):
    reports = vm.create_mailbox()
    forward = spawn_guest(FORWARD, reports.make_capability(SEND))
    for _ in range(10):
        flood = spawn_guest(FLOOD, forward)
        forward.send(b"", [flood.demote(MONITOR)])
        assert reports.recv(timeout=30).data == b"m"  # it floods: kill it mid-stream
        flood.kill()
        while (sig := reports.recv(timeout=30)).data == b"m":
            pass
        assert sig.data == b"down"
        runtime.wait_all_blocked()  # the flooder's thread is gone, the forwarder parked
        forward.send(b"end")
        assert reports.recv(timeout=30).data == b"end"
    runtime.wait_all_blocked()
    assert runtime._sched.n_parked == 1  # the forwarder; nothing of the flooders left
    forward.kill()


# Spawned with (reporter): waits for a message with a timeout of an hour
# (a kernel receive on the hub) and forwards its bytes to the reporter.
TIMED = module(
    """
    (func (export "run") (local $s i32) (local $n i32)
      (local.set $s (call $recv_timeout (i32.const 0) (i64.const 3600000000000)))
      (local.set $n (call $get_message_data_len (local.get $s)))
      (call $get_message_data (local.get $s) (i32.const 1024))
      (call $send (i32.const 0) (i32.const 1024) (local.get $n) (i32.const 0) (i32.const 0)))""",
    "recv_timeout", "get_message_data_len", "get_message_data", "send",
)

# Spawned with (target): waits for any message, then sends "late" to target.
SEND_ON_GO = module(
    data(0, "late")
    + """
    (func (export "run")
      (drop (call $recv (i32.const 0)))
      (call $send (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0)))""",
    "recv", "send",
)


def test_a_guest_waiting_in_a_timed_receive_gets_a_guests_message_at_once(runtime, proc):
    # V10: the timed receive waits in the kernel, on the hub; a guest's
    # send to it must wake it there, not sit in the queue for the hour.
    timed, ref = spawn_guest(TIMED, vm.make_capability(SEND), monitor=True)
    sender = spawn_guest(SEND_ON_GO, timed)
    runtime.wait_all_blocked()
    assert runtime.process_info(timed._route._proc.pid).state == "waiting"
    sender.send(b"go")
    assert vm.recv(timeout=10).data == b"late"
    assert vm.recv(timeout=10).ref == ref


def test_killing_a_parked_guest_ends_it_with_killed(runtime, proc):
    # V16: a guest parked on its own thread is woken and unwound.
    echo, ref = spawn_guest(ECHO_TO_CAP0, vm.make_capability(SEND), monitor=True)
    runtime.wait_all_blocked()
    assert runtime._sched.n_parked == 1
    echo.kill()
    down = vm.recv(timeout=10)
    assert (down.ref, down.reason) == (ref, vm.KILLED)
    runtime.wait_all_blocked()
    assert runtime._sched.n_parked == 0


# Spawned with (reporter): creates mailbox 1 and sends the reporter a
# capability to it; then forever polls mailboxes 0 and 1 and reports each
# message as one byte (which mailbox) and its bytes.
POLLER = module(
    """
    (func (export "run") (local $r i64) (local $s i32) (local $n i32)
      (i32.store (i32.const 64) (i32.const 0))
      (i32.store (i32.const 68) (call $create))
      (i32.store (i32.const 72) (call $make_capability (i32.load (i32.const 68)) (i32.const 1)))
      (call $send (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 72) (i32.const 1))
      (loop $l
        (local.set $r (call $poll (i32.const 64) (i32.const 2)))
        (local.set $s (i32.wrap_i64 (local.get $r)))
        (i32.store8 (i32.const 1024) (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))))
        (local.set $n (call $get_message_data_len (local.get $s)))
        (call $get_message_data (local.get $s) (i32.const 1025))
        (call $destroy_signal (local.get $s))
        (call $send (i32.const 0) (i32.const 1024) (i32.add (local.get $n) (i32.const 1))
                    (i32.const 0) (i32.const 0))
        (br $l)))""",
    "create", "make_capability", "send", "poll", "get_message_data_len", "get_message_data",
    "destroy_signal",
)


def test_a_guest_polling_parks_and_is_woken_by_python_and_by_guests(runtime, proc):
    # V10 for select: the poller parks on both mailboxes; a Python process
    # reaches it through the hub, a guest straight into mailbox 1.
    poller, ref = spawn_guest(POLLER, vm.make_capability(SEND), monitor=True)
    (second,) = vm.recv(timeout=10).caps
    sender = spawn_guest(SEND_ON_GO, second)
    runtime.wait_all_blocked()
    assert runtime.process_info(poller._route._proc.pid).state == "waiting"
    assert runtime._sched.n_parked == 2  # the poller and the sender
    poller.send(b"from python")
    assert vm.recv(timeout=10).data == b"\x00from python"
    sender.send(b"go")
    assert vm.recv(timeout=10).data == b"\x01late"
    assert _guest_of(sender).n_direct_out == 1
    poller.kill()
    assert vm.recv(timeout=10).ref == ref
