"""The time services (docs/protocols.md: hearth.Sleep, hearth.TimerFactory,
hearth.StopwatchFactory, hearth.UnixTime) and the request/response envelope
they share with every native service.

Every test runs on the virtual clock, which jumps to the next deadline as
soon as every process is blocked: a five-second sleep takes no real time,
and the times asserted here are exact.
"""

import logging
import math
import time

import pytest

from hearth import vm
from hearth.native._service import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    Service,
    ServiceError,
    read_reply,
    request,
    send_request,
    spawn_service,
)
from hearth.native._time import (
    OWNER_GONE,
    RESOURCE_PERMS,
    SLEEP,
    STOPWATCH_FACTORY,
    TIME_SERVICES,
    TIMER_FACTORY,
    UNIX_TIME,
    UnixTime,
    start_time_services,
)
from hearth.otp import (
    StartError,
    lookup,
    register,
    registered,
    start_registry,
    which_children,
)
from hearth.vm import MONITOR, SEND


@pytest.fixture(autouse=True)
def _virtual_time(virtual_clock):
    """Every test here reads the virtual clock (the runtime fixture sees it)."""
    return virtual_clock


@pytest.fixture
def registry(proc):
    return start_registry()


@pytest.fixture
def services(registry):
    return start_time_services(registry)


@pytest.fixture
def clock(runtime):
    return runtime.clock


def _owner_cap():
    """A MONITOR capability to the caller's mailbox 0: resources made with
    it live as long as the caller."""
    return vm.make_capability(MONITOR)


def _new(factory):
    return request(factory, "new", [_owner_cap()])


def _wait(seconds):
    """Let `seconds` pass on the runtime's clock, as a client busy elsewhere."""
    box = vm.create_mailbox()
    assert box.recv(timeout=seconds) is None
    box.destroy()


# -- registration -------------------------------------------------------------------------


def test_the_services_are_registered_under_the_names_of_protocols_md(services, registry):
    assert TIME_SERVICES == (
        "hearth.Sleep",
        "hearth.TimerFactory",
        "hearth.StopwatchFactory",
        "hearth.UnixTime",
    )
    assert registered(registry) == sorted(TIME_SERVICES)
    for name in TIME_SERVICES:
        found = lookup(registry, name)
        assert found.same_route(services.caps[name])
        assert found.permissions == SEND | MONITOR


def test_starting_fails_cleanly_when_a_name_is_taken(proc, registry):
    squatter = vm.make_capability(SEND)
    register(registry, SLEEP, squatter)
    before = {p.pid for p in proc.runtime.processes()}
    with pytest.raises(StartError):
        start_time_services(registry)
    proc.runtime.wait_all_blocked()
    assert {p.pid for p in proc.runtime.processes()} == before
    assert registered(registry) == [SLEEP]


def test_a_killed_service_is_restarted_and_registered_again(proc, services, registry):
    child = {c.id: c.child for c in which_children(services.supervisor)}[SLEEP]
    ref = child.monitor()
    child.kill()
    assert vm.recv(timeout=1).ref == ref
    proc.runtime.wait_all_blocked()
    again = lookup(registry, SLEEP)
    assert again is not None and not again.same_route(child)
    assert request(again, 0.5, timeout=5) is None


# -- hearth.Sleep --------------------------------------------------------------------------


def test_sleep_replies_nil_once_the_delay_has_passed(services, clock):
    start = clock.now()
    assert request(services.caps[SLEEP], 2.5, timeout=10) is None
    assert clock.now() - start == 2.5


def test_sleep_takes_an_int_and_zero(services, clock):
    sleep = services.caps[SLEEP]
    start = clock.now()
    assert request(sleep, 0, timeout=1) is None
    assert clock.now() == start
    assert request(sleep, 3, timeout=10) is None
    assert clock.now() - start == 3


def test_two_sleeps_asked_together_finish_at_1_and_5(services, clock):
    sleep = services.caps[SLEEP]
    long_box, short_box = vm.create_mailbox(), vm.create_mailbox()
    start = clock.now()
    send_request(sleep, 5, long_box.make_capability(SEND))
    send_request(sleep, 1, short_box.make_capability(SEND))
    box, sig = vm.select([long_box, short_box], timeout=10)
    assert box is short_box and clock.now() - start == 1
    assert read_reply(sig) is None
    assert read_reply(long_box.recv(timeout=10)) is None
    assert clock.now() - start == 5


def test_a_hundred_sleepers_all_wake_at_the_same_time(services, clock):
    sleep = services.caps[SLEEP]
    report = vm.create_mailbox()

    def sleeper(sleep, report):
        request(sleep, 10, timeout=20)
        report.send(repr(vm.current_runtime().clock.now()).encode())

    start = clock.now()
    for _ in range(100):
        vm.spawn_link(sleeper, sleep, report.make_capability(SEND))
    times = {float(report.recv(timeout=20).data) - start for _ in range(100)}
    assert times == {10.0}


def test_a_long_sleep_does_not_hold_back_a_short_one_asked_later(services, clock):
    sleep = services.caps[SLEEP]
    start = clock.now()
    send_request(sleep, 3600, vm.create_mailbox().make_capability(SEND))
    _wait(1)
    assert request(sleep, 0, timeout=1) is None
    assert clock.now() - start == 1


def test_a_sleep_whose_requester_died_is_dropped_and_the_service_goes_on(services, clock):
    sleep = services.caps[SLEEP]
    child, ref = vm.spawn_monitor(request, sleep, 5, (), 10)
    _wait(1)
    child.kill()
    assert vm.recv(timeout=1).ref == ref
    start = clock.now()
    assert request(sleep, 10, timeout=20) is None
    assert clock.now() - start == 10


@pytest.mark.parametrize(
    "seconds", [-1, -0.001, math.nan, math.inf, -math.inf, "1", b"1", True, None, [1], {"s": 1}]
)
def test_sleep_answers_bad_seconds_with_invalid_request_and_goes_on(services, seconds):
    sleep = services.caps[SLEEP]
    with pytest.raises(ServiceError) as caught:
        request(sleep, seconds, timeout=1)
    assert caught.value.kind == INVALID_REQUEST
    assert request(sleep, 0, timeout=1) is None


# -- hearth.TimerFactory ------------------------------------------------------------------------


def test_a_new_timer_is_a_capability_with_send_monitor_and_kill(services):
    for form in ["new", ("new",), {"op": "new"}]:
        timer = request(services.caps[TIMER_FACTORY], form, [_owner_cap()])
        assert type(timer) is vm.Cap
        assert timer.permissions == RESOURCE_PERMS


def test_the_nth_tick_comes_at_exactly_n_periods_however_late_the_client_asks(services, clock):
    timer = _new(services.caps[TIMER_FACTORY])
    start = clock.now()
    for n in range(1, 9):
        assert request(timer, ["tick", 0.25], timeout=5) is None
        assert clock.now() - start == n * 0.25
        _wait(0.1)  # the client's own work between ticks: no drift from it


def test_a_client_more_than_a_period_behind_catches_up_without_skipping_ticks(services, clock):
    timer = _new(services.caps[TIMER_FACTORY])
    start = clock.now()
    _wait(1.1)
    for _ in range(4):  # the ticks due at 0.25, 0.5, 0.75 and 1.0: all at once
        assert request(timer, {"op": "tick", "seconds": 0.25}, timeout=5) is None
        assert clock.now() - start == 1.1
    assert request(timer, {"op": "tick", "seconds": 0.25}, timeout=5) is None
    assert clock.now() - start == 1.25


def test_ticks_asked_together_extend_the_schedule_in_order(services, clock):
    timer = _new(services.caps[TIMER_FACTORY])
    start = clock.now()
    first, second = vm.create_mailbox(), vm.create_mailbox()
    send_request(timer, ["tick", 2], first.make_capability(SEND))
    send_request(timer, ["tick", 0.5], second.make_capability(SEND))
    assert read_reply(first.recv(timeout=5)) is None
    assert clock.now() - start == 2
    assert read_reply(second.recv(timeout=5)) is None
    assert clock.now() - start == 2.5


@pytest.mark.parametrize(
    "tick", ["tick", ("tick",), ("tick", -1), ("tick", math.nan), ("tick", "1"),
             ("tick", 1, 2), {"op": "tick"}, {"op": "tock", "seconds": 1}, ("lap",), 5]
)
def test_a_timer_answers_a_malformed_tick_with_invalid_request_and_keeps_its_schedule(
    services, clock, tick
):
    timer = _new(services.caps[TIMER_FACTORY])
    start = clock.now()
    with pytest.raises(ServiceError) as caught:
        request(timer, tick, timeout=1)
    assert caught.value.kind == INVALID_REQUEST
    assert request(timer, ["tick", 1], timeout=5) is None
    assert clock.now() - start == 1


# -- hearth.StopwatchFactory ---------------------------------------------------------------------


def test_a_lap_is_the_seconds_since_the_last_lap_or_since_creation(services):
    stopwatch = _new(services.caps[STOPWATCH_FACTORY])
    assert stopwatch.permissions == RESOURCE_PERMS
    _wait(1.5)
    assert request(stopwatch, "lap") == 1.5
    _wait(0.25)
    lap = request(stopwatch, ["lap"])
    assert type(lap) is float and lap == 0.25
    assert request(stopwatch, {"op": "lap"}) == 0.0


def test_each_stopwatch_keeps_its_own_laps(services):
    factory = services.caps[STOPWATCH_FACTORY]
    first = _new(factory)
    _wait(1)
    second = _new(factory)
    _wait(2)
    assert request(first, "lap") == 3.0
    assert request(second, "lap") == 2.0


# -- hearth.UnixTime ---------------------------------------------------------------------------


def test_unix_time_is_the_wall_clock_in_integer_nanoseconds(services):
    unix = services.caps[UNIX_TIME]
    readings = []
    for form in ["now", ("now",), {"op": "now"}]:
        before = time.time_ns()
        now = request(unix, form)
        after = time.time_ns()
        assert type(now) is int
        assert before - 10**9 <= now <= after + 10**9
        readings.append(now)
    assert readings == sorted(readings)


def test_unix_time_reads_an_injected_source(proc):
    unix = spawn_service(UnixTime, lambda: 1_700_000_000_123_456_789)
    assert request(unix, "now") == 1_700_000_000_123_456_789
    unix.kill()


def test_unix_time_answers_an_unknown_op_with_invalid_request(services):
    with pytest.raises(ServiceError) as caught:
        request(services.caps[UNIX_TIME], "later")
    assert caught.value.kind == INVALID_REQUEST and "later" in caught.value.message


# -- ownership ---------------------------------------------------------------------------------


def _owner_main(factory, report):
    resource = request(factory, "new", [vm.make_capability(MONITOR)])
    report.send(b"made", [resource])
    vm.recv()  # live until killed


@pytest.mark.parametrize("factory", [TIMER_FACTORY, STOPWATCH_FACTORY])
def test_a_resource_dies_with_its_owner(services, factory):
    owner = vm.spawn(_owner_main, services.caps[factory], vm.make_capability(SEND))
    resource = vm.recv(timeout=1).caps[0]
    ref = resource.monitor()
    owner.kill()
    down = vm.recv(timeout=1)
    assert down.ref == ref and down.reason == OWNER_GONE


@pytest.mark.parametrize("factory", [TIMER_FACTORY, STOPWATCH_FACTORY])
def test_killing_a_resource_capability_removes_it_and_the_factory_goes_on(services, factory):
    resource = _new(services.caps[factory])
    ref = resource.monitor()
    resource.kill()
    down = vm.recv(timeout=1)
    assert down.ref == ref and down.reason == vm.KILLED
    assert type(_new(services.caps[factory])) is vm.Cap


def test_without_caps_1_the_reply_capability_is_the_owner(services):
    box = vm.create_mailbox()
    send_request(services.caps[TIMER_FACTORY], "new", box.make_capability(SEND | MONITOR))
    timer = read_reply(box.recv(timeout=1))
    ref = timer.monitor()
    box.destroy()  # the owner's route closes: the timer goes with it
    down = vm.recv(timeout=1)
    assert down.ref == ref and down.reason == OWNER_GONE


@pytest.mark.parametrize("factory", [TIMER_FACTORY, STOPWATCH_FACTORY])
def test_new_without_an_owner_it_can_monitor_is_refused(services, factory):
    with pytest.raises(ServiceError) as caught:
        request(services.caps[factory], "new")  # the reply capability has SEND only
    assert caught.value.kind == INVALID_REQUEST and "MONITOR" in caught.value.message
    with pytest.raises(ServiceError):
        request(services.caps[factory], "new", [vm.make_capability(SEND)])
    assert type(_new(services.caps[factory])) is vm.Cap


def test_an_owner_already_gone_gets_a_resource_that_is_already_gone(services):
    gone = vm.create_mailbox()
    owner = gone.make_capability(MONITOR)
    gone.destroy()
    timer = request(services.caps[TIMER_FACTORY], "new", [owner])
    ref = timer.monitor()
    assert vm.recv(timeout=1).ref == ref


# -- malformed requests, for every service ----------------------------------------------------


def _service_caps(services):
    """Each service, plus a timer and a stopwatch, with a request it answers."""
    return [
        (services.caps[SLEEP], 0),
        (services.caps[TIMER_FACTORY], None),
        (services.caps[STOPWATCH_FACTORY], None),
        (services.caps[UNIX_TIME], "now"),
        (_new(services.caps[TIMER_FACTORY]), ["tick", 0]),
        (_new(services.caps[STOPWATCH_FACTORY]), "lap"),
    ]


def _still_answers(cap, good):
    if good is None:
        assert type(_new(cap)) is vm.Cap
    else:
        request(cap, good, timeout=1)


@pytest.mark.parametrize(
    "data", [b"", b"\xc1", b"\x92\xa3new", b"\xa3new\x00", b"\xd6\x01\x07\x00\x00\x00",
             b"\xd6\x05\x00\x00\x00\x00"],
    ids=["empty", "never-used-byte", "truncated", "trailing-bytes", "cap-index-out-of-range",
         "unknown-extension"],
)
def test_garbage_bytes_get_invalid_request_and_every_service_goes_on(services, data):
    box = vm.create_mailbox()
    reply_to = box.make_capability(SEND)
    for cap, good in _service_caps(services):
        cap.send(data, [reply_to])
        with pytest.raises(ServiceError) as caught:
            read_reply(box.recv(timeout=1))
        assert caught.value.kind == INVALID_REQUEST
        _still_answers(cap, good)


@pytest.mark.parametrize("term", [None, 1.5, "bogus", (), ("bogus",), {"op": 7}, {}, b"new"])
def test_wrong_types_get_invalid_request_and_every_service_goes_on(services, term):
    for cap, good in _service_caps(services):
        if cap.same_route(services.caps[SLEEP]) and term == 1.5:
            continue  # a well-formed sleep
        with pytest.raises(ServiceError) as caught:
            request(cap, term, timeout=5)
        assert caught.value.kind == INVALID_REQUEST
        _still_answers(cap, good)


@pytest.mark.parametrize("reply_perms", [None, MONITOR, vm.NONE])
def test_a_request_without_a_reply_capability_is_logged_and_dropped(
    services, caplog, reply_perms
):
    box = vm.create_mailbox()
    for cap, good in _service_caps(services):
        caps = [] if reply_perms is None else [box.make_capability(reply_perms)]
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="hearth.native"):
            cap.send(b"\xa3now", caps)
            _still_answers(cap, good)
        assert "without a reply capability" in caplog.text
        assert box.try_recv() is None


def test_the_documented_bytes_are_what_the_services_speak(services, clock):
    """The wire examples of `hearth.native._time`'s docstring, byte for byte."""
    box = vm.create_mailbox()
    reply_to = box.make_capability(SEND)
    start = clock.now()
    services.caps[SLEEP].send(bytes.fromhex("cb 3f f8 00 00 00 00 00 00"), [reply_to])
    assert box.recv(timeout=5).data == bytes.fromhex("81 a2 6f 6b c0")
    assert clock.now() - start == 1.5
    owner = _owner_cap()
    services.caps[TIMER_FACTORY].send(bytes.fromhex("a3 6e 65 77"), [reply_to, owner])
    made = box.recv(timeout=1)
    assert made.data == bytes.fromhex("81 a2 6f 6b d6 01 00 00 00 00")
    (timer,) = made.caps
    start = clock.now()
    timer.send(bytes.fromhex("92 a4 74 69 63 6b cb 3f e0 00 00 00 00 00 00"), [reply_to])
    assert box.recv(timeout=5).data == bytes.fromhex("81 a2 6f 6b c0")
    assert clock.now() - start == 0.5


# -- the shared envelope ---------------------------------------------------------------------


class _Buggy(Service):
    name = "buggy"

    def handle_request(self, request):
        if request.term == "crash":
            raise RuntimeError("a bug")
        if request.term == "unencodable":
            return object()
        if request.term == "refuse":
            raise ServiceError("not_found", "nothing here", {"path": "/x"})
        if request.term == "refuse badly":
            raise ServiceError("not_found", "nothing here", {"path": object()})
        return request.term


def test_a_bug_in_a_service_is_an_internal_error_reply_and_the_service_goes_on(proc, caplog):
    buggy = spawn_service(_Buggy)
    for term in ["crash", "unencodable"]:
        with caplog.at_level(logging.ERROR, logger="hearth.native"):
            with pytest.raises(ServiceError) as caught:
                request(buggy, term)
        assert caught.value.kind == INTERNAL_ERROR
        assert "failed on a request" in caplog.text
    assert request(buggy, ["echo", 1]) == ("echo", 1)
    buggy.kill()


def test_an_error_reply_carries_its_extra_fields_as_details(proc):
    buggy = spawn_service(_Buggy)
    with pytest.raises(ServiceError) as caught:
        request(buggy, "refuse")
    assert (caught.value.kind, caught.value.message, caught.value.details) == (
        "not_found", "nothing here", {"path": "/x"})
    buggy.kill()


def test_an_error_whose_details_cannot_travel_is_sent_without_them(proc, caplog):
    buggy = spawn_service(_Buggy)
    with caplog.at_level(logging.ERROR, logger="hearth.native"):
        with pytest.raises(ServiceError) as caught:
            request(buggy, "refuse badly")
    assert (caught.value.kind, caught.value.details) == ("not_found", {})
    assert "could not encode" in caplog.text
    assert request(buggy, "still here") == "still here"
    buggy.kill()


def test_a_capability_argument_comes_back_in_a_reply_and_the_others_are_released(proc):
    buggy = spawn_service(_Buggy)
    mine = vm.make_capability(SEND)
    echoed = request(buggy, ["here", mine], [mine])
    assert echoed[0] == "here" and echoed[1] is mine  # same route and perms: same handle
    assert mine.refs == 2  # my own, and the one the reply carried
    buggy.kill()


def test_a_request_to_a_dead_service_raises_server_exited(proc):
    from hearth.otp import ServerExited

    buggy = spawn_service(_Buggy)
    buggy.kill()
    with pytest.raises(ServerExited):
        request(buggy, "hello")
