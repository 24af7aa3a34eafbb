"""Fixtures of the client's tests: a real X server (Xvfb) for the whole
session, and per test a real window with the client's services running in
the test's runtime.

Xvfb picks a free display itself and tells its number through
``-displayfd`` once it accepts connections, so nothing here sleeps. The
tests skip (they don't fail) only where Xvfb is not installed.
"""

import os
import shutil
import subprocess

import numpy as np
import pytest

from hearth import vm
from hearth.otp import start_registry

SIZE = (160, 120)


@pytest.fixture(scope="session")
def xvfb():
    """An Xvfb server; DISPLAY points at it for the session."""
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.skip("Xvfb is not installed (Debian's xvfb package)")
    read, write = os.pipe()
    server = subprocess.Popen(
        [exe, "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    number = b""
    with os.fdopen(read, "rb") as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        server.kill()
        server.wait()
        pytest.skip("Xvfb did not start")
    saved = {k: os.environ.get(k) for k in ("DISPLAY", "SDL_VIDEODRIVER")}
    os.environ["DISPLAY"] = ":" + number.decode().strip()
    os.environ["SDL_VIDEODRIVER"] = "x11"
    yield os.environ["DISPLAY"]
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.terminate()
    server.wait()


class Client:
    """A window, its services, and helpers to drive them from the test."""

    def __init__(self, display, services, registry, closed):
        self.display = display
        self.closed = closed  # one True per on_close call
        self.services = services
        self.registry = registry
        self.window = services.caps["hearth.Window"]
        self.renderer = services.caps["hearth.Renderer"]
        self.canvases = services.caps["hearth.canvas.CanvasFactory"]
        self.debug_draws = services.caps["hearth.DebugDrawFactory"]

    def screenshot(self):
        """The pixels of the next frame drawn, as a (height, width, 4) array
        with row 0 at the top."""
        from hearth.native._service import request
        shot = request(self.window, "screenshot")
        return np.frombuffer(shot["rgba"], np.uint8).reshape(shot["height"], shot["width"], 4)


@pytest.fixture
def client(xvfb, runtime, proc, request):
    """The client's services over a real 160x120 window, drawing as fast as
    they can (no frame is waited for longer than it takes to draw), or at
    the frames a second given by indirect parametrization."""
    fps = getattr(request, "param", None)
    from hearth.gfx._services import start_client_services
    from hearth.gfx._window import open_display

    display = open_display(SIZE, title="hearth test", resizable=False)
    try:
        registry = start_registry()
        closed = []
        services = start_client_services(registry, display, fps=fps,
                                         on_close=lambda: closed.append(True))
        yield Client(display, services, registry, closed)
    finally:
        display.close()


@pytest.fixture
def owner(proc):
    """A MONITOR capability to the test's mailbox 0: what it makes lives as
    long as the test's process."""
    return vm.make_capability(vm.MONITOR)
