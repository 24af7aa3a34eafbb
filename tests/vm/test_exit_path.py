"""The exit path's bookkeeping (rule V15): what a dying process leaves
behind in other processes' routes, and what the exit history records for
each death of a cascade."""

from hearth import vm


def _wait_forever():
    vm.recv()


def test_a_process_that_dies_while_monitoring_leaves_no_monitor_behind(proc):
    # The watcher monitors the target from its parent mailbox and from a
    # second mailbox; once it is dead the target's routes carry no monitor,
    # so the target's own death is told to nobody.
    target = vm.spawn(_wait_forever, name="target")

    def watcher(target):
        target.monitor()
        target.monitor(vm.create_mailbox())
        vm.recv()
        raise ValueError("watcher done")

    w = vm.spawn(watcher, target, name="watcher")
    proc.runtime.wait_all_blocked()
    (info,) = [p for p in proc.runtime.processes() if p.name == "target"]
    assert len(info.monitored_by) == 2
    ref = w.monitor()
    w.send(b"go")
    sig = vm.recv(timeout=5)
    assert sig.ref == ref and sig.reason[1:3] == ("ValueError", "watcher done")
    sig.cap.release()
    (info,) = [p for p in proc.runtime.processes() if p.name == "target"]
    assert info.monitored_by == ()
    target.kill()
    proc.runtime.wait_all_blocked()
    records = {e.name: e for e in proc.runtime.exits()}
    assert records["watcher"].observed is True
    assert records["target"].observed is False


def test_each_death_of_a_link_cascade_is_recorded_once(proc):
    # first - second - third, linked in a chain; the test monitors third
    # only. third's crash takes the other two down within the same pass:
    # three records, only third's observed, and no crash reported (the
    # cascade was told through third's monitor).
    def third():
        vm.recv()
        raise KeyError("third")

    def second(reply):
        cap = vm.spawn_link(third, name="third")
        reply.send(b"", [cap])
        vm.recv()

    def first(reply):
        vm.spawn_link(second, reply, name="second")
        vm.recv()

    vm.spawn(first, vm.make_capability(vm.SEND), name="first")
    third_cap = vm.recv(timeout=5).caps[0]
    ref = third_cap.monitor()
    proc.runtime.wait_all_blocked()
    third_cap.send(b"crash")
    sig = vm.recv(timeout=5)
    assert sig.ref == ref and sig.reason[1] == "KeyError"
    proc.runtime.wait_all_blocked()
    records = [e for e in proc.runtime.exits() if e.name in ("first", "second", "third")]
    assert [e.name for e in records] == ["third", "second", "first"]
    assert [e.observed for e in records] == [True, False, False]
    assert all(e.reason == sig.reason for e in records)
    assert proc.runtime.crashes == []
