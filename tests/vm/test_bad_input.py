"""Bad input raises a specific, documented error before anything is queued,
and the runtime keeps running."""

import pytest

from hearth import vm
from hearth.vm import SEND


@pytest.mark.parametrize("payload", ["text", 42, None, bytearray(b"x"), memoryview(b"x"), [1]])
def test_a_non_bytes_payload_raises_payload_error_and_queues_nothing(proc, payload):
    me = vm.make_capability(SEND)
    with pytest.raises(vm.PayloadError):
        me.send(payload)
    assert vm.try_recv() is None
    me.send(b"still fine")
    assert vm.recv().data == b"still fine"


@pytest.mark.parametrize("bad", [3, "cap", object(), None])
def test_a_non_capability_in_caps_raises_payload_error(proc, bad):
    me = vm.make_capability(SEND)
    with pytest.raises(vm.PayloadError):
        me.send(b"x", [me, bad])
    assert vm.try_recv() is None


def test_a_released_capability_in_caps_raises_invalid_handle(proc):
    me = vm.make_capability(SEND)
    gone = vm.make_capability(vm.KILL)
    gone.release()
    with pytest.raises(vm.InvalidHandle):
        me.send(b"x", [gone])
    assert vm.try_recv() is None


@pytest.mark.parametrize("bad", [0, "handle", None])
def test_module_functions_reject_things_that_are_not_capabilities(proc, bad):
    for fn in (lambda: vm.send(bad, b"x"), lambda: vm.kill(bad), lambda: vm.link(bad),
               lambda: vm.monitor(bad), lambda: vm.exit(bad, "r")):
        with pytest.raises(vm.InvalidHandle):
            fn()


def test_kernel_calls_outside_a_process_raise_not_in_process(runtime):
    with pytest.raises(vm.NotInProcess):
        vm.recv()
    with pytest.raises(vm.NotInProcess):
        vm.spawn(print)
    with pytest.raises(vm.NotInProcess):
        vm.exit("x")


def test_a_mailbox_of_another_process_is_foreign(proc):
    mine = vm.create_mailbox()
    seen = []

    def other():
        for op in (mine.recv, mine.try_recv, mine.make_capability, mine.destroy,
                   lambda: vm.select([mine]), lambda: vm.make_capability(mailbox=mine),
                   lambda: vm.spawn_monitor(print, mailbox=mine)):
            try:
                op()
            except vm.ForeignCapability:
                seen.append(op)

    vm.spawn_monitor(other)
    assert vm.recv(timeout=5).reason == vm.NORMAL
    assert len(seen) == 7


def test_unknown_permission_bits_are_refused(proc):
    with pytest.raises(vm.Misuse):
        vm.make_capability(0x10)
    with pytest.raises(vm.PermissionDenied):
        vm.make_capability().demote(0x30)


def test_attaching_a_greenlet_twice_or_the_hub_is_misuse(proc):
    with pytest.raises(vm.Misuse):
        with proc.runtime.open_process():
            pass


def test_spawn_needs_a_callable_and_a_live_runtime(proc):
    with pytest.raises(TypeError):
        vm.spawn("not callable")
    other = vm.Runtime()
    assert other.shutdown() == []
    with pytest.raises(vm.Misuse):
        other.spawn(print)


def test_a_process_that_raises_does_not_disturb_the_runtime(proc):
    for _ in range(100):
        vm.spawn_monitor(lambda: [][1])
    reasons = {vm.recv(timeout=5).reason[1] for _ in range(100)}
    assert reasons == {"IndexError"}
    me = vm.make_capability(SEND)
    me.send(b"alive")
    assert vm.recv().data == b"alive"


@pytest.mark.parametrize("bad", ["soon", b"1", [1.0]])
def test_a_timeout_that_is_not_a_number_raises_misuse(proc, bad):
    mb = vm.create_mailbox()
    for fn in (lambda: vm.recv(timeout=bad), lambda: mb.recv(timeout=bad),
               lambda: vm.select([mb], timeout=bad)):
        with pytest.raises(vm.Misuse, match="timeout must be seconds"):
            fn()
    # Nothing was lost or left waiting: the mailbox still works.
    me = mb.make_capability(SEND)
    me.send(b"still fine")
    assert mb.recv(timeout=1).data == b"still fine"


@pytest.mark.parametrize("bad", [3, "inbox", object()])
def test_a_mailbox_argument_that_is_not_a_mailbox_raises_misuse(proc, bad):
    for fn in (lambda: vm.recv(timeout=0, mailbox=bad), lambda: vm.try_recv(mailbox=bad)):
        with pytest.raises(vm.Misuse, match="expected a mailbox"):
            fn()


@pytest.mark.parametrize("bad", [1.5, "SEND", None])
def test_demote_to_permissions_that_are_not_an_int_raises_misuse(proc, bad):
    me = vm.make_capability(vm.ALL)
    with pytest.raises(vm.Misuse, match="permissions must be an int"):
        me.demote(bad)
    assert me.demote(vm.Perm.SEND).perms == SEND  # a Perm is an int


@pytest.mark.parametrize("bad", [-1, 16, 2**70, 1.0, "SEND", None])
def test_minting_with_what_are_not_permission_bits_raises_misuse(proc, bad):
    # -1 has every bit, so it must never pass for "all permissions".
    child = vm.spawn(vm.recv)
    for fn in (lambda: vm.make_capability(bad),
               lambda: vm.foreign.import_route(vm.current_process().parent_mailbox(), bad),
               lambda: vm._introspect.capability_to_pid(vm.current_process().pid, bad)):
        with pytest.raises(vm.Misuse, match="permission"):
            fn()
    assert len(vm.current_process().table) == 1  # the child's capability, nothing more
    child.kill()
