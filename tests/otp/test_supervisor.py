"""Supervisors: rule O5, in the shape of OTP's supervisor_SUITE.

{normal, shutdown, abnormal exit} x {permanent, transient, temporary};
each strategy with its escalation; start and stop order; shutdown by
timeout, brutal_kill and infinity; restart loops; the admin calls and their
errors; significant children and auto_shutdown; simple_one_for_one.

Every test runs on a virtual clock, so restart windows and shutdown
timeouts are exact. The test process is the supervisors' parent and traps
exits, so a supervisor's own exit reaches it as an `Exit`.
"""

import pytest

from hearth import vm
from hearth.otp import _gen_server as gen_server
from hearth.otp._codec import decode, encode
from hearth.otp._errors import StartError
from hearth.otp._supervisor import (
    ChildInfo,
    ChildSpec,
    count_children,
    delete_child,
    restart_child,
    start_child,
    start_link,
    supervisor_spec,
    terminate_child,
    which_children,
)
from hearth.vm import SEND


@pytest.fixture(autouse=True)
def _virtual_time(virtual_clock):
    """Every test here reads the virtual clock (the runtime fixture sees it)."""
    return virtual_clock


# -- children (module-level: start_child sends functions by name) ----------------------


def send_term(cap, *term):
    """Send a term: one argument is sent as it is, several as a tuple."""
    cap.send(*encode(term[0] if len(term) == 1 else term))


def idle():
    """A worker that waits forever."""
    while True:
        sig = vm.recv()
        for cap in getattr(sig, "caps", ()):
            cap.release()


def commanded(report, tag, trap=False):
    """A worker that obeys commands: ``"normal"`` returns, ``"crash"``
    raises, any other term is the reason it exits with. Trapping, it
    reports the exit signal it gets and exits with its reason."""
    vm.trap_exit(trap)
    while True:
        sig = vm.recv()
        if type(sig) is vm.Exit:
            if report is not None:
                send_term(report, "stopped", tag, sig.reason)
            vm.exit(sig.reason)
        if type(sig) is vm.Message:
            cmd = decode(sig.data, sig.caps)
            if cmd == "normal":
                return
            if cmd == "crash":
                raise RuntimeError(f"{tag} crashed")
            vm.exit(cmd)


def start_reporting(report, tag, trap=False):
    """A start function: reports its start (in the supervisor's process, so
    in start order) and starts a `commanded` worker linked to it."""
    send_term(report, "started", tag)
    # trap_exit at spawn, not in the child: an exit signal may come before
    # the child first runs (as a gen_server's init sets it before start_link
    # returns).
    return vm.spawn_link(commanded, report, tag, trap, trap_exit=trap)


def stubborn(report):
    """Never stops for an exit signal (spawned with trap_exit)."""
    while True:
        sig = vm.recv()
        if type(sig) is vm.Exit:
            send_term(report, "ignored", sig.reason)


def slow_to_stop(report, seconds):
    """Stops `seconds` (virtual) after the exit signal (spawned with
    trap_exit)."""
    while True:
        sig = vm.recv()
        if type(sig) is vm.Exit:
            vm.recv(timeout=seconds)  # nothing else comes: just time passing
            send_term(report, "stopping", sig.reason)
            vm.exit(sig.reason)


# Spawn options of a child that traps exits: set at spawn, since an exit
# signal may come before the child's first instruction.
TRAP = {"trap_exit": True}


def crash_at_once(report, tag):
    send_term(report, "started", tag)
    raise RuntimeError("crash at once")


def start_ignore():
    return "ignore"


def start_refused():
    return ("error", "refused")


def start_raises():
    raise ValueError("no start for you")


def start_supervisor_of(report, tags, strategy, intensity):
    """A start function for a child supervisor whose children report."""
    specs = [ChildSpec(t, start_reporting, args=(report, t)) for t in tags]
    return start_link(specs, strategy, intensity, 5)


# -- helpers -------------------------------------------------------------------------


def reporter():
    """A mailbox for reports, and a SEND capability to it."""
    box = vm.create_mailbox()
    return box, box.make_capability(SEND)


def drain(box):
    """The reports queued now, decoded."""
    out = []
    while (sig := box.try_recv()) is not None:
        out.append(decode(sig.data, sig.caps))
    return out


def child_of(sup, id_):
    for info in which_children(sup):
        if info.id == id_:
            return info.child
    raise AssertionError(f"no child {id_!r} in {which_children(sup)!r}")


def wait_exit_of(cap):
    """The reason of `cap`'s process, from the Exit of our link or a Down.

    Other Exits and Downs that come first are kept for later calls.
    """
    me = vm.current_process()
    if me.dictionary is None:
        me.dictionary = {}
    stash = me.dictionary.setdefault("test.stash", [])
    for sig in stash:
        if sig.cap.same_route(cap):
            stash.remove(sig)
            return sig.reason
    while True:
        sig = vm.recv(timeout=30)
        assert sig is not None, "no Exit or Down came"
        if type(sig) in (vm.Exit, vm.Down):
            if sig.cap.same_route(cap):
                return sig.reason
            stash.append(sig)


def test_plugin_runtime_reads_the_virtual_clock(runtime, virtual_clock):
    assert runtime.clock is virtual_clock


# -- restart types x exit reasons ------------------------------------------------------------

EXITS = {
    "normal": ("normal", "normal"),
    "shutdown": ("shutdown", "shutdown"),
    "shutdown_term": (("shutdown", "bye"), ("shutdown", "bye")),
    "abnormal": ("crash", None),
}


@pytest.mark.parametrize("restart", ["permanent", "transient", "temporary"])
@pytest.mark.parametrize("how", list(EXITS))
def test_o5_the_restart_type_and_exit_reason_decide_whether_a_child_is_restarted(
    proc, restart, how
):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("c", (commanded, (None, "c")), restart=restart)], intensity=5)
    old = child_of(sup, "c")
    old.monitor()
    command, reason = EXITS[how]
    send_term(old, command)
    got = wait_exit_of(old)
    if reason is not None:
        assert got == reason
    else:
        assert vm.is_error(got) and got[1] == "RuntimeError"
    proc.runtime.wait_all_blocked()

    restarted = restart == "permanent" or (restart == "transient" and how == "abnormal")
    kids = which_children(sup)
    if restarted:
        assert len(kids) == 1 and kids[0].restarts == 1
        assert type(kids[0].child) is vm.Cap and not kids[0].child.same_route(old)
        assert count_children(sup)["active"] == 1
    elif restart == "temporary":
        assert kids == []  # a temporary child is forgotten once it stops
        assert count_children(sup)["specs"] == 0
    else:
        assert kids == [ChildInfo("c", None, "worker", 0)]  # kept, not running
        assert count_children(sup) == {
            "specs": 1, "active": 0, "supervisors": 0, "workers": 1, "restarts": 0,
        }
    assert len(proc.runtime) == 2 + restarted  # test, supervisor, child


def test_o5_a_transient_child_killed_is_restarted(proc):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("c", (idle, ()), restart="transient")])
    old = child_of(sup, "c")
    old.kill()
    proc.runtime.wait_all_blocked()
    assert which_children(sup)[0].restarts == 1


# -- strategies ----------------------------------------------------------------------------


def _reporting_specs(report, tags, **kw):
    return [ChildSpec(t, start_reporting, args=(report, t, True), **kw) for t in tags]


def test_o5_children_start_in_order_and_stop_in_reverse_order(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(_reporting_specs(report, "abcd"))
    assert drain(box) == [("started", t) for t in "abcd"]
    sup.monitor()
    vm.exit(sup, "shutdown")  # from the parent: stop everything
    assert wait_exit_of(sup) == "shutdown"
    assert drain(box) == [("stopped", t, "shutdown") for t in "dcba"]
    assert len(proc.runtime) == 1


def test_o5_one_for_one_restarts_only_the_child_that_died(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(_reporting_specs(report, "abc"), "one_for_one", 3)
    before = which_children(sup)
    drain(box)
    send_term(before[1].child, "crash")
    proc.runtime.wait_all_blocked()
    after = which_children(sup)
    assert drain(box) == [("started", "b")]
    assert after[0].child.same_route(before[0].child)
    assert not after[1].child.same_route(before[1].child)
    assert after[2].child.same_route(before[2].child)
    assert [k.restarts for k in after] == [0, 1, 0]


def test_o5_one_for_all_restarts_every_child_stopping_the_others_in_reverse(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(_reporting_specs(report, "abcd"), "one_for_all", 3)
    before = which_children(sup)
    drain(box)
    send_term(before[1].child, "crash")
    proc.runtime.wait_all_blocked()
    assert drain(box) == [
        ("stopped", "d", "shutdown"),
        ("stopped", "c", "shutdown"),
        ("stopped", "a", "shutdown"),
        ("started", "a"),
        ("started", "b"),
        ("started", "c"),
        ("started", "d"),
    ]
    after = which_children(sup)
    assert not any(a.child.same_route(b.child) for a, b in zip(after, before))
    assert [k.restarts for k in after] == [1, 1, 1, 1]
    assert count_children(sup)["restarts"] == 1  # one restart of the group


def test_o5_rest_for_one_restarts_the_child_and_those_started_after_it(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(_reporting_specs(report, "abcd"), "rest_for_one", 3)
    before = which_children(sup)
    drain(box)
    send_term(before[1].child, "crash")
    proc.runtime.wait_all_blocked()
    assert drain(box) == [
        ("stopped", "d", "shutdown"),
        ("stopped", "c", "shutdown"),
        ("started", "b"),
        ("started", "c"),
        ("started", "d"),
    ]
    after = which_children(sup)
    assert after[0].child.same_route(before[0].child)
    assert [k.restarts for k in after] == [0, 1, 1, 1]


def test_o5_one_for_all_forgets_temporary_siblings_it_stops(proc):
    vm.trap_exit(True)
    sup = start_link(
        [
            ChildSpec("p", (commanded, (None, "p"))),
            ChildSpec("t", (idle, ()), restart="temporary"),
        ],
        "one_for_all",
        3,
    )
    send_term(child_of(sup, "p"), "crash")
    proc.runtime.wait_all_blocked()
    assert [k.id for k in which_children(sup)] == ["p"]


ESCALATION = {
    "one_for_one": lambda sup: which_children(sup)[0].child,
    "one_for_all": lambda sup: which_children(sup)[1].child,
    "rest_for_one": lambda sup: which_children(sup)[0].child,
    "simple_one_for_one": lambda sup: which_children(sup)[0].child,
}


def _start_escalating(strategy, intensity=1):
    if strategy == "simple_one_for_one":
        sup = start_link([ChildSpec(None, (idle, ()))], strategy, intensity, 5)
        start_child(sup, [])
        start_child(sup, [])
        return sup
    specs = [ChildSpec(t, (idle, ())) for t in "ab"]
    return start_link(specs, strategy, intensity, 5)


@pytest.mark.parametrize("strategy", list(ESCALATION))
def test_o5_more_restarts_than_intensity_within_period_shut_the_supervisor_down(
    proc, strategy
):
    vm.trap_exit(True)
    sup = _start_escalating(strategy, intensity=1)
    kids = [k.child for k in which_children(sup)]
    for k in kids:
        k.monitor()
    ESCALATION[strategy](sup).kill()  # restart 1: within the intensity
    proc.runtime.wait_all_blocked()
    assert count_children(sup)["active"] == 2
    ESCALATION[strategy](sup).kill()  # restart 2 within 5 s: one too many
    assert wait_exit_of(sup) == "shutdown"
    proc.runtime.wait_all_blocked()
    assert len(proc.runtime) == 1  # every child went with it


@pytest.mark.parametrize("strategy", list(ESCALATION))
def test_o5_restarts_older_than_the_period_do_not_count(proc, strategy, virtual_clock):
    vm.trap_exit(True)
    sup = _start_escalating(strategy, intensity=1)
    for _ in range(5):
        ESCALATION[strategy](sup).kill()
        proc.runtime.wait_all_blocked()
        virtual_clock.advance(5.5)
    assert count_children(sup) == {
        "specs": 1 if strategy == "simple_one_for_one" else 2,
        "active": 2,
        "supervisors": 0,
        "workers": 2,
        "restarts": 5,
    }


@pytest.mark.parametrize("strategy", ["one_for_one", "one_for_all", "rest_for_one"])
def test_o5_an_escalation_is_decided_by_the_parent_supervisor(proc, strategy):
    vm.trap_exit(True)
    box, report = reporter()
    top = start_link(
        [
            ChildSpec("w", (idle, ())),
            ChildSpec("mid", start_supervisor_of, args=(report, ("x", "y"), strategy, 1),
                      type="supervisor", shutdown="infinity"),
        ],
        "one_for_one",
        5,
    )
    w = child_of(top, "w")
    mid = child_of(top, "mid")
    drain(box)
    for _ in range(2):  # the second restart is one too many for mid
        child_of(mid, "x").kill()
        proc.runtime.wait_all_blocked()
    kids = which_children(top)
    assert kids[0].child.same_route(w)  # one_for_one at the top: w untouched
    assert not kids[1].child.same_route(mid) and kids[1].restarts == 1
    assert [k.restarts for k in which_children(kids[1].child)] == [0, 0]  # a fresh mid
    assert drain(box)[-2:] == [("started", "x"), ("started", "y")]
    assert count_children(top) == {
        "specs": 2, "active": 2, "supervisors": 1, "workers": 1, "restarts": 1,
    }
    assert len(proc.runtime) == 1 + 1 + 1 + 1 + 2


def test_o5_escalation_goes_up_as_far_as_the_intensities_say(proc):
    vm.trap_exit(True)
    inner = supervisor_spec("inner", [ChildSpec("w", (idle, ()))], intensity=0)
    top = start_link([supervisor_spec("middle", [inner], intensity=0)], intensity=0)
    middle = child_of(top, "middle")
    child_of(child_of(middle, "inner"), "w").kill()  # inner, middle and top give up
    assert wait_exit_of(top) == "shutdown"
    proc.runtime.wait_all_blocked()
    assert len(proc.runtime) == 1


def test_o5_a_child_that_crashes_at_once_is_restarted_until_the_intensity_is_hit(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec("c", (crash_at_once, (report, "c")))], intensity=3)
    assert wait_exit_of(sup) == "shutdown"
    assert drain(box) == [("started", "c")] * 4  # the start and three restarts
    assert len(proc.runtime) == 1


def test_o5_a_child_that_cannot_be_restarted_is_retried_until_the_intensity_is_hit(proc):
    vm.trap_exit(True)
    box, report = reporter()
    starts = []

    def start_once():
        starts.append(1)
        if len(starts) > 1:
            return ("error", "not again")
        return vm.spawn_link(idle)

    sup = start_link([ChildSpec("c", start_once)], intensity=4)
    sup.monitor()
    child_of(sup, "c").kill()
    assert wait_exit_of(sup) == "shutdown"
    assert len(starts) == 1 + 4  # every retry counted as a restart


# -- shutdown ---------------------------------------------------------------------------


def test_o5_a_child_that_ignores_shutdown_is_killed_after_its_timeout(proc, virtual_clock):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec("s", (stubborn, (report,), TRAP), shutdown=3.0)])
    child = child_of(sup, "s")
    child.monitor()
    t0 = virtual_clock.now()
    assert terminate_child(sup, "s") == "ok"
    assert virtual_clock.now() - t0 == 3.0
    assert wait_exit_of(child) == "killed"
    assert drain(box) == [("ignored", "shutdown")]


def test_o5_a_supervisor_shutting_down_kills_a_stubborn_child_after_the_timeout(
    proc, virtual_clock
):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(
        [ChildSpec("a", (idle, ())), ChildSpec("s", (stubborn, (report,), TRAP), shutdown=7)]
    )
    a, s = child_of(sup, "a"), child_of(sup, "s")
    for cap in (a, s, sup):
        cap.monitor()
    t0 = virtual_clock.now()
    vm.exit(sup, "shutdown")
    assert wait_exit_of(s) == "killed"
    assert virtual_clock.now() - t0 == 7
    assert wait_exit_of(a) == "shutdown"
    assert wait_exit_of(sup) == "shutdown"


def test_o5_a_child_that_honours_shutdown_stops_without_being_killed(proc, virtual_clock):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec("s", (slow_to_stop, (report, 2.0), TRAP), shutdown=3.0)])
    child = child_of(sup, "s")
    child.monitor()
    t0 = virtual_clock.now()
    assert terminate_child(sup, "s") == "ok"
    assert virtual_clock.now() - t0 == 2.0
    assert wait_exit_of(child) == "shutdown"


def test_o5_brutal_kill_kills_at_once_even_a_trapping_child(proc, virtual_clock):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec("s", (stubborn, (report,), TRAP), shutdown="brutal_kill")])
    child = child_of(sup, "s")
    child.monitor()
    t0 = virtual_clock.now()
    assert terminate_child(sup, "s") == "ok"
    assert virtual_clock.now() == t0
    assert wait_exit_of(child) == "killed"
    assert drain(box) == []  # it never saw an exit signal


def test_o5_infinity_waits_as_long_as_the_child_takes(proc, virtual_clock):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec("s", (slow_to_stop, (report, 1000.0), TRAP), shutdown="infinity")])
    child = child_of(sup, "s")
    child.monitor()
    t0 = virtual_clock.now()
    assert terminate_child(sup, "s") == "ok"
    assert virtual_clock.now() - t0 == 1000.0
    assert wait_exit_of(child) == "shutdown"
    assert drain(box) == [("stopping", "shutdown")]


def test_o5_a_supervisor_child_defaults_to_infinity_and_its_subtree_stops_in_order(proc):
    vm.trap_exit(True)
    box, report = reporter()
    spec = supervisor_spec("sub", _reporting_specs(report, "xy"))
    assert spec.shutdown_value == "infinity"
    assert ChildSpec("w", (idle, ())).shutdown_value == 5.0
    sup = start_link(_reporting_specs(report, "a") + [spec] + _reporting_specs(report, "b"))
    assert drain(box) == [("started", t) for t in "axyb"]
    sup.monitor()
    vm.exit(sup, "shutdown")
    assert wait_exit_of(sup) == "shutdown"
    assert drain(box) == [("stopped", t, "shutdown") for t in "byxa"]


# -- the parent and strangers ----------------------------------------------------------


def test_o5_the_parents_death_stops_the_supervisor_with_the_same_reason(proc):
    vm.trap_exit(True)
    box, report = reporter()

    def parent(to_test):
        sup = start_link(_reporting_specs(to_test, "ab"))
        send_term(to_test, "sup", sup.demote(vm.MONITOR))
        vm.recv()

    p = vm.spawn(parent, report)
    proc.runtime.wait_all_blocked()
    reports = drain(box)
    sup = reports[-1][1]
    sup.monitor()
    p.kill()
    assert wait_exit_of(sup) == "killed"
    # As in OTP, the children get `shutdown` whatever the parent's reason.
    assert drain(box) == [("stopped", "b", "shutdown"), ("stopped", "a", "shutdown")]


def test_o5_exit_signals_from_strangers_are_ignored(proc):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("a", (idle, ()))])

    def stranger(target):
        vm.exit(target, "shutdown")

    _, ref = vm.spawn_monitor(stranger, sup)
    assert vm.recv(timeout=5).ref == ref
    proc.runtime.wait_all_blocked()
    assert count_children(sup)["active"] == 1


# -- start-up -----------------------------------------------------------------------------


def test_o5_a_child_that_fails_to_start_stops_the_others_and_start_link_raises(proc):
    box, report = reporter()
    specs = _reporting_specs(report, "ab") + [ChildSpec("bad", start_raises)]
    with pytest.raises(StartError) as info:
        start_link(specs + _reporting_specs(report, "c"))
    shutdown, (what, id_, reason) = info.value.reason
    assert (shutdown, what, id_) == ("shutdown", "failed_to_start_child", "bad")
    assert vm.is_error(reason) and reason[1] == "ValueError"
    assert drain(box) == [
        ("started", "a"),
        ("started", "b"),
        ("stopped", "b", "shutdown"),
        ("stopped", "a", "shutdown"),
    ]
    assert proc.reason is None  # the caller, not trapping, lives on
    assert len(proc.runtime) == 1


def test_o5_start_link_passes_on_a_start_functions_error(proc):
    with pytest.raises(StartError) as info:
        start_link([ChildSpec("r", start_refused)])
    assert info.value.reason == ("shutdown", ("failed_to_start_child", "r", "refused"))


def test_o5_an_ignored_child_is_kept_as_a_stopped_spec_unless_temporary(proc):
    vm.trap_exit(True)
    sup = start_link(
        [ChildSpec("i", start_ignore), ChildSpec("t", start_ignore, restart="temporary")]
    )
    assert which_children(sup) == [ChildInfo("i", None, "worker", 0)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strategy": "one_for_some"},
        {"intensity": -1},
        {"period": 0},
        {"auto_shutdown": "sometimes"},
        {"children": [ChildSpec("a", (idle, ())), ChildSpec("a", (idle, ()))]},
        {"children": [ChildSpec("a", (idle, ()), restart="forever")]},
        {"children": [ChildSpec("a", (idle, ()), shutdown=-1)]},
        {"children": [ChildSpec("a", (idle, ()), type="manager")]},
        {"children": [ChildSpec("a", (idle, ()), restart="transient", significant=True)]},
        {"children": [ChildSpec("a", (idle, ()), significant=True)],
         "auto_shutdown": "any_significant"},
        {"children": [ChildSpec(["a"], (idle, ()))]},
        {"children": [ChildSpec("a", (idle, (), {"link": False}))]},
        {"children": [ChildSpec("a", (idle, (), ["trap_exit"]))]},
        {"children": [], "strategy": "simple_one_for_one"},
    ],
)
def test_o5_malformed_flags_and_specs_raise_before_anything_starts(proc, kwargs):
    with pytest.raises(ValueError):
        start_link(**kwargs)
    assert len(proc.runtime) == 1


# -- admin calls ----------------------------------------------------------------------------


def test_o5_start_child_adds_a_child_after_the_others(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(_reporting_specs(report, "a"))
    status, cap = start_child(sup, ChildSpec("b", start_reporting, args=(report, "b", True)))
    assert status == "ok" and type(cap) is vm.Cap
    assert cap.permissions == vm.SEND | vm.MONITOR | vm.KILL
    assert [k.id for k in which_children(sup)] == ["a", "b"]
    status, again = start_child(sup, ChildSpec("b", (idle, ())))
    assert status == "error" and again[0] == "already_started" and again[1].same_route(cap)
    assert terminate_child(sup, "b") == "ok"
    assert start_child(sup, ChildSpec("b", (idle, ()))) == ("error", "already_present")
    assert drain(box) == [("started", "a"), ("started", "b"), ("stopped", "b", "shutdown")]
    assert restart_child(sup, "b")[0] == "ok"
    sup.monitor()
    vm.exit(sup, "shutdown")
    assert wait_exit_of(sup) == "shutdown"
    assert drain(box) == [  # the added child stops first
        ("started", "b"),
        ("stopped", "b", "shutdown"),
        ("stopped", "a", "shutdown"),
    ]


def test_o5_spawn_options_of_a_child_travel_with_start_child(proc):
    vm.trap_exit(True)
    sup = start_link([])
    status, cap = start_child(sup, ChildSpec("n", (idle, (), {"name": "named", "trap_exit": True})))
    assert status == "ok"
    [info] = [p for p in proc.runtime.processes() if p.name == "named"]
    assert info.trap_exit and info.metadata["restarts"] == 0


def test_o5_start_child_reports_start_errors_ignore_and_bad_specs(proc):
    vm.trap_exit(True)
    sup = start_link([])
    assert start_child(sup, ChildSpec("r", start_refused)) == ("error", "refused")
    status, reason = start_child(sup, ChildSpec("x", start_raises))
    assert status == "error" and reason[1] == "ValueError"
    assert start_child(sup, ChildSpec("i", start_ignore)) == ("ok", None)
    assert start_child(sup, ChildSpec("t", start_ignore, restart="temporary")) == ("ok", None)
    assert which_children(sup) == [ChildInfo("i", None, "worker", 0)]
    status, reason = start_child(
        sup, ChildSpec("s", (idle, ()), restart="transient", significant=True)
    )
    assert status == "error" and reason[0] == "bad_combination"
    with pytest.raises(TypeError):
        start_child(sup, ChildSpec("l", (lambda: None, ())))  # can't travel by name


def test_o5_terminate_child_stops_a_child_and_keeps_its_spec_unless_temporary(proc):
    vm.trap_exit(True)
    sup = start_link(
        [ChildSpec("p", (idle, ())), ChildSpec("t", (idle, ()), restart="temporary")]
    )
    p, t = child_of(sup, "p"), child_of(sup, "t")
    p.monitor()
    t.monitor()
    assert terminate_child(sup, "p") == "ok"
    assert wait_exit_of(p) == "shutdown"
    assert terminate_child(sup, "t") == "ok"
    assert wait_exit_of(t) == "shutdown"
    assert which_children(sup) == [ChildInfo("p", None, "worker", 0)]
    assert terminate_child(sup, "p") == "ok"  # already stopped: still ok
    assert terminate_child(sup, "nobody") == ("error", "not_found")
    assert count_children(sup)["restarts"] == 0  # stopping is not restarting


def test_o5_restart_child_starts_a_stopped_child_again(proc):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("p", (idle, ()))])
    old = child_of(sup, "p")
    assert restart_child(sup, "p") == ("error", "running")
    assert restart_child(sup, "nobody") == ("error", "not_found")
    terminate_child(sup, "p")
    status, new = restart_child(sup, "p")
    assert status == "ok" and not new.same_route(old)
    assert child_of(sup, "p").same_route(new)
    # A child whose start_child failed was never added.
    start_child(sup, ChildSpec("r", start_refused, restart="transient"))
    assert restart_child(sup, "r") == ("error", "not_found")


def test_o5_delete_child_forgets_only_a_stopped_child(proc):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("p", (idle, ())), ChildSpec("q", (idle, ()))])
    assert delete_child(sup, "p") == ("error", "running")
    assert delete_child(sup, "nobody") == ("error", "not_found")
    terminate_child(sup, "p")
    assert delete_child(sup, "p") == "ok"
    assert [k.id for k in which_children(sup)] == ["q"]
    assert delete_child(sup, "p") == ("error", "not_found")
    assert count_children(sup)["specs"] == 1


def gated_start(attempts, report, tag):
    """A start function that asks the test whether to succeed, from the
    second attempt on (the first is start_link's, which the test waits in)."""
    attempts.append(1)
    if len(attempts) == 1:
        return vm.spawn_link(idle)
    box = vm.create_mailbox()
    send_term(report, "attempt", tag, box.make_capability(SEND))
    sig = box.recv()
    box.destroy()
    if sig.data == b"fail":
        return ("error", "refused")
    return vm.spawn_link(idle)


def test_o5_a_child_waiting_for_a_retry_is_restarting_for_the_admin_calls(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec("g", gated_start, args=([], report, "g"))], intensity=10)
    child_of(sup, "g").kill()

    def next_gate():
        sig = box.recv(timeout=30)
        term = decode(sig.data, sig.caps)
        assert term[:2] == ("attempt", "g")
        return term[2]

    next_gate().send(b"fail")  # the restart fails: a retry is queued
    gate = next_gate()
    # The call is queued before the supervisor's retry message, so it is
    # answered while the child waits for that retry.
    gate.send(b"fail")
    assert restart_child(sup, "g") == ("error", "restarting")
    gate = next_gate()
    gate.send(b"fail")
    assert delete_child(sup, "g") == ("error", "restarting")
    gate = next_gate()
    gate.send(b"fail")
    assert which_children(sup) == [ChildInfo("g", "restarting", "worker", 0)]
    next_gate().send(b"ok")
    proc.runtime.wait_all_blocked()
    [info] = which_children(sup)
    assert type(info.child) is vm.Cap and info.restarts == 1
    assert count_children(sup)["restarts"] == 5  # the restart and four retries


def test_o5_calls_to_a_supervisor_that_is_gone_raise_its_exit_reason(proc):
    from hearth.otp._errors import ServerExited

    vm.trap_exit(True)
    sup = start_link([])
    vm.exit(sup, ("shutdown", "done"))  # queued before the call: served first
    with pytest.raises(ServerExited) as info:
        which_children(sup)
    assert info.value.reason == ("shutdown", "done")


def test_o5_a_restarted_childs_process_shows_its_restart_count(proc):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("w", (idle, ()))], intensity=5)
    for _ in range(3):
        child_of(sup, "w").kill()
        proc.runtime.wait_all_blocked()
    assert which_children(sup)[0].restarts == 3
    counts = sorted(p.metadata.get("restarts") for p in proc.runtime.processes()
                    if "restarts" in p.metadata)
    assert counts == [3]


# -- significant children and auto_shutdown -------------------------------------------


def test_o5_any_significant_child_ending_stops_the_supervisor(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(
        [
            ChildSpec("p", start_reporting, args=(report, "p", True)),
            ChildSpec("s", (commanded, (None, "s")), restart="transient", significant=True),
        ],
        auto_shutdown="any_significant",
    )
    sup.monitor()
    send_term(child_of(sup, "s"), "normal")
    assert wait_exit_of(sup) == "shutdown"
    assert drain(box) == [("started", "p"), ("stopped", "p", "shutdown")]


def test_o5_a_transient_significant_child_that_crashes_is_restarted_instead(proc):
    vm.trap_exit(True)
    sup = start_link(
        [ChildSpec("s", (commanded, (None, "s")), restart="transient", significant=True)],
        auto_shutdown="any_significant",
        intensity=3,
    )
    send_term(child_of(sup, "s"), "crash")
    proc.runtime.wait_all_blocked()
    assert which_children(sup)[0].restarts == 1


def test_o5_all_significant_waits_for_the_last_significant_child(proc):
    vm.trap_exit(True)
    sup = start_link(
        [
            ChildSpec("p", (idle, ())),
            ChildSpec("s1", (commanded, (None, "s1")), restart="temporary", significant=True),
            ChildSpec("s2", (commanded, (None, "s2")), restart="temporary", significant=True),
        ],
        auto_shutdown="all_significant",
    )
    sup.monitor()
    send_term(child_of(sup, "s1"), "crash")  # temporary: any reason counts
    proc.runtime.wait_all_blocked()
    assert [k.id for k in which_children(sup)] == ["p", "s2"]
    send_term(child_of(sup, "s2"), "normal")
    assert wait_exit_of(sup) == "shutdown"


def test_o5_a_significant_child_stopped_by_the_supervisor_triggers_nothing(proc):
    vm.trap_exit(True)
    sup = start_link(
        [ChildSpec("s", (idle, ()), restart="transient", significant=True)],
        auto_shutdown="any_significant",
    )
    assert terminate_child(sup, "s") == "ok"
    proc.runtime.wait_all_blocked()
    assert count_children(sup)["active"] == 0  # still alive to answer


def test_o5_significant_is_refused_for_permanent_children_and_without_auto_shutdown(proc):
    with pytest.raises(ValueError):
        start_link([ChildSpec("p", (idle, ()), significant=True)],
                   auto_shutdown="any_significant")
    with pytest.raises(ValueError):
        start_link([ChildSpec("t", (idle, ()), restart="temporary", significant=True)])


# -- simple_one_for_one ------------------------------------------------------------------


def test_o5_simple_one_for_one_starts_children_on_demand_from_its_template(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link(
        [ChildSpec(None, start_reporting, args=(report,))], "simple_one_for_one", 5
    )
    assert which_children(sup) == []
    caps = []
    for tag in "abc":
        status, cap = start_child(sup, [tag, True])
        assert status == "ok"
        caps.append(cap)
    assert drain(box) == [("started", t) for t in "abc"]
    kids = which_children(sup)
    assert [(k.id, k.type, k.restarts) for k in kids] == [(None, "worker", 0)] * 3
    assert all(k.child.same_route(c) for k, c in zip(kids, caps))
    assert count_children(sup) == {
        "specs": 1, "active": 3, "supervisors": 0, "workers": 3, "restarts": 0,
    }

    send_term(caps[1], "crash")  # permanent: restarted with the same arguments
    proc.runtime.wait_all_blocked()
    assert drain(box) == [("started", "b")]
    assert sorted(k.restarts for k in which_children(sup)) == [0, 0, 1]

    caps[0].monitor()
    assert terminate_child(sup, caps[0]) == "ok"
    assert wait_exit_of(caps[0]) == "shutdown"
    assert terminate_child(sup, caps[0]) == "ok"  # gone already: ok, as in Erlang
    assert terminate_child(sup, "a") == ("error", "simple_one_for_one")
    assert restart_child(sup, "a") == ("error", "simple_one_for_one")
    assert delete_child(sup, "a") == ("error", "simple_one_for_one")
    assert count_children(sup)["active"] == 2
    drain(box)

    sup.monitor()
    vm.exit(sup, "shutdown")
    assert wait_exit_of(sup) == "shutdown"
    assert sorted(drain(box)) == [("stopped", t, "shutdown") for t in "bc"]
    assert len(proc.runtime) == 1


def test_o5_simple_one_for_one_temporary_children_are_forgotten_when_they_stop(proc):
    vm.trap_exit(True)
    sup = start_link(
        [ChildSpec(None, (commanded, (None,)), restart="temporary")],
        "simple_one_for_one",
    )
    _, a = start_child(sup, ["a"])
    _, b = start_child(sup, ["b"])
    send_term(a, "crash")
    send_term(b, "normal")
    proc.runtime.wait_all_blocked()
    assert which_children(sup) == []


def test_o5_simple_one_for_one_kills_stubborn_children_together_after_the_timeout(
    proc, virtual_clock
):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec(None, (stubborn, (report,), TRAP), shutdown=4)],
                     "simple_one_for_one")
    caps = [start_child(sup, [])[1] for _ in range(3)]
    for cap in caps + [sup]:
        cap.monitor()
    t0 = virtual_clock.now()
    vm.exit(sup, "shutdown")
    assert [wait_exit_of(c) for c in caps] == ["killed"] * 3
    assert virtual_clock.now() - t0 == 4  # one deadline for all, not 3 x 4
    assert wait_exit_of(sup) == "shutdown"


def test_o5_start_child_can_add_a_whole_subtree(proc):
    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([])
    status, sub = start_child(sup, supervisor_spec("sub", _reporting_specs(report, "xy")))
    assert status == "ok"
    assert drain(box) == [("started", "x"), ("started", "y")]
    assert [k.id for k in which_children(sub)] == ["x", "y"]
    assert count_children(sup)["supervisors"] == 1


# -- gen_server children -------------------------------------------------------------


class ReportingServer(gen_server.GenServer):
    """Traps exits, so a supervisor's shutdown runs terminate (O4)."""

    def init(self, report):
        vm.trap_exit(True)
        send_term(report, "init")
        return ("ok", report)

    def handle_cast(self, request, state):
        if request == "crash":
            raise RuntimeError("asked to crash")
        return ("noreply", state)

    def terminate(self, reason, state):
        send_term(state, "terminate", reason)


def test_o5_gen_server_children_are_restarted_and_terminated_through_their_callbacks(proc):
    from hearth.otp._call import cast

    vm.trap_exit(True)
    box, report = reporter()
    sup = start_link([ChildSpec("srv", ReportingServer.start_link, args=(report,))], intensity=3)
    assert drain(box) == ["init"]
    cast(child_of(sup, "srv"), "crash")
    proc.runtime.wait_all_blocked()
    [terminated, init] = drain(box)
    assert terminated[0] == "terminate" and vm.is_error(terminated[1]) and init == "init"
    assert which_children(sup)[0].restarts == 1

    # Over a message: a method bound to the class, and the module's
    # start_link with the class as an argument, both travel by name.
    assert start_child(sup, ChildSpec("two", ReportingServer.start_link, args=(report,)))[0] == "ok"
    spec = ChildSpec("three", gen_server.start_link, args=(ReportingServer, report))
    assert start_child(sup, spec)[0] == "ok"
    assert drain(box) == ["init", "init"]

    sup.monitor()
    vm.exit(sup, "shutdown")
    assert wait_exit_of(sup) == "shutdown"
    assert drain(box) == [("terminate", "shutdown")] * 3
