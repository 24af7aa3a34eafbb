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
    done = subprocess.run(hibashi_argv(sock), input="".join(line + "\n" for line in lines),
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


def tmux_shell(argv, cols=120, rows=40):
    """`tests.tui.tmux.Tmux` running `argv` under bash rather than sh:
    Ctrl+C reaches the whole foreground group, and bash (unlike dash)
    outlives a child that handled it, so the pane can still show
    ``[exited N]``."""
    import shlex
    import uuid

    from tests.tui.tmux import Tmux

    t = Tmux.__new__(Tmux)
    t.name = f"hearth-test-{uuid.uuid4().hex[:10]}"
    t.cols, t.rows = cols, rows
    command = " ".join(shlex.quote(a) for a in argv)
    script = f"{command}; echo \"[exited $?]\"; exec sleep 3600"
    t._tmux("new-session", "-d", "-s", t.name, "-x", str(cols), "-y", str(rows),
            "bash", "-c", script)
    return t
