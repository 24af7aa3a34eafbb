"""The TUI's widgets and app, rendered to canvases: data in, the text a
person would see out. A source of plain data stands for the runtime,
except in the last tests, which attach the app to a real inspector."""

import os

import gevent
import pytest
import urwid

from hearth import vm
from hearth.native._inspector import start_inspector
from hearth.otp import start_registry
from hearth.tui import GeventEventLoop, InspectorApp, InspectorSource
from hearth.tui._source import ActionFailed, Disconnected
from hearth.tui._widgets import DetailPane, LogPane, ProcessTable, TreePane, format_tree


def row(pid, name, **kw):
    r = {"pid": pid, "name": name, "state": "waiting", "initial_call": "fn",
         "mailbox_depth": 0, "messages_in": 0, "messages_out": 0, "links": 0, "monitors": 0,
         "restarts": 0, "trap_exit": False, "started_at": 0.0}
    r.update(kw)
    return r


def text(widget, cols=100, rows=20):
    return [line.decode("utf-8").rstrip() for line in widget.render((cols, rows)).text]


def info_of(r, now=10.0, **kw):
    out = dict(r, now=now, alive=True, metadata={"name": r["name"], "description": "d"},
               mailboxes=[{"handle": 0, "route": 5, "depth": 2, "closed": False}],
               links=[3], monitors=[[7, 4]], monitored_by=[], capabilities=2, exits=[])
    out.update(kw)
    return out


class FakeSource:
    """Plain data standing for a runtime; records the actions asked."""

    def __init__(self, rows):
        self.rows = rows
        self.now = 0.0
        self.down = None  # a reason: every call raises Disconnected
        self.killed, self.restarted, self.reloaded = [], [], []
        self.records = []
        self.connects = 0

    def describe(self):
        return "fake://runtime"

    def connect(self):
        self.connects += 1
        if self.down:
            raise Disconnected(self.down)

    def _check(self):
        if self.down:
            raise Disconnected(self.down)

    def ps(self):
        self._check()
        return {"now": self.now, "processes": [dict(r) for r in self.rows]}

    def info(self, pid):
        self._check()
        for r in self.rows:
            if r["pid"] == pid:
                return info_of(r, self.now)
        raise ActionFailed("not_found", f"no process {pid}")

    def tree(self):
        self._check()
        return {"now": self.now, "roots": [
            {"pid": 1, "name": "top", "id": None, "type": "supervisor", "state": "running",
             "restarts": 0, "children": [
                 {"pid": 2, "name": "w", "id": "worker", "type": "worker", "state": "running",
                  "restarts": 3, "children": []}]}]}

    def logs(self, pid=None, after=0, limit=200):
        self._check()
        out = [r for r in self.records if r["seq"] > after and pid in (None, r["pid"])]
        return {"records": out[-limit:], "last": self.records[-1]["seq"] if self.records else 0}

    def kill(self, pid):
        self._check()
        if pid == 666:
            raise ActionFailed("invalid_request", "not this one")
        self.killed.append(pid)
        self.rows = [r for r in self.rows if r["pid"] != pid]
        return {"pid": pid, "killed": True}

    def restart(self, pid):
        self.restarted.append(pid)
        return {"pid": pid, "new_pid": 99}

    def reload(self, module):
        self.reloaded.append(module)
        return {"module": module, "generation": 1, "versions": {}}


ROWS = [row(1, "alpha", messages_in=10), row(2, "beta", mailbox_depth=5, restarts=2),
        row(3, "gamma", messages_in=100)]


# -- the process table -------------------------------------------------------------------------


def test_table_shows_a_row_per_process_with_a_header():
    t = ProcessTable()
    t.update({"now": 0.0, "processes": ROWS})
    lines = text(t)
    assert lines[0].startswith("Processes (3)  sort: pid")
    assert lines[1].split()[:4] == ["PID", "NAME", "STATE", "MBOX"]
    assert [line.split()[1] for line in lines[2:5]] == ["alpha", "beta", "gamma"]


def test_table_computes_message_rates_between_snapshots():
    t = ProcessTable()
    t.update({"now": 0.0, "processes": ROWS})
    later = [dict(r) for r in ROWS]
    later[2]["messages_in"] = 300  # 200 more in 2 s
    t.update({"now": 2.0, "processes": later})
    gamma = next(r for r in t.all_rows if r["name"] == "gamma")
    assert gamma["rate_in"] == 100.0
    assert "100.0" in next(line for line in text(t) if "gamma" in line)


def test_table_sorts_filters_and_keeps_the_selection():
    t = ProcessTable()
    t.update({"now": 0.0, "processes": ROWS})
    t._listbox.keypress((100, 18), "down")  # select beta
    assert t.selected_pid == 2
    t.cycle_sort()  # name
    t.cycle_sort()  # mailbox: the deepest first
    assert t.sort_key == "mailbox_depth"
    assert [line.split()[1] for line in text(t)[2:5]] == ["beta", "alpha", "gamma"]
    assert t.selected_pid == 2
    t.toggle_reverse()
    assert [line.split()[1] for line in text(t)[2:5]] == ["alpha", "gamma", "beta"]
    t.set_filter("GAM")
    lines = text(t)
    assert "Processes (1 of 3)" in lines[0] and "filter: 'GAM'" in lines[0]
    assert lines[2].split()[1] == "gamma" and len([ln for ln in lines[2:] if ln]) == 1
    t.set_filter("")
    assert len([ln for ln in text(t)[2:] if ln]) == 3


def test_table_copes_with_thousands_of_processes_coming_and_going():
    t = ProcessTable()
    for generation in range(3):
        rows = [row(generation * 10000 + i, f"w{i}", mailbox_depth=i % 17)
                for i in range(5000)]
        t.update({"now": float(generation), "processes": rows})
        lines = text(t, 100, 30)
        assert "Processes (5000)" in lines[0]
    # Only the rows on screen became widgets.
    assert len(t._walker._widgets) < 100


# -- the other panes -------------------------------------------------------------------------


def test_detail_pane_shows_metadata_mailboxes_links_monitors_and_exits():
    d = DetailPane()
    d.update(info_of(ROWS[1], exits=[{"pid": 9, "name": "beta", "reason": "killed",
                                      "text": "killed", "at": 7.5, "observed": True}]))
    screen = "\n".join(text(d, 70, 30))
    assert "pid 2  beta" in screen
    assert "#0: 2 queued" in screen and "links      3" in screen and "monitors   4" in screen
    assert "description: d" in screen
    assert "2.5s ago  pid 9: killed" in screen
    d.update({"now": 1.0, "pid": 4, "name": "x", "alive": False, "text": "boom",
              "reason": "boom", "exits": []})
    assert "dead: boom" in "\n".join(text(d, 70, 10))
    d.update(None)
    assert "no process selected" in "\n".join(text(d, 70, 5))


def test_tree_pane_draws_the_supervision_tree():
    tree = FakeSource(ROWS).tree()
    assert format_tree(tree["roots"]) == ["top [sup pid 1]", "└─ worker [wrk pid 2 ↻3]"]
    p = TreePane()
    p.update(tree)
    assert text(p, 60, 4)[:3] == ["Supervision tree", "top [sup pid 1]",
                                  "└─ worker [wrk pid 2 ↻3]"]


def test_log_pane_follows_and_keeps_the_newest_lines():
    p = LogPane(keep=3)
    p.follow(7)
    p.add([{"seq": i, "time": 0.0, "level": "WARNING", "logger": "x", "pid": 7,
            "message": f"line {i}\nsecond line"} for i in range(1, 6)])
    lines = [ln for ln in text(p, 80, 6) if ln]
    assert lines[0] == "Log of pid 7"
    assert [ln.split("x: ")[1] for ln in lines[1:]] == ["line 3", "line 4", "line 5"]
    assert p.last == 5


# -- the app ---------------------------------------------------------------------------------


def test_app_refresh_fills_every_pane():
    src = FakeSource(ROWS)
    src.records = [{"seq": 1, "time": 0.0, "level": "INFO", "logger": "l", "pid": 1,
                    "message": "hello from alpha"}]
    app = InspectorApp(src)
    app.refresh()
    screen = "\n".join(app.render_text(120, 30))
    assert "Hearth  fake://runtime  3 processes" in screen
    assert "pid 1  alpha" in screen  # the details of the selected row
    assert "hello from alpha" in screen
    app.on_key("t")
    app.refresh()
    assert "└─ worker [wrk pid 2 ↻3]" in "\n".join(app.render_text(120, 30))


def test_kill_asks_for_confirmation_first():
    src = FakeSource(ROWS)
    app = InspectorApp(src)
    app.refresh()
    app.on_key("k")
    screen = "\n".join(app.render_text(120, 30))
    assert "Kill pid 1 (alpha)?" in screen and "Yes" in screen
    app.top.keypress((120, 30), "n")
    assert src.killed == [] and "cancelled" in app.render_text(120, 30)[-1]
    app.on_key("k")
    app.top.keypress((120, 30), "enter")  # "No" has the focus: Enter is harmless
    assert src.killed == []
    app.on_key("k")
    app.top.keypress((120, 30), "y")
    assert src.killed == [1]
    screen = app.render_text(120, 30)
    assert "killed pid 1" in screen[-1] and "Processes (2)" in "\n".join(screen)


def test_refused_actions_show_why():
    src = FakeSource([row(666, "devil")])
    app = InspectorApp(src)
    app.refresh()
    app.on_key("k")
    app.top.keypress((120, 30), "y")
    assert "refused (invalid_request): not this one" in app.render_text(120, 30)[-1]


def test_restart_and_reload_go_through_confirmation():
    src = FakeSource(ROWS)
    app = InspectorApp(src)
    app.refresh()
    app.on_key("r")
    assert "Restart pid 1" in "\n".join(app.render_text(120, 30))
    app.top.keypress((120, 30), "y")
    assert src.restarted == [1] and "as pid 99" in app.render_text(120, 30)[-1]
    app.on_key("m")
    for key in "my.mod":
        app.top.keypress((120, 30), key)
    assert app.render_text(120, 30)[-1].startswith("reload module: my.mod")
    app.top.keypress((120, 30), "enter")
    assert "Reload module my.mod?" in "\n".join(app.render_text(120, 30))
    app.top.keypress((120, 30), "y")
    assert src.reloaded == ["my.mod"]


def test_disconnected_banner_then_reconnect():
    src = FakeSource(ROWS)
    src.down = "connection refused"
    app = InspectorApp(src)
    app.refresh()
    assert app.render_text(120, 30)[0].startswith(
        " DISCONNECTED (reconnecting…)  connection refused")
    src.down = None
    app.refresh()
    assert app.render_text(120, 30)[0].startswith(" Hearth  fake://runtime")
    src.down = "the runtime went away"
    app.refresh()
    assert "the runtime went away" in app.render_text(120, 30)[0]
    src.down = None
    app.refresh()
    assert "3 processes" in app.render_text(120, 30)[0]
    assert src.connects == 3


# -- the event loop ------------------------------------------------------------------------------


def test_event_loop_runs_alarms_in_order_files_and_idle_callbacks():
    loop = GeventEventLoop()
    seen = []
    r, w = os.pipe()
    try:
        loop.alarm(0.02, lambda: seen.append("late"))
        loop.alarm(0.0, lambda: seen.append("soon"))
        gone = loop.alarm(0.0, lambda: seen.append("removed"))
        assert loop.remove_alarm(gone) and not loop.remove_alarm(gone)

        def readable():
            seen.append(os.read(r, 10))
            loop.remove_watch_file(handle)

        handle = loop.watch_file(r, readable)
        idle = loop.enter_idle(lambda: seen.append("idle"))

        def stop():
            loop.remove_enter_idle(idle)
            raise urwid.ExitMainLoop()

        def late():
            seen.append("late")
            os.write(w, b"x")
            loop.alarm(0.02, stop)

        loop.alarm(0.04, late)
        loop.run()
    finally:
        loop.close()
        os.close(r)
        os.close(w)
    assert seen[0] == "idle" and "removed" not in seen
    order = [s for s in seen if s != "idle"]
    assert order == ["soon", "late", "late", b"x"]


def test_event_loop_propagates_a_callbacks_error():
    loop = GeventEventLoop()
    loop.alarm(0, lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        loop.run()
    loop.close()


def test_event_loop_lets_other_greenlets_run_while_it_waits():
    loop = GeventEventLoop()
    ran = []

    def other():
        ran.append(True)
        loop.alarm(0, lambda: (_ for _ in ()).throw(urwid.ExitMainLoop()))

    gevent.spawn(other)
    loop.run()  # returns only because the other greenlet ran
    loop.close()
    assert ran == [True]


# -- against a real inspector ------------------------------------------------------------------


def test_app_over_a_real_inspector_shows_the_runtime(runtime, proc):
    registry = start_registry()
    start_inspector(registry)

    def idle():
        while True:
            vm.recv()

    vm.spawn(idle, name="visible-in-the-tui")
    app = InspectorApp(InspectorSource(lambda: registry, where="in-process"))
    app.refresh()
    screen = "\n".join(app.render_text(140, 40))
    assert "Hearth  in-process" in screen
    assert "visible-in-the-tui" in screen and "hearth.Inspector" in screen
    app.on_key("/")
    for key in "visible":
        app.top.keypress((140, 40), key)
    app.top.keypress((140, 40), "enter")
    app.refresh()
    screen = "\n".join(app.render_text(140, 40))
    assert "Processes (1 of" in screen and "visible-in-the-tui" in screen
    app.on_key("k")
    app.top.keypress((140, 40), "y")
    assert "killed pid" in app.render_text(140, 40)[-1]
    assert not any(p.name == "visible-in-the-tui" for p in runtime.processes())
    app.source.disconnect()


def test_escape_cancels_a_prompt_and_clears_the_filter():
    src = FakeSource(ROWS)
    app = InspectorApp(src)
    app.refresh()
    app.on_key("/")
    for key in "beta":
        app.top.keypress((120, 30), key)
    app.top.keypress((120, 30), "esc")
    assert app.table.filter == "" and "Processes (3)" in "\n".join(app.render_text(120, 30))
    app.on_key("/")
    for key in "beta":
        app.top.keypress((120, 30), key)
    app.top.keypress((120, 30), "enter")
    assert "Processes (1 of 3)" in "\n".join(app.render_text(120, 30))
    # As urwid's main loop does: a key no widget took goes to on_key.
    unhandled = app.top.keypress((120, 30), "esc")
    assert unhandled == "esc" and app.on_key(unhandled)
    assert app.table.filter == ""
    with pytest.raises(urwid.ExitMainLoop):
        app.on_key("q")


def test_hearth_tui_help_names_its_options_and_keys():
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "hearth.tui._main", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert "--demo" in res.stdout and "--socket" in res.stdout and "k kill" in res.stdout
