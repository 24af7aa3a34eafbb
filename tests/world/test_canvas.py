"""Canvases in one runtime (docs/world.md, "Canvases"): a ``paint``
through an entity's capability becomes its material, a texture lump and a
material lump in the world's runtime that every subscriber is told of and
can read; painting again, setting a material or removing the entity lets
the store go of the old lumps; malformed or oversized pixels and too many
paints are refused with a clear error and the world keeps serving.

Real parts: a real runtime, registry, world process and lump store.
"""

import msgpack
import pytest

from hearth import otp, vm, world
from hearth.otp import ServiceError
from hearth.vm import MONITOR, SEND, Message
from hearth.world import WORLD, Limits

MESH = bytes(range(32))
MAT = bytes(range(1, 33))


@pytest.fixture
def registry(proc):
    return otp.start_registry()


def start(registry, **limits):
    world.start_world(registry, data_dir=None, limits=Limits(**limits))
    return otp.lookup(registry, WORLD)


def next_event(mb):
    sig = mb.recv(timeout=5)
    assert type(sig) is Message, sig
    return otp.decode(sig.data, sig.caps)


def pixels(w, h, value):
    return bytes([value, value // 2, 255 - value, 255]) * (w * h)


def lumps_of(material):
    """(texture lump, material lump) decoded, from this runtime's store."""
    store = vm.current_runtime().lumps
    mat = msgpack.unpackb(store.get(material), raw=False)
    tex = msgpack.unpackb(store.get(mat["albedo_texture"]), raw=False)
    return tex, mat


def test_a_paint_becomes_the_material_every_subscriber_is_told_of(registry):
    pub = start(registry)
    mb = vm.current_process().create_mailbox()
    world.subscribe(pub, mb.make_capability(SEND | MONITOR))
    assert next_event(mb)["event"] == "world"
    eid, cap = world.add(pub, vm.make_capability(MONITOR), MESH, label="board")
    next_event(mb)
    world.paint(cap, 4, 2, pixels(4, 2, 200))
    ev = next_event(mb)
    assert ev["event"] == "updated" and ev["entity"]["id"] == eid
    first = ev["entity"]["material"]
    tex, mat = lumps_of(first)
    assert tex["size"] == [4, 2] and tex["rgba"] == pixels(4, 2, 200)
    assert mat["albedo"] == [1.0, 1.0, 1.0, 1.0]
    # Painted again: a new material; the old lumps are let go of.
    world.paint(cap, 2, 2, pixels(2, 2, 10))
    second = next_event(mb)["entity"]["material"]
    assert second != first and lumps_of(second)[0]["rgba"] == pixels(2, 2, 10)
    store = vm.current_runtime().lumps
    old_texture = msgpack.unpackb(store.get(second), raw=False)["albedo_texture"]
    assert not store.has(first)
    # A material of the holder's own replaces the canvas: its lumps go too.
    world.update(cap, material=MAT)
    assert next_event(mb)["entity"]["material"] == MAT
    assert not store.has(second) and not store.has(old_texture)
    # The same pixels twice keep their lumps (same bytes, same ids).
    world.paint(cap, 2, 2, pixels(2, 2, 10))
    third = next_event(mb)["entity"]["material"]
    assert store.has(third)


def test_removing_a_painted_entity_lets_go_of_its_lumps(registry):
    pub = start(registry)
    eid, cap = world.add(pub, vm.make_capability(MONITOR), MESH)
    world.paint(cap, 3, 3, pixels(3, 3, 77))
    material = world.get(cap)["material"]
    store = vm.current_runtime().lumps
    assert store.has(material)
    world.remove(cap)
    assert not store.has(material)


@pytest.mark.parametrize("px, needle", [
    ("red", "pixels must be a map with 'width', 'height', 'rgba', not 'red'"),
    ({"width": 2, "height": 2, "rgba": b"\0" * 15}, "rgba is 15 bytes; 2x2 RGBA8 is 16"),
    ({"width": 0, "height": 2, "rgba": b""}, "width and height are ints of at least 1"),
    ({"width": 2, "height": 2, "rgba": b"\0" * 16, "x": 1}, "unknown field(s) ['x'] in pixels"),
])
def test_malformed_pixels_get_clear_errors_and_the_world_keeps_serving(registry, px, needle):
    pub = start(registry)
    eid, cap = world.add(pub, vm.make_capability(MONITOR), MESH)
    with pytest.raises(ServiceError) as e:
        otp.request(cap, ["paint", px])
    assert e.value.kind == "invalid_request" and needle in e.value.message
    assert world.get(cap)["material"] is None
    world.paint(cap, 1, 1, pixels(1, 1, 5))


def test_oversized_canvases_and_too_many_paints_are_refused(registry):
    pub = start(registry, canvas_side=8, canvas_bytes_each=8 * 8 * 4, paints_per_second=0.01,
                paints_burst=2, canvas_bytes=8 * 8 * 4 * 2)
    _, cap = world.add(pub, vm.make_capability(MONITOR), MESH)
    with pytest.raises(ServiceError) as e:
        world.paint(cap, 9, 1, pixels(9, 1, 1))
    assert e.value.kind == "limit_reached" and "at most 8x8 pixels" in e.value.message
    world.paint(cap, 8, 8, pixels(8, 8, 1))
    world.paint(cap, 8, 8, pixels(8, 8, 2))
    with pytest.raises(ServiceError) as e:
        world.paint(cap, 8, 8, pixels(8, 8, 3))
    assert e.value.kind == "limit_reached"
    assert "painted at most 0.01 times a second: try again in" in e.value.message
    assert lumps_of(world.get(cap)["material"])[0]["rgba"] == pixels(8, 8, 2)
    # The world's total: two full canvases fit, a third does not.
    _, cap2 = world.add(pub, vm.make_capability(MONITOR), MESH)
    world.paint(cap2, 8, 8, pixels(8, 8, 4))
    _, cap3 = world.add(pub, vm.make_capability(MONITOR), MESH)
    with pytest.raises(ServiceError) as e:
        world.paint(cap3, 8, 8, pixels(8, 8, 5))
    assert e.value.kind == "limit_reached" and "holds at most 512 bytes of canvases" in \
        e.value.message
    world.remove(cap2)
    world.paint(cap3, 8, 8, pixels(8, 8, 5))


def test_a_persistent_entity_cannot_be_painted(registry):
    start(registry)
    admin = otp.lookup(registry, world.WORLD_ADMIN)
    mesh = bytes(vm.current_runtime().lumps.put(b"a mesh, as far as the world cares"))
    eid, cap = world.admin_add(admin, mesh, persistent=True)
    with pytest.raises(ServiceError) as e:
        world.paint(cap, 1, 1, pixels(1, 1, 9))
    assert e.value.kind == "invalid_request"
    assert "a persistent entity can't be painted" in e.value.message
    assert world.get(cap)["material"] is None
