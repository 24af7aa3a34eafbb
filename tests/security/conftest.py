"""End-to-end set-up for the attacker's tests: a real ``hearth-server``
subprocess serving a temporary copy of the bundled world root over a real
loopback WebSocket, an authenticated peer (it knows the shared secret and
nothing more), and the operator's view through the IPC socket to check
that nothing changed.

`hearth_server` is the running server (`Server`); `attacker` is a `Peer`
connected from the test's own process (``proc``), its ``root`` the
registry view the server hands every peer. `Server.snapshot()` records
what an attack must leave as it was: the server's live processes (pid and
name), its registered names, and every file under its root with its
digest; `Server.assert_unchanged(before)` compares, and also checks that
the server still answers a fresh peer.
"""

import hashlib
import os
import shutil

import pytest

from hearth import otp
from hearth._entry import bundled_root
from hearth.net import connect

from tests.net.servers import Program

SECRET = "the attacker knows this secret"


class Server:
    """A running hearth-server: its `url` for peers, `sock` for tools,
    `root` directory, `data_dir` and the `program` (its output lines)."""

    def __init__(self, tmp_path, extra_args=(), module="hearth.server", lead_args=()):
        """`module` runs as the server (``python -m``), with `lead_args`
        before the usual options and `extra_args` after them."""
        self.root = tmp_path / "root"
        shutil.copytree(bundled_root(), self.root,
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.data_dir = tmp_path / "data"
        self.sock = str(tmp_path / "hearth.sock")
        self.program = Program(
            module, *lead_args, "--root", str(self.root), "--bind", "127.0.0.1:0",
            "--ipc", self.sock, "--data-dir", str(self.data_dir),
            "--status-every", "3600", *extra_args, env={"HEARTH_SECRET": SECRET})
        self.url = self.program.wait_for("peers connect at").split(
            "peers connect at ")[1].strip()
        self.program.wait_for("tools attach at")

    @property
    def pid(self):
        return self.program.proc.pid

    def operator(self):
        """A connection to the IPC socket: the operator's full registry."""
        return connect("unix://" + self.sock)

    def files(self):
        """{relative path: (mode, sha256)} of every file under the root."""
        out = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[os.path.relpath(path, self.root)] = (os.stat(path).st_mode, digest)
        return out

    def snapshot(self):
        """What an attack must leave unchanged. Switches: always."""
        from hearth.ctl import _ask

        with self.operator() as op:
            # The inspector's own short-lived job ("hearth.Inspector.ps") is
            # the snapshot looking, not the attack.
            procs = sorted((p["pid"], p["name"]) for p in _ask(op.root, "ps")["processes"]
                           if not (p["name"] or "").startswith("hearth.Inspector."))
            names = sorted(otp.registered(op.root))
        return {"processes": procs, "names": names, "files": self.files()}

    def assert_unchanged(self, before, ignore_pids=()):
        """The server is alive, serves a fresh peer, and its processes,
        registry and files are as in `before` (`ignore_pids`: processes an
        honest part of the test started itself). Switches: always."""
        assert self.program.proc.poll() is None, "the server died"
        with connect(self.url, secret=SECRET) as fresh:
            assert "clock" in otp.registered(fresh.root)
        after = self.snapshot()
        assert after["names"] == before["names"]
        assert after["files"] == before["files"]
        keep = set(ignore_pids)
        assert [p for p in after["processes"] if p[0] not in keep] == \
            [p for p in before["processes"] if p[0] not in keep]

    def stop(self):
        return self.program.stop()


def serving(server):
    """Fixture body: yield `server`, then stop it and check it stopped cleanly."""
    yield server
    code = server.stop()
    assert code == 0, "".join(server.program.lines[-40:])


def peer_of(server):
    """Fixture body: an authenticated peer of `server`, closed afterwards."""
    peer = connect(server.url, secret=SECRET)
    yield peer
    peer.close()


@pytest.fixture
def hearth_server(tmp_path):
    yield from serving(Server(tmp_path))


@pytest.fixture
def attacker(hearth_server, proc):
    """An authenticated peer of `hearth_server`, from the test's process."""
    yield from peer_of(hearth_server)
