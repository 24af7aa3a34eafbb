"""wm: the window manager (docs/wm.md).

It subscribes to ``hearth.Window`` and watches for its chords (the
``[settings.chords]`` of its manifest; by default Ctrl+Alt+T opens a
terminal in front of the camera, facing it). It makes terminals through
``hearth.terminal.TerminalFactory``, owned by itself, and keeps them in
a list; one of them at a time may have the keyboard. While one does, the
wm holds the window's keyboard focus (``["focus", cap]``), so only it
hears keys: it still sees its chords, and sends every other key, as the
bytes xterm sends (`hearth.gfx.terminal._keys`), to the focused
terminal's ``["input", bytes]``. The fly camera and every other
subscriber hear no keys meanwhile. A chord (``release``), a left click on
empty space, or the focused terminal's end gives the keyboard back. A left
click on a terminal (the ray from the cursor through the camera meets its
quad: `hearth.wm._ray`) focuses it. The focused terminal is drawn on its
own background color, opaque (``focused_background``,
``focused_opacity``), the others on xterm's black, dimmed
(``unfocused_opacity``).

Requests (registered as ``wm`` by init; the envelope of `hearth.otp`'s
services):

``"terminals"``
    ok: a list of ``{"id", "focused", "columns", "rows", "lines", "cursor",
    "pid", "command", "position"}``, in id order: what ``hearth-ctl
    terminals`` prints. Asks each terminal its screen (switches).
``"open"``
    open a terminal (as the chord does); ok: its id.
``["focus", id]``
    give terminal `id` the keyboard (nil: give it back to the camera);
    ok: nil; ``not_found`` for an unknown id.
``["close", id]``
    close terminal `id`; ok: nil.
"""

import logging
import os

from hearth import vm
from hearth.gfx.terminal import DEFAULT_PALETTE
from hearth.gfx.terminal._keys import KeyTranslator
from hearth.otp import (
    INVALID_REQUEST,
    NOT_FOUND,
    CallError,
    Service,
    ServiceError,
    decode,
    lookup,
    parse_op,
    request,
    send_request,
)
from hearth.wm._chords import read_settings
from hearth.wm._ray import cursor_ray, facing, pick, rotation

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "service.toml")
WINDOW = "hearth.Window"
FACTORY = "hearth.terminal.TerminalFactory"
TIMEOUT = 10.0

log = logging.getLogger("hearth.wm")


class Term:
    """One terminal the wm made."""

    def __init__(self, tid, cap, ref, position, columns, rows, command):
        self.id = tid
        self.cap = cap
        self.ref = ref
        self.position = position
        self.columns = columns
        self.rows = rows
        self.command = command
        self.pid = None


class WindowManager(Service):
    name = "wm"
    OPS = {"terminals": (), "open": (), "focus": ("id",), "close": ("id",)}

    def __init__(self, registry, settings):
        super().__init__()
        self.settings = settings
        self.window = lookup(registry, WINDOW)
        self.factory = lookup(registry, FACTORY)
        if self.window is None or self.factory is None:
            raise RuntimeError(f"wm needs {WINDOW} and {FACTORY}")
        self.events = vm.create_mailbox()
        self.me = self.events.make_capability(vm.SEND | vm.MONITOR)
        self.replies = vm.create_mailbox()  # answers to one-way requests: read and dropped
        self.reply_to = self.replies.make_capability(vm.SEND)
        self.owner = vm.make_capability(vm.MONITOR)  # the terminals live as long as we do
        self.terms = {}
        self.by_ref = {}
        self.focused = None  # the id of the terminal with the keyboard
        self.next_id = 1
        self.keys = KeyTranslator()
        self.cursor = None  # (x, y) in window pixels, once the cursor moved
        stats = request(self.window, "stats", timeout=TIMEOUT)
        self.size = (stats["width"], stats["height"])
        request(self.window, ["subscribe", self.me], timeout=TIMEOUT)

    # -- the loop ----------------------------------------------------------------------------

    def serve(self):
        """Serve requests and window events until the process dies. Switches: always."""
        mailboxes = [self.proc.parent_mailbox(), self.events]
        while True:
            mb, sig = vm.select(mailboxes)
            if mb is self.events:
                self._window_signal(sig)
            elif type(sig) is vm.Message:
                self._handle_message(sig)
            else:
                self.handle_info(sig)
            self._drain_replies()

    def _drain_replies(self):
        while (old := self.replies.try_recv()) is not None:
            for cap in getattr(old, "caps", ()):
                cap.release()

    def _window_signal(self, sig):
        if type(sig) is not vm.Message:
            self.handle_info(sig)  # a terminal's Down (monitored into this mailbox)
            return
        for cap in sig.caps:
            cap.release()
        try:
            event = decode(sig.data)
        except Exception:  # noqa: BLE001 - not an event: ignore it
            return
        if type(event) is not dict:
            return
        try:
            self.on_event(event)
        except (ServiceError, CallError) as e:  # a chord that failed: say why, keep serving
            log.warning("wm: %s failed: %s", event.get("key") or event.get("event"), e)

    def handle_info(self, sig):
        if type(sig) is vm.Down:
            tid = self.by_ref.pop(sig.ref, None)
            if tid is not None:
                self._forget(tid)
        sig.cap.release()

    # -- events ------------------------------------------------------------------------------

    def on_event(self, event):
        """One window event. Switches: when it acts (round trips to the
        window or a terminal)."""
        kind = event.get("event")
        if kind == "keyboard_input":
            for action, chord in self.settings["chords"].items():
                if chord.matches(event):
                    self.keys.swallow_text()  # the chord's own text, if any, is not typed
                    self.act(action)
                    return
        if kind in ("keyboard_input", "received_character"):
            self._type(event)
        elif kind == "cursor_moved":
            self.cursor = (float(event["x"]), float(event["y"]))
        elif kind == "resized":
            self.size = (int(event["width"]), int(event["height"]))
        elif kind == "mouse_input":
            if event.get("button") == "left" and event.get("state") == "pressed":
                self.click()
        elif kind == "focus_lost":  # someone else took the keyboard
            self._mark(None)

    def _type(self, event):
        term = self.terms.get(self.focused)
        if term is None:
            return
        app = False
        if self.keys.needs_cursor_mode(event):
            try:
                app = request(term.cap, "screen", timeout=TIMEOUT)["cursor_keys"] == "application"
            except (ServiceError, CallError):  # it ended meanwhile
                return
        data = self.keys.translate(event, app)
        if data:
            send_request(term.cap, ["input", data], self.reply_to)

    def click(self):
        """Focus the terminal under the cursor, or give the keyboard back
        if there is none. Switches: always."""
        if self.cursor is None:
            return
        cam = request(self.window, "camera", timeout=TIMEOUT)
        origin, direction = cursor_ray(cam["view"], cam["vfov"], *self.size, *self.cursor)
        hit = pick(origin, direction, {t.id: t.position for t in self.terms.values()})
        self.focus(hit)

    # -- actions -----------------------------------------------------------------------------

    def act(self, action):
        """Do what chord `action` does (docs/wm.md). Switches: always."""
        if action == "open":
            self.open()
            return
        if action == "release":
            self.focus(None)
            return
        if action == "cycle":
            ids = sorted(self.terms)
            if ids:
                later = [i for i in ids if self.focused is not None and i > self.focused]
                self.focus((later or ids)[0])
            return
        term = self.terms.get(self.focused)
        if term is None:
            return
        if action == "close":
            self.close(term.id)
        elif action in ("wider", "narrower", "taller", "shorter"):
            columns = term.columns + {"wider": 1, "narrower": -1}.get(action, 0)
            rows = term.rows + {"taller": 1, "shorter": -1}.get(action, 0)
            self.resize(term, columns, rows)
        else:
            self.move(term, action)

    def open(self):
        """Open a terminal in front of the camera and give it the keyboard.
        Returns its id. Switches: always."""
        s = self.settings
        cam = request(self.window, "camera", timeout=TIMEOUT)
        position = facing(cam["view"], s["distance"], (0.5, 0.5))
        state = {"position": position, "columns": s["columns"], "rows": s["rows"],
                 "units_per_em": s["units_per_em"], "command": s["command"],
                 **self._look(False)}
        cap = request(self.factory, ["create", state], [self.owner], timeout=TIMEOUT)
        tid = self.next_id
        self.next_id += 1
        ref = cap.monitor(self.events)
        term = Term(tid, cap, ref, position, s["columns"], s["rows"], list(s["command"]))
        self.terms[tid] = term
        self.by_ref[ref] = tid
        self._fit(term)
        self.focus(tid)
        return tid

    def _fit(self, term):
        """Size the quad to the texture (`scale` units a pixel)."""
        try:
            screen = request(term.cap, "screen", timeout=TIMEOUT)
        except (ServiceError, CallError):  # it ended meanwhile
            return
        term.pid = screen["pid"]
        w, h = screen["size"]
        scale = self.settings["scale"]
        term.position = dict(term.position, half_size=[w * scale / 2, h * scale / 2])
        send_request(term.cap, ["state", {"position": term.position}], self.reply_to)

    def resize(self, term, columns, rows):
        columns, rows = max(1, min(500, columns)), max(1, min(200, rows))
        try:
            request(term.cap, ["state", {"columns": columns, "rows": rows}], timeout=TIMEOUT)
        except (ServiceError, CallError):  # it ended meanwhile
            return
        term.columns, term.rows = columns, rows
        self._fit(term)

    def move(self, term, action):
        r = rotation(term.position["orientation"])
        axis = {"left": -r[:, 0], "right": r[:, 0], "up": r[:, 1], "down": -r[:, 1],
                "nearer": r[:, 2], "farther": -r[:, 2]}[action]  # the quad's +z faces the camera
        origin = [float(o + a * self.settings["step"])
                  for o, a in zip(term.position["origin"], axis)]
        term.position = dict(term.position, origin=origin)
        send_request(term.cap, ["state", {"position": term.position}], self.reply_to)

    def close(self, tid):
        term = self.terms.get(tid)
        if term is None:
            return
        send_request(term.cap, "quit", self.reply_to)
        self.by_ref.pop(term.ref, None)  # its Down comes, and is dropped
        self._forget(tid)

    def _forget(self, tid):
        term = self.terms.pop(tid)
        term.cap.release()
        if self.focused == tid:
            self.focus(None)

    def focus(self, tid):
        """Give terminal `tid` the keyboard (None: back to the camera).
        Switches: always (the window's focus request)."""
        if tid is not None and tid not in self.terms:
            tid = None
        if tid == self.focused:
            return
        if tid is None:
            request(self.window, ["unfocus", self.me], timeout=TIMEOUT)
        elif self.focused is None:
            request(self.window, ["focus", self.me], timeout=TIMEOUT)
        self._mark(tid)

    def _look(self, focused):
        """The state keys that mark a terminal as focused, or not."""
        s = self.settings
        if focused:
            return {"opacity": s["focused_opacity"],
                    "palette": [list(c) for c in DEFAULT_PALETTE[:17]]
                    + [list(s["focused_background"])]}
        return {"opacity": s["unfocused_opacity"], "palette": [list(c) for c in DEFAULT_PALETTE]}

    def _mark(self, tid):
        """Draw `tid` as focused and the old one as not."""
        old, self.focused = self.focused, tid
        for i, focused in ((old, False), (tid, True)):
            term = self.terms.get(i)
            if term is not None:
                send_request(term.cap, ["state", self._look(focused)], self.reply_to)

    # -- requests ----------------------------------------------------------------------------

    def handle_request(self, req):
        op, fields = parse_op(req.term, self.OPS)
        if op == "terminals":
            return self.listing()
        if op == "open":
            return self.open()
        tid = fields["id"]
        if tid is not None and (type(tid) is not int or tid not in self.terms):
            raise ServiceError(NOT_FOUND if type(tid) is int else INVALID_REQUEST,
                               f"no terminal {tid!r}; open ones: {sorted(self.terms)}"[:200])
        if op == "focus":
            self.focus(tid)
        elif tid is None:
            raise ServiceError(INVALID_REQUEST, "close needs a terminal's id")
        else:
            self.close(tid)
        return None

    def listing(self):
        rows = []
        for tid in sorted(self.terms):
            term = self.terms[tid]
            try:
                screen = request(term.cap, "screen", timeout=TIMEOUT)
            except (ServiceError, CallError):
                continue  # it ended meanwhile
            rows.append({"id": tid, "focused": tid == self.focused,
                         "columns": screen["columns"], "rows": screen["rows"],
                         "lines": screen["lines"], "cursor": screen["cursor"],
                         "cursor_keys": screen.get("cursor_keys"), "pid": screen["pid"],
                         "command": term.command, "position": term.position})
        return rows


def main(registry, settings=None):
    """The wm's process body: `settings` (a ``[settings]`` table) replaces
    the manifest's, for tests."""
    vm.set_metadata(description="the window manager: terminals and keyboard focus")
    wm = WindowManager(registry, read_settings(MANIFEST if settings is None else None,
                                               table=settings))
    wm.serve()
