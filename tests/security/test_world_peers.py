"""``hearth.World`` against authenticated but untrusted peers, end to end:
a real hearth-server subprocess, real WebSocket peers from this process,
the real ``hearth-ctl`` (docs/world.md).

Peers reach ``hearth.World`` through the registry view every peer gets;
``hearth.World.Admin`` is not in it. Entities leave when their owner dies
or its connection is lost; one peer cannot touch another's entities.
"""

import json

import pytest

from hearth import otp, vm, world
from hearth.otp import ServiceError
from hearth.vm import MONITOR, SEND, Message
from hearth.world import WORLD, WORLD_ADMIN

from tests.security.world_harness import serve_world

MESH = bytes(range(32))


@pytest.fixture
def server(tmp_path):
    yield from serve_world(tmp_path)


@pytest.fixture
def operator(server, proc):
    op = server.operator()
    yield op
    op.close()


def watch(op_root):
    """Subscribe a mailbox of the test's through the operator's registry;
    returns the mailbox, after the "world" event."""
    mb = vm.current_process().create_mailbox()
    world.subscribe(otp.lookup(op_root, WORLD), mb.make_capability(SEND | MONITOR))
    first = next_event(mb)
    assert first["event"] == "world"
    return mb


def next_event(mb):
    sig = mb.recv(timeout=30)
    assert type(sig) is Message, sig
    return otp.decode(sig.data, sig.caps)


def test_peers_see_the_world_but_not_its_admin(server, proc):
    with server.peer() as peer:
        names = otp.registered(peer.root)
        assert WORLD in names and WORLD_ADMIN not in names
        assert otp.lookup(peer.root, WORLD_ADMIN) is None


def test_a_lost_connection_takes_its_entities_out_of_the_world(server, operator, proc):
    events = watch(operator.root)
    peer = server.peer()
    pub = otp.lookup(peer.root, WORLD)
    eid, _ = world.add(pub, vm.make_capability(MONITOR), MESH, label="from a peer")
    added = next_event(events)
    assert added["event"] == "added" and added["entity"]["id"] == eid
    assert added["entity"]["owner"].startswith("peer route")
    peer.close()  # the connection is lost: the world's monitor says noconnection
    removed = next_event(events)
    assert removed["event"] == "removed" and removed["id"] == eid
    assert removed["reason"] == "owner_gone" and "noconnection" in removed["detail"]
    assert world.list_entities(otp.lookup(operator.root, WORLD)) == []


def _owner_on_the_peer(pub, out):
    eid, _ = world.add(pub, vm.make_capability(MONITOR), MESH, label="owned by a process")
    out.send(otp.encode(eid)[0])
    vm.recv()  # until it dies


def test_a_peer_process_that_dies_takes_its_entities_with_it(server, operator, proc):
    events = watch(operator.root)
    with server.peer() as peer:
        pub = otp.lookup(peer.root, WORLD)
        mb = proc.create_mailbox()
        owner = vm.spawn(_owner_on_the_peer, pub, mb.make_capability(SEND))
        eid = otp.decode(mb.recv(timeout=30).data)
        assert next_event(events)["event"] == "added"
        owner.kill()
        removed = next_event(events)
        assert removed["id"] == eid and removed["reason"] == "owner_gone"
        assert "killed" in removed["detail"]
        # The connection is still up: only the dead process's entities left.
        assert world.list_entities(pub) == []


def test_a_second_peer_cannot_change_or_remove_the_first_peers_entities(server, operator, proc):
    with server.peer() as first, server.peer() as second:
        mine, cap = world.add(otp.lookup(first.root, WORLD), vm.make_capability(MONITOR), MESH,
                              label="first's")
        pub2 = otp.lookup(second.root, WORLD)
        assert [e["id"] for e in world.list_entities(pub2)] == [mine]  # it may look
        for term in (["update", mine, {"label": "stolen"}], ["remove", mine],
                     ["entity", mine]):
            with pytest.raises(ServiceError) as e:
                otp.request(pub2, term)
            assert e.value.kind == "invalid_request"
            assert f"unknown op {term[0]!r}" in e.value.message
        # Ownership can't be claimed by naming the world as the owner, and
        # persistence is the admin's.
        with pytest.raises(ServiceError) as e:
            world.add(pub2, pub2, MESH)
        assert "can't own" in e.value.message
        with pytest.raises(ServiceError) as e:
            otp.request(pub2, ["add", {"mesh": MESH, "persistent": True}],
                        [vm.make_capability(MONITOR)])
        assert e.value.kind == "permission_denied"
        # The first peer's entity is as it was, and its capability works.
        [e] = world.list_entities(pub2)
        assert e["label"] == "first's"
        world.update(cap, label="still first's")
        assert world.get(cap)["label"] == "still first's"
    assert server.program.proc.poll() is None


def test_a_late_joiner_gets_the_world_then_changes_in_order(server, proc):
    with server.peer() as early, server.peer() as late:
        pub = otp.lookup(early.root, WORLD)
        a, cap_a = world.add(pub, vm.make_capability(MONITOR), MESH, label="a")
        b, cap_b = world.add(pub, vm.make_capability(MONITOR), MESH, label="b")
        mb = proc.create_mailbox()
        seq = world.subscribe(otp.lookup(late.root, WORLD), mb.make_capability(SEND | MONITOR))
        first = next_event(mb)
        assert first["event"] == "world" and first["seq"] == seq
        assert [e["label"] for e in first["entities"]] == ["a", "b"]
        moves = [(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, x, 0, 0, 1) for x in range(10)]
        for m in moves:
            world.update(cap_a, transform=m)
        world.remove(cap_b)
        got = [next_event(mb) for _ in range(11)]
        assert [e["seq"] for e in got] == list(range(seq + 1, seq + 12))
        assert [e["entity"]["transform"][12] for e in got[:10]] == [float(x) for x in range(10)]
        assert got[10]["event"] == "removed" and got[10]["id"] == b


def test_bad_input_from_a_peer_gets_clear_errors_and_the_world_keeps_serving(server, proc):
    with server.peer() as peer:
        pub = otp.lookup(peer.root, WORLD)
        mb = proc.create_mailbox()
        reply = mb.make_capability(SEND)
        cases = [
            (b"\xc1", [vm.make_capability(MONITOR)], "malformed message"),
            (otp.encode(["add", {"mesh": MESH, "transform": "up"}])[0],
             [vm.make_capability(MONITOR)], "16 numbers"),
            (otp.encode(["add", {"mesh": MESH, "label": "x" * 1000}])[0],
             [vm.make_capability(MONITOR)], "at most 200"),
            (otp.encode(["add", {"mesh": MESH}])[0], [], "owner's capability"),
            (otp.encode(["add", {"mesh": MESH}])[0], [vm.make_capability(SEND)],
             "needs MONITOR"),
            (otp.encode("subscribe")[0], [vm.make_capability(SEND)], "SEND and MONITOR"),
            (otp.encode({"op": "teleport"})[0], [], "unknown op 'teleport'"),
        ]
        for data, args, needle in cases:
            pub.send(data, [reply, *args])
            with pytest.raises(ServiceError) as e:
                otp.read_reply(mb.recv(timeout=30))
            assert needle in e.value.message, e.value.message
        # A request without a reply capability is dropped, not answered.
        pub.send(otp.encode("list")[0], [])
        assert world.list_entities(pub) == []


def test_a_dead_owner_capability_adds_an_entity_that_leaves_at_once(server, operator, proc):
    events = watch(operator.root)
    with server.peer() as peer:
        pub = otp.lookup(peer.root, WORLD)
        mb = proc.create_mailbox()
        dead = mb.make_capability(MONITOR)
        mb.destroy()
        eid, cap = world.add(pub, dead, MESH)
        assert next_event(events)["event"] == "added"
        removed = next_event(events)
        assert removed["id"] == eid and removed["reason"] == "owner_gone"
        with pytest.raises((ServiceError, otp.ServerExited)):
            world.get(cap)


def test_hearth_ctl_world_lists_and_the_operator_removes(server, operator, proc):
    code, out, err = server.ctl("world")
    assert code == 0 and "the world is empty" in out
    with server.peer() as peer:
        pub = otp.lookup(peer.root, WORLD)
        eid, cap = world.add(pub, vm.make_capability(MONITOR), MESH, label="a lamp",
                             transform=(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1.5, 2, -3, 1))
        code, out, err = server.ctl("world")
        assert code == 0, err
        header, row = out.splitlines()
        assert header.split() == ["ID", "OWNER", "LABEL", "POSITION", "PERSISTENT"]
        assert row.split()[0] == str(eid) and "a lamp" in row and "1.5 2 -3" in row
        code, out, err = server.ctl("world", "--json")
        [e] = json.loads(out)
        assert e["id"] == eid and e["label"] == "a lamp" and e["position"] == [1.5, 2, -3]
        assert e["mesh"] == {"hex": MESH.hex()}
        code, out, err = server.ctl("world", "remove", str(eid), "--json")
        assert code == 0 and json.loads(out) == {"removed": eid}
        assert world.list_entities(pub) == []
        code, out, err = server.ctl("world", "remove", str(eid))
        assert code == 4 and f"no entity {eid}" in err
        code, out, err = server.ctl("world", "remove", "twelve")
        assert code == 2


def test_one_peer_cannot_fill_the_world_or_take_every_subscription(server, proc):
    with server.peer() as greedy, server.peer() as other:
        pub = otp.lookup(greedy.root, WORLD)
        owner = vm.make_capability(MONITOR)
        for _ in range(256):
            world.add(pub, owner, MESH)
        with pytest.raises(ServiceError) as e:
            world.add(pub, vm.make_capability(MONITOR), MESH)
        assert e.value.kind == "limit_reached"
        assert "a peer may own at most 256 entities" in e.value.message
        for _ in range(4):
            world.subscribe(pub, proc.create_mailbox().make_capability(SEND | MONITOR))
        with pytest.raises(ServiceError) as e:
            world.subscribe(pub, proc.create_mailbox().make_capability(SEND | MONITOR))
        assert e.value.kind == "limit_reached" and "at most 4 times" in e.value.message
        # Another peer is not held back by the first one's share.
        other_pub = otp.lookup(other.root, WORLD)
        world.add(other_pub, vm.make_capability(MONITOR), MESH)
        world.subscribe(other_pub, proc.create_mailbox().make_capability(SEND | MONITOR))
        assert len(world.list_entities(other_pub)) == 257


def test_a_peer_cannot_make_a_route_of_the_server_own_or_subscribe(server, proc):
    with server.peer() as peer:
        pub = otp.lookup(peer.root, WORLD)
        clock = otp.lookup(peer.root, "clock")
        for stand_in in (peer.root, clock):
            with pytest.raises(ServiceError) as e:
                world.add(pub, stand_in, MESH)
            assert "must be a route of your own" in e.value.message
            with pytest.raises(ServiceError) as e:
                world.subscribe(pub, stand_in)
            assert "must be a route of your own" in e.value.message
        assert world.list_entities(pub) == []
