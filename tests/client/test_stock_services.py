"""The client's stock graphical services (kindling/root/init: debug-grid,
skybox, fly-camera and demo-scene, all wasm guests) booted by init on a real
window, and the hearth-client entry point."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pygame
import pytest

import kindling
from kindling.init import boot, services
from hearth import vm
from hearth.otp import registry_view
from hearth.native import request

ROOT = pathlib.Path(kindling.__file__).parent / "root"
GRAPHICAL = {"debug-grid", "skybox", "fly-camera", "demo-scene"}


def _frames_until(client, done, limit=300):
    """Draw frames (each screenshot is a new one) until `done()`."""
    for _ in range(limit):
        if done():
            return client.screenshot()
        client.screenshot()
    pytest.fail(f"not done after {limit} frames")


# At a real client's frame rate: the services are guests, whose answers to a
# redraw cross threads, so a window drawing as fast as it can (hundreds of
# frames a second) may draw two frames before they land.
@pytest.mark.parametrize("client", [60.0], indirect=True, ids=["60fps"])
def test_init_boots_the_graphical_services_into_a_living_world(client):
    init = boot(str(ROOT), client.registry, "client")
    states = {row["name"]: row["state"] for row in services(init)}
    assert {n: states[n] for n in GRAPHICAL} == {n: "running" for n in GRAPHICAL}
    assert states["clock"] == "stopped"  # a server-only service
    scene = client.display.scene
    px = _frames_until(client, lambda: (scene.object_count == 6 and len(scene.canvases) == 1
                                        and len(scene.debug_draws) == 1
                                        and scene.skybox is not None and scene.lights
                                        and len(scene.debug_draws[next(iter(scene.debug_draws))]
                                                .indices) == 84))
    assert px[:, :, :3].any(axis=2).all()  # the sky is behind everything
    # The canvas is blitted every frame: two frames differ.
    assert not np.array_equal(client.screenshot(), client.screenshot())


FLY_CAMERA_NEAR = 0.05  # the guest's NEAR (fly-camera.c)


@pytest.mark.parametrize("client", [60.0], indirect=True, ids=["60fps"])  # as above
def test_the_fly_camera_moves_forward_while_w_is_held(client):
    wasm = (ROOT / "init" / "fly-camera" / "fly-camera.wasm").read_bytes()
    view = registry_view(client.registry, read_only=True, names=["hearth.Window"])
    vm.spawn_guest(wasm, view, link=True, name="fly-camera")
    camera = client.display.scene.camera
    _frames_until(client, lambda: camera.near == FLY_CAMERA_NEAR)  # its first set_camera
    z0 = float(camera.view[14])  # the view's z translation: -(camera z) when level
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, mod=0, scancode=26,
                                         unicode="w"))
    _frames_until(client, lambda: float(camera.view[14]) > z0 + 0.01)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_w, mod=0, scancode=26,
                                         unicode="w"))


@pytest.mark.parametrize("client", [60.0], indirect=True, ids=["60fps"])  # as above
def test_the_fly_camera_starts_where_the_windows_camera_is(client):
    """The client puts each name's camera at a start place of its own
    (docs/world.md); the fly camera takes over from there, not from a
    place of its own (every client would start inside the others' avatars)."""
    from hearth import world

    start = [float(v) for v in world.start_view("someone")]
    request(client.window, ["set_camera", 60.0, 0.1, start])  # NEAR differs from the guest's
    wasm = (ROOT / "init" / "fly-camera" / "fly-camera.wasm").read_bytes()
    view = registry_view(client.registry, read_only=True, names=["hearth.Window"])
    vm.spawn_guest(wasm, view, link=True, name="fly-camera")
    camera = client.display.scene.camera
    _frames_until(client, lambda: camera.near == FLY_CAMERA_NEAR)  # its first set_camera
    assert np.allclose(np.asarray(camera.view, float).reshape(16), start, atol=1e-4)


def _run_client(xvfb, *args):
    env = dict(os.environ, DISPLAY=xvfb, SDL_VIDEODRIVER="x11")
    return subprocess.run([sys.executable, "-m", "hearth.client", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_hearth_client_boots_the_bundled_root_and_saves_a_screenshot(xvfb, tmp_path):
    shot = tmp_path / "client.png"
    done = _run_client(xvfb, "--size", "160x120", "--frames", "5", "--screenshot", str(shot))
    assert done.returncode == 0, done.stderr
    assert "service debug-grid started" in done.stderr
    image = pygame.image.load(str(shot))
    assert image.get_size() == (160, 120)
    px = pygame.surfarray.array3d(image)
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 20  # sky, grid, cubes, canvas


LATE = '''
import logging
import time

import gevent

from hearth import vm

log = logging.getLogger("late")


def main(registry):
    # A service slow to set up: busy for a while (yielding between slices,
    # as real work that waits on no message does), then ready.
    end = time.monotonic() + 1.5
    n = 0
    while time.monotonic() < end:
        n = sum(range(10_000)) + n % 7
        gevent.sleep(0)
    log.warning("late service ready")
    while True:
        vm.recv()
'''


def test_hearth_client_screenshot_waits_for_the_services_to_settle(xvfb, tmp_path):
    service = tmp_path / "root" / "init" / "late"
    service.mkdir(parents=True)
    (service / "service.toml").write_text(
        'name = "late"\nkind = "python"\nentry = "service.py:main"\ntargets = ["client"]\n')
    (service / "service.py").write_text(LATE)
    shot = tmp_path / "client.png"
    done = _run_client(xvfb, "--size", "160x120", "--root", str(tmp_path / "root"),
                       "--frames", "1", "--screenshot", str(shot))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    ready = next(i for i, line in enumerate(lines) if "late service ready" in line)
    saved = next(i for i, line in enumerate(lines) if "saved a screenshot" in line)
    assert ready < saved, done.stderr
    assert shot.exists()


def test_hearth_client_with_a_wrong_secret_exits_non_zero(xvfb, tmp_path):
    from tests.net.servers import start_server

    server, url, _ = start_server(tmp_path, "right")
    try:
        env = dict(os.environ, DISPLAY=xvfb, SDL_VIDEODRIVER="x11", HEARTH_SECRET="wrong")
        done = subprocess.run([sys.executable, "-m", "hearth.client", "--size", "160x120",
                               "--server", url], env=env, capture_output=True, text=True,
                              timeout=60)
    finally:
        server.stop()
    assert done.returncode == 1, done.stderr
    assert "refused us" in done.stderr and "wrong secret" in done.stderr


def test_hearth_client_with_server_hands_its_window_and_renderer_to_the_server(
        xvfb, tmp_path, proc):
    from hearth import otp
    from hearth.native import request
    from hearth.net import connect
    from tests.net.servers import Program, start_server

    server, url, sock = start_server(tmp_path, "s3cret")
    client = Program("hearth.client", "--size", "160x120", "--server", url,
                     env={"HEARTH_SECRET": "s3cret", "DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11"})
    try:
        client.wait_for(f"connected to {url}")
        with connect("unix://" + sock) as tools:  # the server's own registry
            peers = otp.lookup(tools.root, "hearth.net.Peers")
            (entry,) = request(peers, "list")
            root = request(peers, ["root", entry["id"]])
            for name in ("hearth.Window", "hearth.Renderer", "hearth.canvas.CanvasFactory",
                         "hearth.DebugDrawFactory"):
                assert otp.lookup(root, name) is not None, name
            # A request from here crosses the server to the client's window.
            # A shell on the user's machine is never the server's to use.
            assert otp.lookup(root, "hearth.terminal.TerminalFactory") is None
            window = otp.lookup(root, "hearth.Window")
            stats = request(window, "stats", timeout=30)
            assert stats["frames"] > 0
    finally:
        assert client.stop() == 0, "".join(client.lines)
        server.stop()


def test_hearth_client_shuts_the_runtime_down_cleanly_when_told_to_stop(xvfb):
    import signal

    env = dict(os.environ, DISPLAY=xvfb, SDL_VIDEODRIVER="x11")
    client = subprocess.Popen([sys.executable, "-m", "hearth.client", "--size", "160x120"],
                              env=env, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in client.stderr:  # the same stop as the window's close button
            seen.append(line)
            if "hearth.client services:" in line:
                client.send_signal(signal.SIGTERM)
                break
        rest = client.stderr.read()
        assert client.wait(timeout=30) == 0, "".join(seen) + rest
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert "stopped (0 processes failed to unwind)" in rest
