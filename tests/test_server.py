"""hearth-server as a person runs it: it starts, runs, and stops on Ctrl+C."""

import signal
import subprocess
import sys

import gevent


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
