"""The build-from-inside loop, end to end, local half (docs/wm.md,
docs/shell.md): a real ``hearth-client`` window under Xvfb on a copy of
the bundled root; Ctrl+Alt+T pressed through the X server (xdotool, so
the keys take the window's real event path) opens a terminal running
Hibashi; typed into it, a ``sed`` of the debug grid's C source and then
``c(...)``: the grid's lines change color in the frame and every service
keeps its pid. A broken edit prints the compiler's error in the terminal,
and the grid drawn stays the one before."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from hearth import otp
from hearth._entry import bundled_root
from hearth.ctl import _ask
from hearth.native import request
from hearth.net import connect
from kindling.sdk import have_toolchain
from tests.client.conftest import xvfb  # noqa: F401 - the fixture
from tests.net.conftest import wait_until
from tests.net.servers import Program

pytestmark = [
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed"),
    pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed"),
    pytest.mark.hearth_timeout(240),
]

# The x-axis-parallel lines' green, 90 -> 250: gray lines turn green.
GREEN_EDIT = "s/? 40 : 90, b/? 40 : 250, b/"
BROKEN_EDIT = "s/build();/build(/"


def _look_at(eye, target):
    """A column-major world-to-camera matrix looking from `eye` at `target`."""
    eye, target = np.array(eye, float), np.array(target, float)
    f = target - eye
    f /= np.linalg.norm(f)
    s = np.cross(f, [0.0, 1.0, 0.0])
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    m = np.identity(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return [float(x) for x in m.T.reshape(16)]


def _frame(window):
    shot = request(window, "screenshot", timeout=30)
    return np.frombuffer(shot["rgba"], np.uint8).reshape(shot["height"], shot["width"], 4)


def _green(rgba, where):
    """How many of the pixels `where` are green, well above red and blue
    (the edited grid's lines; the demo scene's green cube is elsewhere)."""
    px = rgba[..., :3].astype(int)
    return int((((px[..., 1] - np.maximum(px[..., 0], px[..., 2])) > 80) & where).sum())


def _gray(rgba):
    """A mask of the pixels of the stock grid's gray (90, 90, 90), give or
    take blending."""
    px = rgba[..., :3].astype(int)
    return (abs(px - 90) < 25).all(axis=-1)


class Loop:
    """The client, its IPC socket, and the X window's keyboard."""

    def __init__(self, tmp_path, display):
        self.root = tmp_path / "root"
        shutil.copytree(bundled_root(), self.root,
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.grid = self.root / "init" / "debug-grid" / "grid.c"
        self.sock = str(tmp_path / "client.sock")
        self.env = {"DISPLAY": display, "SDL_VIDEODRIVER": "x11",
                    "SDL_VIDEO_X11_WMCLASS": "hearth-build-loop",  # found by it below
                    # the wm runs `hibashi` when it is on PATH
                    "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
                    "HOME": str(tmp_path)}
        self.program = Program("hearth.client", "--root", str(self.root), "--ipc", self.sock,
                               "--watch", "0", "--size", "320x240", "--name", "builder",
                               "--data-dir", str(tmp_path / "data"), env=self.env)
        self.tools = None
        try:
            self.program.wait_for(f"tools attach at {self.sock}", timeout=60)
            self.tools = connect("unix://" + self.sock)
            wait_until(self._all_running, timeout=60, what="every service running")
            self.window = otp.lookup(self.tools.root, "hearth.Window")
            found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--classname",
                                    "^hearth-build-loop$"],
                                   env=dict(os.environ, **self.env), capture_output=True,
                                   text=True, timeout=30)
            self.wid = found.stdout.split()[0]
        except BaseException:
            self.close()
            raise

    def _all_running(self):
        init = otp.lookup(self.tools.root, "hearth.init")
        rows = [] if init is None else otp.call(init, "services", timeout=30)
        states = {r["name"]: r["state"] for r in rows}
        return all(states.get(n) == "running" for n in ("debug-grid", "wm", "fly-camera"))

    def pids(self):
        return {r["name"]: r["pid"] for r in _ask(self.tools.root, "services")
                if r["name"] != "hearth.Inspector"}

    def xdotool(self, *args):
        # The X keyboard focus on the window (there is no window manager).
        subprocess.run(["xdotool", "windowfocus", "--sync", self.wid],
                       env=dict(os.environ, **self.env), check=True, timeout=30)
        subprocess.run(["xdotool", *args], env=dict(os.environ, **self.env), check=True,
                       timeout=60)

    def type_line(self, text):
        self.xdotool("type", "--delay", "2", text)
        self.xdotool("key", "Return")

    def terminals(self):
        out = subprocess.run([sys.executable, "-m", "hearth.ctl", "--sock", self.sock,
                              "terminals", "--json"], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def screen(self):
        listed = self.terminals()["terminals"]
        return "\n".join("\n".join(t.get("screen") or t.get("lines") or ()) for t in listed)

    def wait_screen(self, text, timeout=60):
        try:
            wait_until(lambda: text in self.screen(), timeout=timeout,
                       what=f"{text!r} on the terminal's screen")
        except AssertionError as e:
            raise AssertionError(f"{e}; it shows:\n{self.terminals()}\nthe client's log:\n"
                                 + "".join(self.program.lines[-30:])) from None

    def close(self):
        if self.tools is not None:
            self.tools.close()
        assert self.program.stop() == 0, "".join(self.program.lines[-40:])


@pytest.fixture
def loop(xvfb, tmp_path, proc):  # noqa: F811 - the fixture's value
    lp = Loop(tmp_path, xvfb)
    yield lp
    lp.close()


def test_edit_a_guest_from_a_terminal_in_the_world_and_see_it_change(loop):
    request(loop.window, ["set_camera", 60.0, 0.05, _look_at([0, 6, 6], [0, 0, 0])])
    wait_until(lambda: _gray(_frame(loop.window)).sum() > 200, timeout=30, what="the gray grid")
    grid = _gray(_frame(loop.window))  # where the grid's gray lines are
    assert _green(_frame(loop.window), grid) == 0
    before = loop.pids()

    # Ctrl+Alt+T through the X server: a terminal with Hibashi in it.
    loop.xdotool("key", "ctrl+alt+t")
    wait_until(lambda: len(loop.terminals()["terminals"]) == 1, timeout=30,
               what="a terminal opened by the chord")
    loop.wait_screen("hibashi>")
    loop.type_line("import subprocess")
    loop.type_line(f'subprocess.run(["sed", "-i", "{GREEN_EDIT}", "{loop.grid}"]).returncode')
    loop.type_line(f'c("{loop.grid}")')
    loop.wait_screen("c: upgraded debug-grid in place", timeout=90)
    loop.xdotool("key", "ctrl+alt+w")  # close it: the grid is behind it
    wait_until(lambda: not loop.terminals()["terminals"], timeout=30, what="the terminal closed")
    wait_until(lambda: _green(_frame(loop.window), grid) > 100, timeout=30,
               what="the grid's new green in the frame")
    assert loop.pids() == before  # upgraded in place: nothing restarted

    # A broken edit: the compiler's error in the terminal; the green grid stays.
    loop.xdotool("key", "ctrl+alt+t")
    loop.wait_screen("hibashi>")
    loop.type_line("import subprocess")
    loop.type_line(f'subprocess.run(["sed", "-i", "{BROKEN_EDIT}", "{loop.grid}"]).returncode')
    loop.type_line(f'c("{loop.grid}")')
    loop.wait_screen("the build failed", timeout=90)
    assert "error" in loop.screen()
    loop.xdotool("key", "ctrl+alt+w")
    wait_until(lambda: not loop.terminals()["terminals"], timeout=30, what="the terminal closed")
    assert _green(_frame(loop.window), grid) > 100
    assert loop.pids() == before
