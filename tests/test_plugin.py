"""The pytest plugin shipped with Hearth, tested as users would meet it."""

import re
import socket
import threading
import time

import gevent
import gevent.monkey
import pytest

from hearth import vm


def test_gevent_monkey_patching_was_done_once_by_the_plugin():
    for module in ("socket", "time", "threading", "select", "ssl"):
        assert gevent.monkey.is_module_patched(module), module
    assert socket.socket is gevent.socket.socket
    assert time.sleep is gevent.sleep
    assert threading.get_ident is gevent.thread.get_ident


def test_each_test_gets_a_fresh_runtime(runtime):
    assert len(runtime) == 0 and runtime.exits() == []


def test_wait_all_blocked_returns_exactly_when_every_process_waits(runtime):
    progress = []

    def worker(n):
        for i in range(n):
            progress.append(i)
            gevent.sleep(0)  # runnable, but not blocked in the kernel
        vm.recv()

    for _ in range(3):
        runtime.spawn(worker, 50)
    runtime.wait_all_blocked()
    assert len(progress) == 150
    assert all(p.state == "waiting" for p in runtime.processes())


def test_wait_all_blocked_excludes_the_calling_process(proc):
    vm.spawn(vm.recv)
    proc.runtime.wait_all_blocked()
    assert [p.state for p in proc.runtime.processes()] == ["running", "waiting"]


def test_wait_all_blocked_times_out_naming_who_still_runs(runtime):
    runtime.spawn(gevent.sleep, 30)
    with pytest.raises(TimeoutError, match="still running"):
        runtime.wait_all_blocked(timeout=0.05)


def test_the_virtual_clock_jumps_when_every_process_is_blocked(proc, virtual_clock):
    start = time.monotonic()
    assert vm.recv(timeout=3600) is None
    assert virtual_clock.now() == 3600
    assert time.monotonic() - start < 5


def test_the_virtual_clock_can_be_advanced_by_hand(runtime):
    clock = vm.VirtualClock()
    rt = vm.Runtime(clock=clock)
    woke = []

    def sleeper():
        vm.recv(timeout=10)
        woke.append(clock.now())

    rt.spawn(sleeper)
    rt.wait_all_blocked()
    clock.advance(9.5)
    rt.wait_all_blocked()
    assert woke == []
    clock.advance(0.5)
    rt.wait_all_blocked()
    assert woke == [10.0]
    assert rt.shutdown() == []


def _run_inner(pytester, source, *args):
    pytester.makepyfile(source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_an_unobserved_crash_fails_the_test(pytester):
    result = _run_inner(
        pytester,
        """
        from hearth import vm

        def test_crashes(runtime):
            runtime.spawn(lambda: 1 / 0, name="doomed")
            runtime.wait_all_blocked()
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*crashed with nobody observing*", "*ZeroDivisionError*"])


def test_a_monitored_crash_is_fine_and_allow_crashes_opts_out(pytester):
    result = _run_inner(
        pytester,
        """
        import pytest
        from hearth import vm

        def test_monitored(proc):
            vm.spawn_monitor(lambda: 1 / 0)
            assert vm.recv(timeout=5).reason[1] == "ZeroDivisionError"

        @pytest.mark.allow_crashes
        def test_allowed(runtime):
            runtime.spawn(lambda: 1 / 0)
            runtime.wait_all_blocked()
        """,
    )
    result.assert_outcomes(passed=2)


def test_a_greenlet_outliving_its_test_fails_it(pytester):
    result = _run_inner(
        pytester,
        """
        import gevent

        def test_leaks(runtime):
            gevent.spawn(gevent.sleep, 60)
            gevent.sleep(0)
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*greenlets outlived the test*"])


def test_processes_left_running_are_shut_down_without_failing(pytester):
    result = _run_inner(
        pytester,
        """
        from hearth import vm

        def test_leaves_a_server(proc):
            vm.spawn(vm.recv)
        """,
    )
    result.assert_outcomes(passed=1)


def test_every_test_has_a_timeout(pytester):
    result = _run_inner(
        pytester,
        """
        import gevent, pytest

        @pytest.mark.hearth_timeout(0.2)
        def test_hangs():
            gevent.sleep(60)
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ran past its 0.2s timeout*"])


def test_a_seeded_runtime_replays_the_same_interleaving(pytester):
    source = """
        import pytest
        from hearth import vm

        @pytest.mark.hearth_seed(1234)
        def test_order(proc):
            me = vm.make_capability(vm.SEND)
            for i in range(20):
                vm.spawn(lambda r, i: r.send(b"%d" % i), me, i)
            got = [vm.recv(timeout=5).data for _ in range(20)]
            print("ORDER", b",".join(got).decode())
    """
    orders = []
    for _ in range(2):
        result = _run_inner(pytester, source, "-s")
        result.assert_outcomes(passed=1)
        orders.append(re.findall(r"ORDER \S+", result.stdout.str()))
    assert len(orders[0]) == 1 and orders[0] == orders[1]
    assert orders[0][0] != "ORDER " + ",".join(str(i) for i in range(20))


def test_a_test_that_never_yields_is_ended_with_its_stack(pytester):
    pytester.makeini("[pytest]\nhearth_hang_grace = 0.5\n")
    result = _run_inner(
        pytester,
        """
        import pytest

        @pytest.mark.hearth_timeout(0.2)
        def test_spins():
            while True:
                pass
        """,
    )
    assert result.ret != 0
    result.stderr.fnmatch_lines(["Timeout*", "*in test_spins*"])
