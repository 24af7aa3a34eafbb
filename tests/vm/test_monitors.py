"""Monitors: rules V22–V24."""

from hearth import vm


def _idle():
    while True:
        vm.recv()


def test_v22_monitor_returns_a_unique_reference_and_fires_exactly_once(proc, virtual_clock):
    child = vm.spawn(_idle)
    refs = [child.monitor() for _ in range(3)]
    assert len(set(refs)) == 3
    child.exit("bye")
    downs = [vm.recv(timeout=1) for _ in range(3)]
    assert sorted(d.ref for d in downs) == sorted(refs)
    assert vm.recv(timeout=60) is None


def test_v22_down_goes_to_the_chosen_mailbox(proc):
    child = vm.spawn(_idle)
    side = vm.create_mailbox()
    ref = child.monitor(side)
    child.kill()
    down = side.recv(timeout=5)
    assert down.ref == ref and down.reason == vm.KILLED
    assert vm.try_recv() is None


def test_v23_monitoring_a_closed_route_delivers_noproc_at_once(proc):
    child, ref = vm.spawn_monitor(lambda: None)
    assert vm.recv(timeout=5).ref == ref
    ref2 = child.monitor()
    down = vm.try_recv()
    assert down.ref == ref2 and down.reason == vm.NOPROC


def test_v24_monitors_are_one_way(proc):
    def watcher(target):
        target.monitor()
        vm.recv()

    cap, ref = vm.spawn_monitor(watcher, vm.make_capability(vm.MONITOR))
    proc.runtime.wait_all_blocked()
    cap.kill()
    assert vm.recv(timeout=5).ref == ref
    assert proc.reason is None


def test_v24_demonitor_stops_delivery(proc, virtual_clock):
    child = vm.spawn(_idle)
    ref = child.monitor()
    keep = child.monitor()
    assert vm.demonitor(ref) is True
    assert vm.demonitor(ref) is False
    child.kill()
    assert vm.recv(timeout=1).ref == keep
    assert vm.recv(timeout=60) is None


def test_v24_demonitor_with_flush_removes_a_queued_down(proc):
    child = vm.spawn(_idle)
    ref = child.monitor()
    vm.make_capability(vm.SEND).send(b"keep me")
    child.kill()
    proc.runtime.wait_all_blocked()
    assert len(vm.parent_mailbox()) == 2
    assert vm.demonitor(ref, flush=True) is False
    assert [s.data for s in [vm.try_recv()]] == [b"keep me"]
    assert vm.try_recv() is None


def test_a_monitor_held_by_a_dead_process_is_dropped_from_its_target(proc):
    target = vm.spawn(_idle)

    def watcher(t):
        t.monitor()
        vm.recv()

    wcap, ref = vm.spawn_monitor(watcher, target)
    proc.runtime.wait_all_blocked()
    target_pid = proc.runtime.processes()[1].pid
    assert len(proc.runtime.process_info(target_pid).monitored_by) == 1
    wcap.kill()
    assert vm.recv(timeout=5).ref == ref
    assert proc.runtime.process_info(target_pid).monitored_by == ()
    target.kill()
