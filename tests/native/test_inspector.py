"""``hearth.Inspector``: the inspection service hearth-ctl and hearth-tui
talk to, against a real runtime with a registry, supervisors and guests."""

import logging
import sys
import textwrap

import pytest

from hearth import vm
from hearth.native._inspector import (
    INSPECTOR,
    NOT_UPGRADABLE,
    RELOAD_FAILED,
    TOO_MANY_FOLLOWERS,
    start_inspector,
)
from hearth.native._guest_upgrade import start_guest_service
from hearth.native._service import INVALID_REQUEST, NOT_FOUND
from hearth.otp import (
    ChildSpec,
    ServiceError,
    decode,
    lookup,
    register,
    request,
    start_link_supervisor,
    start_registry,
    supervisor_spec,
)
from hearth.vm import MONITOR, SEND, Down, LumpId, Message, lump_id
from hearth.vm._introspect import capability_to_pid

from .test_guest_upgrade import versioned


@pytest.fixture
def registry(proc):
    return start_registry()


@pytest.fixture
def inspector(registry):
    return start_inspector(registry, max_followers=2).cap


def ask(inspector, term, args=()):
    return request(inspector, term, args, timeout=10)


def refused(inspector, term, args=()):
    with pytest.raises(ServiceError) as e:
        ask(inspector, term, args)
    return e.value.kind


def idle():
    while True:
        vm.recv()


def deaf():
    """Waits on a mailbox nobody knows: what comes to mailbox 0 stays queued."""
    vm.create_mailbox().recv()


def crash_on_message():
    vm.recv()
    raise RuntimeError("told to crash")


def wait_down(cap):
    ref = cap.monitor()
    while True:
        sig = vm.recv(10)
        assert sig is not None, "no Down"
        if type(sig) is Down and sig.ref == ref:
            sig.cap.release()
            return sig.reason


# -- ps and info ---------------------------------------------------------------------------


def test_ps_lists_every_live_process_with_its_counters(runtime, inspector):
    a = vm.spawn(deaf, name="worker-a")
    b = vm.spawn(idle, name="worker-b")
    b.link()
    a.send(b"one")
    a.send(b"two")
    runtime.wait_all_blocked()
    ps = ask(inspector, "ps")
    rows = {r["name"]: r for r in ps["processes"]}
    assert {"worker-a", "worker-b", INSPECTOR} <= set(rows)
    assert set(rows["worker-a"]) >= {"pid", "name", "state", "mailbox_depth", "messages_in",
                                      "messages_out", "links", "monitors", "restarts"}
    assert rows["worker-a"]["messages_in"] == 2
    assert rows["worker-a"]["mailbox_depth"] == 2
    assert rows["worker-a"]["state"] == "waiting"
    assert rows["worker-b"]["links"] == 1
    assert [r["pid"] for r in ps["processes"]] == sorted(r["pid"] for r in ps["processes"])
    b.unlink()


def test_ps_counts_the_restarts_of_supervised_children(runtime, inspector):
    sup = start_link_supervisor([ChildSpec("crasher", (crash_on_message, ()))],
                                intensity=5, name="top")
    for _ in range(2):
        child = _child_pid(runtime, "crash_on_message")
        c = capability_to_pid(child, SEND | MONITOR)
        c.send(b"die")
        assert wait_down(c) != "normal"
        c.release()
        runtime.wait_all_blocked()
    row = next(r for r in ask(inspector, "ps")["processes"]
               if r["initial_call"] == "crash_on_message")
    assert row["restarts"] == 2
    stop(sup)


def stop(sup):
    sup.unlink()
    sup.kill()
    wait_down(sup)


def _child_pid(runtime, initial_call):
    return next(p.pid for p in runtime.processes() if p.initial_call == initial_call)


def test_info_shows_metadata_mailboxes_links_and_monitors(runtime, proc, inspector):
    a = vm.spawn(idle, name="watched", description="a test process")
    a.link()
    ref = a.monitor()
    a.send(b"queued?")
    runtime.wait_all_blocked()
    pid = next(p.pid for p in runtime.processes() if p.name == "watched")
    info = ask(inspector, ["info", pid])
    assert info["alive"] is True
    assert info["metadata"]["description"] == "a test process"
    assert info["mailboxes"][0]["handle"] == 0
    assert info["links"] == (proc.pid,)
    assert (ref, proc.pid) in [tuple(m) for m in info["monitored_by"]]
    assert info["exits"] == ()
    a.unlink()
    vm.demonitor(ref)


def test_info_of_a_dead_process_gives_its_exit_reason(runtime, inspector):
    cap = vm.spawn(crash_on_message, name="doomed")
    pid = next(p.pid for p in runtime.processes() if p.name == "doomed")
    cap.send(b"die")
    wait_down(cap)
    info = ask(inspector, ["info", pid])
    assert info["alive"] is False
    assert info["reason"][0] == "error" and "told to crash" in info["text"]
    assert [e["pid"] for e in info["exits"]] == [pid]


def test_info_of_a_restarted_service_lists_its_earlier_deaths(runtime, inspector):
    sup = start_link_supervisor([ChildSpec("c", (crash_on_message, (), {"name": "phoenix"}))], intensity=5)
    first = _child_pid(runtime, "crash_on_message")
    c = capability_to_pid(first, SEND | MONITOR)
    c.send(b"die")
    wait_down(c)
    c.release()
    runtime.wait_all_blocked()
    second = _child_pid(runtime, "crash_on_message")
    assert second != first
    info = ask(inspector, ["info", second])
    assert [e["pid"] for e in info["exits"]] == [first]
    assert "told to crash" in info["exits"][0]["text"]
    stop(sup)


def test_info_and_kill_of_unknown_pids_are_not_found(inspector):
    assert refused(inspector, ["info", 10**6]) == NOT_FOUND
    assert refused(inspector, ["kill", 10**6]) == NOT_FOUND
    assert refused(inspector, ["restart", 10**6]) == NOT_FOUND


def test_malformed_requests_get_invalid_request_and_the_service_goes_on(inspector):
    for term in ["nope", ["info", "12"], ["info"], {"op": "kill"}, ["logs", None, "x", 5],
                 ["upgrade", 3, b"x" * 32], ["upgrade", "svc", b"short"], ["reload", ""],
                 ["lump_put", "text", None], ["lump_get", b"1"], 42, "follow"]:
        assert refused(inspector, term) == INVALID_REQUEST, term
    assert ask(inspector, "ps")["processes"]


# -- kill and restart --------------------------------------------------------------------------


def test_kill_kills_by_pid(runtime, inspector):
    cap = vm.spawn(idle, trap_exit=True, name="victim")
    pid = next(p.pid for p in runtime.processes() if p.name == "victim")
    ref = cap.monitor()
    assert ask(inspector, ["kill", pid]) == {"pid": pid, "killed": True}
    sig = vm.recv(10)
    assert type(sig) is Down and sig.ref == ref and sig.reason == "killed"
    sig.cap.release()


def test_the_inspector_refuses_to_kill_itself(runtime, inspector):
    pid = next(p.pid for p in runtime.processes() if p.name == INSPECTOR)
    assert refused(inspector, ["kill", pid]) == INVALID_REQUEST
    assert ask(inspector, ["info", pid])["alive"]


def test_restart_replaces_a_supervised_child(runtime, inspector):
    sup = start_link_supervisor([ChildSpec("idle", (idle, ()))], name="s")
    old = _child_pid(runtime, "idle")
    out = ask(inspector, ["restart", old])
    assert out["pid"] == old and out["new_pid"] not in (None, old)
    assert _child_pid(runtime, "idle") == out["new_pid"]
    stop(sup)


# -- the tree ------------------------------------------------------------------------------


def test_tree_walks_nested_supervisors_and_marks_restarts(runtime, inspector):
    sup = start_link_supervisor([
        ChildSpec("w1", (idle, ())),
        supervisor_spec("inner", [ChildSpec("crasher", (crash_on_message, ()))], intensity=5),
    ], name="outer")
    c = capability_to_pid(_child_pid(runtime, "crash_on_message"), SEND | MONITOR)
    c.send(b"die")
    wait_down(c)
    c.release()
    runtime.wait_all_blocked()
    roots = ask(inspector, "tree")["roots"]
    outer = next(r for r in roots if r["name"] == "outer")
    ids = [c["id"] for c in outer["children"]]
    assert ids == ["w1", "inner"]
    inner = outer["children"][1]
    assert inner["type"] == "supervisor" and inner["state"] == "running"
    crasher = inner["children"][0]
    assert crasher["id"] == "crasher" and crasher["restarts"] == 1
    assert crasher["pid"] == _child_pid(runtime, "crash_on_message")
    # The inspector's own supervisor is a root too.
    assert any(r["name"] == "hearth.inspector" for r in roots)
    stop(sup)


# -- services ---------------------------------------------------------------------------------


def test_services_lists_registered_names_with_their_pids(runtime, registry, inspector):
    cap = vm.spawn(idle, name="named")
    register(registry, "my.service", cap.demote(SEND))
    pid = next(p.pid for p in runtime.processes() if p.name == "named")
    services = {s["name"]: s["pid"] for s in ask(inspector, "services")}
    assert services["my.service"] == pid
    assert INSPECTOR in services


# -- logs -------------------------------------------------------------------------------------


def _log_from(name, text):
    def body():
        logging.getLogger("test.inspector").warning(text)
    cap, ref = vm.spawn_monitor(body, name=name)
    while True:
        sig = vm.recv(10)
        if type(sig) is Down and sig.ref == ref:
            sig.cap.release()
            break
    cap.release()


def test_logs_are_tagged_with_the_pid_that_logged_them(runtime, inspector):
    _log_from("talker", "hello from a process")
    out = ask(inspector, "logs")
    record = next(r for r in out["records"] if r["message"] == "hello from a process")
    assert record["level"] == "WARNING" and record["logger"] == "test.inspector"
    pid = next(e.pid for e in runtime.exits() if e.name == "talker")
    assert record["pid"] == pid
    logging.getLogger("test.inspector").warning("not in a process of ours? yes, the test's")
    mine = ask(inspector, {"op": "logs", "pid": pid})["records"]
    assert [r["message"] for r in mine] == ["hello from a process"]
    newer = ask(inspector, {"op": "logs", "after": record["seq"]})["records"]
    assert all(r["seq"] > record["seq"] for r in newer)
    assert len(ask(inspector, {"op": "logs", "limit": 1})["records"]) == 1


def test_follow_sends_new_records_and_drops_a_dead_subscriber(runtime, inspector):
    box = vm.create_mailbox()
    sub = box.make_capability(SEND | MONITOR)
    ask(inspector, ["follow", None], [sub])
    _log_from("follower-test", "live record")
    while True:
        sig = box.recv(10)
        assert type(sig) is Message, "no log message"
        records = decode(sig.data)["log"]
        if any(r["message"] == "live record" for r in records):
            break
    # max_followers=2: fill up, refuse, then a destroyed mailbox frees a place.
    box2 = vm.create_mailbox()
    ask(inspector, ["follow", None], [box2.make_capability(SEND | MONITOR)])
    box3 = vm.create_mailbox()
    assert refused(inspector, ["follow", None],
                   [box3.make_capability(SEND | MONITOR)]) == TOO_MANY_FOLLOWERS
    box2.destroy()
    runtime.wait_all_blocked()
    ask(inspector, ["follow", None], [box3.make_capability(SEND | MONITOR)])
    assert ask(inspector, "unfollow", [sub]) == {"removed": 1}
    box.destroy()
    box3.destroy()


def test_follow_needs_a_subscriber_with_send_and_monitor(inspector):
    box = vm.create_mailbox()
    assert refused(inspector, ["follow", None], [box.make_capability(SEND)]) == INVALID_REQUEST
    box.destroy()


# -- reload -----------------------------------------------------------------------------------


def test_reload_loads_a_new_version_and_reports_a_broken_one(tmp_path, monkeypatch, inspector):
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = tmp_path / "inspector_reload_target.py"
    mod.write_text("VALUE = 1\n")
    __import__("inspector_reload_target")
    try:
        mod.write_text("VALUE = 2\n")
        out = ask(inspector, ["reload", "inspector_reload_target"])
        assert out["module"] == "inspector_reload_target" and out["generation"] == 1
        assert sys.modules["inspector_reload_target"].VALUE == 2
        mod.write_text(textwrap.dedent("""\
            raise RuntimeError("broken on purpose")
        """))
        assert refused(inspector, ["reload", "inspector_reload_target"]) == RELOAD_FAILED
        assert sys.modules["inspector_reload_target"].VALUE == 2
    finally:
        sys.modules.pop("inspector_reload_target", None)
    assert refused(inspector, ["reload", "no_such_module_anywhere"]) == RELOAD_FAILED


# -- lumps and upgrades -------------------------------------------------------------------------


def test_lump_put_and_get_round_trip_and_check_the_expected_id(runtime, inspector):
    data = b"some bytes for a lump"
    lid = ask(inspector, ["lump_put", data, bytes(lump_id(data))])
    assert LumpId(lid) == lump_id(data)
    assert runtime.lumps.get(lid) == data
    assert ask(inspector, ["lump_get", lid]) == data
    assert refused(inspector, ["lump_put", b"other", lid]) == INVALID_REQUEST
    assert refused(inspector, ["lump_get", bytes(lump_id(b"never stored"))]) == NOT_FOUND
    big = bytes(range(256)) * 5000  # hashed off the hub
    assert LumpId(ask(inspector, {"op": "lump_put", "data": big})) == lump_id(big)


def test_upgrade_switches_a_registered_guest_service(runtime, registry, inspector):
    v1 = runtime.lumps.put(versioned(1).encode())
    v2 = runtime.lumps.put(versioned(2).encode())
    service = start_guest_service(v1)
    register(registry, "echo.versioned", service.cap)
    out = ask(inspector, ["upgrade", "echo.versioned", bytes(v2)])
    assert out["version"] == 2 and LumpId(out["lump"]) == v2
    public = lookup(registry, "echo.versioned")
    box = vm.create_mailbox()
    public.send(b"hi", [box.make_capability(SEND)])
    assert box.recv(10).data == bytes([2]) + b"hi"
    assert refused(inspector, ["upgrade", "no.such", bytes(v2)]) == NOT_FOUND
    assert refused(inspector, ["upgrade", INSPECTOR, bytes(v2)]) == NOT_UPGRADABLE
    service.front.kill()


def test_whois_names_the_pid_behind_a_capability(runtime, inspector):
    cap = vm.spawn(idle, name="someone")
    pid = next(p.pid for p in runtime.processes() if p.name == "someone")
    assert ask(inspector, "whois", [cap.demote(SEND)]) == {"pid": pid, "alive": True}
    assert refused(inspector, "whois") == INVALID_REQUEST
    cap.kill()
    wait_down(cap)
    # A process that exited is still named, with its exit reason.
    assert ask(inspector, "whois", [cap]) == {"pid": pid, "alive": False, "reason": "killed",
                                              "text": "killed"}


def test_records_logged_in_a_native_thread_are_kept_without_a_pid(runtime, inspector):
    from hearth.native._wasm_spawner import run_off_hub

    logger = logging.getLogger("test.inspector.thread")
    logger.warning("warm the level cache on the hub")  # the thread then takes no logging lock
    run_off_hub(logger.warning, "from a native thread")
    records = ask(inspector, "logs")["records"]
    record = next(r for r in records if r["message"] == "from a native thread")
    assert record["pid"] is None
