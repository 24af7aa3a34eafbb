"""`call` keeps its monitor of a server between calls (rule O2 still holds).

A caller's monitor of a server outlives the call that made it, so that the
next call to that server needs none. These tests hold it to O2: a server
dead between two calls is still reported at once (``noproc``), no kept
monitor's `Down` ever reaches mailbox 0 or a later call, a timeout drops
every kept monitor, and a caller keeps only a few.
"""

import pytest

from hearth import vm
from hearth.otp import CallTimeout, ServerExited, call
from hearth.otp._call import _KEY as REPLY_MAILBOX_KEY, _MONITORS_KEPT
from hearth.otp._gen_server import GenServer, start


class Echo(GenServer):
    def init(self):
        return ("ok", [])

    def handle_call(self, request, from_, state):
        if request == "hold":  # answered never: the caller times out
            state.append(from_)
            return ("noreply", state)
        return ("reply", request, state)


def kill_and_wait(server):
    """Kill `server` and return once it is dead (our own monitor's Down)."""
    ref = server.monitor()
    server.kill()
    sig = vm.recv(timeout=5)
    assert type(sig) is vm.Down and sig.ref == ref, sig
    sig.cap.release()


def reply_box():
    return vm.current_process().dictionary[REPLY_MAILBOX_KEY][0]


def call_monitors():
    """The monitors the calling process holds from its reply mailbox."""
    proc = vm.current_process()
    box = reply_box()
    return [ref for ref, (watcher, _) in (proc.monitors or {}).items() if watcher is box]


def assert_nothing_left():
    vm.current_process().runtime.wait_all_blocked()
    assert vm.try_recv() is None  # mailbox 0
    assert len(reply_box()) == 0


def test_one_monitor_serves_every_call_to_a_server(proc):
    server = start(Echo)
    assert [call(server, i) for i in range(5)] == list(range(5))
    assert len(call_monitors()) == 1
    assert_nothing_left()
    server.kill()


def test_a_server_dead_between_calls_is_reported_at_once_with_noproc(proc):
    server = start(Echo)
    assert call(server, "a") == "a"
    kill_and_wait(server)
    # Its kept monitor's Down waits in the reply mailbox: it is not the
    # answer of the next call, which reports the death at once.
    with pytest.raises(ServerExited) as info:
        call(server, "b", timeout=None)
    assert info.value.reason == vm.NOPROC
    assert call_monitors() == []
    assert_nothing_left()


def test_a_kept_monitor_that_fired_never_reaches_a_later_call_to_another_server(proc):
    first, second = start(Echo), start(Echo)
    assert call(first, 1) == 1
    assert call(second, 2) == 2
    kill_and_wait(first)
    assert call(second, 3) == 3
    assert len(call_monitors()) == 1  # the dead server's monitor is forgotten
    assert_nothing_left()
    second.kill()


def test_a_server_dying_during_a_call_with_a_kept_monitor_raises_its_reason(proc):
    server = start(Echo)
    assert call(server, "warm") == "warm"
    killer = vm.spawn(lambda cap: (vm.recv(), cap.kill()), server)
    vm.send(killer, b"go")  # runs once the call below blocks
    with pytest.raises(ServerExited) as info:
        call(server, "hold")
    assert info.value.reason == vm.KILLED
    assert call_monitors() == []
    assert_nothing_left()


def test_a_timeout_drops_every_kept_monitor(proc, virtual_clock):
    servers = [start(Echo) for _ in range(3)]
    for s in servers:
        call(s, "x")
    old_box = reply_box()
    assert len(call_monitors()) == 3
    with pytest.raises(CallTimeout):
        call(servers[0], "hold", timeout=1)
    assert old_box.closed
    proc_monitors = vm.current_process().monitors or {}
    assert [r for r, (w, _) in proc_monitors.items() if w is old_box] == []
    assert call(servers[1], "y") == "y"  # a new reply mailbox, a new monitor
    assert len(call_monitors()) == 1
    for s in servers:
        s.kill()


def test_a_caller_keeps_only_a_few_monitors(proc):
    servers = [start(Echo) for _ in range(_MONITORS_KEPT + 4)]
    for s in servers:
        assert call(s, "x") == "x"
    assert len(call_monitors()) == _MONITORS_KEPT
    # The dropped ones are gone from the servers' side too: a server that
    # dies now tells nobody through them.
    for s in servers:
        kill_and_wait(s)
    vm.current_process().runtime.wait_all_blocked()
    assert len(reply_box()) == _MONITORS_KEPT  # one Down per kept monitor only
