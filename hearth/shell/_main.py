"""The ``hibashi`` entry point: monkey-patches gevent first thing (an entry
point, the only kind of module that may), connects to a runtime's IPC
socket and runs `interact` inside a Hearth process of a small local
runtime."""

from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from hearth import __version__, vm  # noqa: E402
from hearth._sockpath import client_socket_path, socket_path  # noqa: E402

from ._frontend import NO_RUNTIME, interact  # noqa: E402

__all__ = ["main", "pick_socket"]

PERMISSION_DENIED = 5


def pick_socket(sock=None, client=False):
    """The socket to attach to: `sock` if given, else a client's
    (``--client``) or the server's, by `hearth._sockpath`'s rules."""
    if sock:
        return sock
    return client_socket_path() if client else socket_path()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="hibashi", description="Hibashi, the Hearth shell: Python inside a running"
        " Hearth runtime (a server or a client), over its IPC socket.")
    parser.add_argument("--sock", default=None, metavar="PATH",
                        help="the runtime's IPC socket (default $HEARTH_SOCK, else"
                        " $XDG_RUNTIME_DIR/hearth.sock, else per user)")
    parser.add_argument("--client", action="store_true",
                        help="attach to the hearth-client on this machine instead"
                        " ($HEARTH_CLIENT_SOCK, else $XDG_RUNTIME_DIR/hearth-client.sock)")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    args = parser.parse_args(argv)
    path = pick_socket(args.sock, args.client)
    if not os.path.exists(path):
        sys.stderr.write(f"hibashi: no Hearth runtime is running: nothing listens on {path}"
                         " (no socket). Start one, or give --sock PATH.\n")
        return NO_RUNTIME
    if not os.access(path, os.R_OK | os.W_OK):
        sys.stderr.write(f"hibashi: {path}: permission denied (the socket is its owner's)\n")
        return PERMISSION_DENIED
    from hearth.net import ConnectError, connect

    rt = vm.Runtime()
    try:
        with rt.open_process(name="hibashi"):
            try:
                peer = connect("unix://" + path)
            except (ConnectError, OSError, vm.HearthError) as e:
                sys.stderr.write(f"hibashi: can't attach to {path}: {e}\n")
                return NO_RUNTIME
            try:
                return interact(peer.root)
            finally:
                peer.close()
    finally:
        rt.shutdown()


if __name__ == "__main__":
    sys.exit(main())
