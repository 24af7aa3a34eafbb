"""Two real windowed ``hearth-client``s under Xvfb on one real
``hearth-server``: each draws the other's avatar where the other's camera
is, and one leaving takes its avatar out of the other's frame
(docs/world.md, "Clients")."""

import numpy as np

from hearth import otp
from hearth.native import request
from hearth.net import connect
from tests.net.conftest import wait_until
from tests.net.servers import Program, start_server

SECRET = "s3cret"
# Views (world to camera, column-major), looking down -Z: the camera at
# (0, 0, 6), and at (3, 0, 0).
AT_Z6 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -6, 1]
AT_X3 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, -3, 0, 0, 1]
AT_ORIGIN = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
# From (0, 0, 6), a cube of half-size 1 at (3, 0, 0) covers about x 114..149
# of a 160x120 frame (60 degrees vertically); at the origin, the centre.
RIGHT = (132, 60)


def brightness(window, x=80, y=60):
    """Pixel (x, y)'s brightness in the window's next frame."""
    shot = request(window, "screenshot", timeout=30)
    rgba = np.frombuffer(shot["rgba"], np.uint8).reshape(shot["height"], shot["width"], 4)
    return int(rgba[y, x, :3].sum())


def test_a_client_sees_the_other_clients_avatar_move_and_leave(xvfb, tmp_path, proc):
    empty = tmp_path / "root"  # no services: a black frame, nothing but the avatars
    empty.mkdir()
    server, url, sock = start_server(tmp_path, SECRET)
    env = {"HEARTH_SECRET": SECRET, "DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11"}
    socks = {n: str(tmp_path / f"{n}.sock") for n in "ab"}
    a = Program("hearth.client", "--size", "160x120", "--server", url, "--root", str(empty),
                "--name", "a", "--ipc", socks["a"], env=env)
    b = None
    try:
        a.wait_for(f"connected to {url}")
        b = Program("hearth.client", "--size", "160x120", "--server", url, "--root",
                    str(empty), "--name", "b", "--ipc", socks["b"], env=env)
        b.wait_for(f"connected to {url}")
        # Each window through its client's own IPC socket (a server can't
        # take a client's screenshots).
        with connect("unix://" + socks["a"]) as tools_a, \
                connect("unix://" + socks["b"]) as tools_b:
            wa = otp.lookup(tools_a.root, "hearth.Window")
            wb = otp.lookup(tools_b.root, "hearth.Window")
            # A's camera at the origin (each client starts at a place of its
            # own); B steps back from there, where A's avatar now is.
            request(wa, ["set_camera", 60.0, 0.05, AT_ORIGIN])
            request(wb, ["set_camera", 60.0, 0.05, AT_Z6])
            wait_until(lambda: brightness(wb) > 0, timeout=20, what="A's avatar in B's frame")
            assert brightness(wb, *RIGHT) == 0
            # A moves: its avatar follows in B's frame.
            request(wa, ["set_camera", 60.0, 0.05, AT_X3])
            wait_until(lambda: brightness(wb) == 0 and brightness(wb, *RIGHT) > 0, timeout=20,
                       what="A's avatar to move right in B's frame")
            assert brightness(wa) == 0  # A does not draw its own avatar around its camera
            # A leaves: its avatar goes with it.
            assert a.stop() == 0
            wait_until(lambda: brightness(wb, *RIGHT) == 0, timeout=20,
                       what="A's avatar to leave B's frame")
    finally:
        a.stop()
        if b is not None:
            assert b.stop() == 0, "".join(b.lines)
        server.stop()
