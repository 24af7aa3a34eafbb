"""Process life and death: rules V13–V17."""

import gevent
import gevent.event
import pytest

from hearth import vm
from hearth.vm import ALL, SEND


def test_v13_spawn_returns_a_full_capability_at_once_and_the_child_runs_later(proc):
    ran = []
    child = vm.spawn(ran.append, 1)
    assert child.permissions == ALL
    assert ran == []  # the child has not run yet: spawn never switches
    ref = child.monitor()
    assert vm.recv(timeout=5).ref == ref
    assert ran == [1]


def test_v13_spawn_link_observes_a_child_that_dies_on_its_first_instruction(proc):
    vm.trap_exit(True)
    vm.spawn_link(lambda: 1 / 0)
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit)
    assert sig.reason[1] == "ZeroDivisionError"


def test_v13_spawn_monitor_observes_a_child_that_dies_on_its_first_instruction(proc):
    cap, ref = vm.spawn_monitor(lambda: 1 / 0)
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Down) and sig.ref == ref
    assert sig.cap.same_route(cap)


def test_v13_capability_arguments_are_imported_into_the_childs_table(proc):
    me = vm.make_capability(SEND)

    def child(reply, n):
        reply.send(b"%d %d" % (reply.handle, n))

    vm.spawn(child, me, 7)
    assert vm.recv(timeout=5).data == b"0 7"


def test_v14_a_process_that_returns_exits_normal(proc):
    _, ref = vm.spawn_monitor(lambda: 42)
    assert vm.recv(timeout=5).reason == vm.NORMAL


def test_v14_a_process_that_raises_exits_with_an_error_naming_the_exception(proc):
    def child():
        raise KeyError("the key")

    vm.spawn_monitor(child)
    reason = vm.recv(timeout=5).reason
    assert vm.is_error(reason)
    kind, name, message, tb = reason
    assert (kind, name, message) == ("error", "KeyError", "'the key'")
    assert "raise KeyError" in tb
    assert vm.format_reason(reason) == "KeyError: 'the key'"


def test_v14_exit_reason_ends_the_process_with_that_reason(proc):
    vm.spawn_monitor(vm.exit, ("shutdown", {"why": "done"}))
    assert vm.recv(timeout=5).reason == ("shutdown", {"why": "done"})


def test_v14_exit_reasons_must_be_plain_data(proc):
    with pytest.raises(vm.BadReason):
        vm.exit(ValueError("live object"))
    with pytest.raises(vm.BadReason):
        vm.exit({1: "non-str key"})
    child = vm.spawn(vm.recv)
    with pytest.raises(vm.BadReason):
        child.exit(object())
    child.kill()


def test_v15_on_exit_every_route_closes_and_every_monitor_fires_once(proc):
    me = vm.make_capability(SEND)

    def child(reply):
        extra = [vm.create_mailbox() for _ in range(3)]
        reply.send(b"", [mb.make_capability(vm.MONITOR | SEND) for mb in extra])
        vm.recv()
        vm.exit("bye")

    child_cap = vm.spawn(child, me)
    extras = vm.recv(timeout=5).caps
    refs = {c.monitor() for c in (child_cap, *extras)}
    refs.add(child_cap.monitor())  # two independent monitors on one route
    child_cap.send(b"die")
    downs = [vm.recv(timeout=5) for _ in range(5)]
    assert {d.ref for d in downs} == refs
    assert {d.reason for d in downs} == {"bye"}
    assert vm.recv(timeout=0) is None
    for cap in extras:
        cap.send(b"dropped")


def test_v15_exit_hooks_run_before_any_down_is_delivered(proc):
    seen = []

    def child():
        vm.current_process().at_exit = [lambda p, r: seen.append((p.pid, r, len(vm.parent_mailbox())))]
        vm.recv()

    cap, ref = vm.spawn_monitor(child)
    proc.runtime.wait_all_blocked()
    cap.exit("hooked")
    assert len(seen) == 1 and seen[0][1] == "hooked"
    assert seen[0][2] == 0  # no Down had been queued when the hook ran
    assert vm.recv(timeout=5).reason == "hooked"


def test_v16_kill_is_untrappable_and_ends_a_process_blocked_in_recv(proc):
    def trapper():
        vm.trap_exit(True)
        while True:
            vm.recv()

    cap, ref = vm.spawn_monitor(trapper)
    proc.runtime.wait_all_blocked()
    cap.kill()
    assert vm.recv(timeout=5).reason == vm.KILLED


def test_v16_kill_ends_a_process_that_swallows_the_kill_once(proc):
    def stubborn():
        try:
            vm.recv()
        except BaseException:  # noqa: B036 - swallowing on purpose
            pass
        vm.recv()  # a dead process's next kernel call raises again
        raise AssertionError("not reached")

    cap, ref = vm.spawn_monitor(stubborn)
    proc.runtime.wait_all_blocked()
    cap.kill()
    assert vm.recv(timeout=5).reason == vm.KILLED
    proc.runtime.wait_all_blocked()
    assert proc.runtime.process_info(2) is None  # its greenlet unwound too


def test_v16_kill_ends_a_process_blocked_outside_the_kernel(proc):
    entered = gevent.event.Event()
    unwound = []

    def sleeper():
        entered.set()  # wakes the test only once this greenlet blocks below
        try:
            gevent.sleep(3600)
        except BaseException as e:  # noqa: B036 - recorded, then re-raised
            unwound.append(type(e).__name__)
            raise

    cap, ref = vm.spawn_monitor(sleeper)
    assert entered.wait(timeout=5), "the sleeper never ran"
    pid = next(p.pid for p in proc.runtime.processes() if p.initial_call.endswith("sleeper"))
    assert proc.runtime.process_info(pid).state == "running"  # blocked outside the kernel
    cap.kill()
    assert vm.recv(timeout=5).reason == vm.KILLED
    proc.runtime.wait_all_blocked()  # its greenlet has unwound
    # The kill reached it inside gevent.sleep: killed while waiting, not before it ran.
    assert unwound == ["ProcessExit"]


def test_v16_kill_before_the_child_ever_ran(proc):
    ran = []
    cap, ref = vm.spawn_monitor(ran.append, 1)
    cap.kill()
    assert vm.recv(timeout=5).reason == vm.KILLED
    proc.runtime.wait_all_blocked()
    assert ran == []


def test_v16_exit_with_reason_kill_is_untrappable_and_becomes_killed(proc):
    def trapper():
        vm.trap_exit(True)
        vm.recv()
        vm.recv()

    cap, ref = vm.spawn_monitor(trapper)
    cap.exit("kill")
    assert vm.recv(timeout=5).reason == vm.KILLED


def test_v17_a_trapping_target_gets_an_exit_message_and_lives_on(proc):
    me = vm.make_capability(SEND)

    def trapper(reply):
        vm.trap_exit(True)
        sig = vm.recv()
        reply.send(repr((type(sig).__name__, sig.reason)).encode())
        vm.recv()

    cap = vm.spawn(trapper, me)
    proc.runtime.wait_all_blocked()
    cap.exit("please stop")
    assert vm.recv(timeout=5).data == b"('Exit', 'please stop')"
    assert proc.runtime.process_info(2).reason is None
    cap.kill()


def test_v17_a_non_trapping_target_dies_with_the_reason(proc):
    cap, ref = vm.spawn_monitor(vm.recv)
    cap.exit(("shutdown", "maintenance"))
    assert vm.recv(timeout=5).reason == ("shutdown", "maintenance")


def test_v17_normal_from_another_process_is_ignored(proc):
    cap, ref = vm.spawn_monitor(vm.recv)
    cap.exit(vm.NORMAL)
    proc.runtime.wait_all_blocked()
    assert vm.try_recv() is None
    cap.send(b"wake")
    assert vm.recv(timeout=5).reason == vm.NORMAL


def test_v17_normal_sent_to_oneself_ends_the_process(proc):
    def child():
        vm.make_capability(vm.KILL).exit(vm.NORMAL)
        raise AssertionError("not reached")

    vm.spawn_monitor(child)
    assert vm.recv(timeout=5).reason == vm.NORMAL


def test_exit_of_oneself_is_an_exception_that_may_be_caught_like_erlangs_catch(proc):
    me = vm.make_capability(SEND)

    def child(reply):
        try:
            vm.exit("first")
        except vm.ProcessExit as e:
            reply.send(e.reason.encode())
        vm.exit("second")

    vm.spawn_monitor(child, me)
    assert vm.recv(timeout=5).data == b"first"
    assert vm.recv(timeout=5).reason == "second"



def test_v14_an_error_reason_keeps_the_whole_exception_chain(proc):
    def child():
        try:
            {}["missing"]
        except KeyError as e:
            raise ValueError("while looking up") from e

    vm.spawn_monitor(child)
    _, name, message, tb = vm.recv(timeout=5).reason
    assert (name, message) == ("ValueError", "while looking up")
    assert tb.index("KeyError: 'missing'") < tb.index("direct cause") < tb.index("ValueError")
    assert '{}["missing"]' in tb


def test_v14_a_tuple_subclass_is_not_a_plain_data_reason(proc):
    import msgpack

    with pytest.raises(vm.BadReason):
        vm.exit(("odd", msgpack.ExtType(5, b"\x00")))
