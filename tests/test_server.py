"""hearth-server as a person runs it: it starts, runs, and stops on Ctrl+C."""

import os
import signal
import stat
import subprocess
import sys

import gevent
import pytest

from hearth import otp, vm
from hearth.net import AuthError, ConnectError, connect


@pytest.fixture(autouse=True)
def _own_socket(tmp_path, monkeypatch):
    """Each server of these tests takes its IPC socket in the test's own
    directory, never the user's."""
    monkeypatch.setenv("HEARTH_SOCK", str(tmp_path / "ipc" / "hearth.sock"))
    monkeypatch.delenv("HEARTH_SECRET", raising=False)
    monkeypatch.delenv("HEARTH_SECRET_FILE", raising=False)


def _start(*args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "hearth.server", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        _read_until(proc.stdout, "stopped")
        assert proc.wait(timeout=30) == 0


def _read_until(stream, needle, timeout=30):
    lines = []
    with gevent.Timeout(timeout, AssertionError(f"no {needle!r} in {lines!r}")):
        for line in stream:
            lines.append(line)
            if needle in line:
                return lines
    raise AssertionError(f"stream ended without {needle!r}: {lines!r}")


def test_hearth_server_starts_and_stops_cleanly_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "hearth.server", "--status-every", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _read_until(proc.stdout, "running; Ctrl+C stops it")
        services = _read_until(proc.stdout, "services:")[-1]
        for name in ("hearth.Sleep", "hearth.TimerFactory", "hearth.StopwatchFactory",
                     "hearth.UnixTime", "hearth.wasm.WasmProcessSpawner",
                     "panic-test", "clock", "chat", "counter-guest"):
            assert name in services
        status = _read_until(proc.stdout, "processes,")
        assert int(status[-1].split(" processes,")[0].split()[-1]) >= 10
        proc.send_signal(signal.SIGINT)
        rest = _read_until(proc.stdout, "stopped")
        assert "(0 processes failed to unwind)" in rest[-1]
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_status_every_0_turns_the_status_line_off_and_signals_still_stop_it():
    proc = _start("--status-every", "0", "--watch", "0")
    try:
        lines = _read_until(proc.stdout, "tools attach at")
        # A period of 0 once spun the status process (thousands of lines a
        # second, signals never handled): now it is off, like --watch 0.
        proc.send_signal(signal.SIGTERM)
        lines += _read_until(proc.stdout, "stopped")
        assert proc.wait(timeout=30) == 0
        assert not [line for line in lines if "processes," in line]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_status_every_refuses_a_negative_period():
    result = subprocess.run([sys.executable, "-m", "hearth.server", "--status-every", "-1"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--status-every" in result.stderr and "0 (off)" in result.stderr


def test_hearth_server_with_a_root_serves_its_files_and_boots_its_services(tmp_path):
    service = tmp_path / "init" / "hello"
    service.mkdir(parents=True)
    (service / "service.toml").write_text(
        'name = "hello"\nkind = "python"\nentry = "service.py:main"\n'
    )
    (service / "service.py").write_text(
        "from hearth import vm\n\ndef main(registry):\n    while True:\n        vm.recv()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "hearth.server", "--root", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        services = _read_until(proc.stdout, "services:")[-1]
        assert "hearth.fs.Filesystem" in services and "hello" in services
        assert "panic-test" not in services
        proc.send_signal(signal.SIGINT)
        _read_until(proc.stdout, "stopped")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_hearth_server_refuses_a_root_that_is_not_a_directory(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hearth.server", "--root", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not a directory" in result.stderr


def test_hearth_server_serves_peers_who_know_the_secret_and_tools_on_its_socket(tmp_path, proc):
    secret = tmp_path / "secret"
    secret.write_text("open sesame\n")
    server = _start("--bind", "127.0.0.1:0", "--secret-file", str(secret))
    try:
        url = _read_until(server.stdout, "peers connect at")[-1].split("peers connect at ")[1].strip()
        assert url.startswith("ws://127.0.0.1:")
        # The secret never appears on the command line.
        assert "open sesame" not in " ".join(server.args)
        with pytest.raises(AuthError, match="wrong secret"):
            connect(url, secret="guess")
        with connect(url, secret="open sesame") as peer:
            names = otp.registered(peer.root)
            assert "hearth.UnixTime" in names and "clock" in names
            # Peers get a read-only view of the registry, without the admin services.
            with pytest.raises(otp.RegistryError):
                otp.register(peer.root, "mine", vm.make_capability(vm.SEND))
            assert "hearth.Inspector" not in names and "hearth.net.Peers" not in names
            assert otp.lookup(peer.root, "hearth.Inspector") is None
        sock = os.environ["HEARTH_SOCK"]
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        with connect("unix://" + sock) as local:
            # Tools get the registry itself, with the inspector in it.
            assert "hearth.Inspector" in otp.registered(local.root)
        # A second runtime refuses the live socket and says so.
        second = subprocess.run([sys.executable, "-m", "hearth.server"], capture_output=True,
                                text=True, timeout=60)
        assert second.returncode == 1
        assert "another Hearth runtime is listening" in second.stdout + second.stderr
        # ... before booting anything or claiming to run.
        assert "services:" not in second.stdout + second.stderr
        assert "running; Ctrl+C" not in second.stdout + second.stderr
        # A second runtime on the same port (its own socket) fails the same way.
        port = url.rstrip("/").rsplit(":", 1)[1]
        third = subprocess.run([sys.executable, "-m", "hearth.server", "--bind",
                                f"127.0.0.1:{port}", "--ipc", str(tmp_path / "third.sock")],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, HEARTH_SECRET_FILE=str(secret)))
        assert third.returncode == 1, third.stdout + third.stderr
        assert f"can't listen at 127.0.0.1:{port}" in third.stdout + third.stderr
        assert "services:" not in third.stdout + third.stderr
        assert "running; Ctrl+C" not in third.stdout + third.stderr
        assert not (tmp_path / "third.sock").exists()
        _stop(server)
        with pytest.raises(ConnectError, match="no Hearth runtime"):
            connect("unix://" + sock)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_hearth_server_replaces_a_stale_socket(tmp_path):
    import socket as pysocket

    path = os.environ["HEARTH_SOCK"]
    os.makedirs(os.path.dirname(path))
    stale = pysocket.socket(pysocket.AF_UNIX)
    stale.bind(path)  # bound, never listening: what a crashed runtime leaves
    stale.close()
    server = _start()
    try:
        lines = _read_until(server.stdout, "tools attach at")
        assert any("stale socket" in line for line in lines)
        _stop(server)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_hearth_server_bind_needs_a_secret():
    result = subprocess.run([sys.executable, "-m", "hearth.server", "--bind", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "needs a shared secret" in result.stderr


HOOK = '''
from hearth import otp, vm

def main(registry):
    # hearth.init.Server: peers get a view of the registry that sees only "clock".
    view = otp.registry_view(registry, read_only=True, names=["clock"])
    while True:
        msg = vm.recv()
        if isinstance(msg, vm.Message) and msg.caps:
            data, caps = otp.encode({"ok": view})
            msg.caps[0].send(data, caps)
'''


def test_the_init_server_hook_chooses_what_peers_get(tmp_path, proc):
    for name in ("clock", "hearth.init.Server"):
        (tmp_path / "init" / name).mkdir(parents=True)
    hook = tmp_path / "init" / "hearth.init.Server"
    (hook / "service.toml").write_text(
        'name = "hearth.init.Server"\nkind = "python"\nentry = "service.py:main"\n'
        'needs = ["clock"]\n')
    (hook / "service.py").write_text(HOOK)
    (tmp_path / "init" / "clock" / "service.toml").write_text(
        'name = "clock"\nkind = "python"\nentry = "service.py:main"\n')
    (tmp_path / "init" / "clock" / "service.py").write_text(
        "from hearth import vm\n\ndef main(registry):\n    while True:\n        vm.recv()\n")
    env = dict(os.environ, HEARTH_SECRET="s")
    server = _start("--root", str(tmp_path), "--bind", "127.0.0.1:0", env=env)
    try:
        url = _read_until(server.stdout, "peers connect at")[-1].split("peers connect at ")[1].strip()
        with connect(url, secret="s") as peer:
            assert otp.registered(peer.root) == ["clock"]
        _stop(server)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_boot_that_fails_stops_the_server_with_the_reason():
    result = subprocess.run([sys.executable, "-m", "hearth.server", "--no-ipc",
                             "--init", "no_such_module_here:boot"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "could not start: boot failed: ModuleNotFoundError" in out
    assert "no_such_module_here" in out
