"""A flood of terminal output is painted less often than it is read (the
wm_flood benchmark's fix), and what came last is always painted: a real
terminal core (pyte screen, painting, canvas) fed a burst of output."""

import time

import gevent
import numpy as np

from hearth.gfx._scene import Scene
from hearth.gfx._text import FontCache
from hearth.gfx.terminal import _factory
from hearth.gfx.terminal._factory import _check_state, _Core

PLACE = {"origin": [0, 0, -1], "orientation": [0, 0, 0, 1], "half_size": [1, 1]}


def _core():
    scene = Scene()
    fields = _check_state({"position": PLACE, "command": ["true"], "columns": 40, "rows": 8},
                          creating=True)
    return _Core(scene, scene.new_id(), FontCache(), fields)


def test_a_burst_is_painted_fewer_times_than_fed_and_its_end_is_painted(monkeypatch):
    core = _core()
    painted = []
    real = _factory.paint
    monkeypatch.setattr(_factory, "paint", lambda *a: (painted.append(1), real(*a)))
    for i in range(200):
        core.feed(f"line {i}\r\n".encode())
    assert core.screen.text()[-2].startswith("line 199")
    assert len(painted) < 20  # one paint at once, the rest wait for the trailing timer
    deadline = time.monotonic() + 5
    while core._later is not None:  # the trailing paint is due within PAINT_EVERY
        assert time.monotonic() < deadline, "the trailing paint never ran"
        gevent.sleep(0.005)
    shown = core.canvas.pixels.copy()
    core.screen.touch_all()
    core.paint()  # everything, from scratch: nothing may differ
    assert np.array_equal(shown, core.canvas.pixels)
    core.close()


def test_a_keys_echo_is_painted_at_once_even_right_after_a_flood():
    core = _core()
    for i in range(50):
        core.feed(f"line {i}\r\n".encode())
    deadline = time.monotonic() + 5
    while core._later is not None:
        assert time.monotonic() < deadline
        gevent.sleep(0.005)
    for char in b"abc":  # typed right after: one row each, painted now, no timer
        before = core.canvas.pixels.copy()
        core.feed(bytes([char]))
        assert core._later is None and not np.array_equal(before, core.canvas.pixels)
    core.close()


def test_closing_cancels_a_pending_paint():
    core = _core()
    for i in range(20):
        core.feed(f"line {i}\r\n".encode())
    assert core._later is not None
    core.close()
    assert core._later is None
