"""The build-from-inside loop, shared half (docs/wm.md, docs/shell.md,
docs/world.md): a guest service runs on a real ``hearth-server`` and puts
a red cube in the shared world; two real windowed ``hearth-client``s
under Xvfb are connected to it. In client A's window, Ctrl+Alt+T (pressed
through the X server) opens a terminal with a shell; typed into it, a
``sed`` of the guest's C source, then Hibashi attached to the server and
``c(...)``: the guest is rebuilt and upgraded in place on the server, and
client B's window shows the cube turn green."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from hearth import otp
from hearth.native import request
from hearth.net import connect
from kindling.sdk import build, have_toolchain
from tests.client.conftest import xvfb  # noqa: F401 - the fixture
from tests.client.test_build_loop import _look_at
from tests.net.conftest import wait_until
from tests.net.servers import Program

pytestmark = [
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed"),
    pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed"),
    pytest.mark.hearth_timeout(300),
]

SECRET = "shared-loop"
RED = "{1.0f, 0.1f, 0.1f, 1.0f}"
GREEN = "{0.1f, 1.0f, 0.1f, 1.0f}"
BEACON = """#include <hearth.h>

/* A cube at the origin of the shared world, in one color. */
static bool handle(void *state, const hearth_request *req) {
    hearth_reply_error(req, "invalid_request", "beacon has no requests");
    return true;
}

void run(void) {
    hearth_cap world, cube;
    int64_t id;
    static const float albedo[4] = %s;
    if (hearth_registry_lookup(0, "hearth.World", &world) != HEARTH_OK)
        hearth_exit_error("Unavailable", "hearth.World");
    hearth_cap me = hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR);
    float at[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    if (hearth_world_add(world, me, hearth_lump_cube_mesh(0.5f),
                         hearth_lump_material(albedo, HEARTH_NONE), at, NULL, &id,
                         &cube) != HEARTH_OK)
        hearth_exit_error("Refused", "hearth.World add");
    hearth_server server = {.handle = handle};
    hearth_serve(&server);
}
""" % RED
MANIFEST = """name = "beacon"
description = "A cube at the origin of the shared world"
kind = "wasm"
entry = "beacon.wasm"
needs = ["hearth.World"]
restart = "permanent"
targets = ["server"]
"""


def _centre(window):
    shot = request(window, "screenshot", timeout=30)
    rgba = np.frombuffer(shot["rgba"], np.uint8).reshape(shot["height"], shot["width"], 4)
    h, w = rgba.shape[:2]
    return rgba[h // 2 - 3:h // 2 + 3, w // 2 - 3:w // 2 + 3, :3].astype(int).mean(axis=(0, 1))


def _dominant(window, channel):
    c = _centre(window)
    # B's world has no lights but the ambient one: the cube is dim.
    return c[channel] > 12 and c[channel] > 3 * max(c[i] for i in range(3) if i != channel)


@pytest.fixture
def world(xvfb, tmp_path, proc):  # noqa: F811 - the fixture's value
    env = {"DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11", "HEARTH_SECRET": SECRET,
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
           "HOME": str(tmp_path)}
    server_root = tmp_path / "server-root" / "init" / "beacon"
    server_root.mkdir(parents=True)
    (server_root / "beacon.c").write_text(BEACON)
    (server_root / "service.toml").write_text(MANIFEST)
    build(server_root / "beacon.c", server_root / "beacon.wasm")
    # Client A runs only the window manager, its terminals running a shell.
    wm = tmp_path / "a-root" / "init" / "wm"
    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "..", "kindling", "root",
                                 "init", "wm"), wm, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = (wm / "service.toml").read_text()
    assert "[settings]" in manifest
    shell = '[settings]\ncommand = ["/bin/sh"]'
    (wm / "service.toml").write_text(manifest.replace("[settings]", shell, 1))
    (tmp_path / "b-root").mkdir()
    programs = []
    tools = []
    try:
        server_sock = str(tmp_path / "server.sock")
        server = Program("hearth.server", "--root", str(tmp_path / "server-root"), "--bind",
                         "127.0.0.1:0", "--ipc", server_sock, "--watch", "0", "--data-dir",
                         str(tmp_path / "server-data"), "--status-every", "3600", env=env)
        programs.append(server)
        url = server.wait_for("peers connect at").split("peers connect at ")[1].strip()
        server.wait_for("tools attach at")
        clients = {}
        for name in ("a", "b"):
            sock = str(tmp_path / f"{name}.sock")
            prog = Program("hearth.client", "--size", "320x240", "--server", url, "--root",
                           str(tmp_path / f"{name}-root"), "--ipc", sock, "--watch", "0",
                           "--name", name, "--data-dir", str(tmp_path / f"{name}-data"),
                           env=dict(env, SDL_VIDEO_X11_WMCLASS=f"hearth-shared-{name}"))
            programs.append(prog)
            prog.wait_for(f"connected to {url}", timeout=60)
            peer = connect("unix://" + sock)
            tools.append(peer)
            clients[name] = (prog, sock, peer)
        yield env, server_sock, server_root / "beacon.c", clients
    finally:
        for peer in tools:
            peer.close()
        for prog in reversed(programs):
            prog.stop()


def test_edit_a_server_guest_from_a_clients_terminal_and_see_it_in_another_window(world):
    env, server_sock, source, clients = world
    xenv = dict(os.environ, **env)
    b_window = otp.lookup(clients["b"][2].root, "hearth.Window")
    request(b_window, ["set_camera", 60.0, 0.05, _look_at([0, 0.5, 4], [0, 0, 0])])
    wait_until(lambda: _dominant(b_window, 0), timeout=60, what="the red cube in B's window")

    found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--classname",
                            "^hearth-shared-a$"], env=xenv, capture_output=True, text=True,
                           timeout=30)
    wid = found.stdout.split()[0]

    def xdotool(*args):
        # A on top of B (both open at the same place), with the keyboard.
        for step in (["windowraise", wid], ["windowfocus", "--sync", wid]):
            subprocess.run(["xdotool", *step], env=xenv, check=True, timeout=30)
        subprocess.run(["xdotool", *args], env=xenv, check=True, timeout=60)

    def type_line(text):
        xdotool("type", "--delay", "2", text)
        xdotool("key", "Return")

    def screen():
        out = subprocess.run([sys.executable, "-m", "hearth.ctl", "--sock", clients["a"][1],
                              "terminals", "--json"], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return "\n".join("\n".join(t.get("screen") or t.get("lines") or ()) for t in
                         json.loads(out.stdout)["terminals"])

    xdotool("key", "ctrl+alt+t")
    try:
        wait_until(lambda: "$" in screen() or "#" in screen(), timeout=60,
                   what="a shell prompt in A's terminal")
    except AssertionError as e:
        raise AssertionError(f"{e}: it shows {screen()!r}; A's log:\n"
                             + "".join(clients["a"][0].lines[-20:])) from None
    type_line(f"sed -i 's/{RED}/{GREEN}/' {source}")
    type_line(f"hibashi --sock {server_sock}")
    wait_until(lambda: "hibashi>" in screen(), timeout=60, what="Hibashi attached to the server")
    type_line(f'c("{source}")')
    try:
        wait_until(lambda: "c: upgraded beacon in place" in screen(), timeout=90,
                   what="the beacon upgraded on the server")
    except AssertionError as e:
        raise AssertionError(f"{e}; A's terminal shows:\n{screen()}") from None
    wait_until(lambda: _dominant(b_window, 1), timeout=60, what="the green cube in B's window")
