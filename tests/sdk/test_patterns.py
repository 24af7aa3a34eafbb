"""The SDK's guest-side patterns (kindling/sdk/hearth_patterns.c) in real
guests: pub-sub over watches (monitor-based ownership: a member whose route
closes is dropped), and the supervisor of child guests (one_for_one,
permanent / transient / temporary, restart intensity, an exit from outside)."""

import pytest

from hearth import vm
from hearth.native import request
from hearth.otp import ServiceError


def member():
    mb = vm.current_process().create_mailbox()
    return mb, mb.make_capability(vm.SEND | vm.MONITOR)


def test_pubsub_fans_out_and_drops_members_whose_route_closes(proc, build_guest):
    room = vm.spawn_guest(build_guest("patterns_room"))
    (a, a_cap), (b, b_cap) = member(), member()
    assert request(room, "join", [a_cap]) is True
    assert request(room, "join", [b_cap]) is True
    assert request(room, "join", [a_cap]) is False  # once
    assert request(room, ["post", "hello"]) == 2
    assert a.recv().data == b"hello" and b.recv().data == b"hello"
    assert request(room, "join", [a.make_capability(vm.SEND)]) is False  # can't be watched
    b.destroy()  # its route closes: the room's watch sees it
    assert request(room, "members") == 1 and request(room, "dropped") == 1
    assert request(room, "leave", [a_cap]) is True
    assert request(room, ["post", "anyone?"]) == 0
    assert a.try_recv() is None
    with pytest.raises(ServiceError) as info:
        request(room, ["post", 5])
    assert info.value.kind == "invalid_request"
    room.kill()


def start_supervisor(build_guest):
    report = vm.current_process().create_mailbox()
    sup = vm.spawn_guest(build_guest("patterns_sup"), report.make_capability(vm.SEND))
    workers = {}
    for _ in range(3):
        up(report, workers)
    return sup, report, workers


def up(report, workers):
    sig = report.recv(timeout=10)
    assert sig is not None, "no worker came up"
    letter = sig.data.decode()
    workers[letter] = sig.caps[0]
    return letter


def down_of(cap):
    mb = vm.current_process().create_mailbox()
    cap.monitor(mb)
    return mb


def test_the_supervisor_restarts_by_each_childs_restart_type(proc, build_guest):
    sup, report, workers = start_supervisor(build_guest)
    assert set(workers) == {"P", "T", "X"} and request(sup, "count") == 3
    workers["P"].send(b"crash")
    assert up(report, workers) == "P"  # permanent: back
    quits, crashes = down_of(workers["T"]), down_of(workers["X"])
    workers["T"].send(b"quit")  # transient, normal exit: stays down
    workers["X"].send(b"crash")  # temporary: stays down
    assert quits.recv(timeout=10).reason == "normal"
    crashes.recv(timeout=10).cap.release()
    workers["T"].send(b"crash")  # already gone: nothing
    assert request(sup, "count") == 1 and request(sup, "restarts") == 1
    assert report.try_recv() is None
    sup.kill()


def test_the_supervisor_gives_up_past_its_intensity_and_takes_its_children(proc, build_guest):
    sup, report, workers = start_supervisor(build_guest)
    watch = down_of(sup)
    for _ in range(3):  # three restarts in the window are allowed
        workers["P"].send(b"crash")
        assert up(report, workers) == "P"
    others = [down_of(workers[k]) for k in ("T", "X")]
    workers["P"].send(b"crash")  # the fourth is one too many
    assert watch.recv(timeout=10).reason == "shutdown"
    for mb in others:
        assert mb.recv(timeout=10).reason == "killed"


def test_an_exit_from_outside_ends_the_supervisor_and_its_children(proc, build_guest):
    sup, report, workers = start_supervisor(build_guest)
    watch = down_of(sup)
    children = [down_of(w) for w in workers.values()]
    sup.exit(("shutdown", "upgrade"))
    assert watch.recv(timeout=10).reason == ("shutdown", "upgrade")
    for mb in children:
        assert mb.recv(timeout=10).reason == "killed"


def test_an_unparseable_request_to_the_supervisor_is_refused(proc, build_guest):
    sup, _, _ = start_supervisor(build_guest)
    with pytest.raises(ServiceError) as info:
        request(sup, "which")
    assert info.value.kind == "invalid_request"
    sup.kill()


def test_a_timer_child_ends_with_the_process_that_started_it(proc, build_guest):
    # panic-test's delay is an SDK timer; a far one must not outlive it.
    import pathlib
    import time

    import gevent

    wasm = (pathlib.Path(__file__).parents[2] / "kindling" / "root" / "init" / "panic-test"
            / "panic-test.wasm").read_bytes()
    alone = len(proc.runtime)
    guest = vm.spawn_guest(wasm)
    assert request(guest, ["panic", 1_000_000]) == "panicking"
    assert len(proc.runtime) == alone + 2  # the guest and its timer
    gone = down_of(guest)
    guest.kill()
    assert gone.recv(timeout=10).reason == "killed"
    deadline = time.monotonic() + 20
    while len(proc.runtime) != alone:
        assert time.monotonic() < deadline, (
            f"the timer outlived its parent: {[p.name for p in proc.runtime.processes()]}")
        gevent.sleep(0.01)
