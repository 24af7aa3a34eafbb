"""A peer's updates of its own entities are bounded (docs/world.md,
"Limits"): each update goes to every subscriber, so one connection's rate
of them is the rate the world fans out for it. A real hearth-server, real
WebSocket peers from this process."""

import time

import pytest

from hearth import otp, vm, world
from hearth.otp import ServiceError
from hearth.vm import MONITOR
from hearth.world import WORLD, Limits
from tests.security.world_harness import serve_world

MESH = bytes(range(32))
DEFAULTS = Limits()


@pytest.fixture
def server(tmp_path):
    yield from serve_world(tmp_path)


def transform(x):
    return (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, float(x), 0, 0, 1)


def test_one_peer_cannot_make_the_world_fan_out_updates_without_bound(server, proc):
    with server.peer() as greedy, server.peer() as other:
        pub = otp.lookup(greedy.root, WORLD)
        caps = [world.add(pub, vm.make_capability(MONITOR), MESH)[1] for _ in range(2)]
        start = time.monotonic()
        sent = 0
        with pytest.raises(ServiceError) as e:
            for i in range(20 * DEFAULTS.updates_burst):
                world.update(caps[i % 2], transform=transform(i))  # both of its entities
                sent += 1
        elapsed = time.monotonic() - start
        assert e.value.kind == "limit_reached"
        assert (f"updated at most {DEFAULTS.updates_per_second:g} times a second"
                f" ({DEFAULTS.updates_burst} at once): try again in") in e.value.message
        # The bucket: its burst, plus what refilled while the updates went.
        assert DEFAULTS.updates_burst <= sent
        assert sent <= DEFAULTS.updates_burst + DEFAULTS.updates_per_second * elapsed + 1
        # Refused updates changed nothing; another connection is not held back.
        assert world.get(caps[sent % 2])["transform"] != transform(sent)
        _, theirs = world.add(otp.lookup(other.root, WORLD), vm.make_capability(MONITOR), MESH)
        for i in range(DEFAULTS.updates_burst):
            world.update(theirs, transform=transform(i))
        assert world.get(theirs)["transform"] == transform(DEFAULTS.updates_burst - 1)
        # After the wait the refusal names, the greedy peer may again.
        wait = float(e.value.message.rsplit("try again in ", 1)[1].split()[0])
        vm.recv(timeout=wait + 0.05)
        world.update(caps[0], transform=transform(-1))
        assert world.get(caps[0])["transform"] == transform(-1)


def test_the_operators_entities_are_not_counted(server, proc):
    with server.operator() as op:
        pub = otp.lookup(op.root, WORLD)
        _, cap = world.add(pub, vm.make_capability(MONITOR), MESH)
        for i in range(DEFAULTS.updates_burst + 20):
            world.update(cap, transform=transform(i))
        assert world.get(cap)["transform"] == transform(DEFAULTS.updates_burst + 19)
