"""``hearth.terminal.TerminalFactory``: a program in a pty, shown on a
textured quad in the world (docs/protocols.md).

Requests to the factory (the envelope of `hearth.native._service`):

``["create", state]``
    ``{"op": "create", "state": state}``. `state` is a map:

    - ``position`` (required): ``{"origin": [x, y, z], "orientation":
      [x, y, z, w], "half_size": [w, h]}``, as a canvas's.
    - ``opacity``: 0..1 (default 1), the alpha of every pixel.
    - ``padding``: the margin around the text, in ems (default 0.5, at most 8).
    - ``units_per_em``: the text's pixels per em, 6..128 (default 16): the
      resolution of the texture, not the quad's size.
    - ``palette``: 18 colors ``[r, g, b]`` in 0..1: the 16 ANSI colors,
      then the default foreground and background (default: xterm's).
    - ours: ``command``: the argv to run (default ``[$SHELL]``, else
      ``/bin/sh``); ``columns``, ``rows``: the grid, 1..500 x 1..200
      (default 80 x 24).

    ok: a terminal capability (SEND, MONITOR, KILL). A command that can't be
    run is ``not_found`` or ``permission_denied``.

Updates to a terminal (requests, ok nil, or sinks; see `_resource`):

``["input", text]``
    type `text` (a str, or a bin of raw bytes) into the pty.
``["state", state]``
    any of the keys above but ``command``: ``position`` moves it, ``opacity``
    and ``palette`` recolor it, ``columns``/``rows`` resize the pty (the
    program gets SIGWINCH), ``units_per_em``/``padding`` re-cut the texture.
``["select", cells]`` (ours)
    show cells as selected (reversed): `cells` is ``[[x0, y0], [x1, y1]]``,
    from the first to the last cell in reading order (both included), or
    nil for no selection.
``"quit"``
    ends the program and the terminal (as killing its capability does).
``"screen"`` (ours; a request)
    ok: ``{"lines": [str, ...], "cursor": [x, y], "columns", "rows",
    "pid", "size": [w, h], "cell": [w, h], "cursor_keys"}``: the text on the
    screen, the child's pid, the texture's and a cell's sizes in pixels,
    and the cursor keys' mode the program set: ``"application"`` (DECCKM
    set: arrows send ``ESC O A``) or ``"normal"`` (``ESC [ A``).

The program runs in its own session with the pty as its controlling
terminal, ``TERM=xterm-256color``, and the pty's window size set to the
grid. Its output goes through a `pyte` screen (a VT102 emulator with 256
colors); the lines that changed are written into the quad's grid of cells
(glyph, colors, attributes) and only those rows are uploaded at the next
frame, where a shader draws them from the glyph atlas (`hearth.gfx.text`;
see `_draw` for the bitmap path kept for comparison). When the
program exits (its end of the pty closes) the terminal ends with reason
``normal``. When the terminal ends any other way (``"quit"``, killing its
capability, its owner's death) the program's process group gets SIGHUP;
one that is still there after 0.1 s gets SIGKILL; either way it is reaped
before the terminal's Down is sent.

The pieces: `_pty` (the pty and the child), `_screen` (the VT screen),
`_draw` (its pixels); here, the factory, the terminal's process and the
checks of a state map.

Bad input (a wrong type, an unknown op or key, a palette of the wrong
length, a zero or too large grid) is ``invalid_request`` and changes
nothing.
"""

import logging
import math
import os
import time

import numpy as np
from gevent import get_hub

from hearth import vm
from hearth.native._service import INVALID_REQUEST, ServiceError
from hearth.vm import Down

from .._canvas import _transform as _placement
from .._resource import ResourceFactory, SceneResource, owner_of
from .._text import FontCache
from ._draw import GridFonts, Layout, canvas_size, check_layout, new_canvas, paint, reset
from ._pty import Pty, read_loop
from ._screen import DEFAULT_PALETTE, Screen

__all__ = ["TERMINAL_FACTORY", "TerminalFactory", "DEFAULT_PALETTE"]

TERMINAL_FACTORY = "hearth.terminal.TerminalFactory"

log = logging.getLogger("hearth.terminal")

MAX_COLUMNS, MAX_ROWS = 500, 200
# A flood of output is painted at most every PAINT_EVERY seconds, and at
# most every PAINT_SHARE times what the last paint took (painting every
# row costs more than parsing a pty read: xterm's "jump scroll"). The rows
# that changed meanwhile are painted by a trailing timer, so the last
# output always shows. A change of a few rows (a key's echo) paints at once.
PAINT_EVERY = 1 / 60
PAINT_SHARE = 4
QUICK_ROWS = 2  # at most this many changed rows (a key's echo) are painted at once
# pyte keeps a private mode (``CSI ? n h``) as n << 5; DECCKM is private mode 1.
_DECCKM = 1 << 5

_STATE_KEYS = {"position", "opacity", "padding", "units_per_em", "palette", "columns", "rows"}
_DEFAULTS = {"opacity": 1.0, "padding": 0.5, "units_per_em": 16, "palette": DEFAULT_PALETTE,
             "columns": 80, "rows": 24}


def _bad(message):
    return ServiceError(INVALID_REQUEST, message)


# -- checking ------------------------------------------------------------------------------


def _number(value, what, low, high):
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise _bad(f"{what} must be a number in {low}..{high}, not {value!r}"[:200])
    return float(value)


def _count(value, what, high):
    if type(value) is not int or not 1 <= value <= high:
        raise _bad(f"{what} must be an int in 1..{high}, not {value!r}"[:200])
    return value


def _palette(value):
    if type(value) not in (tuple, list) or len(value) != 18:
        raise _bad("palette is an array of 18 colors: 16 ANSI, foreground, background")
    out = np.empty((18, 3), np.uint8)
    for i, color in enumerate(value):
        if type(color) not in (tuple, list) or len(color) != 3:
            raise _bad(f"palette color {i} must be [r, g, b] in 0..1")
        out[i] = [round(_number(c, f"palette color {i}", 0, 1) * 255) for c in color]
    return out


def _command(value):
    if (type(value) not in (tuple, list) or not value
            or any(type(a) is not str or "\0" in a for a in value) or not value[0]):
        raise _bad("command is a non-empty array of strs (an argv)")
    return list(value)


def _check_state(state, creating):
    """The checked fields of a state map (only those given, or with the
    defaults when `creating`)."""
    if type(state) is not dict:
        raise _bad("state is a map")
    allowed = _STATE_KEYS | {"command"} if creating else _STATE_KEYS
    unknown = [k for k in state if k not in allowed]
    if unknown:
        raise _bad(f"unknown state key(s) {unknown!r}; known: {sorted(allowed)}"[:200])
    if creating:
        if "position" not in state:
            raise _bad("create needs a position")
        state = {**_DEFAULTS, **state}
    out = {}
    if "position" in state:
        out["transform"] = _placement(state["position"])
    if "opacity" in state:
        out["opacity"] = _number(state["opacity"], "opacity", 0, 1)
    if "padding" in state:
        out["padding"] = _number(state["padding"], "padding", 0, 8)
    if "units_per_em" in state:
        out["units_per_em"] = round(_number(state["units_per_em"], "units_per_em", 6, 128))
    if "palette" in state:
        out["palette"] = _palette(state["palette"])
    if "columns" in state:
        out["columns"] = _count(state["columns"], "columns", MAX_COLUMNS)
    if "rows" in state:
        out["rows"] = _count(state["rows"], "rows", MAX_ROWS)
    if creating:
        shell = os.environ.get("SHELL") or "/bin/sh"
        out["command"] = _command(state.get("command", [shell]))
    return out


# -- the terminal itself -------------------------------------------------------------------


class _Core:
    """One terminal's state, shared by its process and its reader process
    (and, for `close`, its factory): the pty (`Pty`), the screen
    (`Screen`) and the canvas it is drawn on. Nothing here switches
    greenlets.

    Attributes:
        pty: the `Pty`; ``pty.pid`` is the child's pid.
        closed: True once `close` ran.
    """

    def __init__(self, scene, rid, fonts, fields):
        self.scene = scene
        self.rid = rid
        self.fonts = fonts
        self.closed = False
        self._painted = -math.inf  # when paint last ended (time.monotonic)
        self._paint_cost = 0.0  # the seconds it took
        self._later = None  # the trailing paint's hub timer, while one is due
        self.pty = Pty()
        self.padding = fields["padding"]
        self.units_per_em = fields["units_per_em"]
        self.layout = Layout(fonts.get(self.units_per_em), self._pad(), fields["opacity"],
                             fields["palette"])
        self.screen = Screen(fields["columns"], fields["rows"], self._answer)
        self.canvas = new_canvas(self.layout, self.screen, fields["transform"])

    def start(self, argv):
        """Run `argv` in a new pty. Raises ServiceError."""
        self.pty.start(argv, self.screen.columns, self.screen.rows, *self._grid_pixels())

    def _grid_pixels(self):
        font = self.layout.font
        return self.screen.columns * font.cell_w, self.screen.rows * font.cell_h

    def close(self):
        """End it all: the canvas leaves the scene, the pty closes, the
        child is ended and reaped. Idempotent. Switches: never."""
        if self.closed:
            return
        self.closed = True
        if self._later is not None:
            self._later.close()
            self._later = None
        self.scene.remove_canvas(self.rid)
        self.pty.close()

    def write(self, data):
        """Type `data` into the pty. Raises ServiceError when too much
        is waiting already."""
        self.pty.write(data)

    def _answer(self, data):
        try:
            self.pty.write(data)
        except ServiceError:
            pass  # a program flooding us with queries loses some answers

    def feed(self, data):
        """The program wrote `data`: update the screen and repaint the
        lines that changed, now (a few rows, or long enough after the
        last paint: see `PAINT_EVERY`), or else from a hub timer when
        that time is up."""
        self.screen.feed(data)
        gap = max(PAINT_EVERY, PAINT_SHARE * self._paint_cost)
        wait = self._painted + gap - time.monotonic()
        if wait <= 0 or _dirty_rows(self.screen) <= QUICK_ROWS:
            self.paint()
        elif self._later is None:
            self._later = get_hub().loop.timer(wait)
            self._later.start(self._paint_later)

    def _paint_later(self):  # a hub callback: never switches, never raises
        self._later.close()
        self._later = None
        if not self.closed:
            try:
                self.paint()
            except Exception:  # noqa: BLE001 - the hub must not see it
                log.exception("a terminal's trailing paint failed")

    def flush(self):
        """Paint now what a flood's trailing timer would paint later, so that
        the next frame shows the screen as it is."""
        if self._later is not None:
            self._later.close()
            self._later = None
            self.paint()

    def paint(self):
        """Paint the screen's dirty lines (and the cursor's) into the canvas."""
        started = time.monotonic()
        paint(self.canvas, self.layout, self.screen)
        self._painted = time.monotonic()
        self._paint_cost = self._painted - started

    def _pad(self):
        return round(self.padding * self.units_per_em)

    def check_layout(self, fields):
        """Raise ServiceError if `fields` would make a texture too large."""
        check_layout(self.fonts, fields.get("units_per_em", self.units_per_em),
                     fields.get("columns", self.screen.columns),
                     fields.get("rows", self.screen.rows), fields.get("padding", self.padding))

    def apply(self, fields):
        """Apply checked fields (`_check_state`, `check_layout`)."""
        layout = self.layout
        if "transform" in fields:
            self.canvas.transform = fields["transform"]
        relayout = False
        if "units_per_em" in fields:
            self.units_per_em = fields["units_per_em"]
            layout.font = self.fonts.get(self.units_per_em)
            relayout = True
        if "padding" in fields:
            self.padding = fields["padding"]
            relayout = True
        layout.pad = self._pad()
        columns = fields.get("columns", self.screen.columns)
        rows = fields.get("rows", self.screen.rows)
        if (columns, rows) != (self.screen.columns, self.screen.rows):
            self.screen.resize(columns, rows)
            relayout = True
        if relayout:
            self.pty.resize(columns, rows, *self._grid_pixels())
        if "opacity" in fields:
            layout.opacity = fields["opacity"]
        if "palette" in fields:
            layout.palette = fields["palette"]
        if relayout or "opacity" in fields or "palette" in fields:
            reset(self.canvas, layout, self.screen)
            self.paint()

    def select(self, cells):
        """Show `cells` (``[[x0, y0], [x1, y1]]`` or None) as selected.
        Raises ServiceError (``invalid_request``) for anything else."""
        screen = self.screen
        if cells is None:
            screen.select()
        else:
            if (type(cells) not in (tuple, list) or len(cells) != 2
                    or any(type(c) not in (tuple, list) or len(c) != 2
                           or any(type(v) is not int for v in c) for c in cells)
                    or any(not (0 <= x < screen.columns and 0 <= y < screen.rows)
                           for x, y in cells)):
                raise _bad(f"select takes nil or [[x0, y0], [x1, y1]], cells of the"
                           f" {screen.columns}x{screen.rows} grid")
            screen.select(*cells)
        self.paint()

    def snapshot(self):
        w, h = canvas_size(self.canvas)
        font = self.layout.font
        return {"lines": self.screen.text(), "cursor": self.screen.cursor(),
                "columns": self.screen.columns, "rows": self.screen.rows, "pid": self.pty.pid,
                "size": [w, h], "cell": [font.cell_w, font.cell_h],
                "cursor_keys": "application" if _application_cursor(self.screen) else "normal"}


def _dirty_rows(screen):
    """How many rows changed since the last paint (0 if the screen can't
    tell: then every feed paints at once)."""
    dirty = getattr(getattr(screen, "_screen", None), "dirty", None)
    return len(dirty) if dirty is not None else 0


def _application_cursor(screen):
    """True if the program set DECCKM (application cursor keys)."""
    own = getattr(screen, "application_cursor", None)
    if own is not None:
        return bool(own)
    return _DECCKM in screen._screen.mode


# -- processes -----------------------------------------------------------------------------


class _Terminal(SceneResource):
    name = schema = "hearth.terminal"
    OPS = {"input": ("text",), "state": ("state",), "quit": (), "screen": (),
           "select": ("cells",)}

    def __init__(self, owner, core, rid):
        super().__init__(owner, core.scene, rid)
        self.core = core
        # The kernel runs exit hooks before it closes our routes, so the
        # child is reaped before anyone gets our Down, however we die.
        vm.on_exit(self.proc, lambda proc, reason: core.close())
        self._reader = vm.spawn_link(read_loop, core.pty, core.feed,
                                     name="hearth.terminal.reader")
        self._reader_ref = self._reader.monitor()

    def handle_request(self, request):
        op, fields = self.parse(request)
        core = self.core
        if op == "input":
            text = fields["text"]
            if type(text) is str:
                text = text.encode()
            elif type(text) is not bytes:
                raise _bad("input takes a str or a bin")
            core.write(text)
        elif op == "state":
            checked = _check_state(fields["state"], creating=False)
            core.check_layout(checked)
            core.apply(checked)
        elif op == "screen":
            core.flush()  # what it answers is what the next frame shows
            return core.snapshot()
        elif op == "select":
            core.select(fields["cells"])
        else:  # quit
            if request.reply_to is not None:
                request.reply(None)
            self._end()
        return None

    def _end(self):
        # Unlinked first: the reader's death must not be ours.
        self._reader.unlink()
        self._reader.kill()
        self.core.close()
        vm.exit(vm.NORMAL)

    def handle_info(self, sig):
        if type(sig) is Down and sig.ref == self._reader_ref:
            sig.cap.release()
            self.core.close()  # the program ended: reap it
            vm.exit(vm.NORMAL)
        super().handle_info(sig)

    def remove(self):
        self.core.close()


class TerminalFactory(ResourceFactory):
    """``hearth.terminal.TerminalFactory`` over `scene`. Its terminals draw
    their text from the MSDF atlas (`text` ``"msdf"``, the default) or as
    bitmaps painted by pygame.font (``"bitmap"``: for comparison)."""

    name = schema = TERMINAL_FACTORY

    def __init__(self, scene, text="msdf"):
        super().__init__(scene)
        if text not in ("msdf", "bitmap"):
            raise ValueError(f"text is 'msdf' or 'bitmap', not {text!r}")
        self.fonts = GridFonts(self.proc.runtime.lumps) if text == "msdf" else FontCache()

    def handle_request(self, request):
        _, fields = self.parse(request)
        checked = _check_state(fields["state"], creating=True)
        owner = owner_of(request)
        scene = self.scene
        check_layout(self.fonts, checked["units_per_em"], checked["columns"], checked["rows"],
                     checked["padding"])
        rid = scene.new_id()
        core = _Core(scene, rid, self.fonts, checked)
        core.start(checked["command"])
        try:
            core.paint()
            scene.canvases[rid] = core.canvas
            self.give(request, _Terminal, owner, core, rid, core.close)
        except BaseException:
            core.close()
            raise
