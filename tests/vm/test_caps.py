"""Capability tables: rules V1–V7."""

import pytest

from hearth import vm
from hearth.vm import ALL, KILL, LINK, MONITOR, NONE, SEND


def test_v1_importing_a_held_capability_returns_the_same_handle_and_adds_a_reference(proc):
    a = vm.make_capability(SEND)
    b = vm.make_capability(SEND)
    assert a is b
    assert a.refs == 2
    c = vm.make_capability(SEND | MONITOR)
    assert c is not a and c.handle != a.handle


def test_v1_one_route_under_each_set_of_permissions_is_a_handle_of_its_own(proc):
    # The table indexes by permissions, then by route: all 16 sets of one
    # route are 16 handles; each re-import finds its own; releasing one
    # leaves the others (and a Down's no-permission handle among them).
    caps = [vm.make_capability(perms) for perms in range(ALL + 1)]
    assert len({cap.handle for cap in caps}) == 16 and len(proc.table) == 16
    again = [vm.make_capability(perms) for perms in range(ALL + 1)]
    assert all(a is b and a.refs == 2 for a, b in zip(caps, again))
    for cap in caps[::2]:
        cap.release()
        cap.release()
    assert len(proc.table) == 8
    for perms, cap in enumerate(caps):
        assert (cap.refs == 2) == bool(perms % 2)
    for cap in caps[1::2]:
        assert vm.make_capability(cap.perms) is cap
    assert [c.perms for c in proc.table.caps()] == list(range(1, 16, 2))


def test_v1_each_received_occurrence_adds_a_reference_to_the_same_handle(proc):
    me = vm.make_capability(SEND)
    other = vm.make_capability(KILL)
    me.send(b"x", [other, other])
    msg = vm.recv()
    assert msg.caps[0] is msg.caps[1] is other
    assert other.refs == 3


def test_v2_releasing_the_last_reference_frees_the_handle(proc):
    cap = vm.make_capability(SEND)
    cap.inc_ref()
    cap.release()
    cap.send(b"still usable")
    assert vm.recv().data == b"still usable"
    cap.release()
    with pytest.raises(vm.InvalidHandle):
        cap.send(b"x")
    with pytest.raises(vm.InvalidHandle):
        cap.release()
    with pytest.raises(vm.InvalidHandle):
        proc.table.get(cap.handle)


def test_v2_freed_handle_numbers_may_be_reused_but_the_old_handle_stays_dead(proc):
    first = vm.make_capability(SEND)
    number = first.handle
    first.release()
    second = vm.make_capability(MONITOR)
    assert second.handle == number
    with pytest.raises(vm.InvalidHandle):
        first.send(b"x")
    assert second.permissions == MONITOR


def test_v2_unknown_handle_numbers_raise_invalid_handle(proc):
    for bad in (-1, 99, "zero", None):
        with pytest.raises(vm.InvalidHandle):
            proc.table.get(bad)


def test_v3_demote_gives_a_subset_and_can_never_raise_permissions(proc):
    cap = vm.make_capability(SEND | MONITOR)
    weaker = cap.demote(SEND)
    assert weaker.permissions == SEND
    with pytest.raises(vm.PermissionDenied):
        weaker.demote(SEND | MONITOR)
    with pytest.raises(vm.PermissionDenied):
        cap.demote(KILL)
    with pytest.raises(vm.PermissionDenied):
        cap.demote(0x40)


def test_v3_demoting_to_no_permissions_always_works(proc):
    cap = vm.make_capability(NONE)
    assert cap.demote(NONE) is cap
    full = vm.make_capability(ALL)
    assert full.demote(NONE) is cap


def test_v4_the_owner_mints_any_permissions_on_its_own_mailboxes(proc):
    mb = vm.create_mailbox()
    for perms in (NONE, SEND, MONITOR, KILL, LINK, ALL):
        assert mb.make_capability(perms).permissions == perms


def test_v5_capabilities_are_imported_when_received_not_when_sent(proc):
    me = vm.make_capability(SEND)

    def child(reply):
        gate = vm.create_mailbox()
        reply.send(b"gate", [gate.make_capability(SEND)])
        gate.recv()
        vm.recv()
        reply.send(b"%d" % len(vm.current_process().table))

    child_cap, ref = vm.spawn_monitor(child, me)
    gate = vm.recv(timeout=5).caps[0]
    child_cap.send(b"caps", [me, me, child_cap.demote(NONE)])
    proc.runtime.wait_all_blocked()
    pid = proc.runtime.processes()[-1].pid
    assert proc.runtime.process_info(pid).capabilities == 2  # reply, gate
    gate.send(b"go")
    # me was already held (same route and perms): one new handle only.
    assert vm.recv(timeout=5).data == b"3"
    assert vm.recv(timeout=5).reason == vm.NORMAL


def test_v5_capabilities_keep_order_and_duplicates(proc):
    a = vm.make_capability(SEND)
    b = vm.make_capability(MONITOR)
    a.send(b"", [b, a, b])
    msg = vm.recv()
    assert [c.permissions for c in msg.caps] == [MONITOR, SEND, MONITOR]
    assert msg.caps[0] is msg.caps[2]


@pytest.mark.parametrize(
    "perms, op",
    [
        (ALL & ~SEND, lambda c: c.send(b"x")),
        (ALL & ~KILL, lambda c: c.kill()),
        (ALL & ~KILL, lambda c: c.exit("bye")),
        (ALL & ~MONITOR, lambda c: c.monitor()),
        (ALL & ~LINK, lambda c: c.link()),
        (ALL & ~LINK, lambda c: c.unlink()),
    ],
)
def test_v6_each_operation_needs_its_permission_and_fails_before_queuing(proc, perms, op):
    child = vm.spawn(vm.recv)
    vm.monitor(child)
    weak = child.demote(perms)
    before = proc.runtime.process_info(proc.runtime.processes()[-1].pid)
    with pytest.raises(vm.PermissionDenied):
        op(weak)
    after = proc.runtime.process_info(before.pid)
    assert after.mailbox_depth == before.mailbox_depth == 0
    assert after.links == () and after.reason is None
    child.kill()
    assert isinstance(vm.recv(timeout=5), vm.Down)


def test_v6_passing_a_capability_along_needs_no_permission_on_it(proc):
    me = vm.make_capability(SEND)
    powerless = vm.make_capability(NONE)
    me.send(b"", [powerless])
    assert vm.recv().caps[0].permissions == NONE


def test_v6_link_permission_is_its_own_bit_not_send_or_monitor(proc):
    assert vm.Perm.LINK not in vm.Perm(SEND | MONITOR)
    child = vm.spawn(vm.recv)
    with pytest.raises(vm.PermissionDenied):
        child.demote(SEND | MONITOR).link()
    child.kill()


def test_v7_a_capability_of_another_runtime_is_foreign(proc):
    other = vm.Runtime()
    try:
        mine = vm.make_capability(SEND)
        seen = []

        def in_other_runtime():
            try:
                mine.send(b"x")
            except vm.ForeignCapability as e:
                seen.append(e)
            try:
                vm.spawn(lambda c: None, mine)
            except vm.ForeignCapability as e:
                seen.append(e)

        other.spawn(in_other_runtime)
        other.wait_all_blocked()
        assert len(seen) == 2
        assert vm.try_recv() is None
    finally:
        assert other.shutdown() == []


def test_a_capability_used_by_another_process_of_the_same_runtime_is_foreign(proc):
    mine = vm.make_capability(SEND)
    seen = []

    def thief():
        try:
            mine.send(b"stolen")
        except vm.ForeignCapability as e:
            seen.append(e)

    vm.monitor(vm.spawn(thief))
    assert vm.recv(timeout=5).reason == vm.NORMAL
    assert len(seen) == 1
    assert vm.try_recv() is None


def test_a_copied_capability_is_the_same_handle(proc):
    import copy

    cap = vm.make_capability(vm.SEND)
    assert copy.copy(cap) is cap and copy.deepcopy([cap])[0] is cap
    assert cap.refs == 1  # a copy adds no reference
    cap.release()
    with pytest.raises(vm.InvalidHandle):
        copy.copy(cap).send(b"x")
    assert len(vm.current_process().table) == 0
