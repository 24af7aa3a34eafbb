"""Benchmarks of the terminals' text (hearth/gfx/text, hearth/gfx/terminal),
under a real window (Xvfb and Mesa's llvmpipe when there is no display).

- ``text_flood``: frame time of the client's frame loop while a 200x60
  terminal is flooded with colored output (a shell loop printing full
  lines with SGR colors, bold and underline, as fast as the pty takes
  them), the terminal drawn with MSDF (the default: a row of cells
  written and uploaded per changed line, the glyphs drawn by the shader
  into the grid's picture once per change, the picture copied every
  frame) against the same terminal drawn by the bitmap path (pygame.font
  coverage masks painted into a 2,000-pixel-wide canvas, the rows
  uploaded), in the same run, the order swapped every repeat. Goal: at
  most 1.1x the bitmap path.
- ``text_atlas``: the glyph atlas of the printable ASCII set (94 glyphs,
  regular style): generated cold (outlines, edge coloring, fields),
  against loading it from its lump in a disk store (a new `LumpStore`
  on the same directory, so nothing is in memory). Reference figures;
  beside them, pygame.font rendering the same glyphs' bitmaps (what the
  bitmap path pays for them at 16 px per em).

Run them alone with ``python -m benchmarks text_flood text_atlas``.
"""

import contextlib
import shutil
import tempfile
import time

import numpy as np

from hearth import vm
from hearth.otp import start_registry

from ._harness import Stopwatch, benchmark, figure, trials, x_display
from .bench_client import SIZE, _request, _wire

COLUMNS, ROWS = 200, 60
FLOOD_SECONDS = 1.5
# A full line of colored text, then a newline, as fast as the pty takes it.
_LINE = "".join(f"\\033[3{i % 8}m{'x' * 6} \\033[1mbold\\033[0m \\033[4mund\\033[0m "
                for i in range(10))[:2000]
FLOOD = ["sh", "-c", f"while :; do printf '{_LINE}\\n'; done"]


def _position():
    return {"origin": [0.0, 0.0, -1.2], "orientation": [0.0, 0.0, 0.0, 1.0],
            "half_size": [1.6, 0.6]}


@contextlib.contextmanager
def _client():
    """The client's services over a fresh window, drawing as fast as they
    can, and a second terminal factory over the same scene drawing with
    the bitmap path: yields ``(window, msdf factory, bitmap factory)``."""
    from hearth.gfx._services import start_client_services
    from hearth.gfx._window import open_display
    from hearth.gfx.terminal import TerminalFactory
    from hearth.native._service import start_supervised

    with x_display():
        display = open_display(SIZE, title="hearth bench", resizable=False)
        rt = vm.Runtime()
        try:
            with rt.open_process(name="bench"):
                registry = start_registry()
                caps = start_client_services(registry, display, fps=None).caps
                _, more = start_supervised(registry, [
                    ("bench.bitmap_terminals", TerminalFactory, (display.scene, "bitmap"))],
                    name="bench.bitmap", intensity=1, period=5.0)
                yield (caps["hearth.Window"], caps["hearth.terminal.TerminalFactory"],
                       more["bench.bitmap_terminals"])
        finally:
            rt.shutdown()
            display.close()


def _flood_ms(window, factory, owner):
    """Frame time (ms) and screen lines a second while a flooding terminal
    made by `factory` runs; the terminal ends afterwards."""
    term = _request(factory, ["create", {"position": _position(), "columns": COLUMNS,
                                         "rows": ROWS, "command": FLOOD}], [owner])
    try:
        deadline = time.monotonic() + 10
        while not any(line.strip() for line in _request(term, "screen")["lines"]):
            if time.monotonic() > deadline:
                raise RuntimeError("the flooding terminal never printed")
            vm.recv(timeout=0.01)
        f0 = _request(window, "stats")["frames"]
        t0 = time.perf_counter()
        vm.recv(timeout=FLOOD_SECONDS)
        f1 = _request(window, "stats")["frames"]
        elapsed = time.perf_counter() - t0
    finally:
        _request(term, "quit")
    return elapsed * 1e3 / max(1, f1 - f0)


@benchmark("text_flood", repeat=5)
def text_flood(repeat):
    """Frame time with a flooded 200x60 terminal: MSDF vs the bitmap path, same run."""
    with _client() as (window, msdf, bitmap):
        _request(window, ["set_camera", 60.0, 0.1, _wire(np.identity(4))])
        owner = vm.make_capability(vm.MONITOR)
        _flood_ms(window, msdf, owner)  # warm up: the atlas, the shader

        def trial(i):
            sides = [("msdf", msdf), ("bitmap", bitmap)]
            out = {}
            for name, factory in (sides if i % 2 == 0 else sides[::-1]):
                out[name] = _flood_ms(window, factory, owner)
            return out

        s = trials(repeat, trial)
    return [figure("text_flood.frame", s, "msdf", "bitmap", unit="ms/frame",
                   baseline=(f"the same {COLUMNS}x{ROWS} terminal and flood drawn by the"
                             " bitmap path (pygame.font masks painted into a canvas)"),
                   better="lower", goal="ratio <= 1.1", check=lambda f: f.ratio <= 1.1,
                   extra={"repeats": s["msdf"], "baseline_repeats": s["bitmap"]})]


@benchmark("text_atlas", repeat=5)
def text_atlas(repeat):
    """ASCII glyph atlas: generated cold vs loaded from its lump (disk)."""
    import pygame

    from hearth.gfx.text._atlas import Atlas
    from hearth.gfx.text._cache import PRINTABLE, load_or_build
    from hearth.vm import LumpStore

    if not pygame.font.get_init():
        pygame.font.init()
    from hearth.gfx._text import _MONO_FAMILIES
    font = pygame.font.Font(pygame.font.match_font(_MONO_FAMILIES), 16)
    root = tempfile.mkdtemp(prefix="hearth-bench-atlas-")
    try:
        load_or_build(LumpStore(f"{root}/lumps"))  # the lump the cached side loads

        def cold():
            with Stopwatch() as sw:
                Atlas().prefill(PRINTABLE)
            return {"cold": sw.seconds * 1e3}

        def cached():
            with Stopwatch() as sw:
                atlas, hit = load_or_build(LumpStore(f"{root}/lumps"))
            assert hit and atlas.count == len(PRINTABLE) + 1
            return {"cached": sw.seconds * 1e3}

        def bitmaps():
            with Stopwatch() as sw:
                for c in PRINTABLE:
                    font.render(c, True, (255, 255, 255), (0, 0, 0))
            return {"bitmap": sw.seconds * 1e3}

        s = trials(repeat, lambda i: {**cold(), **cached(), **bitmaps()})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [figure("text_atlas.cached", s, "cached", "cold", unit="ms",
                   baseline="generating the same atlas cold", better="lower",
                   goal="reference (a second start loads, never regenerates)",
                   extra={"repeats": s["cached"], "baseline_repeats": s["cold"]}),
            figure("text_atlas.cold", s, "cold", "bitmap", unit="ms",
                   baseline="pygame.font rendering the same 94 glyphs at 16 px/em",
                   better="lower", goal="reference",
                   extra={"repeats": s["cold"], "baseline_repeats": s["bitmap"]})]
