"""hearth-client as a full runtime for tools: a real headless client
serves its own IPC socket (never the server's path), where hearth-ctl and
hibashi attach; it serves hearth.fs.Filesystem for a --root given by hand,
and runs the shell there, in the client."""

import os
import subprocess
import sys

from hearth._sockpath import client_socket_path, socket_path
from tests.net.servers import Program

from .shell_harness import Client, Server, run_hibashi


def _ctl(*argv, env=None):
    done = subprocess.run([sys.executable, "-m", "hearth.ctl", *argv], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, **(env or {})))
    return done.returncode, done.stdout + done.stderr


def test_the_default_paths_of_a_client_and_a_server_differ():
    env = {"XDG_RUNTIME_DIR": "/run/user/1000"}
    assert client_socket_path(env) == "/run/user/1000/hearth-client.sock"
    assert socket_path(env) == "/run/user/1000/hearth.sock"
    assert client_socket_path({"HEARTH_CLIENT_SOCK": "/x/c.sock", "HEARTH_SOCK": "/x/s.sock"}) \
        == "/x/c.sock"
    assert client_socket_path({}) != socket_path({})


def test_tools_attach_to_a_headless_client(tmp_path):
    server = Server(tmp_path / "s")  # a copy of the bundled root, for the client's --root
    try:
        client = Client(tmp_path, root=server.root, data_dir=tmp_path / "client-data")
        try:
            code, out = _ctl("--sock", client.sock, "services")
            assert code == 0, out
            for name in ("hearth.fs.Filesystem", "hearth.Shell", "hearth.Inspector"):
                assert name in out, out
            code, out = _ctl("--client", "ps", env={"HEARTH_CLIENT_SOCK": client.sock})
            assert code == 0 and "hearth.Shell" in out, out
            code, out = run_hibashi(
                client.sock, "lookup('hearth.fs.Filesystem') is not None",
                "lid = call('hearth.fs.Filesystem', ['get', 'init/clock/service.toml'])",
                "vm.current_runtime().lumps.get(vm.LumpId(lid))[:11]",
                "lookup('hearth.Window')", "import os",
                "os.environ['HEARTH_CLIENT_SOCK'] == " + repr(client.sock))
            assert code == 0, out
            assert "; client, " in out  # the banner: a session of the client
            assert "hibashi> True\n" in out
            assert "b'name = \"clo'" in out
            assert out.rstrip().endswith("hibashi> True\nhibashi>"), out  # what its terminal
            # programs inherit: the socket of this very client
            # A second client can't take the first one's socket: told to
            # (--ipc), it stops; by default, it runs on without one.
            second = Program("hearth.client", "--headless", "--ipc", client.sock)
            assert second.proc.wait(timeout=60) == 1
            second.stop()
            assert any("another Hearth runtime is listening at" in line for line in second.lines)
            third = Program("hearth.client", "--headless",
                            env={"HEARTH_CLIENT_SOCK": client.sock})
            try:
                third.wait_for("no IPC socket for tools: another Hearth runtime is listening")
                third.wait_for("client running")
            finally:
                assert third.stop() == 0
            code, out = _ctl("--sock", client.sock, "services")
            assert code == 0 and "hearth.fs.Filesystem" in out, out  # still the first's
        finally:
            assert client.stop() == 0, "".join(client.program.lines[-30:])
    finally:
        server.stop()


def test_a_client_with_no_root_serves_no_files(tmp_path):
    client = Client(tmp_path)
    try:
        code, out = run_hibashi(client.sock, "lookup('hearth.fs.Filesystem') is None", "1 + 1")
        assert code == 0, out
        assert "hibashi> True\n" in out and "hibashi> 2\n" in out
    finally:
        assert client.stop() == 0
