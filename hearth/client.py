"""hearth-client: open a window on the world and boot it.

It opens a pygame window with an OpenGL 3.3 context, boots a registry, the
native services (time, the wasm spawner, and the client's window,
renderer, canvas and debug-draw services) and hands the world root to
init with target ``client``, which starts the graphical services of
``ROOT/init/*/service.toml`` (the root bundled with Kindling by default: a
debug grid, a skybox, a fly camera and a demo scene). The frame loop is a
process on the main thread; closing the window shuts the runtime down.
Monkey-patches gevent first thing, as only entry points may.

With ``--server URL`` it also connects to a hearth-server (the shared
secret from ``--secret-file``, ``$HEARTH_SECRET_FILE`` or
``$HEARTH_SECRET``) and hands it, as its root, a read-only view of its
registry that sees only `EXPORTED` (the window, renderer, canvas and
debug-draw services, the time services and the wasm spawner; never the
terminal factory; the allow-list and its reasons are in `hearth._views`)
and its root's services whose manifests say ``expose = true``: the
server's processes find them through ``hearth.net.Peers``. The server's
registry (what it gives its peers) is registered locally as
``hearth.server`` while connected. A lost connection is retried, with a
growing delay; a wrong secret, or a server certificate that fails
verification (``--cafile FILE`` trusts your own CA for ``wss://``), stops
the client with exit code 1 (as any failure to boot does; 0 is a stop asked for: Ctrl+C, the window closed,
``--frames`` or ``--screenshot`` done). ``--screenshot`` waits until init
reports every service running and the world has gone quiet (every process
blocked in a receive), then draws ``--frames`` more frames and saves one. ``--headless`` runs
without a window (no graphical services): a peer that only connects.

Tools: like hearth-server, the client serves its operator's tools
(``hearth-ctl``, ``hearth-tui``, ``hibashi``) on an IPC socket whose root is
the ``hearth.init.Daemon`` hook's answer, by default its whole registry:
``--ipc PATH``, default ``$HEARTH_CLIENT_SOCK``, else
``$XDG_RUNTIME_DIR/hearth-client.sock``, else a per-user path, so it never
collides with a server's on the same machine (``--no-ipc``: none). A
second client finds the default path taken and runs without a socket,
saying so; a ``--ipc PATH`` that is taken stops the client. Programs the
client starts (the in-world terminal's) get ``$HEARTH_CLIENT_SOCK`` set to
its socket, so ``hibashi --client`` there attaches to it. It runs
the inspector and the shell service (``hearth.Shell``, docs/shell.md), and,
for a ``--root DIR`` given by hand, ``hearth.fs.Filesystem`` on it and a
watch of its files (``--watch SECONDS``, as the server's). None of these is
ever in the view the server gets.

Every client mirrors the shared world (``hearth.World``: the server's with
``--server``, else one of its own started here, so the single-player path
is the same code): a mirror process keeps a renderer object per entity in
step (headless: only the table), and an avatar process shows this client
in the world as a cube labelled ``--name`` (default: the login name) that
follows the camera (docs/world.md).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import getpass  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from hearth._entry import bundled_root, period, read_secret, resolve  # noqa: E402
from hearth._sockpath import LIVE, client_socket_path, probe  # noqa: E402
from hearth._views import (  # noqa: E402
    CLIENT_EXPORTS,
    client_view,
    exposed_services,
    hook_root,
)
from hearth import __version__, net, otp, vm, world  # noqa: E402
from hearth.gfx import (  # noqa: E402
    RENDERER,
    TEXT_FACTORY,
    WINDOW,
    RendererView,
    cube_mesh,
    open_display,
    start_client_services,
)
from hearth.native import (  # noqa: E402
    request,
    start_filesystem,
    start_inspector,
    start_time_services,
    start_wasm_spawner,
)
from hearth.shell import start_shell  # noqa: E402

DEFAULT_INIT = "kindling.init:boot"

log = logging.getLogger("hearth.client")


SERVER_NAME = "hearth.server"  # the server's root, in the client's registry

# What the server may reach of this client (reasons in `hearth._views`):
# the graphical services, the time services and the (sandboxed) wasm
# spawner. Never the terminal factory, which runs programs on this
# machine, nor init or the server's own root.
EXPORTED = tuple(CLIENT_EXPORTS)


def _uplink(url, secret, registry, stop, failed, retry=(0.5, 30.0), cafile=None):
    """Stay connected to the server at `url`; reconnect when the connection
    is lost. A refusal (a wrong secret, or a TLS certificate that fails
    verification) is final: it goes into `failed` and stops the client.
    Switches: always."""
    vm.set_metadata(description=f"the connection to {url}")
    mine = client_view(registry, exposed=exposed_services(registry))
    delay = retry[0]
    while True:
        try:
            peer = net.connect(url, secret=secret, root=mine, cafile=cafile)
        except net.AuthError as e:
            log.error("the server at %s refused us: %s", url, e)
            failed.append(f"the server at {url} refused us: {e}")
            stop.set()
            return
        except net.CertificateError as e:
            log.error("%s", e)
            failed.append(str(e))
            stop.set()
            return
        except net.ConnectError as e:
            log.warning("%s; trying again in %.1f s", e, delay)
            vm.recv(timeout=delay)
            delay = min(delay * 2, retry[1])
            continue
        delay = retry[0]
        try:
            services = "its services: " + ", ".join(otp.registered(peer.root))
        except (otp.CallError, otp.ServiceError) as e:  # the server is not trusted
            services = f"its services could not be listed: {e}"
        log.info("connected to %s; %s", url, services)
        ref = peer.root.monitor()
        try:
            otp.register(registry, SERVER_NAME, peer.root)
        except otp.RegistryError as e:
            log.warning("%s is not registered locally: %s", SERVER_NAME, e)
        while True:
            sig = vm.recv()
            if isinstance(sig, vm.Down) and sig.ref == ref:
                sig.cap.release()
                break
            for cap in getattr(sig, "caps", None) or ():
                cap.release()
        peer.root.release()
        log.warning("lost the connection to %s (%s); reconnecting", url, peer.reason)
        peer.close()


def _server_world(registry):
    """``hearth.World`` of the server we are connected to, or None while we
    are not. Switches: always."""
    server = otp.lookup(registry, SERVER_NAME)
    if server is None:
        return None
    try:
        return otp.lookup(server, world.WORLD)
    finally:
        server.release()


def _finder(registry, remote):
    if remote:
        return lambda: _server_world(registry)
    return lambda: otp.lookup(registry, world.WORLD)


def _run_mirror(registry, remote, renderer=None, texts=None):
    """The mirror process: the world (see `_finder`) shown by `renderer`
    (None: headless, the entity table only), each entity's label drawn by
    `texts` (``hearth.text.TextFactory``). Switches: always."""
    view = None if renderer is None else RendererView(renderer, texts)
    world.run_mirror(_finder(registry, remote), view)


def _camera_pose(window):
    """The window camera's pose, camera to world (the view's inverse), as
    16 numbers, column-major. Switches: always."""
    import numpy as np

    view = request(window, "camera", timeout=10)["view"]
    m = np.asarray(view, dtype=np.float64).reshape(4, 4).T  # row-major
    try:
        inv = np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return None
    return [float(x) for x in inv.T.reshape(16)]


def _run_avatar(registry, remote, name, mirror, window=None):
    """The avatar process: a cube labelled `name` following `window`'s
    camera (None: headless, it stays at the origin). Switches: always."""
    mesh = bytes(vm.current_runtime().lumps.put(cube_mesh()))
    pose = None if window is None else (lambda: _camera_pose(window))
    world.run_avatar(_finder(registry, remote), name, mesh, pose=pose, mirror=mirror)


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


INIT_NAME = "hearth.init"  # where Kindling's init registers itself
SETTLE_TIMEOUT = 30.0  # seconds --screenshot waits for the world to settle


def _settle(registry, window, timeout=SETTLE_TIMEOUT):
    """Wait, before a screenshot, until init reports every service started
    (running, or failed for good) and every process of the runtime has gone quiet (blocked in a receive:
    a service still setting up, a guest still drawing, is not), then for
    one more frame. Bounded: past `timeout` it logs who was not ready and
    goes on. Switches: always."""
    init = otp.lookup(registry, INIT_NAME)
    if init is not None:
        try:
            rows = otp.call(init, "services", timeout)
        except otp.CallError as e:
            log.warning("init did not report its services: %s", e)
        else:
            # "stopped": not for this target, or exited normally; "failed" won't come.
            failed = [r["name"] for r in rows if r["state"] == "failed"]
            if failed:
                log.warning("these services failed: %s", ", ".join(failed))
        finally:
            init.release()
    try:
        vm.current_runtime().wait_all_blocked(timeout=timeout)
    except TimeoutError as e:
        log.warning("the world did not settle within %.0f s; taking the screenshot anyway: %s",
                    timeout, e)
    request(window, "screenshot", timeout=30)  # a frame drawn after that


def _serve_tools(registry, args):
    """The IPC socket for the operator's tools (hearth-ctl, hearth-tui,
    hibashi): its root is the ``hearth.init.Daemon`` hook's answer, by
    default this client's whole registry; never handed to the server.
    Switches: always."""
    if not args.ipc:
        return
    daemon_root = hook_root(registry, "hearth.init.Daemon", registry)
    try:
        args.listeners.append(net.listen_unix(args.ipc, root=daemon_root))
    except (net.NetError, OSError) as e:
        if args.ipc_given:
            raise
        # The default path, taken meanwhile by another client: run on without.
        log.warning("no IPC socket for tools: %s (give --ipc PATH)", e)
        return
    # Programs this client starts (the in-world terminal's) find it:
    # `hibashi --client`, `hearth-ctl --client`.
    os.environ["HEARTH_CLIENT_SOCK"] = os.path.abspath(args.ipc)
    log.info("tools attach at %s", args.ipc)


def _boot(display, stop, args, root):
    registry = otp.start_registry()
    start_time_services(registry)
    start_wasm_spawner(registry)
    start_inspector(registry)
    if not args.server:
        world.start_world(registry)  # single player: a world of our own, the same mirror
    start_shell(registry, root=root, target="client")  # the operator's, on the IPC socket
    if args.serve_files:
        start_filesystem(registry, root)  # for local tools only: not in CLIENT_EXPORTS
    services = None
    if display is not None:
        services = start_client_services(registry, display, fps=args.fps or None,
                                         on_close=stop.set)
        # Each name starts at a place of its own on a circle around the
        # origin (docs/world.md, "Start places"), not inside another's avatar.
        request(services.caps[WINDOW], ["set_camera", 60.0, 0.05,
                                        list(world.start_view(args.name))])
    if root is not None:
        if args.watch:
            resolve(args.init)(root, registry, "client", watch=args.watch)
        else:
            resolve(args.init)(root, registry, "client")
    log.info("services: %s", ", ".join(sorted(otp.registered(registry))))
    _serve_tools(registry, args)
    if args.server:
        vm.spawn(_uplink, args.server, args.secret, registry, stop, args.failed,
                 (0.5, 30.0), args.cafile, name="uplink", link=True)
    remote = args.server is not None
    renderer = None if services is None else services.caps[RENDERER]
    texts = None if services is None else services.caps[TEXT_FACTORY]
    mirror = vm.spawn(_run_mirror, registry, remote, renderer, texts, name="mirror", link=True)
    vm.spawn(_run_avatar, registry, remote, args.name, mirror,
             None if services is None else services.caps[WINDOW], name="avatar", link=True)
    mirror.release()
    if services is None:
        while True:
            vm.recv()
    window = services.caps[WINDOW]
    if args.screenshot:
        # Let the world settle (every service started and quiet), draw
        # --frames frames more, then save one and stop.
        _settle(registry, window)
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
                        help="also connect to the hearth-server at URL (ws:// or wss://)"
                             " and hand it this client's services")
    parser.add_argument("--secret-file", default=None, metavar="FILE",
                        help="the server's shared secret (default $HEARTH_SECRET_FILE, else"
                             " $HEARTH_SECRET)")
    parser.add_argument("--cafile", default=None, metavar="FILE",
                        help="trust the CA certificates in FILE (PEM) for a wss:// --server,"
                        " besides the system's: for a server whose certificate your own CA"
                        " signed")
    parser.add_argument("--headless", action="store_true",
                        help="no window: boot the local runtime (and --root's init, if"
                             " given) and stay connected to --server")
    parser.add_argument("--name", default=None,
                        help="your avatar's label in the world (default: your login name)")
    parser.add_argument("--root", default=None, metavar="DIR",
                        help="the world root whose init/*/service.toml init starts (default:"
                             " the root bundled with Kindling)")
    parser.add_argument("--init", default=DEFAULT_INIT, metavar="MODULE:FUNCTION",
                        help=f"the init to boot the root with (default {DEFAULT_INIT})")
    parser.add_argument("--watch", type=period, default=1.0, metavar="SECONDS",
                        help="with --root, reload services whose files changed, looking every"
                             " SECONDS (default 1; 0 turns it off)")
    parser.add_argument("--ipc", default=None, metavar="PATH",
                        help="the IPC socket for hearth-ctl, hearth-tui and hibashi (default"
                             " $HEARTH_CLIENT_SOCK, else $XDG_RUNTIME_DIR/hearth-client.sock,"
                             " else per user: never the server's)")
    parser.add_argument("--no-ipc", action="store_true", help="no IPC socket")
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
    if args.name is None:
        try:
            args.name = getpass.getuser()
        except (KeyError, OSError):
            args.name = "guest"
    if not args.name or len(args.name) > world.MAX_LABEL:
        parser.error(f"--name must be 1..{world.MAX_LABEL} characters")
    args.secret = None
    args.failed = []  # why the client failed, if it did: a non-zero exit
    if args.server is not None:
        args.secret = read_secret(args.secret_file, parser, "--server")
    if args.cafile is not None:
        if args.server is None:
            parser.error("--cafile is for a wss:// --server: give one")
        if not os.path.isfile(args.cafile):
            parser.error(f"--cafile {args.cafile}: no such file")
    if args.headless and (args.screenshot or args.frames):
        parser.error("--headless has no frames to count or save")
    if args.screenshot and not args.frames:
        args.frames = 30
    if args.headless:
        root = args.root  # the bundled root is all graphical services
    else:
        root = args.root if args.root is not None else bundled_root()
    if root is not None and not os.path.isdir(root):
        parser.error(f"--root {root}: not a directory")
    # Files and reloads only for a root given by hand: the bundled root is
    # the installed package, which nothing should write into.
    args.serve_files = args.root is not None
    args.watch = args.watch if args.root is not None and args.watch > 0 else None
    args.ipc_given = bool(args.ipc) and not args.no_ipc
    args.ipc = None if args.no_ipc else (args.ipc or client_socket_path())
    args.listeners = []
    taken = _ipc_taken(args.ipc)
    if taken and args.ipc_given:
        log.error("hearth-client could not start: %s", taken)
        return 1
    if taken:
        # Several clients on one machine: the first has the default
        # socket; the others run without one, saying so.
        log.warning("no IPC socket for tools: %s", taken)
        args.ipc = None

    display = None if args.headless else open_display(args.size, title="Hearth")
    rt = vm.Runtime(data_dir=args.data_dir)
    stop = gevent.event.Event()
    rt.spawn(_boot_or_stop, display, stop, args, root, name="client")
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    log.info("hearth %s client running; %s", __version__,
             "Ctrl+C stops it" if args.headless else "close the window or press Ctrl+C to stop")
    while not stop.wait(3600):  # a timer: a headless client with no peer has no other handle
        pass
    for lst in args.listeners:
        lst.close()
    stuck = rt.shutdown()
    if display is not None:
        display.close()
    log.info("stopped (%d processes failed to unwind)", len(stuck))
    if args.failed:
        log.error("hearth-client failed: %s", "; ".join(args.failed))
        return 1
    return 0


def _ipc_taken(path):
    """Why the client can't serve tools at `path`, or None: a live runtime
    (or a file that is not a socket) is there. Looked at before anything
    boots. Switches: only cooperatively, on the socket probe."""
    if not path:
        return None
    if os.path.exists(path) and not stat.S_ISSOCK(os.stat(path).st_mode):
        return f"{path} exists and is not a socket; not touching it (give --ipc PATH)"
    if probe(path) == LIVE:
        return f"another Hearth runtime is listening at {path} (give --ipc PATH)"
    return None


def _boot_or_stop(display, stop, args, root):
    """`_boot`; when it ends for any reason (a native service can't start,
    the services' supervisor gave up), stop the client rather than leave a
    window with nothing behind it."""
    try:
        _boot(display, stop, args, root)
    except vm.ProcessExit as e:
        if not stop.is_set():
            log.error("the client's services stopped: %s", vm.format_reason(e.reason))
            args.failed.append(f"its services stopped: {vm.format_reason(e.reason)}")
        raise
    except BaseException as e:
        log.exception("the client failed to boot")
        args.failed.append(f"it failed to boot: {type(e).__name__}: {e}")
        raise
    finally:
        stop.set()  # whatever ended this process, the window has nothing behind it now


if __name__ == "__main__":
    raise SystemExit(main())
