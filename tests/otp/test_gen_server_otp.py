"""gen_server behaviour checked against Erlang/OTP's: a call to oneself
fails at once with ``calling_self``; ``stop_server`` stops a server
synchronously through ``terminate``; ``init`` may return a timeout for a
first ``timeout`` message."""

import pytest

from hearth import vm
from hearth.otp import CallError, CallTimeout, ServerExited, call, cast, stop_server
from hearth.otp._gen_server import GenServer, start
from hearth.vm import MONITOR, SEND, PermissionDenied

from .test_gen_server import Probe, me, recv_term, tell


def test_a_call_to_the_calling_process_itself_fails_at_once_with_calling_self(proc):
    myself = vm.make_capability(SEND | MONITOR)
    with pytest.raises(CallError) as info:
        call(myself, ("echo", 1), timeout=None)  # no timeout: would wait forever
    assert info.value.reason == "calling_self"
    # Nothing was sent: the request is not left in the caller's mailbox.
    assert vm.try_recv() is None


class SelfCaller(GenServer):
    def handle_call(self, request, from_, state):
        if request == "call myself":
            call(vm.make_capability(SEND), "anything", timeout=None)
        return ("reply", request, state)


def test_a_server_calling_itself_crashes_with_calling_self_instead_of_hanging(proc):
    server = start(SelfCaller)
    with pytest.raises(ServerExited) as info:
        call(server, "call myself", timeout=None)
    assert "calling_self" in vm.format_reason(info.value.reason)


def test_stop_server_runs_terminate_with_the_reason_and_returns_once_it_exited(proc):
    server = start(Probe, me())
    recv_term()
    ref = server.monitor()
    assert stop_server(server, ("shutdown", "bye")) == "ok"
    # terminate ran with the reason, and the process is gone already.
    assert recv_term() == ("terminate", ("shutdown", "bye"))
    down = vm.recv(timeout=5)
    assert type(down) is vm.Down and down.ref == ref and down.reason == ("shutdown", "bye")


def test_stop_server_of_a_dead_server_raises_noproc(proc):
    server = start(Probe, me())
    recv_term()
    assert stop_server(server) == "ok"
    recv_term()
    with pytest.raises(ServerExited) as info:
        stop_server(server)
    assert info.value.reason == "noproc"


class CrashingTerminate(GenServer):
    def terminate(self, reason, state):
        raise RuntimeError("terminate failed")


def test_stop_server_of_a_server_whose_terminate_crashes_raises_that_reason(proc):
    server = start(CrashingTerminate)
    with pytest.raises(ServerExited) as info:
        stop_server(server, "normal")
    assert "terminate failed" in vm.format_reason(info.value.reason)


def test_stop_server_needs_kill_and_a_stop_message_without_it_is_just_a_message(proc):
    server = start(Probe, me())
    recv_term()
    with pytest.raises(PermissionDenied):
        stop_server(server.demote(SEND | MONITOR))
    # A hand-made stop request whose proof lacks KILL is handle_info's, not a stop.
    from hearth.otp import encode

    weak = server.demote(SEND)
    data, caps = encode(("$stop", "normal"), [weak])
    server.send(data, caps)
    assert recv_term()[:2] == ("info", "Message")
    assert call(server, ("echo", "still here")) == "still here"
    assert stop_server(server) == "ok"


class Stuck(GenServer):
    """Its first signal (init's timeout, at once) blocks it for ever."""

    def init(self):
        return ("ok", None, 0)

    def handle_info(self, info, state):
        vm.recv(mailbox=vm.create_mailbox())
        return ("noreply", state)


def test_stop_server_times_out_on_a_server_that_never_reads_and_leaves_it_running(
        proc, virtual_clock):
    stuck = start(Stuck)
    with pytest.raises(CallTimeout):
        stop_server(stuck, timeout=5)
    assert virtual_clock.now() == 5
    ref = stuck.monitor()
    stuck.kill()  # it was still running: killed, not noproc
    down = vm.recv(timeout=5)
    assert down.ref == ref and down.reason == "killed"


class Timely(GenServer):
    def init(self, report, timeout):
        return ("ok", report, timeout)

    def handle_info(self, info, state):
        tell(state, ("info", info if isinstance(info, str) else type(info).__name__))
        return ("noreply", state)

    def handle_call(self, request, from_, state):
        return ("reply", request, state)


def test_init_returning_a_timeout_gets_a_timeout_message_when_nothing_comes(
        proc, virtual_clock):
    server = start(Timely, me(), 7)
    assert recv_term(timeout=60) == ("info", "timeout")
    assert virtual_clock.now() == 7
    # Only the first wait is bounded: nothing more comes.
    assert vm.recv(timeout=100) is None
    server.kill()


def test_a_signal_before_init_timeout_cancels_it(proc, virtual_clock):
    server = start(Timely, me(), 7)
    assert call(server, "first") == "first"
    # Past the 7 seconds, no timeout message: the call cancelled it.
    assert vm.recv(timeout=100) is None
    assert virtual_clock.now() == 100
    server.kill()


def test_init_returning_a_bad_timeout_fails_the_start(proc):
    from hearth.otp import StartError

    with pytest.raises(StartError, match="bad_return_value"):
        start(Timely, me(), -1)
