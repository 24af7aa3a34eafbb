"""Benchmarks of the window manager and its terminals (docs/wm.md), under a
real window (Xvfb and Mesa's llvmpipe when there is no display), at 60
frames a second.

- ``wm_key_latency``: frames from a key press (a pygame event posted
  right after frame f is drawn) to the first frame whose pixels show the
  glyph, through the whole path: ``hearth.Window`` -> the ``wm`` (holding
  keyboard focus) -> the terminal's ``input`` -> the pty (``cat``; the
  tty echoes) -> the reader -> pyte -> the canvas -> the frame. Beside a
  bare loop in the same run: one greenlet, its own window, the same pty
  and program, the same pyte screen and painting code (the terminal's
  ``_Core``) and the same GL renderer, no Hearth processes: each frame it
  pumps events, writes typed text to the pty, reads what is there,
  paints and draws. Goal: the p50 within one frame of the bare loop's.
- ``wm_flood``: ``cat`` of 5 MB of text (80-column lines) in an 80x24
  terminal: frames a second while it runs, and seconds until its last
  line is on the screen; beside the bare loop reading the pty until the
  next frame is due. Goal: at least 30 frames a second.

Run them alone with ``python -m benchmarks wm_key_latency wm_flood``.
"""

import os
import pathlib
import tempfile
import time

import numpy as np

from hearth import otp, vm

from ._harness import benchmark, figure, median, percentile, trials, x_display
from .bench_client import _client, _request, _wire

SIZE = (480, 300)
KEYS = 40  # key presses per repeat
FLOOD_BYTES = 5 * 1024 * 1024
END = "END-OF-FLOOD"
PLACE = {"origin": [0.0, 0.0, -1.0], "orientation": [0.0, 0.0, 0.0, 1.0],
         "half_size": [1.2, 0.75]}
PERIOD = 1 / 60


def _flood_file():
    path = pathlib.Path(tempfile.gettempdir()) / "hearth-bench-flood.txt"
    if not path.exists() or path.stat().st_size != FLOOD_BYTES:
        line = (bytes(range(33, 127)) * 2)[:79] + b"\n"
        data = (line * (FLOOD_BYTES // len(line) + 1))[:FLOOD_BYTES - 1] + b"\n"
        path.write_bytes(data)
    return str(path)


def _flood_command():
    return ["sh", "-c", f"cat {_flood_file()}; echo {END}; exec sleep 600"]


def _post_key():
    import pygame
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_a, mod=0, scancode=4,
                                         unicode="a"))
    pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="a"))
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_a, mod=0, scancode=4,
                                         unicode="a"))


def _pixels(shot):
    return np.frombuffer(shot["rgba"], np.uint8)


# -- Hearth ---------------------------------------------------------------------------------


def _start_wm(registry, settings):
    import kindling
    from kindling.init import load_service_module
    path = pathlib.Path(kindling.__file__).parent / "root" / "init" / "wm" / "service.py"
    module = load_service_module("wm", path)
    view = otp.registry_view(registry, read_only=True,
                             names=["hearth.Window", "hearth.terminal.TerminalFactory"])
    return vm.spawn_link(module.main, view, settings, name="wm")


def _hearth_keys(n):
    """``[(frames, ms)]`` for `n` key presses through the wm."""
    with _client(fps=60.0) as (display, caps, _lumps):
        window = caps["hearth.Window"]
        _request(window, ["set_camera", 90.0, 0.1, _wire(np.identity(4))])
        registry = otp.start_registry()
        for name in ("hearth.Window", "hearth.terminal.TerminalFactory"):
            otp.register(registry, name, caps[name])
        wm = _start_wm(registry, {"command": ["cat"], "columns": 40, "rows": 10,
                                  "distance": 1.0, "scale": 0.006, "unfocused_opacity": 1.0})
        _request(wm, "open")
        out = []
        for _ in range(n + 2):
            shot = _request(window, "screenshot")
            while True:  # settle: two equal frames in a row
                again = _request(window, "screenshot")
                if np.array_equal(_pixels(again), _pixels(shot)):
                    break
                shot = again
            before, t0 = again["frame"], time.perf_counter()
            _post_key()
            while True:
                shot = _request(window, "screenshot")
                if not np.array_equal(_pixels(shot), _pixels(again)):
                    break
            out.append((shot["frame"] - before, (time.perf_counter() - t0) * 1e3))
        return out[2:]  # the first keys warm the path up


def _hearth_flood():
    """``(fps, seconds)`` of the flood in a Hearth terminal."""
    with _client(fps=60.0) as (display, caps, _lumps):
        window, factory = caps["hearth.Window"], caps["hearth.terminal.TerminalFactory"]
        _request(window, ["set_camera", 90.0, 0.1, _wire(np.identity(4))])
        frames0 = _request(window, "stats")["frames"]
        t0 = time.perf_counter()
        term = _request(factory, ["create", {"position": PLACE, "command": _flood_command()}],
                        [vm.make_capability(vm.MONITOR)])
        import gevent
        while True:  # the screen's text once a frame, as the bare loop checks it
            gevent.sleep(PERIOD)
            if any(END in line for line in _request(term, "screen")["lines"]):
                break
        elapsed = time.perf_counter() - t0
        frames = _request(window, "stats")["frames"] - frames0
        term.kill()
        return frames / elapsed, elapsed


# -- the bare loop --------------------------------------------------------------------------


class _BareTerminal:
    """One window, one terminal core (pty, pyte, painting), the GL renderer;
    no processes. `frame()` draws one frame; `pump(deadline)` reads the pty
    until it is empty or the deadline."""

    def __init__(self, command, columns, rows):
        from hearth.gfx._scene import Scene
        from hearth.gfx._text import FontCache
        from hearth.gfx._window import open_display
        from hearth.gfx.gl._draw import GLRenderer
        from hearth.gfx.terminal._factory import _check_state, _Core

        self.display = open_display(SIZE, title="hearth bench (bare)", resizable=False)
        self.scene = Scene()
        self.scene.camera.vfov = 90.0
        self.renderer = GLRenderer()
        fields = _check_state({"position": PLACE, "command": command, "columns": columns,
                               "rows": rows}, creating=True)
        self.core = _Core(self.scene, self.scene.new_id(), FontCache(), fields)
        self.core.start(fields["command"])
        os.set_blocking(self.core.pty.master, False)
        self.core.paint()
        self.scene.canvases[self.core.rid] = self.core.canvas
        self.frames = 0

    def pump(self, deadline):
        while time.perf_counter() < deadline:
            try:
                data = os.read(self.core.pty.master, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not data:
                return
            self.core.feed(data)

    def frame(self, read=False):
        import pygame

        from hearth.gfx.gl import GL
        for ev in pygame.event.get():
            if ev.type == pygame.TEXTINPUT:
                os.write(self.core.pty.master, ev.text.encode())
        self.pump(time.perf_counter() + PERIOD / 2)
        self.renderer.draw(self.scene, *SIZE)
        px = None
        if read:
            GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
            px = np.frombuffer(GL.glReadPixels(0, 0, *SIZE, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE),
                               np.uint8).copy()
        pygame.display.flip()
        self.frames += 1
        return px

    def close(self):
        self.core.close()
        self.display.close()


def _paced(started):
    import gevent
    remaining = started + PERIOD - time.perf_counter()
    gevent.sleep(max(0.0, remaining))


def _bare_keys(n):
    with x_display():
        bare = _BareTerminal(["cat"], 40, 10)
        try:
            out = []
            for _ in range(n + 2):
                started = time.perf_counter()
                shot = bare.frame(read=True)
                _paced(started)
                while True:
                    started = time.perf_counter()
                    again = bare.frame(read=True)
                    _paced(started)
                    if np.array_equal(again, shot):
                        break
                    shot = again
                before, t0 = bare.frames, time.perf_counter()
                _post_key()
                while True:
                    started = time.perf_counter()
                    px = bare.frame(read=True)
                    _paced(started)
                    if not np.array_equal(px, again):
                        break
                out.append((bare.frames - before, (time.perf_counter() - t0) * 1e3))
            return out[2:]
        finally:
            bare.close()


def _bare_flood():
    with x_display():
        t0 = time.perf_counter()
        bare = _BareTerminal(_flood_command(), 80, 24)
        try:
            while True:
                started = time.perf_counter()
                bare.frame()
                if any(END in line for line in bare.core.screen.text()):
                    break
                _paced(started)
            elapsed = time.perf_counter() - t0
            return bare.frames / elapsed, elapsed
        finally:
            bare.close()


# -- the benchmarks -------------------------------------------------------------------------


def _key_stats(key, pairs):
    frames, ms = (sorted(v) for v in zip(*pairs))
    return {key: percentile(frames, 50), key + "_p99": percentile(frames, 99),
            key + "_ms_p50": percentile(ms, 50), key + "_ms_p99": percentile(ms, 99)}


@benchmark("wm_key_latency", repeat=3)
def wm_key_latency(repeat):
    """Frames from a key press to its glyph on screen, through the wm, vs a bare pyte loop."""

    def trial(i):
        s = _key_stats("hearth", _hearth_keys(KEYS))
        s.update(_key_stats("bare", _bare_keys(KEYS)))
        return s

    s = trials(repeat, trial)
    return [figure("wm_key_latency.p50", s, "hearth", "bare", unit="frames",
                   baseline="a bare 60 fps loop: the same pty, pyte, painting and GL renderer,"
                            " no processes", better="lower",
                   goal="within 1 frame of the bare loop",
                   check=lambda f: f.value <= f.baseline_value + 1,
                   p50=median(s["hearth_ms_p50"]), p99=median(s["hearth_ms_p99"]),
                   baseline_p50=median(s["bare_ms_p50"]),
                   baseline_p99=median(s["bare_ms_p99"]), latency_unit="ms",
                   extra={"frames_p99": max(s["hearth_p99"]),
                          "baseline_frames_p99": max(s["bare_p99"])})]


@benchmark("wm_flood", repeat=3)
def wm_flood(repeat):
    """cat of 5 MB into a terminal: frames a second and time to the last line, vs a bare loop."""

    def trial(i):
        fps, seconds = _hearth_flood()
        bare_fps, bare_seconds = _bare_flood()
        return {"hearth_fps": fps, "hearth_s": seconds, "bare_fps": bare_fps,
                "bare_s": bare_seconds}

    s = trials(repeat, trial)
    return [figure("wm_flood.fps", s, "hearth_fps", "bare_fps", unit="frames/s",
                   baseline="a bare 60 fps loop reading the pty until the next frame is due",
                   better="higher", goal=">= 30 frames/s", check=lambda f: f.value >= 30),
            figure("wm_flood.last_line", s, "hearth_s", "bare_s", unit="s",
                   baseline="the same bare loop", better="lower")]
