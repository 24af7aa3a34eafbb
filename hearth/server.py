"""hearth-server: boot a Hearth runtime and keep it running until Ctrl+C.

It boots a registry and the native services (time, filesystem, the wasm
spawner, the inspector), then hands the world root to init, which starts
the services of ``ROOT/init/*/service.toml`` (the root bundled with
Kindling by default), and logs a status line now and then.

Peers: with ``--bind HOST:PORT`` it serves peers over WebSocket; the shared
secret comes from ``--secret-file``, ``$HEARTH_SECRET_FILE`` or
``$HEARTH_SECRET`` (never from the command line, where `ps` would show
it). Each peer's root capability is what the ``hearth.init.Server`` hook
answers, by default a read-only view of the registry that sees only an
allow-list (`hearth._views.peer_view`: the time services, the wasm
spawner, the root's services whose manifests say ``expose = true``, and
with ``--publish-files`` a read-only ``hearth.fs.ReadOnlyFilesystem``).
The writable ``hearth.fs.Filesystem`` is for tools only. Tools on this machine
(`hearth-ctl`, `hearth-tui`) attach through the IPC socket (``--ipc``,
default ``$HEARTH_SOCK``, else ``$XDG_RUNTIME_DIR/hearth.sock``, else a
per-user path), whose root is the ``hearth.init.Daemon`` hook's answer, by
default the registry itself; there ``hibashi`` finds ``hearth.Shell``
(docs/shell.md), which no peer's view holds. Monkey-patches gevent first thing, as only
entry points may.

Behind a reverse proxy, ``--trusted-proxy ADDR`` (repeatable) names the
proxies whose ``X-Forwarded-For``/``Forwarded`` headers are believed for a
peer's address; ``--ping-interval`` and ``--ping-timeout`` set the
WebSocket keepalive (docs/deploy.md).

Init is named by ``--init MODULE:FUNCTION`` and imported when the server
starts: Kindling is the layer above this entry point, so it is loaded by
name, the way Erlang's init reads its boot script, never imported here.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import stat  # noqa: E402

import gevent  # noqa: E402

from hearth._entry import bundled_root, period, read_secret, resolve  # noqa: E402
from hearth._views import exposed_services, hook_root, peer_view  # noqa: E402
from hearth import __version__, net, otp, vm  # noqa: E402
from hearth._sockpath import LIVE, probe, socket_path  # noqa: E402
from hearth.net._listen import parse_trusted  # noqa: E402
from hearth.shell import start_shell  # noqa: E402
from hearth.world import start_world  # noqa: E402
from hearth.native import (  # noqa: E402
    start_filesystem,
    start_inspector,
    start_time_services,
    start_wasm_spawner,
)

DEFAULT_INIT = "kindling.init:boot"

log = logging.getLogger("hearth.server")


def _ticker(period):
    """Counts ticks; a receive timeout is its clock."""
    vm.set_metadata(description="ticks every period seconds")
    ticks = 0
    while True:
        if vm.recv(timeout=period) is None:
            ticks += 1
            log.debug("tick %d", ticks)


def _status(period):
    """Logs a one-line summary of the runtime now and then."""
    rt = vm.current_runtime()
    while True:
        vm.recv(timeout=period)
        procs = rt.processes()
        log.info(
            "%d processes, %d messages in, %d recent exits",
            len(procs),
            sum(p.messages_in for p in procs),
            len(rt.exits()),
        )


def _boot(opts, listeners, failed):
    """The boot process: starts everything, then waits. A boot that fails
    (an --init that can't be imported, a service that can't start) stops
    the server with the reason, rather than leaving it up with nothing in
    it."""
    try:
        _start_all(opts, listeners, failed)
    except Exception as e:
        log.exception("boot failed")
        failed.set(f"boot failed: {type(e).__name__}: {e}")


def _start_all(opts, listeners, failed):
    registry = otp.start_registry()
    start_time_services(registry)
    start_wasm_spawner(registry)
    start_inspector(registry)
    start_world(registry)
    start_shell(registry, root=opts.root, target="server")  # the operator's: never a peer's
    if opts.serve_files:
        start_filesystem(registry, opts.root)
        if opts.publish_files:
            start_filesystem(registry, opts.root, read_only=True)
    if opts.root is not None:
        if opts.watch:
            resolve(opts.init)(opts.root, registry, watch=opts.watch)
        else:
            resolve(opts.init)(opts.root, registry)
    log.info("services: %s", ", ".join(sorted(otp.registered(registry))))
    try:
        if opts.ipc:
            daemon_root = hook_root(registry, "hearth.init.Daemon", registry)
            listeners.append(net.listen_unix(opts.ipc, root=daemon_root))
            log.info("tools attach at %s", opts.ipc)
        if opts.bind:
            public = peer_view(registry, publish_files=opts.publish_files,
                               exposed=exposed_services(registry))
            server_root = hook_root(registry, "hearth.init.Server", public)
            lst = net.listen(opts.bind, secret=opts.secret, root=server_root,
                             handshake_timeout=opts.handshake_timeout,
                             max_handshakes=opts.max_handshakes,
                             trusted_proxies=opts.trusted_proxies,
                             ping_interval=opts.ping_interval, ping_timeout=opts.ping_timeout)
            listeners.append(lst)
            net.start_peers_service(registry, lst)
            log.info("peers connect at %s", lst.url)
    except (net.NetError, OSError) as e:
        failed.set(str(e))
        return
    ticker = vm.spawn(_ticker, 1.0, name="ticker")
    vm.monitor(ticker)
    if opts.status_every:
        vm.spawn(_status, opts.status_every, name="status")
    while True:
        sig = vm.recv()
        if isinstance(sig, vm.Down):
            log.warning("ticker died: %s", vm.format_reason(sig.reason))


def address_taken(opts):
    """Why this server cannot listen where it was told to, or None: a live
    runtime (or a file that is not a socket) at the IPC socket's path, or
    the ``--bind`` port already bound. Looked at before anything boots, so
    a second server on the same socket or port fails at once, having
    started nothing. Switches: only cooperatively, on the socket probe."""
    if opts.ipc:
        if os.path.exists(opts.ipc) and not stat.S_ISSOCK(os.stat(opts.ipc).st_mode):
            return f"{opts.ipc} exists and is not a socket; not touching it"
        if probe(opts.ipc) == LIVE:
            return f"another Hearth runtime is listening at {opts.ipc}"
    if opts.bind:
        host, port = net.parse_bind(opts.bind)
        if port:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError as e:
                return f"can't listen at {opts.bind}: {e.strerror or e}"
            finally:
                s.close()
    return None


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _seconds(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def _limit_options(parser):
    """What each peer may make this server hold (docs/security.md has the
    defaults and what happens past each)."""
    d = vm.GuestLimits()
    group = parser.add_argument_group(
        "limits on each peer", "what one network peer (and the guests it spawns) may make"
        " this server hold; the operator's tools on the IPC socket have none")
    group.add_argument("--peer-guests", type=_count, default=d.max_guests, metavar="N",
                       help=f"live wasm guests a peer may have (default {d.max_guests})")
    group.add_argument("--peer-guest-pages", type=_count, default=d.memory_pages, metavar="N",
                       help="linear memory of each of its guests, in 64 KiB pages"
                       f" (default {d.memory_pages}: {d.memory_pages // 16} MiB)")
    group.add_argument("--peer-cpu-slice", type=_seconds, default=d.cpu_slice, metavar="SECONDS",
                       help="CPU seconds one of its guests may run in wasm without calling"
                       f" the host before it is trapped (default {d.cpu_slice:g})")
    group.add_argument("--peer-lumps", type=_count, default=d.max_lumps, metavar="N",
                       help=f"lumps stored for a peer (default {d.max_lumps})")
    group.add_argument("--peer-lump-mib", type=_count, default=d.max_lump_bytes >> 20,
                       metavar="MIB", help="their total size in MiB (default"
                       f" {d.max_lump_bytes >> 20})")
    group.add_argument("--handshake-timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="seconds a connection has for the HTTP upgrade and the handshake"
                       f" (default {net.HANDSHAKE_TIMEOUT:g})")
    group.add_argument("--max-handshakes", type=_count, default=None, metavar="N",
                       help="connections in their handshake at once, past which the oldest"
                       f" is closed (default {net.MAX_HANDSHAKES})")


def _guest_limits(args):
    return vm.GuestLimits(max_guests=args.peer_guests, memory_pages=args.peer_guest_pages,
                          cpu_slice=args.peer_cpu_slice, max_lumps=args.peer_lumps,
                          max_lump_bytes=args.peer_lump_mib << 20)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hearth-server", description=__doc__.splitlines()[0])
    parser.add_argument("--status-every", type=period, default=10.0, metavar="SECONDS",
                        help="log a status line (processes, messages, recent exits) every"
                        " SECONDS (default 10; 0 turns it off)")
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="keep lumps and compiled modules here across restarts (default: memory only)",
    )
    parser.add_argument(
        "--root",
        default=None,
        metavar="DIR",
        help="the world root: init starts ROOT/init/*/service.toml and hearth.fs.Filesystem"
        " serves ROOT (default: the root bundled with Kindling, booted without a"
        " filesystem service, so nothing writes into the installed package)",
    )
    parser.add_argument("--init", default=DEFAULT_INIT, metavar="MODULE:FUNCTION",
                        help=f"the init to boot the root with (default {DEFAULT_INIT})")
    parser.add_argument("--watch", type=period, default=1.0, metavar="SECONDS",
                        help="with --root, reload services whose files changed, looking every"
                        " SECONDS (default 1; 0 turns it off)")
    parser.add_argument("--bind", default=None, metavar="HOST:PORT",
                        help="serve peers over WebSocket here (plain ws://; put a TLS"
                        " reverse proxy in front, see docs/network.md)")
    parser.add_argument("--secret-file", default=None, metavar="FILE",
                        help="the shared secret peers must prove (first line of FILE;"
                        " default $HEARTH_SECRET_FILE, else $HEARTH_SECRET)")
    parser.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                        help="a reverse proxy (address, or network like 10.0.0.0/8) whose"
                        " X-Forwarded-For / Forwarded headers name the peer's address for"
                        " logs, hearth.net.Peers and the failure throttle (repeatable;"
                        " default none: the headers are ignored)")
    parser.add_argument("--ping-interval", type=period, default=None, metavar="SECONDS",
                        help="ping each peer every SECONDS, so proxies never see an idle"
                        f" connection (default {net.PING_INTERVAL:g}; 0 turns pings off)")
    parser.add_argument("--ping-timeout", type=_seconds, default=None, metavar="SECONDS",
                        help="drop a peer not heard from for SECONDS after a ping (default"
                        f" {net.PING_TIMEOUT:g})")
    parser.add_argument("--publish-files", action="store_true",
                        help="with --root and --bind, let peers read (never write) ROOT"
                        " through hearth.fs.ReadOnlyFilesystem (default: peers see no files)")
    parser.add_argument("--ipc", default=None, metavar="PATH",
                        help="the IPC socket for hearth-ctl and hearth-tui (default"
                        " $HEARTH_SOCK, else $XDG_RUNTIME_DIR/hearth.sock, else per user)")
    parser.add_argument("--no-ipc", action="store_true", help="no IPC socket")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    _limit_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    root = args.root if args.root is not None else bundled_root()
    if root is not None and not os.path.isdir(root):
        parser.error(f"--root {root}: not a directory")
    if args.publish_files and args.root is None:
        parser.error("--publish-files publishes --root DIR: give one")
    if args.bind:
        try:
            net.parse_bind(args.bind)
        except ValueError as e:
            parser.error(f"--bind: {e}")
    try:
        trusted = parse_trusted(args.trusted_proxy)
    except ValueError as e:
        parser.error(f"--trusted-proxy: {e}")
    opts = argparse.Namespace(
        status_every=args.status_every, root=root, init=args.init,
        serve_files=args.root is not None,
        publish_files=args.publish_files and args.root is not None,
        watch=args.watch if args.root is not None and args.watch > 0 else None,
        bind=args.bind, secret=read_secret(args.secret_file, parser, "--bind") if args.bind else None,
        ipc=None if args.no_ipc else (args.ipc or socket_path()),
        handshake_timeout=args.handshake_timeout, max_handshakes=args.max_handshakes,
        trusted_proxies=trusted, ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
    )
    taken = address_taken(opts)
    if taken:
        log.error("hearth-server could not start: %s", taken)
        return 1
    rt = vm.Runtime(data_dir=args.data_dir, guest_limits=_guest_limits(args))
    listeners = []
    stop = gevent.event.Event()
    failed = gevent.event.AsyncResult()
    failed.rawlink(lambda _: stop.set())
    rt.spawn(_boot, opts, listeners, failed, name="boot")
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    log.info("hearth %s running; Ctrl+C stops it", __version__)
    stop.wait()
    for lst in listeners:
        lst.close()
    stuck = rt.shutdown()
    if failed.ready():
        log.error("hearth-server could not start: %s", failed.get())
        return 1
    log.info("stopped (%d processes failed to unwind)", len(stuck))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
