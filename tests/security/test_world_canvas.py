"""Canvases painted by untrusted peers, end to end (docs/world.md,
"Canvases"): a real hearth-server, real WebSocket peers from this process.

A peer's paint becomes lumps in the server's store that another peer
fetches by hash; what one peer can make the server hold and send is
bounded (the image's size, the bytes a second and the bytes held per
connection), each refusal a ``limit_reached`` saying which bound, and the
world keeps serving.
"""

import msgpack
import pytest

from hearth import otp, vm, world
from hearth.otp import ServiceError
from hearth.vm import MONITOR, SEND, Message
from hearth.world import WORLD, Limits
from tests.security.world_harness import serve_world

MESH = bytes(range(32))
MIB = 1 << 20
DEFAULTS = Limits()


@pytest.fixture
def server(tmp_path):
    yield from serve_world(tmp_path)


def next_event(mb):
    while True:
        sig = mb.recv(timeout=30)
        assert type(sig) is Message, sig
        ev = otp.decode(sig.data, sig.caps)
        if ev.get("event") != "world":
            return ev


def paint_when_allowed(cap, w, h, rgba, tries=40):
    """Paint, waiting as long as the server says when its byte rate refuses
    (bounded: `tries` refusals)."""
    for _ in range(tries):
        try:
            return world.paint(cap, w, h, rgba)
        except ServiceError as e:
            if e.kind != "limit_reached" or "try again in" not in e.message:
                raise
            vm.recv(timeout=float(e.message.rsplit("try again in ", 1)[1].split()[0]) + 0.05)
    raise AssertionError("the server kept refusing")


def test_a_peers_paint_reaches_another_peer_as_lumps_of_the_server(server, proc):
    with server.peer() as painter, server.peer() as viewer:
        mb = proc.create_mailbox()
        world.subscribe(otp.lookup(viewer.root, WORLD), mb.make_capability(SEND | MONITOR))
        _, cap = world.add(otp.lookup(painter.root, WORLD), vm.make_capability(MONITOR), MESH,
                           label="a board")
        assert next_event(mb)["event"] == "added"
        rgba = bytes([9, 99, 199, 255]) * (16 * 8)
        world.paint(cap, 16, 8, rgba)
        ev = next_event(mb)
        assert ev["event"] == "updated"
        material = ev["entity"]["material"]
        runtime = vm.current_runtime()
        assert not runtime.lumps.has(material)  # painted on the server, not here
        assert runtime.fetch_lump(material, timeout=30)
        texture = msgpack.unpackb(runtime.lumps.get(material), raw=False)["albedo_texture"]
        assert runtime.fetch_lump(texture, timeout=30)
        tex = msgpack.unpackb(runtime.lumps.get(texture), raw=False)
        assert tex["size"] == [16, 8] and tex["rgba"] == rgba
        # The viewer can't paint the painter's entity: hearth.World has no
        # op that takes an id and paints; the entity's capability does.
        with pytest.raises(ServiceError) as e:
            otp.request(otp.lookup(viewer.root, WORLD),
                        ["paint", {"width": 1, "height": 1, "rgba": b"\0" * 4}])
        assert e.value.kind == "invalid_request" and "unknown op 'paint'" in e.value.message
        assert world.get(cap)["material"] == material


def test_one_peer_cannot_flood_the_server_with_canvases(server, proc):
    with server.peer() as greedy, server.peer() as other:
        pub = otp.lookup(greedy.root, WORLD)
        side = DEFAULTS.canvas_side
        _, cap = world.add(pub, vm.make_capability(MONITOR), MESH)
        # Too big: refused before anything is stored.
        with pytest.raises(ServiceError) as e:
            world.paint(cap, side + 1, 1, b"\0" * ((side + 1) * 4))
        assert e.value.kind == "limit_reached"
        assert f"at most {side}x{side} pixels" in e.value.message
        # The bytes a second: two full canvases at once, not a third.
        full = (512, 512, b"\x80" * MIB)
        world.paint(cap, *full)
        world.paint(cap, *full[:2], b"\x81" * MIB)
        with pytest.raises(ServiceError) as e:
            world.paint(cap, *full[:2], b"\x82" * MIB)
        assert e.value.kind == "limit_reached"
        assert f"one peer paints at most {MIB} bytes a second: try again in" in e.value.message
        # The bytes held: four full canvases, not a fifth.
        caps = [cap]
        for i in range(3):
            caps.append(world.add(pub, vm.make_capability(MONITOR), MESH)[1])
            paint_when_allowed(caps[-1], *full[:2], bytes([i]) * MIB)
        fifth = world.add(pub, vm.make_capability(MONITOR), MESH)[1]
        with pytest.raises(ServiceError) as e:
            paint_when_allowed(fifth, *full[:2], b"\x05" * MIB)
        assert e.value.kind == "limit_reached"
        assert f"hold at most {4 * MIB} bytes" in e.value.message
        # Removing one frees its share; another peer was never held back.
        world.remove(caps[0])
        paint_when_allowed(fifth, *full[:2], b"\x05" * MIB)
        _, theirs = world.add(otp.lookup(other.root, WORLD), vm.make_capability(MONITOR), MESH)
        world.paint(theirs, *full)
        assert world.get(theirs)["material"] is not None


def test_one_peer_cannot_take_the_servers_time_with_small_paints(server, proc):
    """Each paint writes two lumps (tens of milliseconds with a store on
    disk): small ones are bounded by their number, per entity and per peer."""
    with server.peer() as greedy:
        pub = otp.lookup(greedy.root, WORLD)
        caps = [world.add(pub, vm.make_capability(MONITOR), MESH)[1] for _ in range(3)]
        tiny = (1, 1, b"\1\2\3\4")
        for cap in caps[:2]:
            for _ in range(DEFAULTS.paints_burst):
                world.paint(cap, *tiny)
        with pytest.raises(ServiceError) as e:
            world.paint(caps[0], *tiny)  # its own entity's rate, whichever comes first
        assert e.value.kind == "limit_reached" and "try again in" in e.value.message
        with pytest.raises(ServiceError) as e:
            world.paint(caps[2], *tiny)  # a fresh entity: the peer's rate
        assert e.value.kind == "limit_reached"
        assert (f"one peer paints at most {DEFAULTS.peer_paints_per_second:g} times a second"
                in e.value.message)
        paint_when_allowed(caps[2], *tiny)  # and later it may
