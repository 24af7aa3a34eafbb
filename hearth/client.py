"""hearth-client: open a window on the world and boot it.

It opens a pygame window with an OpenGL 3.3 context, boots a registry, the
native services (time, the wasm spawner, and the client's window,
renderer, canvas and debug-draw services) and hands the world root to
init with target ``client``, which starts the graphical services of
``ROOT/init/*/service.toml`` (the root bundled with Kindling by default: a
debug grid, a skybox, a fly camera and a demo scene). The frame loop is a
process on the main thread; closing the window shuts the runtime down.
Monkey-patches gevent first thing, as only entry points may.

``--server URL`` is for connecting to a hearth-server; it is not wired up
yet (see the option's help).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from hearth import __version__, otp, vm  # noqa: E402
from hearth.native import start_time_services, start_wasm_spawner  # noqa: E402
from hearth.native._gl_services import start_client_services  # noqa: E402
from hearth.native._service import request  # noqa: E402
from hearth.native._window import WINDOW, open_display  # noqa: E402

DEFAULT_INIT = "kindling.init:boot"

log = logging.getLogger("hearth.client")


class ServerUnavailable(SystemExit):
    """``--server`` was given but this client can't connect yet."""


def _check_server(url):
    """What ``--server`` can do in this build: nothing yet, said clearly.

    TODO(lead): wire ``hearth.net.connect`` here once the network layer
    lands: connect, export the window, renderer, canvas and debug-draw
    services to the server, then boot the local services as below.
    """
    try:
        net = importlib.import_module("hearth.net")
    except ImportError:
        net = None
    if net is None or not hasattr(net, "connect"):
        raise ServerUnavailable(
            f"hearth-client: --server {url}: not yet available (hearth.net is not installed"
            " in this build); run without --server to boot the world locally")
    raise ServerUnavailable(
        f"hearth-client: --server {url}: not yet available (hearth.net exists but the client"
        " does not connect through it yet); run without --server to boot the world locally")


def _resolve(spec):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _bundled_root():
    spec = importlib.util.find_spec("kindling")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = os.path.join(list(spec.submodule_search_locations)[0], "root")
    return root if os.path.isdir(root) else None


def _size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT, not {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError("width and height must be 16..8192")
    return w, h


def _save_png(shot, path):
    import pygame

    image = pygame.image.frombuffer(shot["rgba"], (shot["width"], shot["height"]), "RGBA")
    pygame.image.save(image, path)


def _boot(display, stop, args, root):
    registry = otp.start_registry()
    start_time_services(registry)
    start_wasm_spawner(registry)
    services = start_client_services(registry, display, fps=args.fps or None,
                                     on_close=stop.set)
    if root is not None:
        _resolve(args.init)(root, registry, "client")
    log.info("services: %s", ", ".join(sorted(otp.registered(registry))))
    window = services.caps[WINDOW]
    if args.screenshot:
        # Let the world settle for --frames frames, then save one and stop.
        for _ in range(args.frames):
            request(window, "screenshot", timeout=30)
        _save_png(request(window, "screenshot", timeout=30), args.screenshot)
        log.info("saved a screenshot to %s", args.screenshot)
        stop.set()
    elif args.frames:
        for _ in range(args.frames):
            request(window, "screenshot", timeout=30)
        stop.set()
    while True:  # keep the services' supervisor (linked to us) until shutdown
        sig = vm.recv()
        for cap in getattr(sig, "caps", None) or ():
            cap.release()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hearth-client", description=__doc__.splitlines()[0])
    parser.add_argument("--server", metavar="URL", default=None,
                        help="connect to a hearth-server (NOT YET AVAILABLE: the client boots"
                             " the world locally; with this option it stops with an error)")
    parser.add_argument("--root", default=None, metavar="DIR",
                        help="the world root whose init/*/service.toml init starts (default:"
                             " the root bundled with Kindling)")
    parser.add_argument("--init", default=DEFAULT_INIT, metavar="MODULE:FUNCTION",
                        help=f"the init to boot the root with (default {DEFAULT_INIT})")
    parser.add_argument("--size", type=_size, default=(1024, 640), metavar="WxH")
    parser.add_argument("--fps", type=float, default=60.0,
                        help="frames a second (0: as many as the machine draws)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="keep lumps and compiled modules here across restarts")
    parser.add_argument("--screenshot", default=None, metavar="FILE.png",
                        help="save a screenshot after --frames frames, then quit")
    parser.add_argument("--frames", type=int, default=0, metavar="N",
                        help="quit after N frames (with --screenshot: default 30)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    if args.server is not None:
        _check_server(args.server)
    if args.screenshot and not args.frames:
        args.frames = 30
    root = args.root if args.root is not None else _bundled_root()
    if root is not None and not os.path.isdir(root):
        parser.error(f"--root {root}: not a directory")

    display = open_display(args.size, title="Hearth")
    rt = vm.Runtime(data_dir=args.data_dir)
    stop = gevent.event.Event()
    rt.spawn(_boot_or_stop, display, stop, args, root, name="client")
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    log.info("hearth %s client running; close the window or press Ctrl+C to stop", __version__)
    stop.wait()
    stuck = rt.shutdown()
    display.close()
    log.info("stopped (%d processes failed to unwind)", len(stuck))
    return 0


def _boot_or_stop(display, stop, args, root):
    """`_boot`; when it ends for any reason (a native service can't start,
    the services' supervisor gave up), stop the client rather than leave a
    window with nothing behind it."""
    try:
        _boot(display, stop, args, root)
    except vm.ProcessExit as e:
        if not stop.is_set():
            log.error("the client's services stopped: %s", vm.format_reason(e.reason))
        raise
    except BaseException:
        log.exception("the client failed to boot")
        raise
    finally:
        stop.set()  # whatever ended this process, the window has nothing behind it now


if __name__ == "__main__":
    raise SystemExit(main())
