"""A send with one capability in a tuple, the shape of every `otp.call`,
takes a short path in the kernel: it checks and delivers exactly as any
other send does (rules V1, V5, V6, V8)."""

import pytest

from hearth import vm
from hearth.vm import SEND


@pytest.mark.parametrize("bad", [3, "cap", object(), None])
def test_a_lone_non_capability_raises_payload_error_and_queues_nothing(proc, bad):
    me = vm.make_capability(SEND)
    with pytest.raises(vm.PayloadError):
        me.send(b"x", (bad,))
    assert vm.try_recv() is None


def test_a_lone_released_capability_raises_invalid_handle_and_queues_nothing(proc):
    me = vm.make_capability(SEND)
    gone = vm.make_capability(vm.KILL)
    gone.release()
    with pytest.raises(vm.InvalidHandle):
        me.send(b"x", (gone,))
    assert vm.try_recv() is None


def test_a_lone_capability_of_another_process_is_foreign(proc):
    me = vm.make_capability(SEND)
    theirs = []

    def other(report):
        mine = vm.make_capability(SEND)
        theirs.append(mine)
        report.send(b"ready")
        vm.recv()

    child = vm.spawn(other, me)
    assert vm.recv(timeout=5).data == b"ready"
    with pytest.raises(vm.ForeignCapability):
        me.send(b"x", (theirs[0],))
    assert vm.try_recv() is None
    child.kill()


def test_a_lone_capability_arrives_imported_with_its_own_reference(proc):
    box = vm.create_mailbox()
    me = vm.make_capability(SEND)
    reply = box.make_capability(SEND)
    me.send(b"x", (reply,))
    sig = vm.recv(timeout=5)
    # The same route and permissions: the same handle, one more reference.
    assert sig.caps == (reply,) and reply.refs == 2
    sig.caps[0].release()
    assert reply.refs == 1
    sig.caps[0].send(b"through it")
    assert box.recv(timeout=5).data == b"through it"


def test_a_lone_capability_sent_to_a_closed_route_is_dropped(proc):
    box = vm.create_mailbox()
    to_box = box.make_capability(SEND)
    box.destroy()
    me = vm.make_capability(SEND)
    to_box.send(b"x", (me,))  # dropped, as any send to a closed route
    assert me.refs == 1
    assert vm.try_recv() is None
