"""Introspection for the CLI and the TUI: live processes and recent deaths."""

from hearth import vm
from hearth.vm import SEND


def test_processes_show_name_state_depths_counts_links_and_monitors(proc):
    def worker():
        vm.set_metadata(description="does nothing", authors=["ana"])
        vm.create_mailbox()
        vm.recv(mailbox=vm.create_mailbox())

    child = vm.spawn_link(worker, name="worker")
    ref = child.monitor()
    for _ in range(3):
        child.send(b"queued")
    proc.runtime.wait_all_blocked()
    me, info = proc.runtime.processes()
    assert (me.name, me.state, me.initial_call) == ("test", "running", "open_process")
    assert info.name == "worker" and info.state == "waiting"
    assert info.initial_call.endswith("worker")
    assert info.metadata == {"name": "worker", "description": "does nothing", "authors": ["ana"]}
    assert [m.depth for m in info.mailboxes] == [3, 0, 0]
    assert info.mailbox_depth == 3
    assert (info.messages_in, me.messages_out) == (3, 3)
    assert info.links == (me.pid,) and me.links == (info.pid,)
    assert me.monitors == ((ref, info.pid),)
    assert info.monitored_by == ((ref, me.pid),)
    assert info.trap_exit is False and info.reason is None
    child.unlink()
    child.kill()


def test_recent_exits_keep_the_reason_of_each_death(proc):
    for reason in ("one", ("shutdown", 2)):
        vm.spawn_monitor(vm.exit, reason, name=f"dies-{reason}")
        vm.recv(timeout=5)
    exits = proc.runtime.exits()
    assert [(e.name, e.reason) for e in exits] == [
        ("dies-one", "one"),
        ("dies-('shutdown', 2)", ("shutdown", 2)),
    ]
    assert all(e.observed for e in exits)
    assert proc.runtime.process_info(exits[0].pid) is None


def test_exit_history_is_bounded():
    rt = vm.Runtime(exit_history=10)
    for _ in range(25):
        rt.spawn(lambda: None)
    rt.wait_all_blocked()
    assert len(rt.exits()) == 10
    assert rt.shutdown() == []


def test_a_thousand_processes_coming_and_going_leave_nothing_behind(proc):
    me = vm.make_capability(SEND)
    for _ in range(1000):
        vm.spawn(lambda r: r.send(b"hi"), me).release()
    for _ in range(1000):
        vm.recv(timeout=5)
    proc.runtime.wait_all_blocked()
    assert [p.pid for p in proc.runtime.processes()] == [proc.pid]
    assert len(proc.table) == 1

