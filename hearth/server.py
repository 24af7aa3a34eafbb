"""hearth-server: boot a Hearth runtime and keep it running until Ctrl+C.

It boots a registry, the native services built so far (the time services
and the wasm spawner) and a ticker, and logs a status line now and then.
Init, service manifests and the network listener arrive with their issues
(kindling, network). Monkey-patches gevent first thing, as only entry
points may.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

import gevent  # noqa: E402

from hearth import __version__, otp, vm  # noqa: E402
from hearth.native import start_time_services, start_wasm_spawner  # noqa: E402

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


def _boot(status_period):
    registry = otp.start_registry()
    start_time_services(registry)
    start_wasm_spawner(registry)
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
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    rt = vm.Runtime(data_dir=args.data_dir)
    rt.spawn(_boot, args.status_every, name="boot")
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
