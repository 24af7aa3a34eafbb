"""The mirror (`hearth.world.run_mirror`) against a real ``hearth-server``
over a real WebSocket: a late joiner sees the world as it is; a mirror
whose connection is lost, while the world changes, resynchronises on the
next connection with no duplicates and no leftovers (docs/world.md, "The
mirror")."""

import pytest

from hearth import net, otp, vm, world
from hearth.world import WORLD, EntityTable, Resync

from tests.net.conftest import wait_until
from tests.security.world_harness import SECRET, WorldServer

MESH = bytes(range(32))


class Shown:
    """A view that records what the mirror shows, and fails on a duplicate
    or a removal of what is not shown."""

    def __init__(self):
        self.shown = {}  # id -> label
        self.log = []
        self.errors = []

    def add(self, e):
        if e["id"] in self.shown:
            self.errors.append(f"entity {e['id']} shown twice")
        self.shown[e["id"]] = e["label"]
        self.log.append(("add", e["id"]))

    def update(self, e):
        if e["id"] not in self.shown:
            self.errors.append(f"entity {e['id']} updated but never shown")
        self.shown[e["id"]] = e["label"]
        self.log.append(("update", e["id"]))

    def remove(self, e):
        if self.shown.pop(e["id"], None) is None:
            self.errors.append(f"entity {e['id']} removed but never shown")
        self.log.append(("remove", e["id"]))

    def hide(self, eid):
        self.log.append(("hide", eid))


class Uplink:
    """`find_world` for the mirror: connects (in the mirror's process) to
    the server while `up`; `peer` is the current connection."""

    def __init__(self, url):
        self.url = url
        self.up = True
        self.peer = None
        self.finds = 0

    def __call__(self):
        if not self.up:
            return None
        self.finds += 1
        self.peer = net.connect(self.url, secret=SECRET)
        return otp.lookup(self.peer.root, WORLD)


@pytest.fixture
def server(tmp_path):
    s = WorldServer(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def admin(server, proc):
    op = server.operator()
    yield otp.lookup(op.root, world.WORLD_ADMIN)
    op.close()


def labels_in_world(admin):
    return {e["id"]: e["label"] for e in world.list_entities(admin)}


def test_a_late_joiner_sees_the_world_as_it_is(server, admin):
    ids = [world.admin_add(admin, MESH, label=f"e{i}")[0] for i in range(5)]
    world.admin_remove(admin, ids[1])
    world.admin_update(admin, ids[2], label="changed")
    view, uplink = Shown(), Uplink(server.url)
    mirror = vm.spawn(world.run_mirror, uplink, view)
    try:
        wait_until(lambda: view.shown == labels_in_world(admin), timeout=20,
                   what="the mirror to show the world")
        assert view.shown == {ids[0]: "e0", ids[2]: "changed", ids[3]: "e3", ids[4]: "e4"}
        assert [k for k, _ in view.log] == ["add"] * 4 and view.errors == []
        # ... then the same changes as everyone.
        new, _ = world.admin_add(admin, MESH, label="after")
        world.admin_remove(admin, ids[0])
        wait_until(lambda: view.shown == labels_in_world(admin), timeout=20,
                   what="the mirror to follow")
        assert new in view.shown and ids[0] not in view.shown and view.errors == []
    finally:
        mirror.kill()
        if uplink.peer is not None:
            uplink.peer.close()


def test_a_reconnected_mirror_has_no_duplicates_and_no_leftovers(server, admin):
    keep, _ = world.admin_add(admin, MESH, label="kept")
    gone, _ = world.admin_add(admin, MESH, label="removed while away")
    moved, _ = world.admin_add(admin, MESH, label="before")
    view, uplink = Shown(), Uplink(server.url)
    mirror = vm.spawn(world.run_mirror, uplink, view, 0.05)
    try:
        wait_until(lambda: set(view.shown) == {keep, gone, moved}, timeout=20,
                   what="the first world")
        # Lose the connection; change the world meanwhile.
        uplink.up = False
        first = uplink.peer
        first.close()
        assert first.closed
        world.admin_remove(admin, gone)
        world.admin_update(admin, moved, label="after")
        added, _ = world.admin_add(admin, MESH, label="added while away")
        assert set(view.shown) == {keep, gone, moved}  # what it showed, until it knows better
        mark = len(view.log)
        uplink.up = True
        wait_until(lambda: view.shown == labels_in_world(admin), timeout=20,
                   what="the mirror to resynchronise")
        assert uplink.finds >= 2 and uplink.peer is not first
        assert view.shown == {keep: "kept", moved: "after", added: "added while away"}
        assert sorted(view.log[mark:]) == sorted(
            [("remove", gone), ("update", moved), ("add", added)])
        assert view.errors == []
    finally:
        mirror.kill()
        if uplink.peer is not None:
            uplink.peer.close()


def test_the_table_diffs_a_world_event_and_refuses_a_gap():
    t = EntityTable()
    t.expect(3)
    assert t.apply({"event": "added", "seq": 3, "entity": {"id": 9}}) == []  # stale: dropped
    a, b = {"id": 1, "label": "a"}, {"id": 2, "label": "b"}
    assert t.apply({"event": "world", "seq": 3, "entities": [a, b]}) == [
        ("added", a), ("added", b)]
    b2 = {"id": 2, "label": "b2"}
    assert t.apply({"event": "updated", "seq": 4, "entity": b2}) == [("updated", b2)]
    with pytest.raises(Resync):
        t.apply({"event": "removed", "seq": 6, "id": 1})
    t.expect(10)
    c = {"id": 3, "label": "c"}
    assert t.apply({"event": "world", "seq": 10, "entities": [b2, c]}) == [
        ("removed", a), ("added", c)]
    assert t.labels() == ["b2", "c"]
