"""hearth-server: boot a Hearth runtime and keep it running until Ctrl+C.

It boots a registry and the native services (time, filesystem, the wasm
spawner), then hands the world root to init, which starts the services of
``ROOT/init/*/service.toml`` (the root bundled with Kindling by default),
and logs a status line now and then. The network listener arrives with its
issue. Monkey-patches gevent first thing, as only entry points may.

Init is named by ``--init MODULE:FUNCTION`` and imported when the server
starts: Kindling is the layer above this entry point, so it is loaded by
name, the way Erlang's init reads its boot script, never imported here.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

import gevent  # noqa: E402

from hearth import __version__, otp, vm  # noqa: E402
from hearth.native import start_filesystem, start_time_services, start_wasm_spawner  # noqa: E402

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


def _resolve(spec):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _bundled_root():
    spec = importlib.util.find_spec("kindling")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = os.path.join(list(spec.submodule_search_locations)[0], "root")
    return root if os.path.isdir(root) else None


def _boot(status_period, root, init_spec, serve_files):
    registry = otp.start_registry()
    start_time_services(registry)
    start_wasm_spawner(registry)
    if serve_files:
        start_filesystem(registry, root)
    if root is not None:
        _resolve(init_spec)(root, registry)
    log.info("services: %s", ", ".join(sorted(otp.registered(registry))))
    ticker = vm.spawn(_ticker, 1.0, name="ticker")
    vm.monitor(ticker)
    vm.spawn(_status, status_period, name="status")
    while True:
        sig = vm.recv()
        if isinstance(sig, vm.Down):
            log.warning("ticker died: %s", vm.format_reason(sig.reason))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hearth-server", description=__doc__.splitlines()[0])
    parser.add_argument("--status-every", type=float, default=10.0, metavar="SECONDS")
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
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    root = args.root if args.root is not None else _bundled_root()
    if root is not None and not os.path.isdir(root):
        parser.error(f"--root {root}: not a directory")
    rt = vm.Runtime(data_dir=args.data_dir)
    rt.spawn(_boot, args.status_every, root, args.init, args.root is not None, name="boot")
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    log.info("hearth %s running; Ctrl+C stops it", __version__)
    stop.wait()
    stuck = rt.shutdown()
    log.info("stopped (%d processes failed to unwind)", len(stuck))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
