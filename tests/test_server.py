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
                     "hearth.UnixTime", "hearth.wasm.WasmProcessSpawner"):
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
