"""The wm service on a real window (Xvfb) with real terminals: chords
posted through pygame's event queue (the window's real event path), a
real program in each pty, the text read back from the terminals and
pixels from screenshots.

The camera sits at the origin looking down -z with a 90 degree field of
view; terminals open 1 unit in front of it, so one fills the middle of
the 160x120 window and a click at its center hits it, one at a corner
misses.
"""

import io
import json
import os
import pathlib
import sys
import time

import numpy as np
import pygame
import pytest

import kindling
from hearth import ctl, otp, vm
from hearth.native._service import NOT_FOUND, request
from hearth.otp import ServiceError
from kindling.init import load_service_module

from ..client._scenes import wire

WM_DIR = pathlib.Path(kindling.__file__).parent / "root" / "init" / "wm"
FLY = WM_DIR.parent / "fly-camera" / "fly-camera.wasm"  # a guest
FLY_NEAR = 0.05  # its NEAR (fly-camera.c)
CTRL_ALT = pygame.KMOD_LCTRL | pygame.KMOD_LALT
PATIENCE = 10.0
SETTINGS = {"command": ["/bin/sh"], "columns": 20, "rows": 6, "units_per_em": 12,
            "distance": 1.0, "scale": 0.008, "unfocused_opacity": 0.5}

# A program that reads the pty raw and writes every byte it gets, in hex,
# to a file (its argv[1]), after setting application cursor keys if its
# argv[2] says so.
HEXDUMP = r"""
import os, sys, tty
tty.setraw(0)
if sys.argv[2] == "app":
    os.write(1, b"\x1b[?1h")
os.write(1, b"ready\r\n")
with open(sys.argv[1], "a") as out:
    while True:
        data = os.read(0, 4096)
        if not data:
            break
        out.write(data.hex())
        out.flush()
"""


class Wm:
    def __init__(self, client, cap):
        self.client = client
        self.cap = cap

    def terminals(self):
        return request(self.cap, "terminals")

    def until(self, done, what):
        """Draw frames until `done(terminals)`; its value."""
        deadline = time.monotonic() + PATIENCE
        while True:
            rows = self.terminals()
            got = done(rows)
            if got:
                return got
            if time.monotonic() > deadline:
                pytest.fail(f"never {what}: {rows!r}"[:2000])
            self.client.screenshot()

    def frames(self, n=3):
        for _ in range(n):
            self.client.screenshot()


def _start_wm(client, settings):
    module = load_service_module("wm", WM_DIR / "service.py")
    view = otp.registry_view(client.registry, read_only=True,
                             names=["hearth.Window", "hearth.terminal.TerminalFactory"])
    cap = vm.spawn_link(module.main, view, settings, name="wm")
    otp.register(client.registry, "wm", cap)
    w = Wm(client, cap)
    w.terminals()  # it serves: it has subscribed to the window
    return w


@pytest.fixture
def wm(client):
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    return _start_wm(client, SETTINGS)


def key(name, mod=0, up=True):
    code = pygame.key.key_code(name)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, mod=mod, scancode=0,
                                         unicode=""))
    if up:
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=code, mod=mod, scancode=0,
                                             unicode=""))


def type_text(text):
    for c in text:  # as SDL does: the key, then its text
        if c == "\r":
            key("return")
        else:
            pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=c))


def chord(name, shift=False):
    key(name, CTRL_ALT | (pygame.KMOD_LSHIFT if shift else 0))


def _open(wm, n=1):
    chord("t")
    return wm.until(lambda rows: rows if len(rows) == n else None, f"{n} terminal(s)")[-1]


def _screen_has(wm, tid, text):
    return wm.until(lambda rows: next((r for r in rows if r["id"] == tid
                                       and any(text in line for line in r["lines"])), None),
                    f"{text!r} on terminal {tid}")


def test_ctrl_alt_t_opens_a_focused_terminal_that_gets_typed_text(wm, client):
    term = _open(wm)
    assert term["focused"] and list(term["command"]) == ["/bin/sh"]
    assert (term["columns"], term["rows"]) == (20, 6)
    assert request(client.window, "focus_holder") is True
    type_text("echo hé€ $((6*7))\r")
    _screen_has(wm, term["id"], "hé€ 42")


def test_the_opened_terminal_faces_the_camera_in_front_of_it(wm):
    term = _open(wm)
    pos = term["position"]
    assert np.allclose(pos["origin"], [0, 0, -1.0]) and np.allclose(pos["orientation"],
                                                                      [0, 0, 0, 1])


def _hex_terminal(client, tmp_path, mode):
    out = tmp_path / f"keys-{mode}.hex"
    out.write_text("")
    w = _start_wm(client, dict(SETTINGS, command=[sys.executable, "-c", HEXDUMP, str(out),
                                                    mode]))
    term = _open(w)
    _screen_has(w, term["id"], "ready")
    return w, term, out


@pytest.mark.parametrize("mode", ["normal", "app"])
def test_every_key_reaches_a_real_program_as_xterms_bytes(client, tmp_path, mode):
    from .test_keys import TABLE
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    w, term, out = _hex_terminal(client, tmp_path, mode)
    assert term["cursor_keys"] in ("normal", "application")
    w.until(lambda rows: rows[0]["cursor_keys"] == ("application" if mode == "app" else "normal"),
            "the program's cursor-key mode")
    bits = {"shift": pygame.KMOD_LSHIFT, "ctrl": pygame.KMOD_LCTRL, "alt": pygame.KMOD_LALT}
    expected = b""
    for name, mods, normal, application in TABLE:
        key(name, sum(bits[m] for m in mods))
        expected += application if mode == "app" else normal
    type_text("aé€")
    expected += "aé€".encode()
    deadline = time.monotonic() + PATIENCE
    while bytes.fromhex(out.read_text()) != expected:
        got = bytes.fromhex(out.read_text())
        assert expected.startswith(got), (got, expected)
        assert time.monotonic() < deadline, (got, expected)
        client.screenshot()


def test_the_fly_camera_ignores_keys_while_a_terminal_has_them(wm, client):
    view = otp.registry_view(client.registry, read_only=True, names=["hearth.Window"])
    vm.spawn_guest(FLY.read_bytes(), view, link=True, name="fly-camera")
    camera = client.display.scene.camera
    wm.until(lambda _: camera.near == FLY_NEAR, "the fly camera's first set_camera")
    term = _open(wm)
    z0 = float(camera.view[14])
    key("w", up=False)
    pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="w"))
    _screen_has(wm, term["id"], "w")  # the terminal got it...
    wm.frames(10)
    assert float(camera.view[14]) == z0  # ...and the camera did not move
    key("w", up=True)
    wm.frames()
    chord("escape")  # the keyboard back to the camera
    wm.until(lambda rows: not rows[0]["focused"], "the terminal unfocused")
    assert request(client.window, "focus_holder") is False
    key("w", up=False)
    deadline = time.monotonic() + PATIENCE
    while float(camera.view[14]) <= z0 + 0.01:
        assert time.monotonic() < deadline, "the camera never moved"
        client.screenshot()
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_w, mod=0, scancode=0,
                                         unicode=""))


def _click(x, y):
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x, y), rel=(0, 0),
                                         buttons=(0, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x, y)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(x, y)))


def test_clicking_a_terminal_focuses_it_and_clicking_empty_space_gives_the_keyboard_back(
        wm, client):
    term = _open(wm)
    _click(2, 2)  # a corner: no terminal there
    wm.until(lambda rows: not rows[0]["focused"], "unfocused by a click on empty space")
    assert request(client.window, "focus_holder") is False
    _click(80, 60)
    wm.until(lambda rows: rows[0]["focused"], "focused by a click on it")
    assert request(client.window, "focus_holder") is True
    assert wm.terminals()[0]["id"] == term["id"]


def test_the_focused_terminal_is_drawn_differently(wm, client):
    _open(wm)
    wm.frames()
    focused = client.screenshot()[40:80, 60:100].astype(int)
    chord("escape")
    wm.until(lambda rows: not rows[0]["focused"], "unfocused")
    wm.frames()
    dimmed = client.screenshot()[40:80, 60:100].astype(int)
    assert np.abs(focused - dimmed).sum() > 1000


def test_resize_chords_change_the_grid_and_the_pty_follows(wm):
    term = _open(wm)
    chord("right", shift=True)
    chord("right", shift=True)
    chord("down", shift=True)
    wm.until(lambda rows: (rows[0]["columns"], rows[0]["rows"]) == (22, 7), "resized")
    type_text("stty size\r")
    _screen_has(wm, term["id"], "7 22")
    chord("left", shift=True)
    chord("up", shift=True)
    wm.until(lambda rows: (rows[0]["columns"], rows[0]["rows"]) == (21, 6), "resized back")


def test_move_chords_move_the_focused_terminal(wm):
    _open(wm)
    chord("page up")  # nearer: towards the camera, +z here
    chord("left")
    chord("up")
    got = wm.until(lambda rows: rows[0]["position"]["origin"][2] > -0.9 and rows, "moved")
    assert np.allclose(got[0]["position"]["origin"], [-0.25, 0.25, -0.75])
    chord("page down")
    chord("right")
    chord("down")
    wm.until(lambda rows: np.allclose(rows[0]["position"]["origin"], [0, 0, -1.0]),
             "moved back")


def test_close_ends_the_terminal_and_its_program(wm, client):
    term = _open(wm)
    pid = term["pid"]
    chord("w")
    wm.until(lambda rows: not rows, "closed")
    assert request(client.window, "focus_holder") is False
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the program is still there"
        wm.frames(1)


def test_a_program_that_exits_gives_the_keyboard_back(wm, client):
    term = _open(wm)
    type_text("exit\r")
    wm.until(lambda rows: not rows, "gone")
    assert request(client.window, "focus_holder") is False
    assert term["id"] == 1


def test_cycle_moves_the_keyboard_from_terminal_to_terminal(wm):
    first = _open(wm)
    second = _open(wm, 2)
    assert second["focused"] and not wm.terminals()[0]["focused"]
    chord("n")
    wm.until(lambda rows: rows[0]["focused"] and not rows[1]["focused"], "the first focused")
    chord("n")
    wm.until(lambda rows: rows[1]["focused"] and not rows[0]["focused"], "the second focused")
    # Typed text goes to the focused one only.
    type_text("echo second\r")
    _screen_has(wm, second["id"], "second")
    assert not any("second" in line for line in wm.terminals()[0]["lines"])
    assert first["id"] != second["id"]


def test_requests_open_focus_and_close_by_id(wm, client):
    tid = request(wm.cap, "open")
    assert request(wm.cap, ["focus", None]) is None
    assert request(client.window, "focus_holder") is False
    request(wm.cap, ["focus", tid])
    assert wm.terminals()[0]["focused"]
    with pytest.raises(ServiceError) as e:
        request(wm.cap, ["focus", 99])
    assert e.value.kind == NOT_FOUND and "open ones: [1]" in e.value.message
    request(wm.cap, ["close", tid])
    assert not wm.terminals()


def test_hearth_ctl_terminals_prints_them_and_json(wm, client):
    term = _open(wm)
    type_text("echo ctl-test\r")
    _screen_has(wm, term["id"], "ctl-test")
    out, err = io.StringIO(), io.StringIO()
    assert ctl.run(["terminals", "--json"], client.registry, out, err) == 0, err.getvalue()
    data = json.loads(out.getvalue())
    assert data["focused"] == term["id"]
    [row] = data["terminals"]
    assert row["focused"] and row["columns"] == 20 and row["pid"] == term["pid"]
    assert any("ctl-test" in line for line in row["lines"])
    out = io.StringIO()
    assert ctl.run(["terminals"], client.registry, out, err) == 0
    text = out.getvalue()
    assert text.startswith(f"* terminal {term['id']}: 20x6") and "  | " in text
    assert "has the keyboard" in text and "ctl-test" in text


def test_hearth_ctl_terminals_without_a_wm_says_so(client):
    out, err = io.StringIO(), io.StringIO()
    assert ctl.run(["terminals"], client.registry, out, err) == ctl.NOT_FOUND
    assert "no window manager" in err.getvalue()


def test_the_hearth_ctl_program_lists_terminals_over_the_ipc_socket(wm, client, tmp_path):
    # The real program in a subprocess, on a real IPC socket of this runtime
    # (gevent's subprocess: the window keeps drawing while it runs).
    from gevent import subprocess as gsub

    from hearth.net import listen_unix
    term = _open(wm)
    type_text("echo over-the-socket\r")
    _screen_has(wm, term["id"], "over-the-socket")
    path = str(tmp_path / "run" / "hearth.sock")
    with listen_unix(path, root=client.registry):
        env = dict(os.environ, HEARTH_SOCK=path)
        done = gsub.run([sys.executable, "-c", "import sys; from hearth.ctl import main;"
                         " sys.exit(main())", "terminals", "--json"], env=env,
                        stdout=gsub.PIPE, stderr=gsub.PIPE, timeout=60)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["focused"] == term["id"]
    assert any("over-the-socket" in line for line in data["terminals"][0]["lines"])


def test_a_command_that_cant_run_is_refused_and_the_wm_keeps_serving(client, caplog):
    request(client.window, ["set_camera", 90.0, 0.1, wire(np.identity(4))])
    w = _start_wm(client, dict(SETTINGS, command=["/nonexistent/program"]))
    chord("t")
    w.frames(5)
    assert not w.terminals()  # still serving, nothing opened
    with pytest.raises(ServiceError) as e:
        request(w.cap, "open")
    assert e.value.kind == NOT_FOUND
    assert request(client.window, "focus_holder") is False
    assert any("wm: t failed" in r.getMessage() for r in caplog.records)
