"""Applications: rule O6.

Dependencies start first and in order; stopping everything goes in reverse
start order; a missing dependency or a cycle is an error; and when a top
supervisor terminates on its own, the application type decides, with
Erlang's meaning: permanent → everything stops and the controller exits
with ``("application_terminated", name, reason)``; transient → the same
unless the reason is ``normal``; temporary → only reported. A requested
stop never triggers the type rules.

Start functions are module-level (descriptions travel by name). Each
reports to the test through a capability in its arguments: ``("start",
name, top)`` with a capability to its top process, and its stop callback
``("stop", name)``. The test process is the controller's parent and traps
exits, so the controller's own exit reaches it as an `Exit`.
"""

import logging

import pytest

from hearth import vm
from hearth.otp._call import call
from hearth.otp._codec import decode, encode
from hearth.otp._application import (
    Application,
    ApplicationError,
    load_application,
    loaded_applications,
    start_application,
    start_application_controller,
    start_link_application_controller,
    stop_application,
    stop_application_controller,
    unload_application,
    which_applications,
)
from hearth.otp._supervisor import ChildSpec, start_link as start_link_supervisor
from hearth.otp._supervisor import which_children
from hearth.vm import SEND


@pytest.fixture(autouse=True)
def _virtual_time(virtual_clock):
    return virtual_clock


# -- application code (module-level: it travels by name) ----------------------------------


def tell(cap, term):
    cap.send(*encode(term))


def top_process(report):
    """A stand-in top supervisor: exits with the reason it is sent."""
    sig = vm.recv()
    vm.exit(decode(sig.data, sig.caps))


def start_plain(report, name):
    """Start a plain top process linked to the master; report it."""
    top = vm.spawn_link(top_process, report)
    tell(report, ("start", name, top))
    return top, report


def start_with_supervisor(report, name):
    """Start a real supervisor with one worker; report the supervisor."""
    sup = start_link_supervisor([ChildSpec("w", (top_process, (report,)))], intensity=0)
    tell(report, ("start", name, sup))
    return sup, report


def stop_reporting(report):
    tell(report, ("stop",))


def stop_named(state):
    """A stop callback; `state` is the report capability start returned."""
    tell(state, ("stopped",))


def start_raises(report, name):
    tell(report, ("start", name, None))
    raise RuntimeError(f"{name} refuses to start")


def start_bad_return(report, name):
    return "not a capability"


def app(name, report, deps=(), type="temporary", start=start_plain):
    return Application(
        name,
        start,
        args=(report, name),
        applications=deps,
        type=type,
        stop=stop_named,
        version="1.0",
        description=f"the {name} application",
    )


# -- helpers -------------------------------------------------------------------------------


def reporter():
    box = vm.create_mailbox()
    return box, box.make_capability(SEND)


def reports(box):
    out = []
    while (sig := box.try_recv()) is not None:
        out.append(decode(sig.data, sig.caps))
    return out


def started(box):
    """{name: top capability} of the start reports queued now."""
    return {t[1]: t[2] for t in reports(box) if t[0] == "start"}


def start_order(terms):
    return [t[1] for t in terms if t[0] == "start"]


def names(ctl):
    return [entry[0] for entry in which_applications(ctl)]


def wait_exit(cap, timeout=30):
    while True:
        sig = vm.recv(timeout=timeout)
        assert sig is not None, "no Exit came"
        if type(sig) is vm.Exit and sig.cap.same_route(cap):
            return sig.reason


@pytest.fixture
def ctl(proc):
    vm.trap_exit(True)
    return start_link_application_controller()


# -- starting with dependencies ---------------------------------------------------------------


def test_o6_start_starts_the_dependencies_first_depth_first(ctl, runtime):
    box, report = reporter()
    load_application(ctl, app("web", report, deps=("auth", "db")))
    load_application(ctl, app("auth", report, deps=("db", "log")))
    load_application(ctl, app("db", report, deps=("log",)))
    load_application(ctl, app("log", report))
    start_application(ctl, "web")
    assert start_order(reports(box)) == ["log", "db", "auth", "web"]
    # Erlang's order: the most recently started first.
    assert names(ctl) == ["web", "auth", "db", "log"]
    assert which_applications(ctl)[0] == ("web", "the web application", "1.0")


def test_o6_dependencies_already_running_are_not_started_again(ctl):
    box, report = reporter()
    load_application(ctl, app("db", report))
    load_application(ctl, app("web", report, deps=("db",)))
    start_application(ctl, "db")
    start_application(ctl, "web")
    assert start_order(reports(box)) == ["db", "web"]


def test_o6_a_missing_dependency_is_an_error_naming_it_and_starts_nothing(ctl):
    box, report = reporter()
    load_application(ctl, app("web", report, deps=("db",)))
    load_application(ctl, app("db", report, deps=("storage",)))
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "web")
    assert info.value.kind == "not_loaded"
    assert "'storage'" in str(info.value) and "'db'" in str(info.value)
    assert info.value.reason == ("not_loaded", "storage")
    assert reports(box) == []
    assert names(ctl) == []


def test_o6_a_dependency_cycle_is_an_error_not_a_hang(ctl):
    box, report = reporter()
    load_application(ctl, app("a", report, deps=("b",)))
    load_application(ctl, app("b", report, deps=("c",)))
    load_application(ctl, app("c", report, deps=("a",)))
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "a")
    assert info.value.kind == "dependency_cycle"
    assert info.value.reason == ("dependency_cycle", ("a", "b", "c", "a"))
    load_application(ctl, app("self", report, deps=("self",)))
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "self")
    assert info.value.reason == ("dependency_cycle", ("self", "self"))
    assert reports(box) == []


def test_o6_a_long_dependency_chain_starts_in_order(ctl):
    box, report = reporter()
    n = 60
    for i in range(n):
        load_application(ctl, app(f"a{i}", report, deps=(f"a{i + 1}",) if i + 1 < n else ()))
    start_application(ctl, "a0")
    assert start_order(reports(box)) == [f"a{i}" for i in reversed(range(n))]


def test_o6_a_failed_start_stops_the_dependencies_it_started(ctl):
    box, report = reporter()
    load_application(ctl, app("db", report))
    load_application(ctl, app("log", report))
    load_application(ctl, app("web", report, deps=("log", "db"), start=start_raises))
    start_application(ctl, "log")
    reports(box)
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "web")
    assert info.value.kind == "start_failed"
    assert info.value.reason[:2] == ("start_failed", "web")
    assert "refuses to start" in str(info.value)
    assert start_order(reports(box)) == ["db", "web"]
    assert names(ctl) == ["log"]  # running before the call: left running


def test_o6_a_start_function_must_return_a_capability(ctl):
    box, report = reporter()
    load_application(ctl, app("odd", report, start=start_bad_return))
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "odd")
    assert info.value.kind == "start_failed"
    assert info.value.reason[2][0] == "bad_return_value"


# -- stopping ----------------------------------------------------------------------------------


def test_o6_stopping_everything_goes_in_reverse_start_order(ctl):
    box, report = reporter()
    load_application(ctl, app("web", report, deps=("db",)))
    load_application(ctl, app("db", report, deps=("log",)))
    load_application(ctl, app("log", report))
    start_application(ctl, "web")
    tops = started(box)
    watches = {tops[n].monitor(mailbox=box): n for n in tops}
    assert stop_application_controller(ctl) == ["web", "db", "log"]
    assert wait_exit(ctl) == "normal"
    # Each top process's Down, then that application's stop callback.
    seen = []
    for term in _signals(box):
        seen.append(watches[term.ref] if type(term) is vm.Down else "stopped")
    assert seen == ["web", "stopped", "db", "stopped", "log", "stopped"]


def _signals(box):
    out = []
    while (sig := box.try_recv()) is not None:
        out.append(sig if type(sig) is vm.Down else decode(sig.data, sig.caps))
    return out


def test_o6_an_unlinked_controller_ignores_exit_signals_of_others(proc, runtime):
    box, report = reporter()
    ctl = start_application_controller()
    load_application(ctl, app("a", report))
    start_application(ctl, "a")
    ref = ctl.monitor()
    vm.exit(ctl, "shutdown")  # we are not its parent: it traps and goes on
    runtime.wait_all_blocked()
    assert vm.try_recv() is None
    assert names(ctl) == ["a"]
    assert stop_application_controller(ctl) == ["a"]
    assert vm.recv(timeout=5).ref == ref


def parent_of_a_controller(report, ready):
    """Start a linked controller with b (needing a); report it; wait."""
    ctl = start_link_application_controller()
    load_application(ctl, app("a", report))
    load_application(ctl, app("b", report, deps=("a",)))
    start_application(ctl, "b")
    tell(ready, ("ready", ctl))
    vm.recv()


def test_o6_the_controllers_parent_exit_stops_every_application_in_reverse_order(proc):
    box, report = reporter()
    ready_box, ready = reporter()
    parent, parent_ref = vm.spawn_monitor(parent_of_a_controller, report, ready)
    sig = vm.recv(timeout=5, mailbox=ready_box)
    _, ctl = decode(sig.data, sig.caps)
    ctl_ref = ctl.monitor()
    tops = started(box)
    watches = {tops[n].monitor(mailbox=box): n for n in tops}
    parent.exit("crash")
    reasons = {}
    while len(reasons) < 2:
        sig = vm.recv(timeout=5)
        reasons[sig.ref] = sig.reason
    assert reasons == {parent_ref: "crash", ctl_ref: "crash"}
    seen = [watches[s.ref] if type(s) is vm.Down else s for s in _signals(box)]
    assert seen == ["b", ("stopped",), "a", ("stopped",)]


def test_o6_a_killed_controller_still_stops_the_trees(proc):
    box, report = reporter()
    ctl = start_application_controller()
    load_application(ctl, app("a", report))
    load_application(ctl, app("b", report, deps=("a",)))
    start_application(ctl, "b")
    tops = started(box)
    watches = {tops[n].monitor(mailbox=box): n for n in tops}
    ctl.kill()
    # Each master gets its parent's exit and stops its own tree.
    seen = {}
    while len(seen) < 2:
        sig = vm.recv(timeout=5, mailbox=box)
        if type(sig) is vm.Down:
            seen[watches[sig.ref]] = sig.reason
    assert seen == {"a": "shutdown", "b": "shutdown"}


def test_o6_stop_ends_the_tree_then_calls_stop_and_keeps_the_application_loaded(ctl):
    box, report = reporter()
    load_application(ctl, app("a", report, type="permanent"))
    load_application(ctl, app("b", report))
    start_application(ctl, "b")
    start_application(ctl, "a")
    tops = started(box)
    watch = tops["a"].monitor(mailbox=box)
    stop_application(ctl, "a")
    signals = _signals(box)
    assert type(signals[0]) is vm.Down and signals[0].ref == watch
    assert signals[0].reason == "shutdown"
    assert signals[1:] == [("stopped",)]
    # A requested stop of a permanent application stops nothing else.
    assert names(ctl) == ["b"]
    assert [e[0] for e in loaded_applications(ctl)] == ["a", "b"]
    start_application(ctl, "a")  # and it can start again
    assert names(ctl) == ["a", "b"]


def test_o6_a_real_supervision_tree_stops_with_its_application(ctl):
    box, report = reporter()
    load_application(ctl, app("tree", report, start=start_with_supervisor))
    start_application(ctl, "tree")
    sup = started(box)["tree"]
    worker = which_children(sup)[0].child
    watch = worker.monitor(mailbox=box)
    stop_application(ctl, "tree")
    down = _signals(box)[0]
    assert down.ref == watch and down.reason == "shutdown"


# -- the application types (the top supervisor terminates on its own) ------------------------


def setup_three(ctl, report, box, middle_type):
    """Start first, middle (of `middle_type`), last; return their tops and
    monitors of them (reported in `box`)."""
    load_application(ctl, app("first", report))
    load_application(ctl, app("middle", report, deps=("first",), type=middle_type))
    load_application(ctl, app("last", report, deps=("middle",)))
    start_application(ctl, "last")
    tops = started(box)
    watches = {tops[n].monitor(mailbox=box): n for n in ("first", "last")}
    return tops, watches


def assert_everything_stopped(ctl, box, watches, name, reason):
    assert wait_exit(ctl) == ("application_terminated", name, reason)
    order = [watches[s.ref] for s in _signals(box) if type(s) is vm.Down]
    assert order == ["last", "first"]  # the others, in reverse start order


@pytest.mark.parametrize("reason", ["normal", "shutdown", "crash"])
def test_o6_a_permanent_application_that_terminates_stops_everything(ctl, reason):
    box, report = reporter()
    tops, watches = setup_three(ctl, report, box, "permanent")
    tell(tops["middle"], reason)
    assert_everything_stopped(ctl, box, watches, "middle", reason)


@pytest.mark.parametrize("reason", ["shutdown", ("shutdown", "why"), "crash"])
def test_o6_a_transient_application_that_terminates_abnormally_stops_everything(ctl, reason):
    box, report = reporter()
    tops, watches = setup_three(ctl, report, box, "transient")
    tell(tops["middle"], reason)
    assert_everything_stopped(ctl, box, watches, "middle", reason)


def test_o6_a_transient_application_that_terminates_normally_is_only_reported(
    ctl, runtime, caplog
):
    caplog.set_level(logging.INFO, "hearth.otp.application")
    box, report = reporter()
    tops, watches = setup_three(ctl, report, box, "transient")
    tell(tops["middle"], "normal")
    runtime.wait_all_blocked()
    assert names(ctl) == ["last", "first"]
    assert "application middle exited: normal" in caplog.text
    assert vm.try_recv() is None  # no Exit from the controller
    assert _signals(box) == []  # nothing else stopped; no stop callback


@pytest.mark.parametrize("reason", ["normal", "shutdown", "crash"])
def test_o6_a_temporary_application_that_terminates_is_only_reported(
    ctl, runtime, caplog, reason
):
    caplog.set_level(logging.INFO, "hearth.otp.application")
    box, report = reporter()
    tops, watches = setup_three(ctl, report, box, "temporary")
    tell(tops["middle"], reason)
    runtime.wait_all_blocked()
    assert names(ctl) == ["last", "first"]
    assert f"application middle exited: {reason}" in caplog.text
    assert vm.try_recv() is None
    assert _signals(box) == []
    start_application(ctl, "middle")  # still loaded: it can start again
    assert names(ctl) == ["middle", "last", "first"]


def test_o6_the_start_type_overrides_the_descriptions(ctl):
    box, report = reporter()
    load_application(ctl, app("only", report, type="temporary"))
    start_application(ctl, "only", type="permanent")
    tell(started(box)["only"], "crash")
    assert wait_exit(ctl) == ("application_terminated", "only", "crash")


def test_o6_a_supervisor_that_gives_up_terminates_a_transient_application(ctl):
    box, report = reporter()
    load_application(ctl, app("tree", report, type="transient", start=start_with_supervisor))
    start_application(ctl, "tree")
    sup = started(box)["tree"]
    worker = which_children(sup)[0].child
    tell(worker, "crash")  # intensity 0: the supervisor exits with shutdown
    assert wait_exit(ctl) == ("application_terminated", "tree", "shutdown")


# -- errors and bad input ------------------------------------------------------------------------


def test_o6_errors_of_the_controllers_calls(ctl):
    box, report = reporter()
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "ghost")
    assert info.value.kind == "not_loaded" and "'ghost'" in str(info.value)
    load_application(ctl, app("a", report))
    with pytest.raises(ApplicationError) as info:
        load_application(ctl, app("a", report))
    assert info.value.kind == "already_loaded"
    start_application(ctl, "a")
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "a")
    assert info.value.kind == "already_started"
    with pytest.raises(ApplicationError) as info:
        unload_application(ctl, "a")
    assert info.value.kind == "running"
    stop_application(ctl, "a")
    with pytest.raises(ApplicationError) as info:
        stop_application(ctl, "a")
    assert info.value.kind == "not_started"
    unload_application(ctl, "a")
    assert loaded_applications(ctl) == []
    with pytest.raises(ApplicationError) as info:
        start_application(ctl, "a", type="forever")
    assert info.value.kind == "invalid_request"


def test_o6_the_controller_answers_malformed_requests_and_keeps_serving(ctl):
    assert call(ctl, "nonsense")["err"]["kind"] == "invalid_request"
    assert call(ctl, ("start",))["err"]["kind"] == "invalid_request"
    assert call(ctl, ("start", 5, None))["err"]["kind"] == "invalid_request"
    assert call(ctl, ("load", ("$application", "x")))["err"]["kind"] == "invalid_request"
    bad_fn = ("$application", "x", "", "", (), "no.such.module:fn", (), None, "temporary")
    assert call(ctl, ("load", bad_fn))["err"]["kind"] == "invalid_request"
    box, reply_cap = reporter()
    ctl.send(b"\xc1", [reply_cap])
    sig = vm.recv(timeout=5, mailbox=box)
    assert decode(sig.data, sig.caps)["err"]["kind"] == "invalid_request"
    assert which_applications(ctl) == []


def test_application_descriptions_are_checked_when_made():
    with pytest.raises(ValueError):
        Application("a", start_plain, type="forever")
    with pytest.raises(TypeError):
        Application("", start_plain)
    with pytest.raises(TypeError):
        Application("a", start_plain, applications="b")
    with pytest.raises(TypeError):
        Application("a", "not callable")


def test_load_refuses_a_start_function_that_cannot_travel(ctl):
    with pytest.raises(TypeError):
        load_application(ctl, Application("a", lambda: None))


def test_o6_a_description_naming_a_function_by_module_is_refused(ctl):
    """Its start and stop travel as references of this OS process, never as
    names to import: a forged ``"os:system"`` loads nothing."""
    forged = ("$application", "evil", "", "", (), "os:system", ("true",), None, "temporary")
    reply = call(ctl, ("load", forged))
    assert reply["err"]["kind"] == "invalid_request"
    assert "never imported by name" in reply["err"]["message"]
    assert loaded_applications(ctl) == []
