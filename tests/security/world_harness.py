"""Set-up for the world's end-to-end tests: a real ``hearth-server`` (which
starts ``hearth.World`` itself and hands peers ``hearth.World``, never
``hearth.World.Admin``), restartable on the same data directory."""

import os
import shutil
import signal

from hearth._entry import bundled_root
from hearth.net import connect

from tests.net.servers import Program
from tests.security.conftest import SECRET

__all__ = ["WorldServer", "SECRET", "serve_world"]


class WorldServer:
    """A running hearth-server with the world: `url` for peers, `sock` for
    tools, `data_dir` kept across `restart`s. Its root is a copy of the
    bundled one, without the chat room unless `chat` (the room keeps a
    board in the world: an entity the tests of the world's own rules don't
    count on)."""

    def __init__(self, tmp_path, data_dir=None, chat=False):
        self.tmp = tmp_path
        self.root = tmp_path / "root"
        if not self.root.exists():
            skip = ["__pycache__"] + ([] if chat else ["chat"])
            shutil.copytree(bundled_root(), self.root, ignore=shutil.ignore_patterns(*skip))
        self.data_dir = data_dir or tmp_path / "data"
        self.starts = 0
        self._start()

    def _start(self):
        self.starts += 1
        self.sock = str(self.tmp / f"h{self.starts}.sock")
        self.program = Program(
            "hearth.server", "--root", str(self.root), "--bind", "127.0.0.1:0",
            "--ipc", self.sock, "--data-dir", str(self.data_dir), "--status-every", "3600",
            "--watch", "0", env={"HEARTH_SECRET": SECRET})
        self.url = self.program.wait_for("peers connect at").split(
            "peers connect at ")[1].strip()
        self.program.wait_for("tools attach at")

    def restart_after_sigkill(self):
        """``kill -9`` the server, then start it again on the same data
        directory and root."""
        self.program.proc.send_signal(signal.SIGKILL)
        assert self.program.proc.wait(timeout=30) == -signal.SIGKILL
        self.program.stop()
        self._start()

    @property
    def log_path(self):
        return os.path.join(self.data_dir, "world", "entities.log")

    def peer(self):
        return connect(self.url, secret=SECRET)

    def operator(self):
        return connect("unix://" + self.sock)

    def ctl(self, *args):
        """Run the real ``hearth-ctl`` against this server: (exit code,
        stdout, stderr)."""
        import subprocess
        import sys

        env = dict(os.environ, HEARTH_SOCK=self.sock)
        res = subprocess.run([sys.executable, "-m", "hearth.ctl", *args], env=env,
                             capture_output=True, text=True, timeout=60)
        return res.returncode, res.stdout, res.stderr

    def stop(self):
        return self.program.stop()


def serve_world(tmp_path, **options):
    """The body of the security tests' ``server`` fixture: a `WorldServer`
    (with `options`) for the test, which must then stop cleanly (exit
    status 0; the log's tail says why if not)."""
    s = WorldServer(tmp_path, **options)
    yield s
    assert s.stop() == 0, "".join(s.program.lines[-40:])
