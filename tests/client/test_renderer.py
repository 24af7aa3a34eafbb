"""hearth.Renderer on a real window under Xvfb: every assertion reads back
the pixels of a real frame (glReadPixels).

The camera sits at z = +4 looking down -z with a 60° vertical field of
view; the window is 160x120.
"""

import math

import numpy as np
import pytest

from hearth import vm
from hearth.gfx._formats import INVALID_LUMP
from hearth.native._service import INVALID_REQUEST, NOT_FOUND, request
from hearth.otp import ServiceError

from ._scenes import (
    BACKGROUND,
    convex_hull,
    cube_mesh,
    distance_inside,
    material,
    project,
    quad_mesh,
    rotate_y,
    translate,
    wire,
)
from .conftest import SIZE

VIEW = translate(0, 0, -4)
VFOV = 60.0


@pytest.fixture
def scene(client, runtime, owner):
    """The client with the camera set and helpers bound."""
    request(client.window, ["set_camera", VFOV, 0.1, wire(VIEW)])

    def lump(data):
        return bytes(runtime.lumps.put(data))

    def add(mesh, mat=None, transform=np.identity(4), owner_cap=owner):
        return request(client.renderer, ["add_object", lump(mesh), None if mat is None
                                         else lump(mat), wire(transform)], [owner_cap])

    client.lump = lump
    client.add = add
    return client


def _covered(px):
    return np.any(px[:, :, :3] != BACKGROUND, axis=2)


def test_a_lit_cube_covers_its_projected_silhouette_and_its_lit_side_is_brighter(scene, owner):
    model = rotate_y(45) @ np.diag([0.8, 0.8, 0.8, 1.0])
    request(scene.renderer, ["add_directional_light", [1, 1, 1], 1.0, [1, 0, 0]], [owner])
    scene.add(cube_mesh(), material((0.8, 0.8, 0.8, 1)), model)
    px = scene.screenshot()

    corners = [[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
    hull = convex_hull(project(corners, model, VIEW, VFOV, SIZE))
    covered = _covered(px)
    h, w = covered.shape
    inside = outside = 0
    for y in range(h):
        for x in range(w):
            d = distance_inside(hull, x + 0.5, y + 0.5)
            if d > 1.0:
                assert covered[y, x], f"pixel ({x}, {y}) inside the cube is background"
                inside += 1
            elif d < -1.0:
                assert not covered[y, x], f"pixel ({x}, {y}) outside the cube is drawn"
                outside += 1
    assert inside > 1000 and outside > 5000

    # The light travels along +x: the cube's left face (normal -x+z after the
    # turn) faces it, the right face turns away and has ambient light only.
    left, right = px[60, 80 - 12, :3].astype(int), px[60, 80 + 12, :3].astype(int)
    assert left.sum() > 2 * right.sum() > 0
    lit = 0.8 * (0.1 + math.cos(math.radians(45)))
    assert abs(left[0] - 255 * lit) <= 3
    assert abs(right[0] - 255 * 0.8 * 0.1) <= 3


def test_killing_an_objects_capability_removes_it_from_the_next_frame(scene):
    obj = scene.add(quad_mesh(), material((1, 0, 0, 1)))
    assert _covered(scene.screenshot())[60, 80]
    ref = obj.monitor()
    obj.kill()
    down = vm.recv(timeout=5)
    assert type(down) is vm.Down and down.ref == ref
    assert not _covered(scene.screenshot()).any()


def test_an_owner_that_dies_takes_its_objects_with_it(scene, runtime):
    def guest(renderer, mesh, parent):
        request(renderer, ["add_object", mesh, None, None], [vm.make_capability(vm.MONITOR)])
        parent.send(b"added")

    mesh = scene.lump(quad_mesh())
    child, ref = vm.spawn_monitor(guest, scene.renderer, mesh, vm.make_capability(vm.SEND))
    assert vm.recv(timeout=5).data == b"added"
    assert vm.recv(timeout=5).ref == ref  # the guest ended
    # Its object goes once the object's process has seen the Down: wait
    # for frames until it has (each screenshot is one new frame).
    for _ in range(100):
        if not _covered(scene.screenshot()).any():
            break
    else:
        pytest.fail("the dead owner's object is still drawn")
    assert scene.display.scene.object_count == 0


def test_moving_an_object_moves_its_pixels(scene):
    obj = scene.add(quad_mesh(), material((0, 1, 0, 1)), translate(-2, 0, 0) @ np.diag([.3, .3, .3, 1]))
    px = _covered(scene.screenshot())
    assert px[60, :80].any() and not px[60, 80:].any()
    request(obj, ["set_transform", wire(translate(2, 0, 0) @ np.diag([.3, .3, .3, 1]))])
    px = _covered(scene.screenshot())
    assert px[60, 80:].any() and not px[60, :80].any()


def test_turning_a_light_off_leaves_ambient_light_only(scene, owner):
    light = request(scene.renderer, ["add_directional_light", [1, 1, 1], 1.0, [0, 0, -1]],
                    [owner])
    request(scene.renderer, ["set_ambient_lighting", [0.2, 0.2, 0.2, 1.0]])
    scene.add(quad_mesh(), material((1, 1, 1, 1)))
    assert tuple(scene.screenshot()[60, 80, :3]) == (255, 255, 255)
    request(light, ["set_intensity", 0.0])
    assert abs(int(scene.screenshot()[60, 80, 0]) - 51) <= 1
    light.kill()  # and a sink update to a dead light is dropped quietly


def test_a_skybox_fills_the_background(scene):
    faces = [bytes([40 * i, 255 - 40 * i, 100, 255]) * 4 for i in range(6)]
    from hearth.gfx._formats import encode_texture
    request(scene.renderer, ["set_skybox", scene.lump(encode_texture(2, 2, faces=faces))])
    px = scene.screenshot()
    assert _covered(px).all()
    # Looking down -z the middle of the screen is the -Z face (index 5).
    assert tuple(px[60, 80, :3]) == (200, 55, 100)
    request(scene.renderer, ["set_skybox", None])
    assert not _covered(scene.screenshot()).any()


@pytest.mark.parametrize("term, kind", [
    (lambda s: ["add_object", s.lump(b"\x93not a mesh"), None, None], INVALID_LUMP),
    (lambda s: ["add_object", s.lump(b"\xc1"), None, None], INVALID_LUMP),
    (lambda s: ["add_object", b"\x00" * 32, None, None], NOT_FOUND),
    (lambda s: ["add_object", b"short", None, None], INVALID_REQUEST),
    (lambda s: ["add_object", s.lump(quad_mesh()), None, [math.nan] * 16], INVALID_REQUEST),
    (lambda s: ["add_object", s.lump(quad_mesh()), None, [1.0] * 15], INVALID_REQUEST),
    (lambda s: ["add_object", s.lump(quad_mesh()), s.lump(b"\x91\x01"), None], INVALID_LUMP),
    (lambda s: ["add_directional_light", [1, 1, 1], -1.0, [0, 0, 1]], INVALID_REQUEST),
    (lambda s: ["add_directional_light", [1, 1, 1], 1.0, [0, 0, 0]], INVALID_REQUEST),
    (lambda s: ["set_ambient_lighting", [math.inf, 0, 0, 1]], INVALID_REQUEST),
    (lambda s: ["set_skybox", s.lump(quad_mesh())], INVALID_LUMP),
    (lambda s: "launch_missiles", INVALID_REQUEST),
], ids=["not-a-map", "not-msgpack", "missing-lump", "short-id", "nan-matrix", "15-numbers",
        "bad-material", "negative-intensity", "zero-direction", "infinite-ambient",
        "mesh-as-skybox", "unknown-op"])
def test_bad_input_gets_an_error_reply_and_the_frame_is_unchanged(scene, owner, term, kind):
    scene.add(cube_mesh(), material((0.5, 0.5, 1, 1)), rotate_y(30))
    before = scene.screenshot()
    with pytest.raises(ServiceError) as info:
        request(scene.renderer, term(scene), [owner])
    assert info.value.kind == kind
    assert np.array_equal(scene.screenshot(), before)


def test_a_malformed_mesh_lump_is_refused_with_its_reason(scene):
    from hearth.gfx._formats import encode_mesh
    bad = encode_mesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [0, 1, 7])
    with pytest.raises(ServiceError) as info:
        scene.add(bad)
    assert info.value.kind == INVALID_LUMP and "out of range" in info.value.message


def test_a_nan_update_to_an_object_is_refused_and_it_stays_put(scene):
    obj = scene.add(quad_mesh(), material((1, 1, 0, 1)))
    before = scene.screenshot()
    with pytest.raises(ServiceError) as info:
        request(obj, ["set_transform", [math.nan] * 16])
    assert info.value.kind == INVALID_REQUEST
    obj.send(b"\x92\xadset_transform\xc0")  # a sink update that is bad too: logged, dropped
    assert np.array_equal(scene.screenshot(), before)


def test_a_material_texture_is_drawn_with_its_top_row_at_uv_zero(scene):
    from hearth.gfx._formats import encode_material, encode_mesh, encode_texture
    # A 1x2 texture: top row red, bottom row green, on a quad whose top
    # vertices have v = 0 (glTF's convention).
    texture = scene.lump(encode_texture(1, 2, rgba=b"\xff\x00\x00\xff\x00\xff\x00\xff"))
    mat = encode_material((1, 1, 1, 1), albedo_texture=bytes.fromhex(texture.hex()))
    quad = encode_mesh([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], [0, 1, 2, 0, 2, 3],
                       normals=[[0, 0, 1]] * 4, uv0=[[0, 1], [1, 1], [1, 0], [0, 0]])
    request(scene.renderer, ["set_ambient_lighting", [1, 1, 1, 1]])
    scene.add(quad, mat)
    px = scene.screenshot()
    top, bottom = px[60 - 12, 80, :3].astype(int), px[60 + 12, 80, :3].astype(int)
    assert top[0] > 200 and top[1] < 60  # red above
    assert bottom[1] > 200 and bottom[0] < 60  # green below
