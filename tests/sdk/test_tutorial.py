"""docs/sdk.md's "Writing a world service as a guest": each step's file is
taken from the page, built with the SDK and run against a real
``hearth.World``, as init runs a wasm service (an upgradable guest service
with its registry view at handle 0)."""

import pathlib
import re

import pytest

from hearth import vm
from hearth.native import request, start_guest_service, upgrade_guest_service
from hearth.otp import ServiceError, decode, lookup, registry_view, start_registry
from hearth.world import start_world

DOC = pathlib.Path(__file__).parents[2] / "docs" / "sdk.md"
STEP = re.compile(r"<!-- tutorial step (\d) -->\n```c\n(.*?)```", re.S)
LABEL = "a guest's cube"


def steps():
    return {int(n): code for n, code in STEP.findall(DOC.read_text(encoding="utf-8"))}


def test_the_page_has_the_three_steps():
    assert sorted(steps()) == [1, 2, 3]


@pytest.fixture
def built(build_guest):
    def built(n):
        return build_guest(f"tutorial_step{n}", source=steps()[n])
    return built


@pytest.fixture
def world(proc):
    registry = start_registry()
    start_world(registry)
    return registry


def start(registry, wasm):
    lump = vm.current_runtime().lumps.put(wasm)
    view = registry_view(registry, read_only=True, names=["hearth.World"])
    svc = start_guest_service(lump, view, name="cube")
    view.release()
    return svc, lump


def subscribe(registry):
    """A mailbox of the test's subscribed to the world; skips the snapshot."""
    mb = vm.current_process().create_mailbox()
    subscriber = mb.make_capability(vm.SEND | vm.MONITOR)
    request(lookup(registry, "hearth.World"), "subscribe", [subscriber])
    assert decode(mb.recv().data)["event"] == "world"
    return mb


def next_event(mb):
    sig = mb.recv(timeout=10)
    assert sig is not None, "no world event in 10 s"
    for cap in sig.caps:
        cap.release()
    return decode(sig.data)


def test_step_1_is_a_service(world, built):
    svc, _ = start(world, built(1))
    assert request(svc.cap, "ping") == "pong"
    with pytest.raises(ServiceError) as info:
        request(svc.cap, "pong")
    assert info.value.kind == "invalid_request" and info.value.message == "ops: ping"
    svc.front.kill()


def test_step_2_puts_a_cube_in_the_world_that_leaves_with_the_guest(world, built):
    events = subscribe(world)
    svc, _ = start(world, built(2))
    added = next_event(events)
    assert added["event"] == "added" and added["entity"]["label"] == LABEL
    assert added["entity"]["transform"][12:15] == (2.0, 0.5, 0.0)
    assert request(svc.cap, "ping") == "pong"
    svc.front.kill()
    removed = next_event(events)
    assert removed["event"] == "removed" and removed["id"] == added["entity"]["id"]
    assert removed["reason"] == "owner_gone"


def test_step_3_moves_the_cube_and_survives_an_upgrade(world, built):
    events = subscribe(world)
    svc, lump = start(world, built(3))
    added = next_event(events)
    assert added["event"] == "added"
    seen = set()
    while len(seen) < 3:  # the ticker moves it round the circle
        ev = next_event(events)
        assert ev["event"] == "updated" and ev["entity"]["id"] == added["entity"]["id"]
        seen.add(ev["entity"]["transform"][12:15])
    assert all(x * x + z * z == pytest.approx(4, rel=1e-4) for x, _, z in seen)
    assert request(svc.cap, "angle") > 0
    done = upgrade_guest_service(svc.front, lump)
    assert done["version"] == 2 and done["old_exit"] == "normal"
    kinds = set()
    while not {"added", "removed"} <= kinds:  # the old cube leaves with its guest, a new one comes
        ev = next_event(events)
        kinds.add(ev["event"])
        if ev["event"] == "removed":
            assert ev["id"] == added["entity"]["id"] and ev["reason"] == "owner_gone"
        elif ev["event"] == "added":
            assert ev["entity"]["id"] != added["entity"]["id"]
    assert request(svc.cap, "ping") == "pong"  # the same capability, the new version
    svc.front.kill()
