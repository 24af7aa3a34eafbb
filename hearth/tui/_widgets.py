"""The TUI's widgets: process table, detail pane, supervision tree, log
pane, banner, confirmation dialog and prompt.

Each takes plain data (the replies of ``hearth.Inspector``'s ops) through
an ``update`` method and never talks to the runtime, so tests render them
to canvases with data of their own. None of their methods switches.
"""

import datetime

import urwid

__all__ = [
    "PALETTE",
    "ProcessTable",
    "DetailPane",
    "TreePane",
    "LogPane",
    "Banner",
    "ConfirmDialog",
    "Prompt",
    "format_tree",
    "SORT_KEYS",
]

PALETTE = [
    ("header", "black", "light gray"),
    ("banner", "white", "dark blue"),
    ("disconnected", "white,bold", "dark red"),
    ("selected", "black", "yellow"),
    ("title", "bold", ""),
    ("dim", "dark gray", ""),
    ("error", "light red", ""),
    ("dialog", "black", "light gray"),
    ("status", "light cyan", ""),
]

# (title, width, key, right-aligned); width None takes the rest.
COLUMNS = [
    ("PID", 6, "pid", True),
    ("NAME", None, "name", False),
    ("STATE", 8, "state", False),
    ("MBOX", 5, "mailbox_depth", True),
    ("IN/s", 7, "rate_in", True),
    ("OUT/s", 7, "rate_out", True),
    ("IN", 8, "messages_in", True),
    ("LNK", 4, "links", True),
    ("MON", 4, "monitors", True),
    ("RST", 4, "restarts", True),
]

# What 's' cycles through, in order: (key, label).
SORT_KEYS = [("pid", "pid"), ("name", "name"), ("mailbox_depth", "mailbox"),
             ("rate_in", "rate in"), ("messages_in", "messages in"), ("restarts", "restarts")]


def _cell(value, width, right):
    if isinstance(value, float):
        text = f"{value:.1f}"
    else:
        text = "-" if value is None else str(value)
    if len(text) > width:
        text = text[:width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def format_row(row, cols):
    """One process as a line of `cols` characters. Switches: never."""
    fixed = sum(w + 1 for _, w, _, _ in COLUMNS if w is not None)
    name_w = max(8, cols - fixed)
    parts = []
    for _, w, key, right in COLUMNS:
        value = row.get(key)
        if key == "name":
            value = row.get("name") or f"({row.get('initial_call', '')})"
        parts.append(_cell(value, name_w if w is None else w, right))
    return " ".join(parts)


def format_header(cols):
    fixed = sum(w + 1 for _, w, _, _ in COLUMNS if w is not None)
    name_w = max(8, cols - fixed)
    return " ".join(_cell(t, name_w if w is None else w, right) for t, w, _, right in COLUMNS)


class _Row(urwid.Text):
    """A selectable line of the table."""

    _selectable = True

    def __init__(self, row):
        self.row = row
        super().__init__("", wrap="clip")

    def render(self, size, focus=False):
        (cols,) = size
        self.set_text(format_row(self.row, cols))
        return super().render(size, focus)

    def keypress(self, size, key):
        return key


class _Rows(urwid.ListWalker):
    """The table's rows, made into widgets only when shown: a snapshot of
    thousands of processes costs a sort, not thousands of widgets."""

    def __init__(self):
        self.rows = []
        self.focus = 0
        self._widgets = {}

    def set_rows(self, rows, keep_pid=None):
        self.rows = rows
        self._widgets = {}
        if keep_pid is not None:
            for i, r in enumerate(rows):
                if r["pid"] == keep_pid:
                    self.focus = i
                    break
        self.focus = max(0, min(self.focus, len(rows) - 1))
        self._modified()

    def __getitem__(self, position):
        if not 0 <= position < len(self.rows):
            raise IndexError(position)
        widget = self._widgets.get(position)
        if widget is None:
            widget = self._widgets[position] = urwid.AttrMap(
                _Row(self.rows[position]), None, focus_map="selected")
        return widget

    def next_position(self, position):
        if position + 1 >= len(self.rows):
            raise IndexError(position)
        return position + 1

    def prev_position(self, position):
        if position <= 0:
            raise IndexError(position)
        return position - 1

    def set_focus(self, position):
        self.focus = position
        self._modified()

    def __len__(self):
        return len(self.rows)


class ProcessTable(urwid.WidgetWrap):
    """The live processes: sortable, filterable, with message rates.

    `update(ps)` takes a ``ps`` reply; rates are the change of each
    process's message counters since the previous snapshot, per second of
    the runtime's clock.
    """

    def __init__(self):
        self.sort_index = 0
        self.reverse = False
        self.filter = ""
        self._prev = {}  # pid -> (messages_in, messages_out)
        self._prev_now = None
        self.all_rows = []
        self._walker = _Rows()
        self._header = urwid.Text("", wrap="clip")
        self._listbox = urwid.ListBox(self._walker)
        self._title = urwid.Text("", wrap="clip")
        body = urwid.Frame(self._listbox,
                           header=urwid.Pile([urwid.AttrMap(self._title, "title"),
                                              urwid.AttrMap(self._header, "header")]))
        super().__init__(body)
        self._retitle()

    @property
    def sort_key(self):
        return SORT_KEYS[self.sort_index][0]

    @property
    def selected_pid(self):
        rows = self._walker.rows
        if not rows:
            return None
        return rows[self._walker.focus]["pid"]

    @property
    def selected(self):
        rows = self._walker.rows
        return rows[self._walker.focus] if rows else None

    def update(self, ps):
        now = ps["now"]
        dt = None if self._prev_now is None else now - self._prev_now
        prev, rows = self._prev, []
        for p in ps["processes"]:
            r = dict(p)
            before = prev.get(r["pid"])
            if dt and dt > 0 and before is not None:
                r["rate_in"] = max(0.0, (r["messages_in"] - before[0]) / dt)
                r["rate_out"] = max(0.0, (r["messages_out"] - before[1]) / dt)
            else:
                r["rate_in"] = r["rate_out"] = 0.0
            rows.append(r)
        self._prev = {r["pid"]: (r["messages_in"], r["messages_out"]) for r in rows}
        self._prev_now = now
        self.all_rows = rows
        self._show()

    def cycle_sort(self):
        self.sort_index = (self.sort_index + 1) % len(SORT_KEYS)
        self._show()

    def toggle_reverse(self):
        self.reverse = not self.reverse
        self._show()

    def set_filter(self, text):
        self.filter = text.strip()
        self._show()

    def _show(self):
        keep = self.selected_pid
        text = self.filter.lower()
        rows = self.all_rows
        if text:
            rows = [r for r in rows if text in (r.get("name") or "").lower()
                    or text in (r.get("initial_call") or "").lower() or text == str(r["pid"])]
        key = self.sort_key
        if key == "name":
            rows = sorted(rows, key=lambda r: ((r.get("name") or "").lower(), r["pid"]),
                          reverse=self.reverse)
        elif key == "pid":
            rows = sorted(rows, key=lambda r: r["pid"], reverse=self.reverse)
        else:
            # Busiest first: the numbers worth looking at are the big ones.
            # Sorts are stable, also reversed: ties stay in pid order.
            rows = sorted(sorted(rows, key=lambda r: r["pid"]), key=lambda r: r.get(key) or 0,
                          reverse=not self.reverse)
        self._walker.set_rows(rows, keep)
        self._retitle()

    def _retitle(self):
        shown, total = len(self._walker.rows), len(self.all_rows)
        arrow = "↑" if self.reverse else "↓"
        filt = f"  filter: {self.filter!r}" if self.filter else ""
        count = f"{total}" if shown == total else f"{shown} of {total}"
        self._title.set_text(f"Processes ({count})  sort: {SORT_KEYS[self.sort_index][1]} "
                             f"{arrow}{filt}")

    def render(self, size, focus=False):
        self._header.set_text(format_header(size[0]))
        return super().render(size, focus)


def _ago(now, at):
    return f"{max(0.0, now - at):.1f}s ago"


class DetailPane(urwid.WidgetWrap):
    """One process: metadata, mailboxes, links, monitors, recent exits.

    `update(info)` takes an ``info`` reply, or None (nothing selected).
    """

    def __init__(self):
        self._text = urwid.Text("")
        super().__init__(urwid.ListBox(urwid.SimpleFocusListWalker([self._text])))
        self.update(None)

    def update(self, info):
        self._text.set_text(self.describe(info))

    @staticmethod
    def describe(info):
        if info is None:
            return [("title", "Details\n"), ("dim", "no process selected")]
        now = info["now"]
        out = [("title", f"pid {info['pid']}  {info.get('name') or '(no name)'}\n")]
        if not info["alive"]:
            out.append(("error", f"dead: {info['text']}\n"))
        else:
            lines = [
                f"state      {info['state']}" + ("  traps exits" if info["trap_exit"] else ""),
                f"call       {info['initial_call']}",
                f"uptime     {max(0.0, now - info['started_at']):.1f}s",
                f"messages   {info['messages_in']} in, {info['messages_out']} out",
                f"restarts   {info['restarts']}   capabilities {info['capabilities']}",
                "links      " + (", ".join(map(str, info["links"])) or "-"),
                "monitors   " + (", ".join(str(p) for _, p in info["monitors"]) or "-"),
                "watched by " + (", ".join(str(p) for _, p in info["monitored_by"]) or "-"),
                "mailboxes  " + (", ".join(
                    f"#{m['handle']}: {m['depth']} queued" + (" (closed)" if m["closed"] else "")
                    for m in info["mailboxes"]) or "-"),
            ]
            out.append("\n".join(lines) + "\n")
            meta = {k: v for k, v in (info.get("metadata") or {}).items() if k != "name"}
            if meta:
                out.append(("title", "metadata\n"))
                out.append("".join(f"  {k}: {v}\n" for k, v in meta.items()))
        exits = info.get("exits") or ()
        if exits:
            out.append(("title", "recent exits\n"))
            for e in exits[-8:]:
                out.append(f"  {_ago(now, e['at'])}  pid {e['pid']}: ")
                out.append(("error" if e["reason"] not in ("normal", "shutdown") else "dim",
                            f"{e['text']}\n"))
        return out


def format_tree(roots):
    """The supervision tree as lines of text. Switches: never."""
    lines = []

    def walk(node, prefix, last, top):
        label = node["id"] if node["id"] is not None else (node["name"] or "supervisor")
        pid = f"pid {node['pid']}" if node["pid"] is not None else "-"
        state = "" if node["state"] == "running" else f" {node['state']}"
        restarts = f" ↻{node['restarts']}" if node["restarts"] else ""
        kind = "sup" if node["type"] == "supervisor" else "wrk"
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{label} [{kind} {pid}{state}{restarts}]")
        kids = node["children"]
        for i, kid in enumerate(kids):
            walk(kid, prefix + ("" if top else ("   " if last else "│  ")),
                 i == len(kids) - 1, False)

    for r in roots:
        walk(r, "", True, True)
    return lines


class TreePane(urwid.WidgetWrap):
    """The supervision tree. `update(tree)` takes a ``tree`` reply."""

    def __init__(self):
        self._walker = urwid.SimpleFocusListWalker([])
        super().__init__(urwid.Frame(urwid.ListBox(self._walker),
                                     header=urwid.AttrMap(urwid.Text("Supervision tree"),
                                                          "title")))

    def update(self, tree):
        lines = format_tree(tree["roots"]) if tree else []
        self._walker[:] = [urwid.Text(line, wrap="clip") for line in lines] or [
            urwid.Text(("dim", "(no supervisors)"))]


class LogPane(urwid.WidgetWrap):
    """The log, following one process (or all). Keeps the last `keep`
    lines and scrolls to the newest."""

    def __init__(self, keep=500):
        self.keep = keep
        self.pid = None
        self.last = 0
        self._walker = urwid.SimpleFocusListWalker([])
        self._title = urwid.Text("")
        super().__init__(urwid.Frame(urwid.ListBox(self._walker),
                                     header=urwid.AttrMap(self._title, "title")))
        self.follow(None)

    def follow(self, pid):
        """Start over, following `pid` (None: every process)."""
        self.pid = pid
        self.last = 0
        self._walker[:] = []
        self._title.set_text(f"Log of pid {pid}" if pid is not None else "Log (all processes)")

    def add(self, records):
        for r in records:
            self.last = max(self.last, r["seq"])
            when = datetime.datetime.fromtimestamp(r["time"]).strftime("%H:%M:%S")
            attr = "error" if r["level"] in ("ERROR", "CRITICAL") else None
            pid = r["pid"] if r["pid"] is not None else "-"
            first = r["message"].splitlines()[0] if r["message"] else ""
            text = f"{when} {r['level'][:4]} [{pid}] {r['logger']}: {first}"
            self._walker.append(urwid.Text((attr, text) if attr else text, wrap="clip"))
        if len(self._walker) > self.keep:
            del self._walker[:len(self._walker) - self.keep]
        if self._walker:
            self._walker.set_focus(len(self._walker) - 1)


class Banner(urwid.WidgetWrap):
    """The top line: where we are attached, or a loud "disconnected"."""

    def __init__(self):
        self._text = urwid.Text("", wrap="clip")
        self._map = urwid.AttrMap(self._text, "banner")
        super().__init__(self._map)
        self.connected = False

    def set_connected(self, where, summary=""):
        self.connected = True
        self._map.set_attr_map({None: "banner"})
        self._text.set_text(f" Hearth  {where}  {summary}")

    def set_disconnected(self, where, why):
        self.connected = False
        self._map.set_attr_map({None: "disconnected"})
        self._text.set_text(f" DISCONNECTED (reconnecting…)  {why}  {where}")


class ConfirmDialog(urwid.WidgetWrap):
    """A yes/no question: `on_answer(True or False)` once answered (y/Enter
    on Yes, n/Esc)."""

    def __init__(self, question, on_answer):
        self.question = question
        self._on_answer = on_answer
        yes = urwid.Button("Yes", lambda _b: self._answer(True))
        no = urwid.Button("No", lambda _b: self._answer(False))
        buttons = urwid.GridFlow([urwid.AttrMap(yes, None, "selected"),
                                  urwid.AttrMap(no, None, "selected")], 7, 3, 0, "center")
        body = urwid.Pile([urwid.Text(question), urwid.Divider(), buttons])
        body.focus_position = 2
        buttons.focus_position = 1  # "No" by default: an accidental Enter does nothing
        super().__init__(urwid.AttrMap(urwid.LineBox(urwid.Filler(body), title="Confirm"),
                                       "dialog"))

    def _answer(self, value):
        self._on_answer(value)

    def keypress(self, size, key):
        if key in ("y", "Y"):
            self._answer(True)
            return None
        if key in ("n", "N", "esc"):
            self._answer(False)
            return None
        return super().keypress(size, key)


class Prompt(urwid.WidgetWrap):
    """A one-line input: `on_done(text)` on Enter, `on_done(None)` on Esc."""

    def __init__(self, caption, on_done, text=""):
        self._edit = urwid.Edit(caption, text)
        self._on_done = on_done
        super().__init__(urwid.AttrMap(self._edit, "status"))

    def keypress(self, size, key):
        if key == "enter":
            self._on_done(self._edit.edit_text)
            return None
        if key == "esc":
            self._on_done(None)
            return None
        return super().keypress(size, key)
