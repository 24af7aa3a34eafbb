"""The chat room in the world, end to end: one real ``hearth-server`` (the
bundled root, so its ``chat`` service and board), a client A that posts
and a real windowed ``hearth-client`` B under Xvfb. A post made with
``hearth-ctl chat`` against A's registry (it goes to the server's chat
through A's connection) shows in the chat board that B's window draws
(pixels read back) and in ``hearth-ctl chat log`` on the server's socket
(docs/world.md, "The chat board")."""

import io
import json

import numpy as np

from hearth import ctl, otp
from hearth.native import request
from hearth.net import connect
from tests.net.conftest import wait_until
from tests.net.servers import Program
from tests.security.world_harness import SECRET, WorldServer

# B's camera at (0, 3.5, 8) looking down -z at the board (centred at
# (0, 3.5, 0), 3.2 high, about 3 times as wide): the board covers about
# rows 40..81 and columns 16..144 of 160x120.
FACING_BOARD = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, -3.5, -8, 1]
BOARD = (slice(40, 82), slice(16, 144))


def bright(window):
    """How many pixels of the board's area in B's next frame are bright:
    text, well above the board's dark ground (the most common value; the
    board is lit like any entity, and these clients have ambient light
    only, so the text is dim but clear of the ground)."""
    shot = request(window, "screenshot", timeout=30)
    rgba = np.frombuffer(shot["rgba"], np.uint8).reshape(shot["height"], shot["width"], 4)
    area = rgba[BOARD][:, :, :3].astype(int).sum(axis=2)
    if not area.any():
        return 0  # no board yet
    values, counts = np.unique(area, return_counts=True)
    ground = int(values[counts.argmax()])
    return int((area > 2 * ground + 12).sum())


def _start_b(server, xvfb, tmp_path):
    empty = tmp_path / "client-root"  # the clients run no services of their own
    empty.mkdir(exist_ok=True)
    env = {"HEARTH_SECRET": SECRET, "DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11"}
    b = Program("hearth.client", "--size", "160x120", "--server", server.url, "--root",
                str(empty), "--name", "b", "--ipc", str(tmp_path / "b.sock"), env=env)
    b.wait_for(f"connected to {server.url}")
    return b


def _b_window(b_tools):
    """B's window, through B's own IPC socket (a server can't take a
    client's screenshots), facing the board."""
    window = otp.lookup(b_tools.root, "hearth.Window")
    request(window, ["set_camera", 60.0, 0.05, FACING_BOARD])
    # The board, painted with its title only, in B's frame.
    wait_until(lambda: bright(window) > 0, timeout=30, what="the board in B's frame")
    return window


def _check_log(server, line):
    code, text, err = server.ctl("chat", "log", "--json")
    assert code == 0, err
    assert json.loads(text)[-1] == line
    code, text, err = server.ctl("chat", "log")
    assert f"{line['from']}: {line['text']}" in text


def test_a_post_through_a_clients_connection_shows_in_client_bs_window(xvfb, tmp_path, proc):
    """Client A is this test's runtime, laid out as a hearth-client's is: its
    connection to the server registered as ``hearth.server`` in its own
    registry, which is what hearth-ctl gets on a client's IPC socket."""
    server = WorldServer(tmp_path, chat=True)
    b = None
    try:
        with server.peer() as uplink:
            registry_a = otp.start_registry()
            otp.register(registry_a, "hearth.server", uplink.root)
            b = _start_b(server, xvfb, tmp_path)
            b_tools = connect("unix://" + str(tmp_path / "b.sock"))
            window = _b_window(b_tools)
            before = bright(window)
            out = io.StringIO()
            assert ctl.run(["chat", "say", "hello from A, can you read me", "--as", "alice"],
                           registry_a, out=out) == 0, out.getvalue()
            assert "posted as alice" in out.getvalue()
            wait_until(lambda: bright(window) > before + 40, timeout=30,
                       what="A's line on the board in B's frame")
            # It went through A's connection: A is held to its name there.
            out, err = io.StringIO(), io.StringIO()
            assert ctl.run(["chat", "say", "now as bob", "--as", "bob"], registry_a,
                           out=out, err=err) == ctl.PERMISSION_DENIED
            assert "this connection posts as 'alice'" in err.getvalue()
            b_tools.close()
        _check_log(server, {"from": "alice", "text": "hello from A, can you read me"})
    finally:
        if b is not None:
            assert b.stop() == 0, "".join(b.lines)
        assert server.stop() == 0, "".join(server.program.lines[-40:])


def test_hearth_ctl_chat_say_against_a_real_clients_ipc_socket(xvfb, tmp_path, proc):
    """The same with a real headless hearth-client A and the real hearth-ctl
    on A's IPC socket (``hearth-client --ipc PATH``)."""
    import os
    import subprocess
    import sys

    server = WorldServer(tmp_path, chat=True)
    a = b = None
    try:
        empty = tmp_path / "client-root"
        empty.mkdir()
        sock_a = str(tmp_path / "a.sock")
        a = Program("hearth.client", "--headless", "--server", server.url, "--root",
                    str(empty), "--name", "a", "--ipc", sock_a, env={"HEARTH_SECRET": SECRET})
        a.wait_for(f"connected to {server.url}")
        b = _start_b(server, xvfb, tmp_path)
        with connect("unix://" + str(tmp_path / "b.sock")) as b_tools:
            window = _b_window(b_tools)
            before = bright(window)
            res = subprocess.run([sys.executable, "-m", "hearth.ctl", "chat", "say",
                                  "hello from a real A", "--as", "alice"],
                                 env=dict(os.environ, HEARTH_SOCK=sock_a), capture_output=True,
                                 text=True, timeout=60)
            assert res.returncode == 0 and "posted as alice" in res.stdout, res.stderr
            wait_until(lambda: bright(window) > before + 40, timeout=30,
                       what="A's line on the board in B's frame")
        _check_log(server, {"from": "alice", "text": "hello from a real A"})
    finally:
        for p in (a, b):
            if p is not None:
                p.stop()
        assert server.stop() == 0, "".join(server.program.lines[-40:])
