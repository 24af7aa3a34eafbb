"""``hearth.text.TextFactory`` and `hearth.gfx.text.Label` on a real window
under Xvfb, pixels read back: a string drawn in the world from the MSDF
atlas, changed, moved, recolored, see-through or on a background, gone
with its owner; bad input refused; the factory's bound on new glyphs.

Camera as in test_terminal.py: at the origin, looking down -z, 90°
vertical field of view, so at z = -1 the 160x120 window shows 60 pixels
a unit around its centre (80, 60).
"""

import numpy as np
import pytest

from hearth import vm
from hearth.gfx.text import Label, shared_atlas
from hearth.gfx.text._service import MAX_NEW_GLYPHS
from hearth.native._service import INVALID_REQUEST, request
from hearth.otp import ServiceError

from ._scenes import wire

FACTORY = "hearth.text.TextFactory"


@pytest.fixture
def texts(client):
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    return client.services.caps[FACTORY]


def _ink(img, color=(255, 255, 255)):
    """Pixels close to `color`."""
    return (np.abs(img[:, :, :3].astype(int) - color).max(axis=2) < 60)


def test_a_string_is_drawn_where_asked_and_changes(texts, client, owner):
    empty = client.screenshot()
    cap = request(texts, ["create", {"text": "Hello", "origin": [0.0, 0.0, -1.0],
                                     "height": 0.4}], [owner])
    img = client.screenshot()
    ys, xs = np.nonzero(_ink(img))
    assert len(ys) > 100
    # A line 0.4 units tall is 24 pixels at z = -1; the text is centred.
    assert 45 <= ys.min() and ys.max() <= 75
    assert abs((xs.min() + xs.max()) / 2 - 80) <= 3
    # See-through background: outside the glyphs the clear color shows.
    assert np.array_equal(img[:40], empty[:40]) and np.array_equal(img[80:], empty[80:])
    request(cap, ["text", "Hello, world"])
    wider = client.screenshot()
    xs2 = np.nonzero(_ink(wider))[1]
    assert xs2.max() - xs2.min() > (xs.max() - xs.min()) * 2
    request(cap, ["state", {"origin": [0.0, 0.5, -1.0], "color": [1.0, 0.0, 0.0],
                            "background": [0.0, 0.0, 1.0, 1.0]}])
    moved = client.screenshot()
    red = _ink(moved, (255, 0, 0))
    assert red.sum() > 50 and np.nonzero(red)[0].max() < 45  # up by 30 pixels
    assert (_ink(moved, (0, 0, 255))).sum() > 500  # the background is drawn
    assert not _ink(moved).any()  # no white glyph left


def test_the_text_is_sharp_up_close(texts, client, owner):
    request(texts, ["create", {"text": "|", "origin": [0.0, 0.0, -1.0], "height": 3.0}],
            [owner])
    img = client.screenshot()[:, :, :3].astype(float).mean(axis=2) / 255
    row = img[60]
    assert row.max() > 0.95
    first = int(np.argmax(row > 0.5))
    ramp = row[first - 3:first + 3]
    assert ((ramp > 0.1) & (ramp < 0.9)).sum() <= 2  # background to ink in two pixels


def test_the_text_goes_with_its_owner(texts, client):
    owner_proc = vm.spawn(vm.recv)
    cap = request(texts, ["create", {"text": "bye", "origin": [0.0, 0.0, -1.0]}],
                  [owner_proc.demote(vm.MONITOR)])
    assert len(client.display.scene.canvases) == 1
    ref = cap.monitor()
    owner_proc.kill()
    sig = vm.recv(timeout=5)
    assert sig is not None and sig.ref == ref
    sig.cap.release()
    assert not client.display.scene.canvases


@pytest.mark.parametrize("state", [
    {"origin": [0.0, 0.0, -1.0]},
    {"text": "x"},
    {"text": 5, "origin": [0.0, 0.0, -1.0]},
    {"text": "x" * 2000, "origin": [0.0, 0.0, -1.0]},
    {"text": "\n" * 40, "origin": [0.0, 0.0, -1.0]},
    {"text": "x", "origin": [0.0, float("nan"), -1.0]},
    {"text": "x", "origin": [0.0, 0.0, -1.0], "color": [2.0, 0.0, 0.0]},
    {"text": "x", "origin": [0.0, 0.0, -1.0], "height": 0},
    {"text": "x", "origin": [0.0, 0.0, -1.0], "font": "comic"},
], ids=["no-text", "no-origin", "int-text", "too-long", "too-many-lines", "nan", "color-2",
        "zero-height", "unknown-key"])
def test_bad_input_is_refused_and_draws_nothing(texts, client, owner, state):
    with pytest.raises(ServiceError) as info:
        request(texts, ["create", state], [owner])
    assert info.value.kind == INVALID_REQUEST
    assert not client.display.scene.canvases


def test_a_bad_update_changes_nothing(texts, client, owner):
    cap = request(texts, ["create", {"text": "same", "origin": [0.0, 0.0, -1.0]}], [owner])
    before = client.screenshot()
    for update in (["text", 7], ["state", {"height": -1}], ["state", {"text": "x"}],
                   ["bogus"]):
        with pytest.raises(ServiceError) as info:
            request(cap, update)
        assert info.value.kind == INVALID_REQUEST
    assert np.array_equal(client.screenshot(), before)


def test_the_factory_adds_a_bounded_number_of_glyphs(texts, client, owner):
    atlas = shared_atlas(vm.current_runtime().lumps)
    fresh = [chr(c) for c in range(0x4E00, 0x9FFF) if not atlas.has(chr(c))]
    before = atlas.count
    lines = ["".join(fresh[i:i + 64]) for i in range(0, MAX_NEW_GLYPHS + 64, 64)]
    for line in lines:
        request(texts, ["create", {"text": line, "origin": [0.0, 0.0, -5.0]}], [owner])
    assert atlas.count - before == MAX_NEW_GLYPHS
    # The ones past the bound show as "?": the same slot.
    grid = list(client.display.scene.canvases.values())[-1]
    assert set(grid.cells[0, :, 0].tolist()) == {int(atlas.texels[atlas.slot("?")])}


def test_a_label_from_inside_the_client(client, proc):
    """The Python API (what an avatar's name label calls)."""
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    scene = client.display.scene
    label = Label(scene, "Ann", (0.0, 0.4, -1.0), height=0.5, color=(0, 255, 0))
    img = client.screenshot()
    green = _ink(img, (0, 255, 0))
    assert green.sum() > 50 and np.nonzero(green)[0].mean() < 50
    label.place(origin=(0.0, -0.4, -1.0))
    assert np.nonzero(_ink(client.screenshot(), (0, 255, 0)))[0].mean() > 70
    label.remove()
    assert not _ink(client.screenshot(), (0, 255, 0)).any()
