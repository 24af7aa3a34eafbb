"""``hearth.World`` in one runtime (docs/world.md): entities, ownership
through capabilities, subscriptions, bad input and the bounds.

Real parts: a real runtime with a real registry and the real world process
and its forwarders; processes that own entities are real processes that
really die. The same rules across a real network are in
tests/security/test_world_peers.py.
"""

import pytest

from hearth import otp, vm, world
from hearth.otp import ServiceError, ServerExited
from hearth.vm import MONITOR, SEND, Down, Message
from hearth.world import Limits, WORLD, WORLD_ADMIN

MESH = bytes(range(32))
MAT = bytes(range(1, 33))
MOVED = (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 6, 7, 1)


@pytest.fixture
def registry(proc):
    return otp.start_registry()


@pytest.fixture
def started(registry):
    return world.start_world(registry, data_dir=None)


@pytest.fixture
def pub(started, registry):
    return otp.lookup(registry, WORLD)


@pytest.fixture
def admin(started, registry):
    return otp.lookup(registry, WORLD_ADMIN)


def me():
    return vm.make_capability(MONITOR)


def _owner_body(world_cap, out):
    eid, cap = world.add(world_cap, vm.make_capability(MONITOR), MESH, label="mine")
    out.send(b"", [cap])
    vm.recv()  # until killed


def spawn_owner(pub):
    """A process that adds an entity and waits; returns (its cap, the
    entity cap it handed over)."""
    mb = vm.current_process().create_mailbox()
    out = mb.make_capability(SEND)
    pid = vm.spawn(_owner_body, pub, out)
    msg = mb.recv(timeout=5)
    entity = msg.caps[0]
    return pid, entity


def events(mb, n):
    out = []
    for _ in range(n):
        sig = mb.recv(timeout=5)
        assert type(sig) is Message, sig
        out.append(otp.decode(sig.data, sig.caps))
    return out


def test_add_then_list_shows_the_entity_with_its_fields(pub):
    eid, cap = world.add(pub, me(), MESH, transform=MOVED, material=MAT, label="a cube")
    [e] = world.list_entities(pub)
    assert e["id"] == eid
    assert e["label"] == "a cube" and e["mesh"] == MESH and e["material"] == MAT
    assert e["transform"] == tuple(float(x) for x in MOVED)
    assert e["persistent"] is False and e["owner"].startswith("route ")
    assert cap.permissions == SEND | MONITOR


def test_the_entity_capability_updates_and_removes_its_entity(pub):
    eid, cap = world.add(pub, me(), MESH)
    world.update(cap, transform=MOVED, label="moved")
    got = world.get(cap)
    assert got["label"] == "moved" and got["transform"][12:15] == (5.0, 6.0, 7.0)
    ref = cap.monitor()
    world.remove(cap)
    assert world.list_entities(pub) == []
    down = vm.recv(timeout=5)
    assert type(down) is Down and down.ref == ref  # the door closes with the entity
    with pytest.raises(ServerExited):
        world.get(cap)


def test_when_the_owner_dies_its_entities_leave_the_world(pub):
    owner, entity = spawn_owner(pub)
    assert [e["label"] for e in world.list_entities(pub)] == ["mine"]
    ref = entity.monitor()
    owner.kill()
    down = vm.recv(timeout=5)
    assert type(down) is Down and down.ref == ref
    assert world.list_entities(pub) == []


def test_an_owner_already_dead_adds_nothing_that_stays(pub):
    mb = vm.current_process().create_mailbox()
    dead = mb.make_capability(MONITOR)
    mb.destroy()
    eid, cap = world.add(pub, dead, MESH)
    ref = cap.monitor()
    down = vm.recv(timeout=5)
    assert type(down) is Down and down.ref == ref
    assert world.list_entities(pub) == []


def test_only_the_admin_changes_an_entity_by_id(pub, admin):
    eid, cap = world.add(pub, me(), MESH)
    with pytest.raises(ServiceError) as e:
        otp.request(pub, ["update", eid, {"label": "x"}])
    assert e.value.kind == "invalid_request" and "unknown op 'update'" in e.value.message
    with pytest.raises(ServiceError) as e:
        otp.request(pub, ["remove", eid])
    assert e.value.kind == "invalid_request"
    world.admin_update(admin, eid, label="by admin")
    assert world.get(cap)["label"] == "by admin"
    world.admin_remove(admin, eid)
    assert world.list_entities(pub) == []
    with pytest.raises(ServiceError) as e:
        world.admin_remove(admin, eid)
    assert e.value.kind == "not_found" and f"no entity {eid}" in e.value.message


def test_a_subscriber_gets_the_world_first_then_changes_in_order(pub):
    a, cap_a = world.add(pub, me(), MESH, label="early")
    mb = vm.current_process().create_mailbox()
    seq = world.subscribe(pub, mb.make_capability(SEND | MONITOR))
    world.update(cap_a, label="changed")
    b, cap_b = world.add(pub, me(), MESH, label="late")
    world.remove(cap_a)
    got = events(mb, 4)
    assert [e["event"] for e in got] == ["world", "updated", "added", "removed"]
    assert [e["seq"] for e in got] == [seq, seq + 1, seq + 2, seq + 3]
    assert [x["label"] for x in got[0]["entities"]] == ["early"]
    assert got[1]["entity"]["label"] == "changed"
    assert got[2]["entity"]["id"] == b
    assert got[3]["id"] == a and got[3]["reason"] == "removed"


def test_a_dead_subscriber_is_dropped_and_a_second_subscribe_is_refused(pub):
    mb = vm.current_process().create_mailbox()
    sub = mb.make_capability(SEND | MONITOR)
    world.subscribe(pub, sub)
    with pytest.raises(ServiceError) as e:
        world.subscribe(pub, sub)
    assert "subscribed already" in e.value.message
    mb.destroy()
    # The world drops it on the Down: a new mailbox can subscribe, and the
    # old route is no longer counted.
    mb2 = vm.current_process().create_mailbox()
    world.subscribe(pub, mb2.make_capability(SEND | MONITOR))
    world.unsubscribe(pub, mb2.make_capability(SEND))
    with pytest.raises(ServiceError) as e:
        world.unsubscribe(pub, mb2.make_capability(SEND))
    assert e.value.kind == "not_found"


@pytest.mark.parametrize("term, args, needle", [
    (b"\xc1", 1, "malformed message"),
    (["add"], 1, "add takes 1 field"),
    (["add", {"label": "x"}], 1, "needs a 'mesh'"),
    (["add", {"mesh": b"short"}], 1, "32 bytes"),
    (["add", {"mesh": MESH, "transform": [1, 2, 3]}], 1, "16 numbers"),
    (["add", {"mesh": MESH, "transform": [float("nan")] * 16}], 1, "finite"),
    (["add", {"mesh": MESH, "label": "x" * 201}], 1, "at most 200"),
    (["add", {"mesh": MESH, "colour": 1}], 1, "unknown field"),
    (["add", {"mesh": MESH}], 0, "owner's capability in caps[1]"),
    ("fly", 1, "unknown op 'fly'"),
])
def test_malformed_requests_get_clear_errors_and_the_world_keeps_serving(pub, term, args, needle):
    mb = vm.current_process().create_mailbox()
    reply = mb.make_capability(SEND)
    extra = [me()] if args else []
    if isinstance(term, bytes):
        pub.send(term, [reply, *extra])
    else:
        otp.send_request(pub, term, reply, extra)
    with pytest.raises(ServiceError) as e:
        otp.read_reply(mb.recv(timeout=5))
    assert e.value.kind == "invalid_request"
    assert needle in e.value.message
    assert world.list_entities(pub) == []


def test_an_owner_without_monitor_is_refused(pub):
    with pytest.raises(ServiceError) as e:
        world.add(pub, vm.make_capability(SEND), MESH)
    assert "needs MONITOR" in e.value.message


def test_the_world_refuses_to_own_an_entity(pub):
    with pytest.raises(ServiceError) as e:
        world.add(pub, pub, MESH)
    assert "can't own" in e.value.message


def test_only_the_admin_adds_persistent_entities(pub):
    with pytest.raises(ServiceError) as e:
        otp.request(pub, ["add", {"mesh": MESH, "persistent": True}], [me()])
    assert e.value.kind == "permission_denied"
    assert "only the world's admin" in e.value.message


def test_the_world_is_bounded(registry):
    world.start_world(registry, limits=Limits(entities=3, subscribers=1))
    pub = otp.lookup(registry, WORLD)
    for _ in range(3):
        world.add(pub, me(), MESH)
    with pytest.raises(ServiceError) as e:
        world.add(pub, me(), MESH)
    assert e.value.kind == "limit_reached" and "full (3 entities)" in e.value.message
    world.subscribe(pub, vm.current_process().create_mailbox().make_capability(SEND | MONITOR))
    with pytest.raises(ServiceError) as e:
        world.subscribe(pub, vm.current_process().create_mailbox().make_capability(
            SEND | MONITOR))
    assert e.value.kind == "limit_reached"


def test_a_canvas_material_travels_as_a_capability(pub):
    canvas_mb = vm.current_process().create_mailbox()
    canvas = canvas_mb.make_capability(SEND)
    events_mb = vm.current_process().create_mailbox()
    world.subscribe(pub, events_mb.make_capability(SEND | MONITOR))
    eid, cap = world.add(pub, me(), MESH, material=canvas)
    [_, added] = events(events_mb, 2)
    got = added["entity"]["material"]
    assert isinstance(got, vm.Cap) and got.same_route(canvas)
    world.update(cap, material=MAT)
    [updated] = events(events_mb, 1)
    assert updated["entity"]["material"] == MAT
