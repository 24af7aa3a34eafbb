"""The picture of a text grid kept between frames (`hearth.gfx.gl._grid_cache`)
on a real window under Xvfb: what a frame copies from it is, to the bit,
what the MSDF shader draws directly, before and after every kind of change
(camera, placement, opacity, palette; new output and a selection, which
patch the picture); an opaque grid drawn without blending looks the same;
a grid that keeps changing is drawn directly; the pictures are bounded in
number and go with their grids. And `GridCaches.plan`'s choices,
`screen_share` and `band_rect`, alone.

Camera as in test_msdf_terminal.py: at the origin looking down -z, 90°
vertical field of view, so at z = -1 the 160x120 window shows 60 pixels a
unit around its centre.
"""

import time

import numpy as np
import pytest

from hearth.gfx.gl import _grid_cache
from hearth.gfx.gl._grid_cache import MAX_CACHED, GridCaches, band_rect, screen_share
from hearth.gfx.text._grid import TextGrid
from hearth.native._service import request

from ._scenes import translate, wire

FACTORY = "hearth.terminal.TerminalFactory"
PALETTE = [[0.0, 0.0, 0.0], [0.8, 0.0, 0.0], [0.0, 0.8, 0.0], [0.8, 0.8, 0.0],
           [0.0, 0.0, 0.9], [0.8, 0.0, 0.8], [0.0, 0.8, 0.8], [0.9, 0.9, 0.9],
           [0.5, 0.5, 0.5], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0],
           [0.4, 0.4, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0],
           [1.0, 1.0, 1.0], [0.1, 0.1, 0.3]]
# Colors, bold, underline, strikethrough, reverse: every part of the shader.
TEXT = ("\\033[31mred\\033[0m \\033[1mbold\\033[0m \\033[4mund\\033[0m \\033[9mstr\\033[0m"
        " \\033[7mrev\\033[0m\\nplain|L_T\\n")
PATIENCE = 5.0


def _position(x=0.0, y=0.0, half=(1.2, 0.8)):
    return {"origin": [x, y, -1.0], "orientation": [0.0, 0.0, 0.0, 1.0],
            "half_size": list(half)}


@pytest.fixture
def terminals(client):
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    client.display.scene.clear_color = (0.2, 0.4, 0.6, 1.0)  # what a see-through grid shows
    return client.services.caps[FACTORY]


@pytest.fixture
def plans(client, monkeypatch):
    """The choices `GridCaches.plan` made, in order."""
    caches = client.display.renderer.grid_caches
    made = []
    plan = caches.plan

    def recording(*args):
        how = plan(*args)
        made.append(how)
        return how

    monkeypatch.setattr(caches, "plan", recording)
    return made


def _terminal(client, factory, owner, text=TEXT, lines=2, **state):
    fields = {"position": _position(), "palette": PALETTE, "columns": 24, "rows": 4,
              "units_per_em": 12, "command": ["sh", "-c", f"printf '{text}'; exec cat"]}
    fields.update(state)
    cap = request(factory, ["create", fields], [owner])
    deadline = time.monotonic() + PATIENCE
    while sum(1 for line in request(cap, "screen")["lines"] if line.strip()) < lines:
        if time.monotonic() > deadline:
            pytest.fail("the text never came")
        client.screenshot()
    return cap


def _cached_and_direct(client, plans, monkeypatch, all_cached=True):
    """Two screenshots of the scene as it is: one copied from the grids'
    pictures (drawn into them if need be; `all_cached`: every grid's),
    one with every grid drawn directly by the text program."""
    caches = client.display.renderer.grid_caches
    client.screenshot()
    # A change may reach the grid in more than one piece (a terminal's
    # echo, then its program's output): the frame to compare is the first
    # that patches nothing, when the text has stopped changing.
    deadline = time.monotonic() + PATIENCE
    while True:
        del plans[:]
        cached = client.screenshot()
        if "patch" not in plans:
            break
        assert time.monotonic() < deadline, f"the text kept changing: {plans}"
    # "fill": drawn into the picture, then copied from it, as "copy".
    shown = set(plans)
    assert shown & {"copy", "fill"} and (not all_cached or "direct" not in shown), plans
    with monkeypatch.context() as m:
        m.setattr(_grid_cache, "MAX_CACHED", 0)
        caches.sweep(set())  # every picture dropped: none can be made again
        del plans[:]
        direct = client.screenshot()
        assert plans and set(plans) == {"direct"}, plans
    return cached, direct


def _settle(client, plans):
    """Draw frames until one copies every grid from a picture drawn earlier."""
    deadline = time.monotonic() + PATIENCE
    while True:
        del plans[:]
        client.screenshot()
        if plans and set(plans) == {"copy"}:
            return
        assert time.monotonic() < deadline, plans


@pytest.mark.parametrize("opacity", [1.0, 0.8, 0.35], ids=["opaque", "dimmed", "faint"])
def test_a_copy_is_the_same_pixels_as_a_direct_draw(terminals, client, owner, plans,
                                                    monkeypatch, opacity):
    _terminal(client, terminals, owner, opacity=opacity)
    cached, direct = _cached_and_direct(client, plans, monkeypatch)
    assert np.array_equal(cached, direct)
    # And it is the text: glyphs of several colors over the terminal's background.
    colors = {tuple(px) for px in cached[20:100, 10:150, :3].reshape(-1, 3)}
    assert len(colors) > 20


@pytest.mark.parametrize("opacity", [1.0, 0.8], ids=["opaque", "dimmed"])
def test_only_an_opaque_grid_is_drawn_without_blending_and_it_looks_the_same(
        terminals, client, owner, plans, monkeypatch, opacity):
    _terminal(client, terminals, owner, opacity=opacity)
    renderer = client.display.renderer
    assert renderer.opaque_unblended
    unblended = _cached_and_direct(client, plans, monkeypatch)
    monkeypatch.setattr(renderer, "opaque_unblended", False)
    blended = _cached_and_direct(client, plans, monkeypatch)
    for a, b in zip(unblended, blended):
        assert np.array_equal(a, b)


def test_the_copy_follows_every_change(terminals, client, owner, plans, monkeypatch):
    cap = _terminal(client, terminals, owner)
    first, _ = _cached_and_direct(client, plans, monkeypatch)
    changes = [
        ("camera", lambda: request(client.window, ["set_camera", 90.0, 0.1,
                                                   wire(translate(0.1, 0.05, 0.0))])),
        ("placement", lambda: request(cap, ["state", {"position": _position(-0.1, 0.1)}])),
        ("opacity", lambda: request(cap, ["state", {"opacity": 0.6}])),
        ("palette", lambda: request(cap, ["state", {"palette": PALETTE[:17] + [[0.3, 0, 0]]}])),
        ("output", lambda: request(cap, ["input", "more text\n"])),
        ("selection", lambda: request(cap, ["select", [[0, 0], [5, 1]]])),
    ]
    before = first
    for name, change in changes:
        _settle(client, plans)  # the picture drawn before the change: is it redrawn?
        change()
        deadline = time.monotonic() + PATIENCE
        while np.array_equal(client.screenshot(), before):
            assert time.monotonic() < deadline, f"{name}: the picture never changed"
        if name in ("output", "selection"):  # rows of cells: the picture patched
            assert "patch" in plans, (name, plans)
        cached, direct = _cached_and_direct(client, plans, monkeypatch)
        assert np.array_equal(cached, direct), name
        assert not np.array_equal(cached, before), name
        before = cached


def test_a_grid_is_drawn_directly_while_it_keeps_changing():
    """`plan` alone: a picture is made when a grid changed after a still
    frame, copied while nothing changes, patched when a few rows of cells
    changed, skipped while the grid changes whole frame after frame."""
    caches = GridCaches(program=None)
    grid = TextGrid(np.identity(4, np.float32).reshape(16), None, 4, 2, (8, 16), 2)
    view = np.identity(4, np.float32).reshape(16)  # the quad is the whole viewport
    state = {"key": (b"place", b"camera", (160, 120))}

    def frame(changed=False, key=None, rows=None):
        state["key"] = key or state["key"]
        caches.begin_frame()
        return caches.plan(grid, state["key"], changed, view, (160, 120), rows)

    def drawn():  # what `fill_end` says once the picture is drawn
        caches.entries[grid].valid = True

    assert frame() == "fill"  # new
    assert [frame() for _ in range(3)] == ["fill", "fill", "fill"]  # nothing drew it
    drawn()
    assert [frame(), frame()] == ["copy", "copy"]
    assert frame(changed=True) == "fill"  # after a still frame
    assert frame(changed=True) == "direct"  # changed again: the next frame probably too
    assert frame(key=(b"place", b"camera", (161, 120))) == "direct"  # the viewport too
    assert frame() == "fill"  # still again: worth a picture
    drawn()
    assert frame() == "copy"
    # Rows of cells over a good picture: patched, even frame after frame
    # while they are few (at most half the grid's rows).
    assert frame(changed=True, rows=[(0, 1)]) == "patch"
    drawn()
    assert frame(changed=True, rows=[(1, 2)]) == "patch"
    drawn()
    assert frame(changed=True, rows=[(0, 2)]) == "direct"  # all of them, again
    assert frame(changed=True, rows=[(0, 1)]) == "direct"  # no good picture to patch
    assert frame() == "fill"
    drawn()
    assert frame(changed=True, rows=[(0, 2)]) == "patch"  # all, after a still frame
    drawn()
    assert frame() == "copy"
    assert frame(changed=True, rows=[(0, 1)], key=(b"moved",) + state["key"][1:]) == "fill"
    drawn()
    grid.transform = np.diag([0.1, 0.1, 1, 1]).astype(np.float32).reshape(16)
    assert frame(key=(b"small",) + state["key"][1:]) == "direct"  # 1 %: never cached
    assert frame() == "direct"
    assert caches.entries[grid].texture is None


def test_screen_share_and_band_rect():
    view = np.identity(4, np.float32).reshape(16)
    whole = np.identity(4, np.float32).reshape(16)
    assert screen_share(view, whole, 160, 120) == pytest.approx(1.0)
    quarter = np.diag([0.5, 0.5, 1, 1]).astype(np.float32).reshape(16)
    assert screen_share(view, quarter, 160, 120) == pytest.approx(0.25)
    aside = (translate(5, 0, 0) @ np.diag([0.5, 0.5, 1, 1])).astype(np.float32).T.reshape(16)
    assert screen_share(view, aside, 160, 120) == 0.0
    assert band_rect(view, whole, 0.0, 1.0, 160, 120) == (0, 0, 160, 120)
    assert band_rect(view, whole, 0.25, 0.5, 160, 120) == (0, 29, 160, 32)  # a pixel more
    assert band_rect(view, quarter, 0.0, 0.5, 160, 120) == (39, 29, 82, 32)
    behind = np.identity(4, np.float32)
    behind[3, :] = [0, 0, 0, -1]  # w < 0: behind the camera
    assert screen_share(view, behind.T.reshape(16), 160, 120) == 1.0
    assert band_rect(view, behind.T.reshape(16), 0.0, 0.5, 160, 120) is None


def test_pictures_are_bounded_and_go_with_their_grids(terminals, client, owner, plans,
                                                      monkeypatch):
    caches = client.display.renderer.grid_caches
    # Six terminals, each over 1/16 of the window: at most MAX_CACHED pictures.
    assert MAX_CACHED + 2 <= 6
    caps = [_terminal(client, terminals, owner, text="x", lines=1, columns=4, rows=1,
                      position=_position(-0.8 + 0.8 * (i % 3), 0.4 - 0.8 * (i // 3), (0.3, 0.3)))
            for i in range(MAX_CACHED + 2)]
    cached, direct = _cached_and_direct(client, plans, monkeypatch, all_cached=False)
    assert np.array_equal(cached, direct)
    client.screenshot()
    client.screenshot()
    held = [e for e in caches.entries.values() if e.texture is not None]
    assert len(held) == MAX_CACHED
    for cap in caps:
        request(cap, "quit")
    deadline = time.monotonic() + PATIENCE
    while client.display.scene.canvases or caches.entries:
        assert time.monotonic() < deadline, "the pictures stayed"
        client.screenshot()
