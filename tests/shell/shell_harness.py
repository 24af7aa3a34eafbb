"""Set-up for the Hibashi tests: a real hearth-server on a copy of the
bundled root (`tests.security.conftest.Server`), a real headless
hearth-client, and the real ``hibashi`` run two ways: fed lines on a pipe
(`run_hibashi`, for what the output says) or in a tmux terminal (`Tmux`,
for line editing, completion, history and Ctrl+C)."""

import os
import subprocess
import sys

from tests.net.servers import Program
from tests.security.conftest import Server

__all__ = ["Server", "Client", "run_hibashi", "hibashi_argv", "PROMPT"]

PROMPT = "hibashi> "


def hibashi_argv(sock):
    return [sys.executable, "-m", "hearth.shell._main", "--sock", sock]


def run_hibashi(sock, *lines, timeout=90, env=None):
    """Run the real hibashi on `sock` with `lines` on its stdin (then EOF);
    ``(exit code, everything it printed)``."""
    done = subprocess.run(hibashi_argv(sock), input="".join(l + "\n" for l in lines),
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    return done.returncode, done.stdout + done.stderr


class Client:
    """A real ``hearth-client --headless`` serving tools on `sock`, on
    `root` (with --watch off, so reloads happen only when asked), maybe
    connected to a server."""

    def __init__(self, tmp_path, root=None, server=None, secret=None, data_dir=None):
        self.sock = str(tmp_path / "client.sock")
        args = ["--headless", "--ipc", self.sock, "--watch", "0"]
        if root is not None:
            args += ["--root", str(root)]
        if server is not None:
            args += ["--server", server]
        if data_dir is not None:
            args += ["--data-dir", str(data_dir)]
        env = {"HEARTH_SECRET": secret} if secret else {}
        self.program = Program("hearth.client", *args, env=env)
        self.program.wait_for("tools attach at")

    def stop(self):
        return self.program.stop()
