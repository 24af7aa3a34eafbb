"""hearth.terminal.TerminalFactory on a real window: a real program in a
real pty, its output on the pyte screen and in the window's pixels, resizes
that reach the pty, and every way of ending it reaps the program.

The camera sits at the origin looking down -z with a 90° vertical field of
view, so at z = -1 the 160x120 window spans y in [-1, 1] (60 pixels a
unit): a terminal with half size (1.2, 0.9) there covers screen columns
8..152 and rows 6..114. Its background is blue, so the quad shows against
the black clear color.

Nothing sleeps: the tests wait for Down messages, or poll the terminal's
"screen" op (a real request) between real frames until the text is there,
for at most a few seconds.
"""

import os
import time

import numpy as np
import pytest

from hearth import vm
from hearth.gfx._resource import OWNER_GONE
from hearth.native._service import INVALID_REQUEST, NOT_FOUND, request
from hearth.gfx.terminal import DEFAULT_PALETTE
from hearth.otp import ServiceError

from ._scenes import wire

FACTORY = "hearth.terminal.TerminalFactory"
POSITION = {"origin": [0.0, 0.0, -1.0], "orientation": [0.0, 0.0, 0.0, 1.0],
            "half_size": [1.2, 0.9]}
QUAD = (slice(6, 114), slice(8, 152))  # rows, columns of the window it covers
PALETTE = [list(c) for c in DEFAULT_PALETTE[:17]] + [[0.0, 0.0, 0.6]]
PATIENCE = 5.0  # seconds a poll may take before the test fails


@pytest.fixture
def terminals(client):
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    return client.services.caps[FACTORY]


def _state(command, **more):
    return {"position": POSITION, "palette": PALETTE, "units_per_em": 12, "columns": 20,
            "rows": 6, "command": command, **more}


def _create(terminals, owner, command, **more):
    return request(terminals, ["create", _state(command, **more)], [owner])


def _poll(client, term, done):
    """The terminal's screen once `done(screen)`; a frame between polls."""
    deadline = time.monotonic() + PATIENCE
    while True:
        screen = request(term, "screen")
        if done(screen):
            return screen
        if time.monotonic() > deadline:
            pytest.fail(f"the screen never got there: {screen['lines']!r}")
        client.screenshot()


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _down(ref):
    sig = vm.recv(timeout=5)
    assert sig is not None and sig.ref == ref
    sig.cap.release()
    return sig.reason


def test_typed_input_is_echoed_on_the_screen_and_in_the_window(terminals, client, owner):
    term = _create(terminals, owner, ["cat"])
    before = client.screenshot()
    assert (before[QUAD][:, :, 2] > 100).mean() > 0.9  # the blue quad is there
    assert not before[:4, :, :3].any()  # and nothing above it
    request(term, ["input", "abc\n"])
    screen = _poll(client, term, lambda s: s["lines"][1].startswith("abc"))
    assert screen["lines"][0].rstrip() == "abc"  # the tty's echo, then cat's copy
    assert tuple(screen["cursor"]) == (0, 2)
    after = client.screenshot()
    ys, xs = np.nonzero(np.any(after != before, axis=2))
    assert len(ys) > 20  # glyphs were drawn
    # Only the quad changed, and only its first three lines (and a pixel of
    # linear filtering past them).
    (w, h), (cw, ch) = screen["size"], screen["cell"]
    pad = (w - 20 * cw) // 2
    bottom = QUAD[0].start + (pad + 3 * ch) * (QUAD[0].stop - QUAD[0].start) / h
    assert ys.min() >= QUAD[0].start and ys.max() <= bottom + 1
    assert xs.min() >= QUAD[1].start and xs.max() < QUAD[1].stop


def test_a_program_sees_the_grid_as_its_window_size_and_a_resize(terminals, client, owner):
    term = _create(terminals, owner, ["sh", "-c", "stty size; read x; stty size; cat"])
    _poll(client, term, lambda s: s["lines"][0].rstrip() == "6 20")
    first = request(term, "screen")
    request(term, ["state", {"columns": 30, "rows": 8}])
    request(term, ["input", "\n"])
    screen = _poll(client, term, lambda s: "8 30" in [line.rstrip() for line in s["lines"]])
    assert (screen["columns"], screen["rows"]) == (30, 8)
    (w0, h0), (w1, h1), (cw, ch) = first["size"], screen["size"], screen["cell"]
    assert (w1 - w0, h1 - h0) == (10 * cw, 2 * ch)  # the texture grew by the new cells


def test_a_recolor_repaints_and_a_move_moves(terminals, client, owner):
    term = _create(terminals, owner, ["cat"])
    before = client.screenshot()
    red = PALETTE[:17] + [[0.6, 0.0, 0.0]]
    request(term, ["state", {"palette": red}])
    px = client.screenshot()
    assert (px[QUAD][:, :, 0] > 100).mean() > 0.9 and (px[QUAD][:, :, 2] < 50).mean() > 0.9
    request(term, ["state", {"palette": PALETTE, "position": {**POSITION, "origin": [0.5, 0, -1]}}])
    px = client.screenshot()
    assert not px[:, :30, :3].any()  # moved right by 30 pixels: the left edge is clear
    assert not np.array_equal(px, before)


def test_a_program_flooding_output_does_not_starve_the_frame_loop(terminals, client, owner):
    term = _create(terminals, owner, ["yes", "flood"])
    for _ in range(30):  # each a real frame: the hub gets its turns between chunks
        client.screenshot()
    _poll(client, term, lambda s: s["lines"][0].rstrip() == "flood")
    ref = term.monitor()
    assert request(term, "quit") is None
    assert _down(ref) == vm.NORMAL


def test_the_terminal_ends_normally_when_its_program_exits(terminals, client, owner):
    term = _create(terminals, owner, ["sh", "-c", "read x; printf bye"])
    pid = request(term, "screen")["pid"]
    ref = term.monitor()
    request(term, ["input", "\n"])
    assert _down(ref) == vm.NORMAL
    assert _gone(pid)  # reaped, not a zombie
    assert not client.display.scene.canvases


@pytest.mark.parametrize("how", ["quit", "kill", "owner death", "kill, HUP ignored"])
def test_every_other_end_hangs_the_program_up_and_reaps_it(terminals, client, how):
    owner_proc = vm.spawn(vm.recv)  # an owner that waits until killed
    command = ["sh", "-c", "trap '' HUP; cat"] if "ignored" in how else ["cat"]
    term = _create(terminals, owner_proc.demote(vm.MONITOR), command)
    pid = request(term, "screen")["pid"]
    ref = term.monitor()
    if how == "quit":
        assert request(term, "quit") is None
        expected = vm.NORMAL
    elif how == "owner death":
        owner_proc.kill()
        expected = OWNER_GONE
    else:
        term.kill()
        expected = vm.KILLED
    reason = _down(ref)
    assert reason == expected or (type(reason) is tuple and tuple(reason) == expected)
    assert _gone(pid)
    assert not client.display.scene.canvases
    owner_proc.kill()


@pytest.mark.parametrize("state", [
    {"palette": PALETTE[:17]},
    {"columns": 0},
    {"rows": 1000},
    {"units_per_em": "big"},
    {"opacity": 2},
    {"command": []},
    {"command": "cat"},
    {"colour": 1},
    {"position": None},
], ids=["short-palette", "zero-columns", "too-many-rows", "str-size", "opacity-2",
        "empty-command", "str-command", "unknown-key", "no-position"])
def test_a_bad_create_is_refused_and_runs_nothing(terminals, client, owner, state):
    full = {k: v for k, v in {**_state(["cat"]), **state}.items() if v is not None}
    with pytest.raises(ServiceError) as info:
        request(terminals, ["create", full], [owner])
    assert info.value.kind == INVALID_REQUEST
    assert not client.display.scene.canvases


def test_a_missing_program_is_not_found(terminals, client, owner):
    with pytest.raises(ServiceError) as info:
        _create(terminals, owner, ["/no/such/program"])
    assert info.value.kind == NOT_FOUND
    assert not client.display.scene.canvases


@pytest.mark.parametrize("update", [
    ["input", 5],
    ["state", {"rows": 0}],
    ["state", {"palette": PALETTE[:17]}],
    ["state", {"command": ["sh"]}],
    ["state", "big"],
    ["bogus"],
    ["state", {"columns": 500, "rows": 200, "units_per_em": 128}],
], ids=["int-input", "zero-rows", "short-palette", "command", "str-state", "unknown-op",
        "huge-texture"])
def test_bad_updates_get_an_error_and_change_nothing(terminals, client, owner, update):
    term = _create(terminals, owner, ["cat"])
    before_screen = request(term, "screen")
    before = client.screenshot()
    with pytest.raises(ServiceError) as info:
        request(term, update)
    assert info.value.kind == INVALID_REQUEST
    assert request(term, "screen") == before_screen
    assert np.array_equal(client.screenshot(), before)
