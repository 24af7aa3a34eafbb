"""hearth.DebugDrawFactory on a real window: line lists in their vertex
colors, hide and show, destroy."""

import numpy as np
import pytest

from hearth import vm
from hearth.gfx._debug_draw import encode_lines
from hearth.native._service import INVALID_REQUEST, request
from hearth.otp import ServiceError

from ._scenes import wire

# Camera at the origin looking down -z, 90° vertical: z = -1 spans y in [-1, 1].
HORIZONTAL = encode_lines([[-1, 0, -1], [1, 0, -1], [0, -0.9, -1], [0, 0.9, -1]],
                          [[255, 0, 0, 255], [255, 0, 0, 255], [0, 255, 0, 255],
                           [0, 255, 0, 255]], [0, 1, 2, 3])


@pytest.fixture
def lines(client, owner):
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    return request(client.debug_draws, "new", [owner])


def _colored(px, rgb):
    return np.all(px[:, :, :3] == rgb, axis=2)


def test_lines_are_drawn_in_their_vertex_colors(client, lines):
    request(lines, HORIZONTAL)
    px = client.screenshot()
    red, green = _colored(px, (255, 0, 0)), _colored(px, (0, 255, 0))
    rows = np.nonzero(red.any(axis=1))[0]
    cols = np.nonzero(green.any(axis=0))[0]
    assert set(rows) <= {59, 60} and red[rows].sum() >= 118  # x in [-1, 1]: 120 pixels
    assert set(cols) <= {79, 80} and green[:, cols].sum() >= 100  # top to bottom
    assert red.sum() + green.sum() == np.any(px[:, :, :3], axis=2).sum()


def test_a_hidden_debug_draw_is_not_drawn_until_shown(client, lines):
    request(lines, HORIZONTAL)
    request(lines, ["hide", True])
    assert not client.screenshot()[:, :, :3].any()
    request(lines, ["hide", False])
    assert client.screenshot()[:, :, :3].any()


def test_destroy_removes_the_lines(client, lines):
    request(lines, HORIZONTAL)
    assert client.screenshot()[:, :, :3].any()
    ref = lines.monitor()
    request(lines, "destroy")
    down = vm.recv(timeout=5)
    assert down.ref == ref and down.reason == vm.NORMAL
    assert not client.screenshot()[:, :, :3].any()


@pytest.mark.parametrize("contents", [
    ["contents", b"\x00" * 10, b"", b""],
    ["contents", np.zeros(6, "<f4").tobytes(), b"\xff" * 4, np.array([0, 1], "<u4").tobytes()],
    ["contents", np.full(6, np.nan, "<f4").tobytes(), b"\xff" * 8,
     np.array([0, 1], "<u4").tobytes()],
    ["contents", np.zeros(6, "<f4").tobytes(), b"\xff" * 8, np.array([0, 2], "<u4").tobytes()],
], ids=["ragged-positions", "too-few-colors", "nan-position", "index-out-of-range"])
def test_bad_contents_are_refused_and_the_old_lines_stay(client, lines, contents):
    request(lines, HORIZONTAL)
    before = client.screenshot()
    with pytest.raises(ServiceError) as info:
        request(lines, contents)
    assert info.value.kind == INVALID_REQUEST
    assert np.array_equal(client.screenshot(), before)
