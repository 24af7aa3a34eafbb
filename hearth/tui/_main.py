"""The ``hearth-tui`` entry point: monkey-patches gevent first thing (an
entry point, the only kind of module that may), then runs the app inside
a Hearth process of a small local runtime."""

from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from hearth import vm  # noqa: E402
from hearth._sockpath import socket_path  # noqa: E402

from ._app import InspectorApp  # noqa: E402
from ._source import Disconnected, InspectorSource  # noqa: E402

__all__ = ["main"]


def _socket_source(path):
    """A source that connects to the daemon at `path` (through hearth.net)
    on every (re)connect."""
    state = {}

    def get_root():
        if not os.path.exists(path):
            raise Disconnected("no runtime is running (no socket)")
        try:
            from hearth.net import connect
        except ImportError:
            raise Disconnected("this build of Hearth has no hearth.net") from None
        try:
            peer = connect("unix://" + path)
        except Exception as e:  # noqa: BLE001 - ConnectError, OSError: all mean "not now"
            raise Disconnected(str(e) or type(e).__name__) from None
        state["peer"] = peer
        return peer.root

    def close():
        peer = state.pop("peer", None)
        if peer is not None:
            peer.close()

    return InspectorSource(get_root, where="unix://" + path, close=close)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="hearth-tui",
        description="Watch and steer a running Hearth runtime: processes, details, the"
                    " supervision tree and the log, live.",
        epilog="Keys: q quit, arrows select, s sort, S reverse, / filter, t tree,"
               " a all logs, k kill, r restart, m reload a module.")
    parser.add_argument("--demo", action="store_true",
                        help="show a small live runtime started inside this program")
    parser.add_argument("--churn", type=int, default=20, metavar="N",
                        help="--demo: short-lived workers spawned every half second")
    parser.add_argument("--refresh", type=float, default=1.0, metavar="SECONDS",
                        help="seconds between two refreshes (default 1)")
    parser.add_argument("--socket", default=None, metavar="PATH",
                        help="the daemon's socket (default: $HEARTH_SOCK,"
                             " $XDG_RUNTIME_DIR/hearth.sock, /tmp/hearth-<uid>/hearth.sock)")
    args = parser.parse_args(argv)
    if args.refresh <= 0:
        parser.error("--refresh must be > 0")
    # The log goes to the log pane, never over the screen.
    logging.getLogger().addHandler(logging.NullHandler())
    rt = vm.Runtime()
    try:
        with rt.open_process(name="hearth-tui"):
            if args.demo:
                from ._demo import start_demo

                registry = start_demo(churn=max(0, args.churn))
                source = InspectorSource(lambda: registry, where="demo (in this process)")
            else:
                source = _socket_source(args.socket or socket_path())
            app = InspectorApp(source, period=args.refresh)
            try:
                app.run()
            except KeyboardInterrupt:
                pass
            finally:
                source.disconnect()
    finally:
        rt.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
