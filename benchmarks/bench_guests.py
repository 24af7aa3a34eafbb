"""Benchmarks of the stock services written as guests (issue 16).

- ``guest_fly_camera``: the fly camera as a guest (kindling/root/init/
  fly-camera) against the Python one it replaced (`_fly_camera_py`), in the
  same run, each alone on a fresh 60 fps window: from a mouse motion posted
  to pygame (the right button held) to the window's camera holding the new
  view matrix, p50 and p99. Goal: the guest's p99 within one frame (16.7 ms)
  of the Python one's.
- ``guest_images``: each ported guest built freestanding (the default) and
  with ``--libc`` (zig's wasm32-wasi libc): module size, and the time to
  compile it (what the first spawn of a new module costs; later spawns
  reuse the compiled module); then a small probe guest, built both ways,
  spawned from a compiled module until its first message (p50), and the
  chat room, spawned as init does (with a registry view) until it answers
  its first request (p50). The libc figures are the "project" side,
  freestanding the baseline. Needs the ``sdk`` extra (zig).

Run them alone with ``python -m benchmarks guest_fly_camera guest_images``.
"""

import pathlib
import tempfile
import time

import gevent
import wasmtime

from hearth import vm
from hearth.otp import registry_view, start_registry

from ._harness import Figure, benchmark, median, percentile

INIT = pathlib.Path(__file__).parents[1] / "kindling" / "root" / "init"
PORTED = ["clock", "panic-test", "skybox", "demo-scene", "fly-camera", "chat"]
FRAME = 1 / 60
SAMPLES = 120

PROBE = r"""
#include <hearth.h>
void run(void) { hearth_send_str(0, "up"); }
"""


# -- the fly camera -------------------------------------------------------------------------


def _fly_latencies(start, n):
    """Start a fly camera with `start(view)` on a fresh 60 fps window and
    time `n` mouse motions to the camera's new view (seconds, sorted)."""
    import pygame

    from .bench_client import _client

    out = []
    with _client(fps=60) as (display, caps, _):
        registry = start_registry()
        from hearth.otp import register

        register(registry, "hearth.Window", caps["hearth.Window"])
        view = registry_view(registry, read_only=True, names=["hearth.Window"])
        start(view)
        camera = display.scene.camera
        deadline = time.monotonic() + 30
        while camera.near != 0.05:  # its first set_camera
            if time.monotonic() > deadline:
                raise RuntimeError("the fly camera never set the camera")
            gevent.sleep(0.001)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=3, pos=(10, 10)))
        gevent.sleep(0.1)
        for i in range(n):
            old = camera.view
            t0 = time.perf_counter()
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(10, 10), rel=(4, 0),
                                                 buttons=(0, 0, 1)))
            while camera.view is old:
                gevent.sleep(0.0002)
                if time.perf_counter() - t0 > 5:
                    raise RuntimeError("the camera did not move")
            out.append(time.perf_counter() - t0)
            gevent.sleep(FRAME * (i % 3) / 3)  # land at different phases of the frame
    return sorted(out)


def _start_guest(view):
    wasm = (INIT / "fly-camera" / "fly-camera.wasm").read_bytes()
    vm.spawn_guest(wasm, view, name="fly-camera")


def _start_python(view):
    from . import _fly_camera_py

    vm.spawn(_fly_camera_py.main, view, name="fly-camera-py")


@benchmark("guest_fly_camera", repeat=1)
def guest_fly_camera(repeat):
    """Fly camera, input event to camera matrix applied: the guest vs the Python one."""
    guest, python = [], []
    for _ in range(repeat):
        python += _fly_latencies(_start_python, SAMPLES)
        guest += _fly_latencies(_start_guest, SAMPLES)
    guest.sort()
    python.sort()
    ms = 1000.0
    fig = Figure("guest_fly_camera.event_to_view", median(guest) * ms, "ms",
                 "the Python fly camera", median(python) * ms, "lower",
                 goal="guest p99 within one frame (16.7 ms) of Python's",
                 p50=percentile(guest, 50) * ms, p99=percentile(guest, 99) * ms,
                 baseline_p50=percentile(python, 50) * ms,
                 baseline_p99=percentile(python, 99) * ms, latency_unit="ms")
    fig.ok = fig.p99 - fig.baseline_p99 <= FRAME * ms
    return [fig]


# -- image size and spawn time -----------------------------------------------------------------


def _compile_seconds(wasm, n=5):
    engine = wasmtime.Engine()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        wasmtime.Module(engine, wasm)
        times.append(time.perf_counter() - t0)
    return median(times)


def _spawn_seconds(wasm, n=50):
    module = vm.load_module(wasm)
    mb = vm.current_process().create_mailbox()
    me = mb.make_capability(vm.SEND)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        vm.spawn_guest(module, me)
        mb.recv()
        times.append(time.perf_counter() - t0)
    me.release()
    mb.destroy()
    return sorted(times)


def _chat_spawn_seconds(wasm, n=20):
    """Spawn the chat room (a registry view at handle 0, no world in it)
    until it answers ``"members"``; kill it (its board child goes with it)."""
    from hearth.native import request

    module = vm.load_module(wasm)
    view = registry_view(start_registry(), read_only=True, names=["hearth.World"])
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        chat = vm.spawn_guest(module, view)
        request(chat, "members")
        times.append(time.perf_counter() - t0)
        chat.kill()
    view.release()
    return sorted(times)


@benchmark("guest_images", repeat=1)
def guest_images(repeat):
    """Guest image size and compile/spawn time per stock guest, libc vs freestanding."""
    from kindling.sdk import build

    figs = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for name in PORTED:
            src = INIT / name / f"{name}.c"
            free = build(src, tmp / "free" / f"{name}.wasm").read_bytes()
            libc = build(src, tmp / "libc" / f"{name}.wasm", libc=True).read_bytes()
            figs.append(Figure(f"guest_images.{name}.size", len(libc) / 1024, "KiB",
                               "freestanding", len(free) / 1024, "lower"))
            figs.append(Figure(f"guest_images.{name}.compile", _compile_seconds(libc) * 1e3, "ms",
                               "freestanding", _compile_seconds(free) * 1e3, "lower"))
        chat_free = build(INIT / "chat" / "chat.c", tmp / "free" / "chat.wasm").read_bytes()
        chat_libc = build(INIT / "chat" / "chat.c", tmp / "libc" / "chat.wasm",
                          libc=True).read_bytes()
        (tmp / "probe.c").write_text(PROBE)
        free = build(tmp / "probe.c", tmp / "free" / "probe.wasm").read_bytes()
        libc = build(tmp / "probe.c", tmp / "libc" / "probe.wasm", libc=True).read_bytes()
    rt = vm.Runtime()
    try:
        with rt.open_process(name="bench"):
            _spawn_seconds(free, 5)  # warm the thread pool and the engine
            f, c, chat_f, chat_c = [], [], [], []
            for _ in range(repeat):
                f += _spawn_seconds(free)
                c += _spawn_seconds(libc)
                chat_f += _chat_spawn_seconds(chat_free)
                chat_c += _chat_spawn_seconds(chat_libc)
    finally:
        rt.shutdown()
    f.sort()
    c.sort()
    figs.append(Figure("guest_images.probe.size", len(libc) / 1024, "KiB", "freestanding",
                       len(free) / 1024, "lower"))
    figs.append(Figure("guest_images.probe.spawn", median(c) * 1e3, "ms", "freestanding",
                       median(f) * 1e3, "lower", p50=percentile(c, 50) * 1e3,
                       p99=percentile(c, 99) * 1e3, baseline_p50=percentile(f, 50) * 1e3,
                       baseline_p99=percentile(f, 99) * 1e3, latency_unit="ms"))
    chat_f.sort()
    chat_c.sort()
    figs.append(Figure("guest_images.chat.spawn", median(chat_c) * 1e3, "ms", "freestanding",
                       median(chat_f) * 1e3, "lower", p50=percentile(chat_c, 50) * 1e3,
                       p99=percentile(chat_c, 99) * 1e3,
                       baseline_p50=percentile(chat_f, 50) * 1e3,
                       baseline_p99=percentile(chat_f, 99) * 1e3, latency_unit="ms"))
    return figs
