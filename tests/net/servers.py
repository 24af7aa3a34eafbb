"""hearth-server and hearth-client as a person runs them, for tests that
connect the two: subprocesses, their output read line by line."""

import os
import signal
import subprocess
import sys

import gevent


class Program:
    """A Hearth entry point in a subprocess; its output (stdout and stderr
    together) is read by a greenlet into `lines`."""

    def __init__(self, module, *args, env=None):
        self.lines = []
        self._new_line = gevent.event.Event()
        self.proc = subprocess.Popen([sys.executable, "-m", module, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=dict(os.environ, **(env or {})))
        self._reader = gevent.spawn(self._read)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            self._new_line.set()
        self._new_line.set()

    def wait_for(self, text, timeout=60, after=0):
        """The first line after the first `after` lines that contains
        `text`; fails if the program ends or `timeout` passes first."""
        with gevent.Timeout(timeout, AssertionError(f"no {text!r} in:\n{''.join(self.lines)}")):
            seen = after
            while True:
                for i in range(seen, len(self.lines)):
                    if text in self.lines[i]:
                        return self.lines[i]
                seen = len(self.lines)
                if self._reader.dead:
                    raise AssertionError(f"ended without {text!r}:\n{''.join(self.lines)}")
                self._new_line.clear()
                self._new_line.wait()

    def stop(self, sig=signal.SIGINT):
        """Stop it as Ctrl+C would; its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=10)
        return code


def start_server(tmp_path, secret, bind="127.0.0.1:0", name="server"):
    """A hearth-server serving peers at `bind`, its IPC socket in `tmp_path`;
    returns ``(program, url, socket path)``."""
    sock = str(tmp_path / f"{name}.sock")
    server = Program("hearth.server", "--bind", bind, "--ipc", sock, "--status-every", "3600",
                     env={"HEARTH_SECRET": secret})
    url = server.wait_for("peers connect at").split("peers connect at ")[1].strip()
    server.wait_for("tools attach at")
    return server, url, sock
