"""Messages and mailboxes: rules V8–V12."""

import pytest

from hearth import vm
from hearth.vm import SEND


def test_v8_send_to_a_dead_process_is_dropped_silently(proc):
    child, ref = vm.spawn_monitor(lambda: None)
    assert vm.recv(timeout=5).reason == vm.NORMAL
    child.send(b"into the void")  # no error
    assert proc.n_out >= 1


def test_v8_send_never_blocks_even_to_a_process_that_never_receives(proc):
    child = vm.spawn(lambda: vm.recv(mailbox=vm.create_mailbox()))
    for i in range(10_000):
        child.send(b"%d" % i)
    proc.runtime.wait_all_blocked()
    info = proc.runtime.processes()[-1]
    assert info.mailboxes[0].depth == 10_000
    child.kill()


def test_v9_signals_from_one_process_arrive_in_the_order_sent_including_down(proc):
    me = vm.make_capability(SEND)

    def child(reply):
        for i in range(100):
            reply.send(b"%d" % i)
        raise RuntimeError("last words")

    vm.spawn_monitor(child, me)
    got = [vm.recv(timeout=5) for _ in range(101)]
    assert [m.data for m in got[:100]] == [b"%d" % i for i in range(100)]
    assert isinstance(got[100], vm.Down)
    assert got[100].reason[1] == "RuntimeError"


def test_v9_an_exit_signal_arrives_after_the_messages_sent_before_it(proc):
    vm.trap_exit(True)
    me = vm.make_capability(SEND)

    def child(reply):
        reply.send(b"one")
        reply.send(b"two")
        vm.exit("done")

    vm.spawn_link(child, me)
    assert [vm.recv(timeout=5).data, vm.recv(timeout=5).data] == [b"one", b"two"]
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == "done"


def test_v10_recv_timeout_returns_nothing_and_loses_nothing(proc, virtual_clock):
    me = vm.make_capability(SEND)
    assert vm.recv(timeout=30) is None
    assert virtual_clock.now() == 30
    me.send(b"later")
    assert vm.recv(timeout=30).data == b"later"


def test_v10_a_message_arriving_before_the_timeout_wins(proc, virtual_clock):
    me = vm.make_capability(SEND)

    def child(reply):
        vm.recv(timeout=5)
        reply.send(b"at five")

    vm.spawn(child, me)
    assert vm.recv(timeout=10).data == b"at five"
    assert virtual_clock.now() == 5


def test_v10_recv_with_a_real_timeout_returns_none(proc):
    assert vm.recv(timeout=0.01) is None
    assert vm.recv(timeout=0) is None


def test_v10_try_recv_never_blocks_and_tells_empty_from_closed(proc):
    mb = vm.create_mailbox()
    assert mb.try_recv() is None
    mb.make_capability(SEND).send(b"queued")
    mb.destroy()
    assert mb.try_recv().data == b"queued"
    with pytest.raises(vm.MailboxClosed):
        mb.try_recv()


def test_v10_select_waits_on_several_mailboxes_and_says_which_delivered(proc, virtual_clock):
    a, b = vm.create_mailbox(), vm.create_mailbox()
    b_cap = b.make_capability(SEND)

    def child(cap):
        vm.recv(timeout=1)
        cap.send(b"to b")

    vm.spawn(child, b_cap)
    mailbox, sig = vm.select([a, b], timeout=10)
    assert mailbox is b and sig.data == b"to b"
    assert vm.select([a, b], timeout=3) is None
    assert virtual_clock.now() == 4


def test_v10_select_prefers_earlier_mailboxes_when_several_are_ready(proc):
    a, b = vm.create_mailbox(), vm.create_mailbox()
    b.make_capability(SEND).send(b"b")
    a.make_capability(SEND).send(b"a")
    assert vm.select([a, b])[0] is a
    assert vm.select([a, b])[0] is b


def test_v11_a_process_owns_many_mailboxes_each_its_own_route(proc):
    boxes = [vm.create_mailbox() for _ in range(5)]
    for i, mb in enumerate(boxes):
        mb.make_capability(SEND).send(b"%d" % i)
    assert [mb.recv().data for mb in reversed(boxes)] == [b"4", b"3", b"2", b"1", b"0"]
    assert len({mb.route_id for mb in boxes}) == 5


def test_v11_destroying_a_mailbox_fires_down_closed_and_the_process_lives_on(proc):
    me = vm.make_capability(SEND)

    def child(reply):
        extra = vm.create_mailbox()
        reply.send(b"extra", [extra.make_capability(SEND | vm.MONITOR)])
        vm.recv()
        extra.destroy()
        vm.recv()
        reply.send(b"still alive")

    child_cap = vm.spawn(child, me)
    extra = vm.recv(timeout=5).caps[0]
    ref = extra.monitor()
    child_cap.send(b"destroy it")
    down = vm.recv(timeout=5)
    assert isinstance(down, vm.Down) and down.ref == ref and down.reason == vm.CLOSED
    assert down.cap.same_route(extra)
    extra.send(b"dropped")
    child_cap.send(b"go on")
    assert vm.recv(timeout=5).data == b"still alive"


def test_v11_a_closed_mailbox_drains_then_reports_closed_instead_of_blocking(proc):
    mb = vm.create_mailbox()
    cap = mb.make_capability(SEND)
    cap.send(b"1")
    cap.send(b"2")
    mb.destroy()
    cap.send(b"3 is dropped")
    assert mb.recv().data == b"1"
    assert mb.recv().data == b"2"
    with pytest.raises(vm.MailboxClosed):
        mb.recv()
    with pytest.raises(vm.MailboxClosed):
        mb.recv(timeout=1)


def test_v11_a_mailbox_destroyed_while_its_owner_waits_wakes_it_with_closed(proc):
    mb = vm.create_mailbox()
    me = vm.make_capability(vm.KILL)

    def destroyer(target):
        # Only the owner may destroy; a process with KILL can only kill.
        with pytest.raises(vm.ForeignCapability):
            mb.destroy()

    ref = vm.spawn_monitor(destroyer, me)[1]
    assert vm.recv(timeout=5).ref == ref


def test_v11_the_parent_mailbox_cannot_be_destroyed(proc):
    with pytest.raises(vm.Misuse):
        vm.parent_mailbox().destroy()


def test_v12_the_receiver_never_sees_a_change_made_after_sending(proc):
    me = vm.make_capability(SEND)
    buf = bytearray(b"original")
    with pytest.raises(vm.PayloadError):
        me.send(buf)
    me.send(bytes(buf))
    buf[:] = b"mutated!"
    assert vm.recv().data == b"original"


def test_v12_bytes_subclasses_are_copied_to_plain_bytes(proc):
    class Sneaky(bytes):
        pass

    me = vm.make_capability(SEND)
    me.send(Sneaky(b"abc"))
    assert type(vm.recv().data) is bytes
