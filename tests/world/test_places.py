"""Start places (docs/world.md, "Avatars"): every name starts at a place of
its own on a circle around the origin, facing the centre, and a headless
client's avatar stays there instead of inside everyone else's."""

import numpy as np

from hearth import otp, vm, world
from hearth.world import WORLD, start_pose, start_view
from tests.net.conftest import wait_until

NAMES = [f"user{i}" for i in range(10)] + ["a", "b", "alice", "bob"]


def matrix(m):
    return np.asarray(m, dtype=float).reshape(4, 4).T


def test_each_name_starts_apart_facing_the_centre():
    places = []
    for name in NAMES:
        pose = matrix(start_pose(name))
        assert np.allclose(pose @ matrix(start_view(name)), np.identity(4))
        assert start_pose(name) == start_pose(name)  # the same name, the same place
        position = pose[:3, 3]
        assert abs(np.hypot(position[0], position[2]) - 10.0) < 1e-9
        forward = -pose[:3, 2]  # a camera looks down its -z
        to_centre = -position / np.linalg.norm(position)
        assert forward @ to_centre > 0.95
        # Within 50 degrees of +z or -z: where the board (facing +-z) reads.
        assert abs(position[0]) <= np.tan(np.radians(50)) * abs(position[2]) + 1e-9
        places.append(position)
    gaps = [np.linalg.norm(p - q) for i, p in enumerate(places) for q in places[i + 1:]]
    assert min(gaps) > 0.05 and np.median(gaps) > 2.0  # avatars are cubes of half-size 1


def _avatar(registry, name):
    world.run_avatar(lambda: otp.lookup(registry, WORLD), name, bytes(32))


def test_a_headless_avatar_stays_at_its_start_place(proc):
    registry = otp.start_registry()
    world.start_world(registry, data_dir=None)
    pub = otp.lookup(registry, WORLD)
    for name in ("a", "b"):
        vm.spawn(_avatar, registry, name, name=f"avatar {name}")
    wait_until(lambda: len(world.list_entities(pub)) == 2, timeout=10, what="two avatars")
    by_label = {e["label"]: e for e in world.list_entities(pub)}
    for name in ("a", "b"):
        assert by_label[name]["transform"] == tuple(start_pose(name))
