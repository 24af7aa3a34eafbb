"""Guest processes: exits, kills (even while spinning), links, spawning."""


import msgpack
import pytest

from hearth import vm
from hearth.vm import KILL, LINK, SEND
from hearth.vm._wasm import spawn_guest, spawn_guest_link, spawn_guest_monitor, wasm_host

from .guests import ECHO_TO_CAP0, SPIN, WAIT_FOREVER, exit_with_reason
from .wat import data, module


UNREACHABLE_TRAP = "wasm trap: wasm `unreachable` instruction executed"


def _threads(proc):
    return wasm_host(proc.runtime).bridge.n_threads


def test_a_guest_whose_run_returns_exits_normal(proc):
    spawn_guest_monitor(module('(func (export "run"))'))
    assert vm.recv(timeout=10).reason == vm.NORMAL
    assert _threads(proc) == 0


def test_a_guest_exits_with_the_msgpack_reason_it_gives(proc):
    reason = ("shutdown", {"why": "done", "with": [1, None, True]})
    spawn_guest_monitor(exit_with_reason(msgpack.packb(reason)))
    assert vm.recv(timeout=10).reason == ("shutdown", {"why": "done", "with": (1, None, True)})


def test_a_guest_that_exits_normal_does_not_take_linked_processes_down(proc):
    spawn_guest_link(exit_with_reason(msgpack.packb("normal")))
    vm.spawn_monitor(lambda: None)
    assert vm.recv(timeout=10).reason == vm.NORMAL
    assert proc.reason is None


def test_kill_ends_a_guest_blocked_in_recv(proc):
    cap, ref = spawn_guest_monitor(WAIT_FOREVER, trap_exit=True)
    proc.runtime.wait_all_blocked()
    assert _threads(proc) == 1
    cap.kill()
    assert vm.recv(timeout=10).reason == vm.KILLED
    proc.runtime.wait_all_blocked()
    assert _threads(proc) == 0


def _echo_server():
    while True:
        sig = vm.recv()
        sig.caps[0].send(sig.data)
        sig.caps[0].release()


def test_a_spinning_guest_stops_nobody_and_kill_ends_it(proc):
    echo = vm.spawn(_echo_server)
    me = vm.make_capability(SEND)
    cap, ref = spawn_guest_monitor(SPIN)
    guest_pid = [p.pid for p in proc.runtime.processes() if p.initial_call.startswith("wasm:")][0]
    for i in range(200):  # Python keeps answering while the guest spins
        echo.send(b"%d" % i, [me])
        assert vm.recv(timeout=10).data == b"%d" % i
    assert proc.runtime.process_info(guest_pid).state == "running"
    with pytest.raises(TimeoutError):  # a spinning guest is not blocked
        proc.runtime.wait_all_blocked(timeout=0.05)
    # The guest never ends by itself: whatever ends it is the kill, which
    # interrupts the spinning wasm code. In this order: still spinning
    # after the echoes above, then the kill, then its Down (killed) with
    # nothing before it, and only then is every process blocked.
    assert proc.runtime.process_info(guest_pid).state == "running"
    cap.kill()
    down = vm.recv(timeout=10)
    assert type(down) is vm.Down and down.ref == ref and down.reason == vm.KILLED
    proc.runtime.wait_all_blocked()  # returns once the guest's thread is gone
    assert proc.runtime.process_info(guest_pid) is None and _threads(proc) == 0
    echo.kill()


def test_kill_is_untrappable_for_guests(proc):
    guest = module(
        '(func (export "run") (drop (call $trap_exit (i32.const 1))) (loop $l (br $l)))',
        "trap_exit",
    )
    cap, ref = spawn_guest_monitor(guest)
    cap.kill()
    assert vm.recv(timeout=10).reason == vm.KILLED


def test_a_guest_can_kill_itself(proc):
    guest = module(
        '(func (export "run") (call $kill (call $make_capability (i32.const 0) (i32.const 4))))',
        "kill", "make_capability",
    )
    spawn_guest_monitor(guest)
    assert vm.recv(timeout=10).reason == vm.KILLED


def test_a_guest_kills_another_process_with_a_kill_capability(proc):
    victim, ref = vm.spawn_monitor(vm.recv)
    guest = module('(func (export "run") (call $kill (i32.const 0)))', "kill")
    spawn_guest(guest, victim.demote(KILL))
    assert vm.recv(timeout=10).reason == vm.KILLED


def test_a_crashing_guest_takes_linked_python_processes_down(proc):
    def linked(guest_cap):
        guest_cap.link()
        vm.recv()

    guest = spawn_guest(module(
        '(func (export "run") (drop (call $recv (i32.const 0))) unreachable)', "recv"))
    peer, ref = vm.spawn_monitor(linked, guest.demote(LINK))
    proc.runtime.wait_all_blocked()
    guest.send(b"now")
    reason = vm.recv(timeout=10).reason
    assert reason[:3] == ("error", "Trap", f"run: {UNREACHABLE_TRAP}")


def test_a_guest_linked_to_a_dead_process_dies_with_noproc(proc):
    dead, ref = vm.spawn_monitor(lambda: None)
    vm.recv(timeout=10)
    guest = module(
        '(func (export "run") (call $link (i32.const 0)) (drop (call $recv (i32.const 0))))',
        "link", "recv",
    )
    spawn_guest_monitor(guest, dead)
    assert vm.recv(timeout=10).reason == vm.NOPROC


def test_unlink_removes_the_link(proc):
    guest = module(
        """(func (export "run")
             (call $link (i32.const 0)) (call $unlink (i32.const 0))
             (call $send (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
             (drop (call $recv (i32.const 0))))""",
        "link", "unlink", "send", "recv",
    )
    cap = spawn_guest(guest, vm.make_capability(SEND | LINK))
    vm.recv(timeout=10)
    vm.trap_exit(True)
    cap.kill()
    cap.monitor()
    assert isinstance(vm.recv(timeout=10), vm.Down)  # and no Exit: not linked


def test_exit_with_sends_an_exit_signal(proc):
    reason = msgpack.packb(["custom", 7])
    guest = module(
        data(0, reason)
        + '(func (export "run")'
        f" (call $exit_with (i32.const 0) (i32.const 0) (i32.const {len(reason)})))",
        "exit_with",
    )
    victim, ref = vm.spawn_monitor(vm.recv)
    spawn_guest(guest, victim.demote(KILL))
    assert vm.recv(timeout=10).reason == ("custom", 7)


# `_hearth_spawn_by_index(i)` calls table entry i, which sends i + 100 (one
# byte) through capability 0. `run` spawns entry 1 with capabilities (0, 0)
# through the spawn function imported as $spawn.
def _spawner(spawn_call):
    return module(
        """
        (table 2 funcref)
        (elem (i32.const 0) $zero $one)
        (type $entry (func (param i32)))
        (func $zero (param i32) (call $report (local.get 0)))
        (func $one (param i32) (call $report (local.get 0)) unreachable)
        (func $report (param i32)
          (i32.store8 (i32.const 0) (i32.add (local.get 0) (i32.const 100)))
          (call $send (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0)))
        (func (export "_hearth_spawn_by_index") (param i32)
          (call_indirect (type $entry) (local.get 0) (local.get 0)))
        (func (export "run") (local $child i32)
          (i32.store (i32.const 16) (i32.const 0))
          (local.set $child %s)
          (i32.store8 (i32.const 0) (local.get $child))
          (call $send (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0))
          (drop (call $recv (i32.const 0))))
        """ % spawn_call,
        "send", "recv", "spawn_by_index", "spawn_link_by_index", "spawn_monitor_by_index",
    )


def test_spawn_by_index_runs_a_function_of_the_same_module_in_a_new_guest(proc):
    parent = spawn_guest(_spawner(
        "(call $spawn_by_index (i32.const 0) (i32.const 16) (i32.const 1))"),
        vm.make_capability(SEND))
    got = {vm.recv(timeout=10).data, vm.recv(timeout=10).data}
    assert got == {bytes([1]), bytes([100])}  # the child's handle in the parent; child ran
    parent.kill()


def test_spawn_link_by_index_links_parent_and_child(proc):
    parent, ref = spawn_guest_monitor(_spawner(
        "(call $spawn_link_by_index (i32.const 1) (i32.const 16) (i32.const 1))"),
        vm.make_capability(SEND))
    # The child reports and traps; the link takes the parent down, perhaps
    # before its own report takes effect (then it never sent it).
    signals = [vm.recv(timeout=10)]
    while not isinstance(signals[-1], vm.Down):
        signals.append(vm.recv(timeout=10))
    assert bytes([101]) in {s.data for s in signals[:-1]}
    reason = signals[-1].reason
    assert reason[2] == f"_hearth_spawn_by_index(1): {UNREACHABLE_TRAP}"


def test_spawn_monitor_by_index_delivers_the_childs_down(proc):
    parent, ref = spawn_guest_monitor(_spawner(
        "(call $spawn_monitor_by_index (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 0))"),
        vm.make_capability(SEND))
    assert {vm.recv(timeout=10).data, vm.recv(timeout=10).data} == {bytes([1]), bytes([101])}
    assert vm.recv(timeout=10).reason == vm.NORMAL  # the Down ended the parent's recv


def test_a_guest_spawned_by_index_from_python_gets_its_capabilities(proc):
    spawn_guest(_spawner("(i32.const 0)"), vm.make_capability(SEND), index=0)
    assert vm.recv(timeout=10).data == bytes([100])


def test_runtime_shutdown_ends_every_guest(runtime):
    with runtime.open_process():
        for guest in (WAIT_FOREVER, SPIN, ECHO_TO_CAP0):
            spawn_guest(guest, vm.make_capability(SEND))
    assert runtime.shutdown(timeout=5) == []
    assert wasm_host(runtime).bridge.n_threads == 0


def test_a_guest_killed_before_it_first_runs_never_starts_a_thread(proc):
    cap, ref = spawn_guest_monitor(SPIN)
    cap.kill()
    assert vm.recv(timeout=10).reason == vm.KILLED
    proc.runtime.wait_all_blocked()
    assert _threads(proc) == 0


def test_a_guest_can_be_killed_while_it_traps_exits_and_spins_after_a_host_call(proc):
    guest = module(
        """(func (export "run")
             (drop (call $trap_exit (i32.const 1)))
             (call $send (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
             (loop $l (br $l)))""",
        "trap_exit", "send",
    )
    cap, ref = spawn_guest_monitor(guest, vm.make_capability(SEND))
    assert isinstance(vm.recv(timeout=10), vm.Message)  # it is past its host calls
    cap.exit("please")  # trapped: becomes an Exit signal it never reads
    cap.kill()
    assert vm.recv(timeout=10).reason == vm.KILLED
    proc.runtime.wait_all_blocked()
    assert _threads(proc) == 0


def test_log_lines_go_to_the_hearth_guest_logger_even_from_a_guest_that_then_traps(proc, caplog):
    guest = module(
        data(0, "mainhello")
        + """(func (export "run")
               (call $log (i32.const 3) (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 5))
               unreachable)""",
        "log",
    )
    with caplog.at_level("DEBUG", logger="hearth.guest"):
        spawn_guest_monitor(guest, name="chatty")
        vm.recv(timeout=10)
    (record,) = [r for r in caplog.records if r.name == "hearth.guest"]
    assert record.levelname == "WARNING"
    text = record.getMessage()
    assert text.startswith("chatty[") and text.endswith("] main: hello")
