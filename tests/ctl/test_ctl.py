"""hearth-ctl end to end against a real runtime: every subcommand, run
in-process through `run` with the root registry (the IPC socket's part is
the daemon's), human output checked, ``--json`` parsed back, and every
error exit code. Two tests run the real ``hearth-ctl`` program.
"""

import io
import json
import os
import subprocess
import sys
import textwrap

import msgpack

import pytest

from hearth import vm
from hearth.ctl import NO_RUNTIME, NOT_FOUND, OK, PERMISSION_DENIED, USAGE, ERROR, run
from hearth.native import start_time_services, start_wasm_spawner
from hearth.native._inspector import INSPECTOR, start_inspector
from hearth.otp import (
    ChildSpec,
    GenServer,
    decode,
    register,
    start_link_supervisor,
    start_registry,
    start_server,
)
from hearth.vm import MONITOR, SEND, Down, lump_id

from ..native.test_guest_upgrade import versioned
from ..wasm.guests import ECHO_VIA_REPLY_CAP, UNREACHABLE, exit_with_reason


@pytest.fixture
def root(proc):
    registry = start_registry()
    start_time_services(registry)
    start_wasm_spawner(registry)
    start_inspector(registry)
    return registry


def ctl_(root, *argv):
    """Run one command; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), root, out, err)
    return code, out.getvalue(), err.getvalue()


def ok_json(root, *argv):
    code, out, err = ctl_(root, "--json", *argv)
    assert code == OK, err
    return json.loads(out)


def idle():
    while True:
        vm.recv()


def pid_named(runtime, name):
    return next(p.pid for p in runtime.processes() if p.name == name)


def wait_down(cap):
    ref = cap.monitor()
    while True:
        sig = vm.recv(10)
        assert sig is not None, "no Down"
        if type(sig) is Down and sig.ref == ref:
            sig.cap.release()
            return sig.reason


@pytest.fixture
def wasm_file(tmp_path):
    path = tmp_path / "echo.wasm"
    path.write_text(ECHO_VIA_REPLY_CAP)  # wasmtime takes WAT text too
    return str(path)


# -- looking -------------------------------------------------------------------------------------


def test_ps_prints_a_table_and_json_rows(runtime, root):
    vm.spawn(idle, name="ps-target")
    runtime.wait_all_blocked()
    code, out, _ = ctl_(root, "ps")
    assert code == OK
    header = out.splitlines()[0].split()
    assert header[:9] == ["PID", "NAME", "STATE", "MBOX", "IN", "OUT", "LINKS", "MON",
                          "RESTARTS"]
    assert any(line.split()[1:3] == ["ps-target", "waiting"] for line in out.splitlines()[1:])
    rows = ok_json(root, "ps")
    assert {r["name"] for r in rows} >= {"ps-target", INSPECTOR}
    assert rows == sorted(rows, key=lambda r: r["pid"])


def test_tree_shows_supervisors_and_their_children(root):
    sup = start_link_supervisor([ChildSpec("idler", (idle, ()))], name="ctl-sup")
    code, out, _ = ctl_(root, "tree")
    assert code == OK
    assert "ctl-sup (supervisor" in out and "└─ idler (worker, pid" in out
    roots = ok_json(root, "tree")
    node = next(r for r in roots if r["name"] == "ctl-sup")
    assert node["children"][0]["id"] == "idler"
    sup.unlink()
    sup.kill()


def test_services_lists_names_with_pids(runtime, root):
    code, out, _ = ctl_(root, "services")
    assert code == OK and "hearth.Sleep" in out and INSPECTOR in out
    rows = ok_json(root, "services")
    assert {"name": INSPECTOR, "pid": pid_named(runtime, INSPECTOR)} in rows


def test_info_of_a_live_and_of_a_dead_process(runtime, root):
    cap = vm.spawn(idle, name="info-target", description="for hearth-ctl info")
    pid = pid_named(runtime, "info-target")
    code, out, _ = ctl_(root, "info", str(pid))
    assert code == OK
    assert f"pid {pid}  info-target" in out and "description: for hearth-ctl info" in out
    assert ok_json(root, "info", str(pid))["alive"] is True
    cap.kill()
    wait_down(cap)
    code, out, _ = ctl_(root, "info", str(pid))
    assert code == OK and "is dead: killed" in out
    assert ok_json(root, "info", str(pid))["reason"] == "killed"


# -- acting ----------------------------------------------------------------------------------------


def test_kill_kills_and_reports(runtime, root):
    cap = vm.spawn(idle, name="kill-target")
    pid = pid_named(runtime, "kill-target")
    ref = cap.monitor()
    code, out, _ = ctl_(root, "kill", str(pid))
    assert code == OK and out == f"killed pid {pid}\n"
    sig = vm.recv(10)
    assert type(sig) is Down and sig.ref == ref and sig.reason == "killed"
    sig.cap.release()
    assert ok_json(root, "kill", str(pid_named(runtime, "hearth.Sleep")))["killed"] is True


def test_restart_restarts_a_supervised_process(runtime, root):
    sup = start_link_supervisor([ChildSpec("r", (idle, (), {"name": "restartee"}))])
    old = pid_named(runtime, "restartee")
    out = ok_json(root, "restart", str(old))
    assert out["pid"] == old and out["new_pid"] == pid_named(runtime, "restartee") != old
    sup.unlink()
    sup.kill()


def test_send_delivers_json_as_msgpack(root):
    box = vm.create_mailbox()
    register(root, "ctl.sink", box.make_capability(SEND | MONITOR))
    code, out, _ = ctl_(root, "send", "ctl.sink", '{"hello": [1, 2.5, "x", null]}')
    assert code == OK and out.startswith("sent ")
    sig = box.recv(10)
    assert decode(sig.data) == {"hello": (1, 2.5, "x", None)}
    assert ok_json(root, "send", "ctl.sink", "7") == {"sent": 1, "name": "ctl.sink"}
    assert decode(box.recv(10).data) == 7


def test_call_prints_the_reply(root):
    code, out, _ = ctl_(root, "call", "hearth.UnixTime", '"now"')
    assert code == OK and int(out) > 1_600_000_000 * 10**9
    assert ok_json(root, "call", "hearth.Sleep", "0")["reply"] is None


def test_spawn_loads_a_file_spawns_it_and_registers_the_name(runtime, root, wasm_file):
    code, out, err = ctl_(root, "spawn", wasm_file, "--name", "echo")
    assert code == OK, err
    lid = lump_id(open(wasm_file, "rb").read())
    assert out.startswith("spawned pid ") and lid.hex() in out
    services = {s["name"]: s["pid"] for s in ok_json(root, "services")}
    pid = int(out.split()[2])
    assert services["echo"] == pid
    # The echo guest answers through the reply capability with the request's
    # own bytes, so a request shaped like a reply comes back as one.
    assert ok_json(root, "call", "echo", '{"ok": [1, 2]}') == {"reply": [1, 2]}
    second = ok_json(root, "spawn", wasm_file)
    assert second["lump"] == lid.hex() and second["name"] is None and second["pid"] != pid
    for p in (pid, second["pid"]):
        ctl_(root, "kill", str(p))


@pytest.mark.parametrize("guest, code, said", [
    (exit_with_reason(msgpack.packb("normal")), OK, "exited at once (not registered as 'brief'): normal"),
    (UNREACHABLE, ERROR, "exited at once (not registered as 'brief'): "),
], ids=["exits", "traps"])
def test_spawn_of_a_guest_that_exits_at_once_reports_the_spawn_and_the_exit(
        root, tmp_path, guest, code, said):
    path = tmp_path / "brief.wasm"
    path.write_text(guest)
    # --wait: long enough for any machine; an exit ends the wait at once.
    got, out, err = ctl_(root, "spawn", str(path), "--name", "brief", "--wait", "30")
    assert got == code, (out, err)
    first, second = out.splitlines()
    assert first.startswith("spawned pid ") and lump_id(path.read_bytes()).hex() in first
    pid = int(first.split()[2])
    assert second.startswith(f"pid {pid} {said}")
    assert "route is closed" not in out + err
    if code == ERROR:
        assert "trap" in second or "unreachable" in second, second
    data = json.loads(ctl_(root, "--json", "spawn", str(path), "--wait", "30")[1])
    assert data["pid"] != pid and data["exited"]["text"]
    assert ("brief" in {s["name"] for s in ok_json(root, "services")}) is False


def _misreplier(answer):
    """A service that answers every request with `answer` (raw bytes)."""
    def main():
        while True:
            msg = vm.recv()
            if msg.caps:
                msg.caps[0].send(answer)
            for c in msg.caps:
                c.release()
    return main


@pytest.mark.parametrize("answer, said", [
    (msgpack.packb({"answer": 42}), '{"answer": 42}, which is not a reply'),
    (b"\xc1junk", "not a msgpack term"),
], ids=["not-a-reply", "not-msgpack"])
def test_call_says_what_arrived_when_a_reply_is_malformed(root, answer, said):
    register(root, "misreplier", vm.spawn(_misreplier(answer), name="misreplier"))
    code, out, err = ctl_(root, "--json", "call", "misreplier", "1", "--timeout", "30")
    assert code == ERROR, err
    assert said in err and "within" not in err
    assert json.loads(out)["error"]["kind"] == "invalid_reply"


def test_lump_put_and_get(root, tmp_path):
    src = tmp_path / "blob.bin"
    src.write_bytes(bytes(range(256)) * 3)
    code, out, _ = ctl_(root, "lump", "put", str(src))
    lid = lump_id(src.read_bytes()).hex()
    assert code == OK and out == lid + "\n"
    assert ok_json(root, "lump", "put", str(src)) == {"lump": lid, "size": 768}
    dst = tmp_path / "copy.bin"
    code, out, _ = ctl_(root, "lump", "get", lid, "-o", str(dst))
    assert code == OK and dst.read_bytes() == src.read_bytes()
    assert bytes.fromhex(ok_json(root, "lump", "get", lid)["hex"]) == src.read_bytes()


def test_logs_lists_and_follows_records_by_process(runtime, root):
    import logging

    def talker(text):
        logging.getLogger("ctl.test").warning(text)

    cap, ref = vm.spawn_monitor(talker, "before follow", name="talker")
    wait_down(cap)
    pid = next(e.pid for e in runtime.exits() if e.name == "talker")
    code, out, _ = ctl_(root, "logs", str(pid))
    assert code == OK and out.rstrip().endswith(f"[{pid}] ctl.test: before follow")
    records = ok_json(root, "logs")
    assert any(r["message"] == "before follow" and r["pid"] == pid for r in records)
    # --follow: the past (none, with --limit 0), then new records as they
    # come, until --max-records. The ticker logs until then: the follow
    # starts at some point during its run.
    def ticker():
        n = 0
        while True:
            n += 1
            logging.getLogger("ctl.test").warning("tick %d", n)
            vm.recv(timeout=0.01)

    tick = vm.spawn(ticker, name="ticker")
    out, err = io.StringIO(), io.StringIO()
    code = run(["--json", "logs", "--follow", "--limit", "0", "--max-records", "2"], root,
               out, err)
    tick.kill()
    assert code == OK, err.getvalue()
    followed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(followed) == 2 and all(r["message"].startswith("tick ") for r in followed)
    assert followed[1]["seq"] > followed[0]["seq"]


def test_reload_reports_the_new_generation(root, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "ctl_reload_target.py").write_text("X = 1\n")
    __import__("ctl_reload_target")
    try:
        code, out, _ = ctl_(root, "reload", "ctl_reload_target")
        assert code == OK and out == "reloaded ctl_reload_target (generation 1)\n"
        (tmp_path / "ctl_reload_target.py").write_text("raise ValueError('nope')\n")
        code, out, err = ctl_(root, "reload", "ctl_reload_target")
        assert code == ERROR and "nope" in err
    finally:
        sys.modules.pop("ctl_reload_target", None)


def test_upgrade_switches_a_guest_service(runtime, root, tmp_path):
    from hearth.native import start_guest_service

    service = start_guest_service(runtime.lumps.put(versioned(1).encode()))
    register(root, "ctl.versioned", service.cap)
    new = tmp_path / "v2.wasm"
    new.write_text(versioned(2))
    code, out, err = ctl_(root, "upgrade", "ctl.versioned", str(new))
    assert code == OK, err
    assert out.startswith("upgraded ctl.versioned to version 2")
    new.write_text(versioned(3))
    assert ok_json(root, "upgrade", "ctl.versioned", str(new))["version"] == 3
    code, _, err = ctl_(root, "upgrade", INSPECTOR, str(new))
    assert code == ERROR and "not a guest service" in err
    service.front.kill()


# -- errors -------------------------------------------------------------------------------------


def test_not_found_exit_code_for_pids_names_files_and_lumps(root, tmp_path):
    for argv in (["info", "999999"], ["kill", "999999"], ["send", "no.such", "1"],
                 ["call", "no.such", "1"], ["spawn", str(tmp_path / "missing.wasm")],
                 ["lump", "get", "00" * 32], ["upgrade", "no.such", str(tmp_path / "x")]):
        code, out, err = ctl_(root, *argv)
        assert code == NOT_FOUND, (argv, err)
        assert err.startswith("hearth-ctl: ") and "Traceback" not in err
    code, out, _ = ctl_(root, "--json", "info", "999999")
    assert code == NOT_FOUND and json.loads(out)["error"]["kind"] == "not_found"


def test_bad_input_exit_code(root, tmp_path):
    for argv in ([], ["frobnicate"], ["info"], ["info", "abc"], ["kill", "-3"],
                 ["send", "x", "{not json"], ["lump", "get", "xyz"], ["logs", "--follow", "x"]):
        code, out, err = ctl_(root, *argv)
        assert code == USAGE, (argv, err)
        assert "Traceback" not in err
    code, _, err = ctl_(root, "spawn", str(tmp_path))
    assert code == USAGE and "is a directory" in err


def test_permission_denied_exit_code(root, tmp_path):
    if os.getuid() == 0:
        # root reads any file; a registry view that may not register is the
        # other refusal hearth-ctl meets.
        from hearth.otp import registry_view

        view = registry_view(root, read_only=True)
        code, _, err = ctl_(view, "spawn", _wat_file(tmp_path), "--name", "refused")
        assert code == PERMISSION_DENIED, err
        return
    secret = tmp_path / "secret.wasm"
    secret.write_text("x")
    secret.chmod(0)
    code, _, err = ctl_(root, "spawn", str(secret))
    assert code == PERMISSION_DENIED and "permission denied" in err


def _wat_file(tmp_path):
    path = tmp_path / "guest.wasm"
    path.write_text(ECHO_VIA_REPLY_CAP)
    return str(path)


def test_service_errors_keep_their_own_exit_codes(root, tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm not really")
    code, _, err = ctl_(root, "spawn", str(bad))
    assert code == ERROR and "invalid_module" not in err and "not a wasm module" in err
    code, out, _ = ctl_(root, "--json", "call", "hearth.Sleep", '"soon"')
    assert code == USAGE and json.loads(out)["error"]["kind"] == "invalid_request"


def test_help_lists_every_subcommand_and_the_exit_codes(root):
    code, out, _ = ctl_(root, "--help")
    assert code == OK
    for name in ("ps", "tree", "services", "info", "spawn", "kill", "send", "call", "logs",
                 "lump", "reload", "upgrade"):
        assert f"    {name} " in out
    assert "3  no runtime running" in out
    for sub in ("ps", "spawn", "lump"):
        code, out, _ = ctl_(root, sub, "--help")
        assert code == OK and out.startswith(f"usage: hearth-ctl {sub}")


# -- the real program, without a runtime --------------------------------------------------------


def _program(*argv, env):
    return subprocess.run([sys.executable, "-c", "import sys; from hearth.ctl import main;"
                           " sys.exit(main())", *argv], env=env, capture_output=True,
                          text=True, timeout=60)


def test_without_a_runtime_every_subcommand_fails_fast_with_a_clear_message(tmp_path):
    env = dict(os.environ, HEARTH_SOCK=str(tmp_path / "nobody.sock"))
    res = _program("ps", env=env)
    assert res.returncode == NO_RUNTIME
    assert "no Hearth runtime is running" in res.stderr and "nobody.sock" in res.stderr
    assert "Traceback" not in res.stderr
    # A stale socket file (its runtime crashed) reads the same.
    import socket

    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(stale))
    s.close()
    res = _program("--json", "tree", env=dict(env, HEARTH_SOCK=str(stale)))
    assert res.returncode == NO_RUNTIME and "stale" in res.stderr


def test_json_failures_print_one_json_object_on_stdout(root, tmp_path):
    env = dict(os.environ, HEARTH_SOCK=str(tmp_path / "nobody.sock"))
    # No runtime, usage errors (in the program and in-process): the same
    # exit codes as without --json, and {"error": ...} on stdout.
    for argv, code, kind in ((["--json", "ps"], NO_RUNTIME, "no_runtime"),
                             (["ps", "--json"], NO_RUNTIME, "no_runtime"),
                             (["--json", "info", "abc"], USAGE, "usage"),
                             (["--json", "frob"], USAGE, "usage")):
        res = _program(*argv, env=env)
        assert res.returncode == code, (argv, res.stderr)
        error = json.loads(res.stdout)["error"]
        assert error["code"] == code and error["kind"] == kind and error["message"], argv
        assert res.stderr and "Traceback" not in res.stderr
        if argv[0] == "--json" and code == USAGE:
            got, out, _ = ctl_(root, *argv)
            assert got == code and json.loads(out)["error"]["kind"] == kind
    assert "a pid is an integer" in _program("--json", "info", "abc", env=env).stdout
    # Without --json, stdout stays empty.
    assert _program("ps", env=env).stdout == ""


def test_usage_errors_come_before_looking_for_a_runtime(tmp_path):
    env = dict(os.environ, HEARTH_SOCK=str(tmp_path / "nobody.sock"))
    res = _program("info", "notapid", env=env)
    assert res.returncode == USAGE and "a pid is an integer" in res.stderr
    res = _program("kill", "--help", env=env)
    assert res.returncode == OK and textwrap.dedent(res.stdout).startswith("usage: hearth-ctl kill")


class FakeInit(GenServer):
    """Answers init's two calls the way Kindling's `Init` does."""

    def init(self):
        return ("ok", 0)

    def handle_call(self, request, from_, state):
        if request == "services":
            return ("reply", [
                {"name": "hearth.UnixTime", "state": "running", "reason": None,
                 "kind": "python", "needs": []},
                {"name": "broken", "state": "failed", "reason": "missing dependency x",
                 "kind": "wasm", "needs": ["x"]},
            ], state)
        if request == "reload_services":
            return ("reply", {"started": ["new"], "upgraded": [], "stopped": ["old"],
                              "failed": []}, state + 1)
        return ("reply", None, state)


def test_services_shows_inits_status_table_then_the_other_names(runtime, root):
    init = start_server(FakeInit)
    register(root, "hearth.init", init.demote(SEND | MONITOR))
    code, out, _ = ctl_(root, "services")
    assert code == OK
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "KIND", "PID", "REASON"]
    assert lines[1].split()[:3] == ["hearth.UnixTime", "running", "python"]
    assert lines[2].split()[:3] == ["broken", "failed", "wasm"]
    assert lines[2].endswith("missing dependency x")
    rows = ok_json(root, "services")
    assert rows[0]["pid"] == pid_named(runtime, "hearth.UnixTime")
    assert rows[1] == {"name": "broken", "state": "failed", "kind": "wasm", "pid": None,
                       "reason": "missing dependency x", "needs": ["x"]}
    assert {"name": INSPECTOR, "state": "registered"}.items() <= next(
        r for r in rows if r["name"] == INSPECTOR).items()
    code, out, _ = ctl_(root, "reload-services")
    assert code == OK and out == "started: new\nstopped: old\n"
    assert ok_json(root, "reload-services")["stopped"] == ["old"]
    init.kill()


def test_reload_services_without_init_is_not_found(root):
    code, _, err = ctl_(root, "reload-services")
    assert code == NOT_FOUND and "hearth.init" in err
