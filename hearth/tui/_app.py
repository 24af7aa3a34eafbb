"""The TUI application: the widgets laid out, kept fresh from a source,
and the keys that steer them.

::

    ┌ banner: where we are attached, or DISCONNECTED ────────────────────┐
    │ process table (sortable, filterable)   │ details  /  tree (t)      │
    ├────────────────────────────────────────┴───────────────────────────┤
    │ log of the selected process (a: all)                                │
    └ status line / prompt / keys ───────────────────────────────────────┘

Everything runs in the greenlet that runs the urwid loop (a Hearth
process in `hearth-tui`): `refresh` asks the source and waits for its
replies, so it switches; widget updates never do.
"""

import urwid

from ._loop import GeventEventLoop
from ._source import ActionFailed, Disconnected
from ._widgets import (
    PALETTE,
    Banner,
    ConfirmDialog,
    DetailPane,
    LogPane,
    ProcessTable,
    Prompt,
    TreePane,
)

__all__ = ["InspectorApp", "HELP"]

HELP = ("q quit  ↑↓ select  s sort  S reverse  / filter  t tree  a all logs  "
        "k kill  r restart  m reload module")


class InspectorApp:
    """The inspector's screen over a source (see `_source`).

    Args:
        source: the data source.
        period: seconds between two refreshes.
    """

    def __init__(self, source, period=1.0):
        self.source = source
        self.period = period
        self.connected = False
        self.show_tree = False
        self.follow_all = False
        self.loop = None
        self.banner = Banner()
        self.table = ProcessTable()
        self.detail = DetailPane()
        self.tree = TreePane()
        self.logs = LogPane()
        self._right = urwid.WidgetPlaceholder(urwid.LineBox(self.detail))
        self._status = urwid.Text(("dim", HELP), wrap="clip")
        self._footer = urwid.WidgetPlaceholder(self._status)
        top = urwid.Columns([("weight", 3, urwid.LineBox(self.table)),
                             ("weight", 2, self._right)])
        body = urwid.Pile([("weight", 2, top), ("weight", 1, urwid.LineBox(self.logs))])
        self.frame = urwid.Frame(body, header=self.banner, footer=self._footer)
        self.top = urwid.WidgetPlaceholder(self.frame)
        self._log_pid = object()  # whose log the pane shows (None: everyone's)
        self._soon_handle = None
        self.banner.set_disconnected(self.source.describe(), "not connected yet")

    # -- refreshing ---------------------------------------------------------------------

    def refresh(self):
        """Ask the source for fresh data and update every pane.

        Switches: always (with a live source).
        """
        if not self.connected:
            try:
                self.source.connect()
            except Disconnected as e:
                self.banner.set_disconnected(self.source.describe(), str(e))
                return
            self.connected = True
        try:
            ps = self.source.ps()
            self.table.update(ps)
            self._refresh_selected()
            self.banner.set_connected(self.source.describe(),
                                      f"{len(ps['processes'])} processes")
        except Disconnected as e:
            self.connected = False
            self.banner.set_disconnected(self.source.describe(), str(e))

    def _refresh_selected(self):
        pid = self.table.selected_pid
        log_pid = None if self.follow_all else pid
        if log_pid != self._log_pid:
            self._log_pid = log_pid
            self.logs.follow(log_pid)
        if self.show_tree:
            self.tree.update(self.source.tree())
        else:
            info = None
            if pid is not None:
                try:
                    info = self.source.info(pid)
                except ActionFailed:
                    info = None  # it died between the two snapshots
            self.detail.update(info)
        if log_pid is not None or self.follow_all:
            limit = 200 if self.logs.last == 0 else 1000
            self.logs.add(self.source.logs(log_pid, self.logs.last, limit)["records"])

    def _refresh_soon(self):
        """Refresh the selected process's panes shortly (after a key that
        may have moved the selection); several keys make one refresh."""
        if self.loop is None or self._soon_handle is not None:
            return

        def due():
            self._soon_handle = None
            if self.connected:
                try:
                    self._refresh_selected()
                except Disconnected as e:
                    self.connected = False
                    self.banner.set_disconnected(self.source.describe(), str(e))

        self._soon_handle = self.loop.set_alarm_in(0.05, lambda *_: due())

    # -- keys ---------------------------------------------------------------------------

    def status(self, text, attr="status"):
        self._status.set_text((attr, text))

    def on_key(self, key):
        """Keys the widgets did not take. Switches: when an action runs."""
        if not isinstance(key, str):
            return False
        if key in ("q", "Q"):
            raise urwid.ExitMainLoop()
        if key == "s":
            self.table.cycle_sort()
        elif key == "S":
            self.table.toggle_reverse()
        elif key == "/":
            self._prompt("filter: ", self._set_filter, self.table.filter)
        elif key == "esc":
            self.table.set_filter("")
        elif key == "t":
            self.show_tree = not self.show_tree
            self._right.original_widget = urwid.LineBox(self.tree if self.show_tree
                                                        else self.detail)
            self._refresh_soon()
        elif key == "a":
            self.follow_all = not self.follow_all
            self._refresh_soon()
        elif key == "k":
            self._confirm_on_selected("Kill", "it dies with reason killed",
                                      lambda pid: self.source.kill(pid),
                                      lambda pid, _r: f"killed pid {pid}")
        elif key == "r":
            self._confirm_on_selected(
                "Restart", "its supervisor stops it and starts it again",
                lambda pid: self.source.restart(pid),
                lambda pid, r: f"restarted pid {pid} as pid {r.get('new_pid')}")
        elif key == "m":
            self._prompt("reload module: ", self._ask_reload)
        else:
            return False
        return True

    def _set_filter(self, text):
        if text is not None:
            self.table.set_filter(text)

    def _confirm_on_selected(self, verb, what, act, done):
        row = self.table.selected
        if row is None:
            self.status("no process selected", "error")
            return
        pid = row["pid"]
        name = row.get("name") or row.get("initial_call") or ""
        self.confirm(f"{verb} pid {pid} ({name})?\n{what}.",
                     lambda: self._act(lambda: act(pid), lambda r: done(pid, r)))

    def _ask_reload(self, module):
        if not module:
            return
        self.confirm(f"Reload module {module}?\nIts servers switch at their next message.",
                     lambda: self._act(lambda: self.source.reload(module),
                                       lambda r: f"reloaded {module} (generation "
                                                 f"{r.get('generation')})"))

    def _act(self, act, done):
        try:
            result = act()
        except ActionFailed as e:
            self.status(f"refused ({e.kind}): {e}", "error")
        except Disconnected as e:
            self.connected = False
            self.banner.set_disconnected(self.source.describe(), str(e))
        else:
            self.status(done(result or {}))
            self.refresh()

    # -- dialogs ------------------------------------------------------------------------

    def confirm(self, question, on_yes):
        """Show a yes/no dialog over the screen; `on_yes()` on yes."""
        def answered(yes):
            self.top.original_widget = self.frame
            if yes:
                on_yes()
            else:
                self.status("cancelled", "dim")

        dialog = ConfirmDialog(question, answered)
        self.top.original_widget = urwid.Overlay(dialog, self.frame, "center", 56,
                                                 "middle", 8)

    def _prompt(self, caption, on_done, text=""):
        def done(value):
            self._footer.original_widget = self._status
            self.frame.focus_position = "body"
            on_done(value)

        self._footer.original_widget = Prompt(caption, done, text)
        self.frame.focus_position = "footer"

    # -- running ------------------------------------------------------------------------

    def _input(self, keys, raw):
        self._refresh_soon()
        return keys

    def _tick(self, loop=None, data=None):
        self.refresh()
        self.loop.set_alarm_in(self.period, self._tick)

    def run(self, screen=None):
        """Run until `q`. Switches: always."""
        event_loop = GeventEventLoop()
        self.loop = urwid.MainLoop(self.top, PALETTE, screen=screen, event_loop=event_loop,
                                   unhandled_input=self.on_key, input_filter=self._input,
                                   handle_mouse=False)
        self.loop.set_alarm_in(0, self._tick)
        try:
            self.loop.run()
        finally:
            event_loop.close()
            self.loop = None

    def render_text(self, cols=120, rows=40):
        """The screen as lines of text, as a person would see it (tests)."""
        canvas = self.top.render((cols, rows), focus=True)
        return [line.decode("utf-8") for line in canvas.text]
