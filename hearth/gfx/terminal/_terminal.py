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
``"quit"``
    ends the program and the terminal (as killing its capability does).
``"screen"`` (ours; a request)
    ok: ``{"lines": [str, ...], "cursor": [x, y], "columns", "rows",
    "pid", "size": [w, h], "cell": [w, h]}``: the text on the screen, the
    child's pid, and the texture's and a cell's sizes in pixels.

The program runs in its own session with the pty as its controlling
terminal, ``TERM=xterm-256color``, and the pty's window size set to the
grid. Its output goes through a `pyte` screen (a VT102 emulator with 256
colors); the lines that changed are painted into the quad's pixels and only
their rectangle is uploaded at the next frame (the canvas path). When the
program exits (its end of the pty closes) the terminal ends with reason
``normal``. When the terminal ends any other way (``"quit"``, killing its
capability, its owner's death) the program's process group gets SIGHUP;
one that is still there after 0.1 s gets SIGKILL; either way it is reaped
before the terminal's Down is sent.

Bad input (a wrong type, an unknown op or key, a palette of the wrong
length, a zero or too large grid) is ``invalid_request`` and changes
nothing.
"""

import errno
import fcntl
import math
import os
import signal
import struct
import termios

import numpy as np
import pyte
from gevent import get_hub
from gevent.monkey import get_original

from hearth import vm
from hearth.vm import Down
from hearth.native._service import (
    INVALID_REQUEST,
    NOT_FOUND,
    PERMISSION_DENIED,
    ServiceError,
    parse_op,
)

from .._canvas import _transform as _placement
from .._formats import MAX_TEXTURE_SIZE
from .._resource import ResourceFactory, SceneResource, owner_of
from .._scene import Canvas
from .._text import FontCache

__all__ = ["TERMINAL_FACTORY", "TerminalFactory", "DEFAULT_PALETTE"]

TERMINAL_FACTORY = "hearth.terminal.TerminalFactory"

# Under gevent's monkey patching these would hand the child to the hub's
# child watchers; the terminal reaps its child itself, at a known moment.
_posix_spawnp = get_original("os", "posix_spawnp")
_waitpid = get_original("os", "waitpid")
_close_fd = get_original("os", "close")
_sleep = get_original("time", "sleep")
_monotonic = get_original("time", "monotonic")

MAX_COLUMNS, MAX_ROWS = 500, 200
_HANGUP_GRACE = 0.1  # seconds a child has to go after SIGHUP before SIGKILL
_MAX_INPUT = 1 << 20  # bytes of input waiting for the pty before input is refused
_READ_CHUNK = 65536

# xterm's colors: the 16 ANSI ones, then the default foreground and background.
DEFAULT_PALETTE = tuple(tuple(round(c / 255, 4) for c in rgb) for rgb in (
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
    (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    (229, 229, 229), (0, 0, 0),
))
_FG, _BG = 16, 17
_NAMES = {name: i for i, name in enumerate(
    ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white"))}
_NAMES.update({"bright" + name: i + 8 for name, i in list(_NAMES.items())})
# pyte reports colors 0..15 of the 256-color escapes as hex: they are the palette's.
_HEX16 = {h: i for i, h in enumerate(pyte.graphics.FG_BG_256[:16])}

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


class _Screen(pyte.Screen):
    """A pyte screen whose answers to the program's queries (cursor
    position, device attributes) go back into the pty."""

    def __init__(self, columns, lines, answer):
        super().__init__(columns, lines)
        self._answer = answer

    def write_process_input(self, data):
        self._answer(data.encode())


class _Core:
    """One terminal's state, shared by its process and its reader process
    (and, for `close`, its factory): the pty, the child, the pyte screen
    and the canvas it paints. Nothing here switches greenlets.

    Attributes:
        pid: the child's pid. master: the pty's master fd (non-blocking).
        closed: True once `close` ran.
    """

    def __init__(self, scene, rid, fonts, fields):
        self.scene = scene
        self.rid = rid
        self.fonts = fonts
        self.closed = False
        self.pid = None
        self.master = None
        self.read_watcher = None  # the reader's; stopped by `close`
        self._write_watcher = None
        self._pending = bytearray()  # input the pty did not take yet
        self.opacity = fields["opacity"]
        self.padding = fields["padding"]
        self.palette = fields["palette"]
        self.units_per_em = fields["units_per_em"]
        self.font = fonts.get(self.units_per_em)
        self.screen = _Screen(fields["columns"], fields["rows"], self._answer)
        self.stream = pyte.ByteStream(self.screen)
        self._cursor_row = None
        self.canvas = Canvas(fields["transform"], self._blank(), linear=True)

    # -- the child ----------------------------------------------------------------------

    def start(self, argv):
        """Open the pty and run `argv` in it. Raises ServiceError."""
        master, slave = os.openpty()
        try:
            self._set_winsize(master)
            env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(self.screen.columns),
                       LINES=str(self.screen.lines))
            # Opened after setsid (glibc does the file actions last), the
            # slave becomes the child's controlling terminal.
            actions = [(os.POSIX_SPAWN_OPEN, 0, os.ttyname(slave), os.O_RDWR, 0),
                       (os.POSIX_SPAWN_DUP2, 0, 1), (os.POSIX_SPAWN_DUP2, 0, 2)]
            try:
                self.pid = _posix_spawnp(argv[0], argv, env, file_actions=actions, setsid=True)
            except FileNotFoundError:
                raise ServiceError(NOT_FOUND, f"no such program: {argv[0]!r}"[:200]) from None
            except PermissionError:
                raise ServiceError(PERMISSION_DENIED,
                                   f"may not run {argv[0]!r}"[:200]) from None
            except OSError as e:
                raise _bad(f"cannot run {argv[0]!r}: {e.strerror}"[:200]) from None
        except BaseException:
            _close_fd(master)
            raise
        finally:
            _close_fd(slave)
        os.set_blocking(master, False)
        self.master = master

    def _set_winsize(self, fd=None):
        font = self.font
        size = struct.pack("HHHH", self.screen.lines, self.screen.columns,
                           self.screen.columns * font.cell_w, self.screen.lines * font.cell_h)
        fcntl.ioctl(self.master if fd is None else fd, termios.TIOCSWINSZ, size)

    def _end_child(self):
        """Hang the child up and reap it; SIGKILL if it outlives the grace.
        Blocks the thread (without switching) for at most the grace."""
        pid, self.pid = self.pid, None
        if pid is None or _reaped(pid):
            return
        _signal_group(pid, signal.SIGHUP)
        deadline = _monotonic() + _HANGUP_GRACE
        while _monotonic() < deadline:
            if _reaped(pid):
                return
            _sleep(0.001)
        _signal_group(pid, signal.SIGKILL)
        try:
            _waitpid(pid, 0)
        except ChildProcessError:
            pass

    def close(self):
        """End it all: the canvas leaves the scene, the pty closes, the
        child is ended and reaped. Idempotent. Switches: never."""
        if self.closed:
            return
        self.closed = True
        self.scene.remove_canvas(self.rid)
        for watcher in (self.read_watcher, self._write_watcher):
            if watcher is not None:
                watcher.stop()
        if self._write_watcher is not None:
            self._write_watcher.close()
            self._write_watcher = None
        if self.master is not None:
            _close_fd(self.master)
            self.master = None
        self._end_child()

    # -- input --------------------------------------------------------------------------

    def write(self, data):
        """Queue `data` for the pty and write what it takes now; the rest
        goes as it drains (a hub watcher). Raises ServiceError when too
        much is waiting already."""
        if self.closed:
            return
        if len(self._pending) + len(data) > _MAX_INPUT:
            raise _bad("the terminal's input backlog is full")
        self._pending += data
        self._flush()

    def _answer(self, data):
        try:
            self.write(data)
        except ServiceError:
            pass  # a program flooding us with queries loses some answers

    def _flush(self):  # also a hub callback: never switches, never raises
        pending = self._pending
        while pending and self.master is not None:
            try:
                n = os.write(self.master, pending)
            except BlockingIOError:
                break
            except OSError:  # the child's side is gone: nobody will read it
                pending.clear()
                break
            del pending[:n]
        if pending and self.master is not None:
            if self._write_watcher is None:
                self._write_watcher = get_hub().loop.io(self.master, 2)
            if not self._write_watcher.active:
                self._write_watcher.start(self._flush)
        elif self._write_watcher is not None:
            self._write_watcher.stop()

    # -- output -------------------------------------------------------------------------

    def feed(self, data):
        """The program wrote `data`: update the screen and repaint the
        lines that changed."""
        self.stream.feed(data)
        self.paint()

    def paint(self):
        """Paint the screen's dirty lines (and the cursor's) into the canvas."""
        screen = self.screen
        dirty = screen.dirty
        cursor = screen.cursor
        row = None if cursor.hidden else cursor.y
        if row != self._cursor_row:
            for r in (row, self._cursor_row):
                if r is not None and r < screen.lines:
                    dirty.add(r)
            self._cursor_row = row
        elif row is not None:
            dirty.add(row)  # the cursor may have moved along its row
        if not dirty:
            return
        canvas = self.canvas
        font, pad = self.font, self._pad()
        ch, width = font.cell_h, screen.columns * font.cell_w
        alpha = round(self.opacity * 255)
        rows = sorted(r for r in dirty if 0 <= r < screen.lines)
        dirty.clear()
        for r in rows:
            y = pad + r * ch
            canvas.pixels[y:y + ch, pad:pad + width, :3] = self._row(r)
            canvas.pixels[y:y + ch, pad:pad + width, 3] = alpha
        if not canvas.reallocate:
            for start, stop in _runs(rows):
                canvas.dirty.append((pad, pad + start * ch, width, (stop - start) * ch))

    def _row(self, r):
        screen, font, palette = self.screen, self.font, self.palette
        line = screen.buffer[r]
        n = screen.columns
        cursor = screen.cursor
        cursor_x = cursor.x if not cursor.hidden and cursor.y == r else -1
        masks = []
        fg = np.empty((n, 3), np.uint8)
        bg = np.empty((n, 3), np.uint8)
        for x in range(n):
            char = line[x]
            f = _color(char.fg, _FG, char.bold, palette)
            b = _color(char.bg, _BG, False, palette)
            if char.reverse != (x == cursor_x):
                f, b = b, f
            fg[x], bg[x] = f, b
            masks.append(font.glyph(char.data, char.bold, char.underscore))
        return font.paint_row(masks, fg, bg)

    def _pad(self):
        return round(self.padding * self.units_per_em)

    def _blank(self):
        """A new pixel buffer of the current size, all background; every
        line marked to be painted."""
        pad = self._pad()
        w = self.screen.columns * self.font.cell_w + 2 * pad
        h = self.screen.lines * self.font.cell_h + 2 * pad
        pixels = np.empty((h, w, 4), np.uint8)
        pixels[:, :, :3] = self.palette[_BG]
        pixels[:, :, 3] = round(self.opacity * 255)
        self.screen.dirty.update(range(self.screen.lines))
        return pixels

    # -- state --------------------------------------------------------------------------

    def check_layout(self, fields):
        """Raise ServiceError if `fields` would make a texture too large."""
        _check_layout(self.fonts, fields.get("units_per_em", self.units_per_em),
                      fields.get("columns", self.screen.columns),
                      fields.get("rows", self.screen.lines), fields.get("padding", self.padding))

    def apply(self, fields):
        """Apply checked fields (`_check_state`, `check_layout`)."""
        if "transform" in fields:
            self.canvas.transform = fields["transform"]
        relayout = False
        if "units_per_em" in fields:
            self.units_per_em = fields["units_per_em"]
            self.font = self.fonts.get(self.units_per_em)
            relayout = True
        if "padding" in fields:
            self.padding = fields["padding"]
            relayout = True
        columns = fields.get("columns", self.screen.columns)
        rows = fields.get("rows", self.screen.lines)
        if (columns, rows) != (self.screen.columns, self.screen.lines):
            self.screen.resize(lines=rows, columns=columns)
            relayout = True
        if relayout and self.master is not None:
            self._set_winsize()
        if "opacity" in fields:
            self.opacity = fields["opacity"]
        if "palette" in fields:
            self.palette = fields["palette"]
        if relayout or "opacity" in fields or "palette" in fields:
            self.canvas.pixels = self._blank()
            self.canvas.dirty.clear()
            self.canvas.reallocate = True
            self.paint()

    def snapshot(self):
        screen = self.screen
        h, w = self.canvas.pixels.shape[:2]
        return {"lines": list(screen.display), "cursor": [screen.cursor.x, screen.cursor.y],
                "columns": screen.columns, "rows": screen.lines, "pid": self.pid,
                "size": [w, h], "cell": [self.font.cell_w, self.font.cell_h]}


def _check_layout(fonts, units_per_em, columns, rows, padding):
    font = fonts.get(units_per_em)
    pad = round(padding * units_per_em)
    w, h = columns * font.cell_w + 2 * pad, rows * font.cell_h + 2 * pad
    if w > MAX_TEXTURE_SIZE or h > MAX_TEXTURE_SIZE:
        raise _bad(f"{columns}x{rows} cells make a {w}x{h} texture; at most "
                   f"{MAX_TEXTURE_SIZE} pixels a side")


def _color(value, default, bold, palette):
    if value == "default":
        return palette[default]
    i = _NAMES.get(value)
    if i is not None:
        return palette[i + 8 if bold and i < 8 else i]
    i = _HEX16.get(value)
    if i is not None:
        return palette[i]
    try:
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except (ValueError, TypeError):
        return palette[default]


def _runs(rows):
    """Sorted ints as (start, stop) runs of consecutive ones."""
    start = prev = None
    for r in rows:
        if start is None:
            start = prev = r
        elif r == prev + 1:
            prev = r
        else:
            yield start, prev + 1
            start = prev = r
    if start is not None:
        yield start, prev + 1


def _reaped(pid):
    """True if the child `pid` is gone (reaped now, or already)."""
    try:
        done, _ = _waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped elsewhere (the hub's SIGCHLD handling)
    return done != 0


def _signal_group(pid, sig):
    # The child leads its own session and process group (setsid).
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


# -- processes -----------------------------------------------------------------------------


def _read_loop(core):
    """The reader process: waits on the pty with a hub watcher and feeds
    what the program writes to the screen. Returns (exit normal) when the
    program's side of the pty is closed, that is when the program ended."""
    vm.set_metadata(description=f"reads the pty of the terminal's child {core.pid}")
    hub = get_hub()
    watcher = core.read_watcher = hub.loop.io(core.master, 1)
    try:
        while not core.closed:
            hub.wait(watcher)  # yields to the hub between chunks: a flood can't starve it
            if core.closed:
                return
            try:
                data = os.read(core.master, _READ_CHUNK)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno in (errno.EIO, errno.EBADF):
                    return  # EIO: every slave fd closed (Linux's end of file on a pty)
                raise
            if not data:
                return
            core.feed(data)
    finally:
        watcher.close()


class _Terminal(SceneResource):
    name = "hearth.terminal"
    OPS = {"input": ("text",), "state": ("state",), "quit": (), "screen": ()}

    def __init__(self, owner, core, rid):
        super().__init__(owner, core.scene, rid)
        self.core = core
        # The kernel runs exit hooks before it closes our routes, so the
        # child is reaped before anyone gets our Down, however we die.
        if self.proc.at_exit is None:
            self.proc.at_exit = []
        self.proc.at_exit.append(lambda proc, reason: core.close())
        self._reader = vm.spawn_link(_read_loop, core, name="hearth.terminal.reader")
        self._reader_ref = self._reader.monitor()

    def handle_request(self, request):
        op, fields = parse_op(request.term, self.OPS)
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
            return core.snapshot()
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
    """``hearth.terminal.TerminalFactory`` over `scene`."""

    name = TERMINAL_FACTORY

    def __init__(self, scene):
        super().__init__(scene)
        self.fonts = FontCache()

    def handle_request(self, request):
        _, fields = parse_op(request.term, {"create": ("state",)})
        checked = _check_state(fields["state"], creating=True)
        owner = owner_of(request)
        scene = self.scene
        _check_layout(self.fonts, checked["units_per_em"], checked["columns"], checked["rows"],
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
