"""Start a real ``hearth-server`` with its IPC socket, for end-to-end tests
of hearth-ctl and hearth-tui."""

import os
import subprocess
import sys
import time

import gevent

__all__ = ["Server"]


class Server:
    """A ``hearth-server`` subprocess (the bundled root) listening at `sock`.

    Args:
        sock: the IPC socket's path.
        log_path: where its output goes.
        pythonpath: extra directories for its module path (reload tests).
        args: more arguments for hearth-server (``--root DIR``, say).
    """

    def __init__(self, sock, log_path, pythonpath=(), args=()):
        self.sock = sock
        self.args = list(args)
        self.log_path = log_path
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join([*map(str, pythonpath),
                                                               *sys.path]))
        self.proc = None

    def start(self, timeout=60.0):
        """Start it and wait until it listens (the socket answers)."""
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hearth.server", "--ipc", self.sock, "--log-level",
             "WARNING", "--status-every", "3600", *self.args],
            stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        # The socket file is made when the server listens. A stale one left
        # by an earlier server is replaced, so wait for a connectable one.
        while not _listening(self.sock):
            if self.proc.poll() is not None:
                raise AssertionError(f"hearth-server exited:\n{open(self.log_path).read()}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"hearth-server did not listen within {timeout}s")
            gevent.sleep(0.05)  # between two looks, not to synchronise
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None


def _listening(path):
    import socket

    if not os.path.exists(path):
        return False
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()
