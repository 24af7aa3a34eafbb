"""The real ``hearth-ctl`` program against a real ``hearth-server``, through
the IPC daemon's Unix socket: the commands a person types, their exit
codes, and ``--json`` parsed back. (`test_ctl.py` covers every subcommand
and error in-process; this checks the whole path once more end to end.)
"""

import json
import os
import subprocess
import sys
import time

import pytest

from hearth.ctl import NO_RUNTIME, NOT_FOUND, OK, USAGE
from hearth.vm import lump_id

from ..wasm.guests import ECHO_VIA_REPLY_CAP
from .daemon import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A hearth-server with the bundled root, its socket, and a directory on
    its module path (for reload)."""
    tmp = tmp_path_factory.mktemp("daemon")
    mods = tmp / "mods"
    mods.mkdir()
    (mods / "ctl_daemon_mod.py").write_text("X = 1\n")
    srv = Server(str(tmp / "hearth.sock"), tmp / "server.log", [mods]).start()
    try:
        yield {"sock": srv.sock, "mods": mods, "tmp": tmp}
    finally:
        srv.stop()


def ctl(server, *argv):
    res = subprocess.run([sys.executable, "-m", "hearth.ctl", *argv],
                         env=dict(os.environ, HEARTH_SOCK=server["sock"]),
                         capture_output=True, text=True, timeout=60)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def ok_json(server, *argv):
    res = ctl(server, "--json", *argv)
    assert res.returncode == OK, res.stderr
    return json.loads(res.stdout)


def test_ps_tree_services_and_info_over_the_socket(server):
    res = ctl(server, "ps")
    assert res.returncode == OK and res.stdout.split()[:3] == ["PID", "NAME", "STATE"]
    rows = ok_json(server, "ps")
    names = {r["name"] for r in rows}
    assert {"registry", "hearth.Inspector", "panic-test"} <= names
    table = ok_json(server, "services")
    services = {s["name"]: s["pid"] for s in table}
    assert "hearth.wasm.WasmProcessSpawner" in services and "panic-test" in services
    # Kindling's init is registered: its status table comes first.
    row = next(r for r in table if r["name"] == "panic-test")
    assert row["state"] == "running" and row["kind"] == "wasm"  # a guest since issue 16
    assert ok_json(server, "reload-services") == {"started": [], "upgraded": [],
                                                  "stopped": [], "failed": []}
    tree = ok_json(server, "tree")
    init = next(r for r in tree if r["name"] == "kindling.init")
    assert "panic-test" in [c["id"] for c in init["children"]]
    info = ok_json(server, "info", str(services["panic-test"]))
    assert info["alive"] and info["name"] == "panic-test"


def test_kill_a_service_and_its_supervisor_restarts_it(server):
    old = {s["name"]: s["pid"] for s in ok_json(server, "services")}["panic-test"]
    assert ctl(server, "kill", str(old)).returncode == OK
    # The supervisor restarts it and init registers the name again: look
    # until the name points at a new process.
    deadline = time.monotonic() + 30
    while True:
        new = {s["name"]: s["pid"] for s in ok_json(server, "services")}.get("panic-test")
        if new not in (None, old):
            break
        assert time.monotonic() < deadline, "panic-test was not restarted"
    res = ctl(server, "info", str(old))
    assert res.returncode == OK and "is dead: killed" in res.stdout
    tree = ok_json(server, "tree")
    init = next(r for r in tree if r["name"] == "kindling.init")
    sup = next(c for c in init["children"] if c["id"] == "panic-test")
    assert sup["children"][0]["restarts"] >= 1


def test_spawn_call_send_logs_and_lumps_over_the_socket(server, tmp_path):
    wasm = tmp_path / "echo.wasm"
    wasm.write_text(ECHO_VIA_REPLY_CAP)
    out = ok_json(server, "spawn", str(wasm), "--name", "daemon-echo")
    assert out["lump"] == lump_id(wasm.read_bytes()).hex()
    assert ok_json(server, "call", "daemon-echo", '{"ok": "pong"}') == {"reply": "pong"}
    assert ok_json(server, "kill", str(out["pid"]))["killed"]
    # The name went with the process (rule R2).
    assert ctl(server, "send", "daemon-echo", "[1, 2]").returncode == NOT_FOUND
    res = ctl(server, "lump", "get", out["lump"], "-o", str(tmp_path / "back.wasm"))
    assert res.returncode == OK and (tmp_path / "back.wasm").read_bytes() == wasm.read_bytes()
    # A bare message to hearth.Sleep has no reply capability: the service
    # logs that it dropped it, and the log shows it under the Sleep's pid.
    assert ctl(server, "send", "hearth.Sleep", "1").returncode == OK
    pid = {s["name"]: s["pid"] for s in ok_json(server, "services")}["hearth.Sleep"]
    deadline = time.monotonic() + 30
    while True:
        records = ok_json(server, "logs", str(pid))
        if any("without a reply capability" in r["message"] for r in records):
            break
        assert time.monotonic() < deadline, "the Sleep's warning never showed in the log"
    assert all(r["pid"] == pid for r in records)
    res = ctl(server, "logs", str(pid))
    assert f"[{pid}] hearth.native: " in res.stdout


def test_reload_over_the_socket(server):
    (server["mods"] / "ctl_daemon_mod.py").write_text("X = 2\n")
    res = ctl(server, "reload", "ctl_daemon_mod")
    assert res.returncode == OK and "ctl_daemon_mod (generation" in res.stdout


def test_error_exit_codes_over_the_socket(server, tmp_path):
    assert ctl(server, "info", "999999").returncode == NOT_FOUND
    assert ctl(server, "call", "no.such.service", "1").returncode == NOT_FOUND
    assert ctl(server, "send", "x", "{bad").returncode == USAGE
    res = subprocess.run([sys.executable, "-m", "hearth.ctl", "ps"],
                         env=dict(os.environ, HEARTH_SOCK=str(tmp_path / "none.sock")),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == NO_RUNTIME and "no Hearth runtime is running" in res.stderr
