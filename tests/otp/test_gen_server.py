"""gen_server: rules O1–O4."""

import pytest

from hearth import vm
from hearth.otp import CallTimeout, ServerExited, call, cast, decode, encode, reply
from hearth.otp._call import _KEY as REPLY_MAILBOX_KEY
from hearth.otp._errors import AlreadyStarted, StartError, StartTimeout
from hearth.otp._gen_server import GenServer, start, start_link
from hearth.vm import SEND


# -- helpers ----------------------------------------------------------------------


def tell(cap, term):
    """Send a term to a test process's capability."""
    cap.send(*encode(term))


def recv_term(timeout=5, mailbox=None):
    sig = vm.recv(timeout=timeout, mailbox=mailbox)
    assert isinstance(sig, vm.Message), sig
    return decode(sig.data, sig.caps)


def me():
    return vm.make_capability(SEND)


class Probe(GenServer):
    """A server whose every move is scripted by its requests and reported to
    the test process (`report`, a SEND capability given to init)."""

    def init(self, report, *script):
        if script:
            kind = script[0]
            if kind == "stop":
                return ("stop", script[1])
            if kind == "ignore":
                return "ignore"
            if kind == "raise":
                raise ValueError("init failed")
            if kind == "bad":
                return ("okay", 1)
            if kind == "block":
                vm.recv(mailbox=vm.create_mailbox())
            if kind == "trap":
                vm.trap_exit(True)
        tell(report, ("init done",))
        return ("ok", {"report": report, "n": 0, "waiting": []})

    def handle_call(self, request, from_, state):
        op = request[0]
        if op == "echo":
            return ("reply", request[1], state)
        if op == "add":
            state["n"] += request[1]
            return ("reply", state["n"], state)
        if op == "defer":
            state["waiting"].append(from_)
            return ("noreply", state)
        if op == "answer waiting":
            for waiting in state["waiting"]:
                reply(waiting, request[1])
            state["waiting"] = []
            return ("reply", "answered", state)
        if op == "stop":
            return ("stop", request[1], "stopping", state)
        if op == "stop without reply":
            return ("stop", request[1], state)
        if op == "raise":
            raise ValueError("handle_call failed")
        if op == "exit":
            vm.exit(request[1])
        if op == "table size":
            return ("reply", len(vm.current_process().table), state)
        if op == "monitor":
            return ("reply", request[1].monitor(), state)
        if op == "bad":
            return ("rep", 1, state)
        raise AssertionError(f"unknown request {request!r}")

    def handle_cast(self, request, state):
        op = request[0]
        if op == "add":
            state["n"] += request[1]
            return ("noreply", state)
        if op == "keep":
            request[1].inc_ref()  # borrowed: take our own reference
            state["kept"] = request[1]
            return ("noreply", state)
        if op == "use kept":
            tell(state["kept"], ("through the kept capability",))
            return ("noreply", state)
        if op == "stop":
            return ("stop", request[1], state)
        if op == "raise":
            raise KeyError("handle_cast failed")
        raise AssertionError(f"unknown cast {request!r}")

    def handle_info(self, info, state):
        if isinstance(info, vm.Message):
            tell(state["report"], ("info", "Message", info.data))
        else:
            tell(state["report"], ("info", type(info).__name__, info.reason))
        return ("noreply", state)

    def terminate(self, reason, state):
        tell(state["report"], ("terminate", reason))
        if state.get("crash in terminate"):
            raise RuntimeError("terminate failed")


def assert_no_more_messages():
    vm.current_process().runtime.wait_all_blocked()
    assert vm.try_recv() is None


class FakeRegistry:
    """The duck-typed registry protocol gen_server needs, in a few lines.

    Names map to debug pids so that the holder can be named from any
    process; a real registry (rules R1–R3) replaces this.
    """

    def __init__(self):
        self.names = {}

    def register(self, name, cap):
        if name in self.names:
            raise AlreadyStarted(name, self.names[name])
        self.names[name] = vm.self_pid()


# -- O1: starting ---------------------------------------------------------------------


def test_o1_start_returns_a_full_capability_only_after_init_finished(proc):
    server = start(Probe, me())
    # init's report is already queued: start waited for init.
    sig = vm.try_recv()
    assert sig is not None and decode(sig.data) == ("init done",)
    assert server.permissions == vm.ALL
    assert call(server, ("echo", "hi")) == "hi"
    server.kill()


def test_o1_start_link_links_the_server_to_the_caller(proc):
    vm.trap_exit(True)
    server = start_link(Probe, me())
    recv_term()
    server.kill()
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == vm.KILLED


def test_o1_the_class_methods_start_and_start_link_start_that_class(proc):
    vm.trap_exit(True)
    server = Probe.start(me())
    linked = Probe.start_link(me())
    assert [recv_term(), recv_term()] == [("init done",)] * 2
    assert call(server, ("echo", 1)) == call(linked, ("echo", 1)) == 1
    linked.kill()
    assert vm.recv(timeout=5).reason == vm.KILLED
    server.kill()


def test_o1_init_returning_stop_makes_start_raise_with_that_reason(proc, runtime):
    with pytest.raises(StartError) as info:
        start(Probe, me(), "stop", ("shutdown", "no config"))
    assert info.value.reason == ("shutdown", "no config")
    assert len(runtime) == 1  # the server is gone when start raises
    assert runtime.exits()[-1].reason == ("shutdown", "no config")


def test_o1_init_returning_ignore_makes_start_return_ignore_and_the_server_exit_normal(
    proc, runtime
):
    assert start(Probe, me(), "ignore") == "ignore"
    assert len(runtime) == 1
    assert runtime.exits()[-1].reason == vm.NORMAL
    assert vm.try_recv() is None


def test_o1_init_that_raises_makes_start_raise_an_error_carrying_the_exception(proc, runtime):
    with pytest.raises(StartError) as info:
        start(Probe, me(), "raise")
    assert vm.is_error(info.value.reason)
    assert info.value.reason[1:3] == ("ValueError", "init failed")
    assert "ValueError: init failed" in str(info.value)
    assert runtime.crashes == []  # observed by start's monitor


def test_o1_init_returning_a_bad_value_fails_the_start(proc):
    with pytest.raises(StartError) as info:
        start(Probe, me(), "bad")
    assert info.value.reason == ("bad_return_value", "('okay', 1)")


@pytest.mark.parametrize("trapping", [False, True])
def test_o1_a_failed_start_link_neither_kills_the_caller_nor_leaves_an_exit(proc, trapping):
    vm.trap_exit(trapping)
    with pytest.raises(StartError):
        start_link(Probe, me(), "stop", "bad config")
    with pytest.raises(StartError):
        start_link(Probe, me(), "raise")
    assert start_link(Probe, me(), "ignore") == "ignore"
    assert proc.alive
    assert_no_more_messages()


def test_o1_start_times_out_and_kills_a_server_whose_init_does_not_finish(
    proc, runtime, virtual_clock
):
    with pytest.raises(StartTimeout) as info:
        start_link(Probe, me(), "block", timeout=30)
    assert info.value.reason == "timeout"
    assert virtual_clock.now() == 30
    assert proc.alive  # the kill did not come back through the link
    assert runtime.exits()[-1].reason == vm.KILLED
    assert_no_more_messages()
    assert len(runtime) == 1
    # The next start gets a fresh start mailbox and works.
    server = start(Probe, me())
    server.kill()


def test_o1_a_name_already_taken_is_an_error_naming_the_holder(proc):
    registry = FakeRegistry()
    first = start(Probe, me(), name="db", registry=registry)
    assert recv_term() == ("init done",)
    holder = registry.names["db"]
    with pytest.raises(AlreadyStarted) as info:
        start(Probe, me(), name="db", registry=registry)
    assert info.value.name == "db"
    assert info.value.holder == holder
    assert f"already registered to {holder}" in str(info.value)
    assert_no_more_messages()  # the second init never ran
    first.kill()


def test_o1_a_name_taken_in_a_registry_service_is_an_error_naming_the_holder(proc):
    from hearth.otp._registry import start_registry
    from hearth.otp._registry_client import lookup

    registry = start_registry()
    first = start(Probe, me(), name="db", registry=registry)
    assert recv_term() == ("init done",)
    assert lookup(registry, "db").same_route(first)
    with pytest.raises(AlreadyStarted) as info:
        start_link(Probe, me(), name="db", registry=registry)
    holder = info.value.holder
    assert isinstance(holder, int) and f"already registered to {holder}" in str(info.value)
    assert proc.runtime.process_info(holder).initial_call.endswith("Probe")
    assert_no_more_messages()  # the second init never ran
    first.kill()
    registry.kill()


def test_o1_a_registry_error_other_than_a_taken_name_fails_the_start(proc):
    class Broken:
        def register(self, name, cap):
            raise OSError("registry offline")

    with pytest.raises(StartError) as info:
        start(Probe, me(), name="db", registry=Broken())
    assert info.value.reason[1:3] == ("OSError", "registry offline")
    assert_no_more_messages()


def test_o1_naming_a_server_without_a_registry_is_misuse(proc):
    with pytest.raises(vm.Misuse):
        start(Probe, me(), name="db")


def test_o1_start_refuses_what_is_not_a_gen_server(proc):
    with pytest.raises(TypeError):
        start(dict)
    with pytest.raises(TypeError):
        start(lambda: None)


# -- O2: call --------------------------------------------------------------------------


def test_o2_call_returns_the_reply_and_state_carries_over(proc):
    server = start(Probe, me())
    assert [call(server, ("add", i)) for i in (1, 2, 3)] == [1, 3, 6]
    server.kill()


def test_o2_call_times_out_and_the_late_reply_never_shows_up(proc, virtual_clock):
    server = start(Probe, me())
    recv_term()
    call(server, ("echo", 0))
    reply_box = proc.dictionary[REPLY_MAILBOX_KEY][0]
    with pytest.raises(CallTimeout) as info:
        call(server, ("defer",), timeout=10)
    assert info.value.reason == "timeout"
    assert virtual_clock.now() == 10
    # The server answers the timed-out call late...
    assert call(server, ("answer waiting", "late")) == "answered"
    # ...and the answer is nowhere: not in the old reply mailbox (closed and
    # drained), not in the new one, not in the parent mailbox.
    with pytest.raises(vm.MailboxClosed):
        reply_box.try_recv()
    assert proc.dictionary[REPLY_MAILBOX_KEY][0].try_recv() is None
    assert_no_more_messages()
    server.kill()


def test_o2_call_to_an_already_dead_server_raises_server_exited_with_noproc(proc):
    server = start(Probe, me())
    recv_term()
    ref = server.monitor()
    server.kill()
    assert vm.recv(timeout=5).ref == ref
    with pytest.raises(ServerExited) as info:
        call(server, ("echo", 1))
    assert info.value.reason == vm.NOPROC


def test_o2_a_server_dying_during_the_call_raises_its_exit_reason(proc):
    server = start(Probe, me())
    recv_term()
    with pytest.raises(ServerExited) as info:
        call(server, ("raise",))
    assert info.value.reason[1:3] == ("ValueError", "handle_call failed")


def test_o2_a_server_stopping_without_reply_raises_its_stop_reason(proc):
    server = start(Probe, me())
    recv_term()
    with pytest.raises(ServerExited) as info:
        call(server, ("stop without reply", ("shutdown", "asked")))
    assert info.value.reason == ("shutdown", "asked")


def test_o2_a_server_killed_while_a_call_waits_raises_killed(proc):
    server = start(Probe, me())
    killer = vm.spawn(lambda cap: (vm.recv(), cap.kill()), server)
    tell(killer, "go")  # runs once the call below blocks
    with pytest.raises(ServerExited) as info:
        call(server, ("defer",))
    assert info.value.reason == vm.KILLED


# -- O3: cast, info, deferred replies --------------------------------------------------------


def test_o3_cast_never_blocks_and_is_handled_in_order(proc):
    server = start(Probe, me())
    for i in range(100):
        cast(server, ("add", i))
    assert call(server, ("add", 0)) == sum(range(100))
    server.kill()


def test_o3_cast_to_a_dead_server_does_not_raise(proc):
    server = start(Probe, me())
    recv_term()
    ref = server.monitor()
    server.kill()
    assert vm.recv(timeout=5).ref == ref
    cast(server, ("add", 1))


def test_o3_other_signals_go_to_handle_info(proc):
    server = start(Probe, me(), "trap")
    recv_term()
    # A Down from a monitor the server set up.
    watched = vm.spawn(vm.recv)
    call(server, ("monitor", watched))
    watched.exit("watched one quit")
    assert recv_term() == ("info", "Down", "watched one quit")
    # An exit signal from a process that is not its parent (start, not
    # start_link: the server has no parent).
    server.exit("just a signal")
    assert recv_term() == ("info", "Exit", "just a signal")
    # Bytes that are not msgpack, and msgpack that is not the protocol.
    server.send(b"\xc1 not msgpack")
    assert recv_term() == ("info", "Message", b"\xc1 not msgpack")
    raw = encode(("$call", 1))[0]  # a call with no reply capability
    server.send(raw)
    assert recv_term() == ("info", "Message", raw)
    assert call(server, ("echo", "still serving")) == "still serving"
    server.kill()


def test_o3_a_deferred_reply_answers_the_call_later(proc):
    server = start(Probe, me())
    recv_term()
    vm.spawn(lambda s, r: tell(r, ("got", call(s, ("defer",)))), server, me())
    proc.runtime.wait_all_blocked()  # the caller waits on its deferred call
    assert call(server, ("answer waiting", 42)) == "answered"
    assert recv_term() == ("got", 42)
    server.kill()


def test_o3_capabilities_lent_to_handle_info_are_released_after_it(proc):
    server = start(Probe, me())
    recv_term()
    before = call(server, ("table size",))
    for _ in range(20):
        watched = vm.spawn(vm.recv)
        call(server, ("monitor", watched))
        watched.kill()
        assert recv_term()[1] == "Down"
        server.send(b"\xc1", [watched])
        recv_term()
    assert call(server, ("table size",)) == before
    server.kill()


def test_o3_a_lent_capability_is_kept_by_taking_a_reference(proc):
    server = start(Probe, me())
    recv_term()
    side = vm.create_mailbox()
    cast(server, ("keep", side.make_capability(SEND)))
    cast(server, ("use kept",))
    assert recv_term(mailbox=side) == ("through the kept capability",)
    server.kill()


# -- O4: terminate ------------------------------------------------------------------------


def test_o4_terminate_runs_when_a_callback_returns_stop(proc):
    server = start(Probe, me())
    recv_term()
    ref = server.monitor()
    cast(server, ("stop", "normal"))
    assert recv_term() == ("terminate", "normal")
    down = vm.recv(timeout=5)
    assert down.ref == ref and down.reason == vm.NORMAL


def test_o4_stop_with_a_reply_runs_terminate_and_still_answers(proc):
    server = start(Probe, me())
    recv_term()
    assert call(server, ("stop", "normal")) == "stopping"
    assert recv_term() == ("terminate", "normal")


def test_o4_terminate_runs_when_a_callback_raises_and_the_error_is_the_reason(proc):
    server = start(Probe, me())
    recv_term()
    ref = server.monitor()
    cast(server, ("raise",))
    kind, reason = recv_term()
    assert kind == "terminate" and reason[1:3] == ("KeyError", "'handle_cast failed'")
    down = vm.recv(timeout=5)
    assert down.ref == ref and down.reason == reason


def test_o4_exit_called_in_a_callback_runs_terminate_with_that_reason(proc):
    server = start(Probe, me())
    recv_term()
    with pytest.raises(ServerExited) as info:
        call(server, ("exit", "bye"))
    assert info.value.reason == "bye"
    assert recv_term() == ("terminate", "bye")


def test_o4_a_bad_return_value_stops_the_server_through_terminate(proc):
    server = start(Probe, me())
    recv_term()
    with pytest.raises(ServerExited) as info:
        call(server, ("bad",))
    kind, text = info.value.reason
    assert kind == "bad_return_value" and text.startswith("('rep', 1, ")
    assert recv_term()[0] == "terminate"


def test_o4_terminate_runs_on_a_trapped_shutdown_exit_from_the_parent(proc):
    vm.trap_exit(True)
    server = start_link(Probe, me(), "trap")
    recv_term()
    server.exit(vm.SHUTDOWN)  # what a supervisor does on shutdown
    assert recv_term() == ("terminate", vm.SHUTDOWN)
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == vm.SHUTDOWN


def test_o4_a_server_not_trapping_exits_dies_on_shutdown_without_terminate(proc):
    vm.trap_exit(True)
    server = start_link(Probe, me())
    recv_term()
    server.exit(vm.SHUTDOWN)
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == vm.SHUTDOWN
    assert_no_more_messages()


def test_o4_terminate_does_not_run_when_the_server_is_killed(proc):
    vm.trap_exit(True)
    server = start_link(Probe, me(), "trap")
    recv_term()
    server.kill()
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == vm.KILLED
    assert_no_more_messages()


def test_o4_a_crash_in_terminate_becomes_the_exit_reason(proc):
    class Fragile(Probe):
        def init(self, report):
            result = super().init(report)
            result[1]["crash in terminate"] = True
            return result

    server = start(Fragile, me())
    recv_term()
    ref = server.monitor()
    cast(server, ("stop", "normal"))
    assert recv_term() == ("terminate", "normal")
    down = vm.recv(timeout=5)
    assert down.ref == ref and down.reason[1:3] == ("RuntimeError", "terminate failed")


def test_o4_terminate_runs_when_a_supervisor_shuts_down_a_server_that_traps_exits(proc):
    from hearth.otp._supervisor import start_link as start_supervisor
    from hearth.otp._supervisor import terminate_child
    from hearth.otp._supervisor_spec import ChildSpec

    spec = ChildSpec("worker", start_link, args=(Probe, me(), "trap"), shutdown=5.0)
    ignored = ChildSpec("nothing", start_link, args=(Probe, me(), "ignore"), restart="temporary")
    sup = start_supervisor([spec, ignored])
    assert recv_term() == ("init done",)
    terminate_child(sup, "worker")
    assert recv_term() == ("terminate", vm.SHUTDOWN)
    assert_no_more_messages()
    vm.trap_exit(True)
    sup.exit(vm.SHUTDOWN)
    assert vm.recv(timeout=5).reason == vm.SHUTDOWN
