"""hearth.canvas.CanvasFactory on a real window: exact pixels, blits that
change only their rectangle, clipping, and sub-image uploads.

The camera sits at the origin looking down -z with a 90° vertical field of
view, so at z = -1 the 160x120 window spans y in [-1, 1] (60 pixels a
unit). A canvas of 8x6 pixels with half size (0.4, 0.3) at z = -1 is
48x36 screen pixels: each canvas pixel is a 6x6 block, and the canvas's
top-left corner is at screen (56, 42).
"""

import numpy as np
import pytest

from hearth import vm
from hearth.native._service import INVALID_REQUEST, request
from hearth.otp import ServiceError

from ._scenes import wire

W, H, BLOCK, LEFT, TOP = 8, 6, 6, 56, 42
POSITION = {"origin": [0.0, 0.0, -1.0], "orientation": [0.0, 0.0, 0.0, 1.0],
            "half_size": [0.4, 0.3]}


def _pixels(rng, w=W, h=H):
    rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255
    return rgba


def _term(rgba):
    h, w = rgba.shape[:2]
    return {"width": w, "height": h, "rgba": rgba.tobytes()}


def _texels(px):
    """The screen's color at the center of each canvas pixel's block."""
    ys = TOP + BLOCK * np.arange(H) + BLOCK // 2
    xs = LEFT + BLOCK * np.arange(W) + BLOCK // 2
    return px[np.ix_(ys, xs)][:, :, :3]


@pytest.fixture
def canvas_client(client):
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    return client


@pytest.fixture
def rng():
    return np.random.default_rng(8)


def _create(client, owner, rgba, position=POSITION):
    return request(client.canvases, ["create", position, _term(rgba), "nearest"], [owner])


def test_a_canvas_blends_by_its_pixels_alpha(canvas_client, owner):
    """Alpha is opacity: a half-transparent red canvas over the black
    background shows half red; a transparent pixel shows the background."""
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[:, :, 0] = 255
    rgba[:, :, 3] = 128
    rgba[0, 0, 3] = 0
    _create(canvas_client, owner, rgba)
    texels = _texels(canvas_client.screenshot()).astype(int)
    assert abs(texels[1, 1, 0] - 128) <= 2 and texels[1, 1, 1] == 0
    assert tuple(texels[0, 0]) == (0, 0, 0)


def test_a_canvas_shows_exactly_the_pixels_sent(canvas_client, owner, rng):
    rgba = _pixels(rng)
    _create(canvas_client, owner, rgba)
    px = canvas_client.screenshot()
    # Every screen pixel of each block, not just its center, is the canvas pixel.
    block = np.repeat(np.repeat(rgba[:, :, :3], BLOCK, 0), BLOCK, 1)
    assert np.array_equal(px[TOP:TOP + H * BLOCK, LEFT:LEFT + W * BLOCK, :3], block)
    outside = np.ones(px.shape[:2], bool)
    outside[TOP:TOP + H * BLOCK, LEFT:LEFT + W * BLOCK] = False
    assert not px[outside][:, :3].any()


def test_a_blit_changes_only_its_rectangle(canvas_client, owner, rng):
    canvas = _create(canvas_client, owner, _pixels(rng))
    before = canvas_client.screenshot()
    patch = _pixels(rng, 3, 2)
    request(canvas, ["blit", 4, 1, _term(patch)])
    after = canvas_client.screenshot()
    changed = np.any(after != before, axis=2)
    ys, xs = np.nonzero(changed)
    assert ys.min() >= TOP + 1 * BLOCK and ys.max() < TOP + 3 * BLOCK
    assert xs.min() >= LEFT + 4 * BLOCK and xs.max() < LEFT + 7 * BLOCK
    assert np.array_equal(_texels(after)[1:3, 4:7], patch[:, :, :3])


def test_a_blit_past_the_edges_is_clipped(canvas_client, owner, rng):
    rgba = _pixels(rng)
    canvas = _create(canvas_client, owner, rgba)
    patch = _pixels(rng, 3, 3)
    request(canvas, ["blit", -1, -2, _term(patch)])  # only its bottom-right 2x1 lands
    request(canvas, ["blit", 100, 100, _term(patch)])  # wholly outside: nothing
    expect = rgba.copy()
    expect[0:1, 0:2] = patch[2:3, 1:3]
    assert np.array_equal(_texels(canvas_client.screenshot()), expect[:, :, :3])


def test_a_small_blit_uploads_only_its_rectangle(canvas_client, owner, rng, monkeypatch):
    canvas = _create(canvas_client, owner, _pixels(rng))
    canvas_client.screenshot()  # the first upload is the whole canvas
    uploads = []
    gl = canvas_client.display.renderer.fast  # the frame loop's glTexSubImage2D
    real = gl.glTexSubImage2D

    def spy(target, level, x, y, w, h, *rest):
        uploads.append((x, y, w, h))
        return real(target, level, x, y, w, h, *rest)

    monkeypatch.setattr(gl, "glTexSubImage2D", spy)
    request(canvas, ["blit", 2, 3, _term(_pixels(rng, 1, 2))])
    canvas_client.screenshot()
    assert uploads == [(2, 3, 1, 2)]


def test_resize_replaces_every_pixel(canvas_client, owner, rng):
    canvas = _create(canvas_client, owner, _pixels(rng))
    rgba = _pixels(rng, 4, 3)
    request(canvas, ["resize", _term(rgba)])
    big = np.repeat(np.repeat(rgba[:, :, :3], 2, 0), 2, 1)  # 4x3 stretched over 8x6
    assert np.array_equal(_texels(canvas_client.screenshot()), big)


@pytest.mark.parametrize("update", [
    ["blit", 0, 0, {"width": 2, "height": 2, "rgba": b"\x00" * 15}],
    ["blit", 0, 0, {"width": 2, "height": 2, "rgba": "not bytes"}],
    ["blit", 0.5, 0, {"width": 1, "height": 1, "rgba": b"\x00" * 4}],
    ["resize", {"width": 0, "height": 2, "rgba": b""}],
    ["relocate", {"origin": [float("nan"), 0, 0], "half_size": [1, 1]}],
    ["relocate", {"origin": [0, 0, 0]}],
], ids=["short-buffer", "str-buffer", "float-x", "zero-width", "nan-origin", "no-half-size"])
def test_bad_updates_get_an_error_and_the_canvas_keeps_its_pixels(canvas_client, owner, rng,
                                                                 update):
    canvas = _create(canvas_client, owner, _pixels(rng))
    before = canvas_client.screenshot()
    with pytest.raises(ServiceError) as info:
        request(canvas, update)
    assert info.value.kind == INVALID_REQUEST
    assert np.array_equal(canvas_client.screenshot(), before)


def test_a_wrong_sized_create_is_refused(canvas_client, owner):
    with pytest.raises(ServiceError) as info:
        request(canvas_client.canvases,
                ["create", POSITION, {"width": 8, "height": 6, "rgba": b"\xff" * 100}, "nearest"],
                [owner])
    assert info.value.kind == INVALID_REQUEST and "192" in info.value.message
    assert not canvas_client.screenshot()[:, :, :3].any()


def test_killing_a_canvas_removes_it(canvas_client, owner, rng):
    canvas = _create(canvas_client, owner, _pixels(rng))
    ref = canvas.monitor()
    canvas.kill()
    assert vm.recv(timeout=5).ref == ref
    assert not canvas_client.screenshot()[:, :, :3].any()
