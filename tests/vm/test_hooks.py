"""The kernel calls the layers above use instead of its private attributes
(docs/design.md, "What the upper layers may ask of the kernel")."""

import pytest

from hearth import otp, vm
from hearth.vm import ALL, KILL, LINK, MONITOR, SEND, Down


def _wait_forever():
    vm.recv()


def test_route_owner_is_the_live_process_behind_a_cap_and_none_once_it_died(proc):
    assert vm.route_owner(vm.make_capability(SEND)) is proc
    child = vm.spawn(_wait_forever)
    owner = vm.route_owner(child)
    assert owner is not None and owner is not proc and owner.alive
    ref = child.monitor()
    child.kill()
    down = vm.recv(timeout=5)
    assert type(down) is Down and down.ref == ref
    down.cap.release()
    assert vm.route_owner(child) is None


def test_route_owner_is_none_for_a_destroyed_mailbox_of_a_live_process(proc):
    mb = vm.create_mailbox()
    cap = mb.make_capability(SEND)
    assert vm.route_owner(cap) is proc
    mb.destroy()
    assert vm.route_owner(cap) is None and proc.alive


def test_exit_hooks_run_in_order_before_any_down_and_can_be_cancelled(proc):
    seen = []
    child = vm.spawn(_wait_forever)
    target = vm.route_owner(child)
    vm.on_exit(target, lambda p, r: seen.append(("first", p is target, r)))
    cancelled = vm.on_exit(target, lambda p, r: seen.append(("cancelled", r)))
    # The caller is the one killing: its monitor's Down is not queued yet.
    vm.on_exit(target, lambda p, r: seen.append(("second", vm.try_recv())))
    assert vm.cancel_on_exit(target, cancelled) is True
    assert vm.cancel_on_exit(target, cancelled) is False
    ref = child.monitor()
    child.exit("stop")
    # Both hooks ran inside the exit call, before the route closed.
    assert seen == [("first", True, "stop"), ("second", None)]
    down = vm.recv(timeout=5)
    assert type(down) is Down and down.ref == ref and down.reason == "stop"
    down.cap.release()


def test_a_failing_exit_hook_is_logged_and_the_others_still_run(proc, caplog):
    seen = []
    child = vm.spawn(_wait_forever)
    target = vm.route_owner(child)
    vm.on_exit(target, lambda p, r: 1 / 0)
    vm.on_exit(target, lambda p, r: seen.append(r))
    child.kill()
    assert seen == ["killed"]
    assert "exit hook" in caplog.text


def test_make_ref_never_repeats_in_a_runtime(runtime, proc):
    refs = [vm.make_ref() for _ in range(100)] + [runtime.make_ref(), vm.make_ref(runtime)]
    assert len(set(refs)) == len(refs)


def test_is_self_and_names_tell_the_callers_own_routes_apart(proc):
    mine = vm.make_capability(ALL)
    other = vm.spawn(_wait_forever)
    assert vm.is_self(mine) and not vm.is_self(other)
    assert mine.names(proc.parent_mailbox()) and not other.names(proc.parent_mailbox())
    other.kill()


def test_cap_perms_reads_the_bits_without_checks(proc):
    cap = vm.make_capability(SEND | MONITOR)
    assert cap.perms == int(SEND | MONITOR) == int(cap.permissions)
    assert not cap.perms & (KILL | LINK)


def test_carrier_of_a_local_capability_is_none(proc):
    assert vm.carrier_of(vm.make_capability(SEND)) is None


def _named_like_a_supervisor():
    vm.recv()


_named_like_a_supervisor.__qualname__ = "supervisor_main"


def test_supervisors_are_found_by_their_mark_not_by_a_function_name(runtime, proc):
    impostor = vm.spawn(_named_like_a_supervisor)
    sup = otp.start_link_supervisor([], name="marked")
    pids = otp.supervisor_pids(runtime)
    assert [runtime.process_info(p).name for p in pids] == ["marked"]
    info = runtime.process_info(pids[0])
    assert info.metadata["behaviour"] == "supervisor"
    impostor.kill()
    sup.unlink()
    sup.kill()


def test_foreign_helpers_act_on_routes_without_private_attributes(proc):
    from hearth.vm import Message, foreign

    mb = vm.create_mailbox()
    route, _ = foreign.route_of(mb.make_capability(SEND))
    foreign.deliver(route, Message(b"from a peer", ()))
    sig = mb.recv(timeout=1)
    assert type(sig) is Message and sig.data == b"from a peer"
    assert not foreign.route_closed(route) and not foreign.owner_exited(route)
    mb.destroy()
    assert foreign.route_closed(route) and not foreign.owner_exited(route)
    with pytest.raises(TypeError):
        foreign.stand_in(route)
