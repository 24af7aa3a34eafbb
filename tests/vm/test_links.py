"""Links: rules V18–V21."""

from hearth import vm
from hearth.vm import SEND


def _idle():
    while True:
        vm.recv()


def test_v18_links_are_bidirectional_and_at_most_one_per_pair(proc):
    child = vm.spawn(_idle)
    child.link()
    child.link()
    info = proc.runtime.process_info(proc.pid)
    assert len(info.links) == 1
    child_pid = info.links[0]
    assert proc.runtime.process_info(child_pid).links == (proc.pid,)
    child.unlink()  # one unlink removes it, however often it was linked
    assert proc.runtime.process_info(proc.pid).links == ()
    assert proc.runtime.process_info(child_pid).links == ()
    child.kill()


def test_v18_unlinked_processes_no_longer_share_fate(proc):
    child = vm.spawn(_idle)
    ref = child.monitor()
    child.link()
    child.unlink()
    child.exit("boom")
    assert vm.recv(timeout=5).reason == "boom"
    assert proc.reason is None


def test_v19_a_linked_non_trapping_peer_dies_with_the_reason(proc):
    me = vm.make_capability(SEND)

    def middle(reply):
        vm.spawn_link(lambda: vm.exit("crash"))
        vm.recv()

    cap, ref = vm.spawn_monitor(middle, me)
    assert vm.recv(timeout=5).reason == "crash"


def test_v19_a_normal_exit_does_not_take_linked_peers_down(proc):
    me = vm.make_capability(SEND)

    def middle(reply):
        vm.spawn_link(lambda: None)
        reply.send(b"ready")
        vm.recv()
        reply.send(b"alive")

    cap = vm.spawn(middle, me)
    assert vm.recv(timeout=5).data == b"ready"
    proc.runtime.wait_all_blocked()
    cap.send(b"ping")
    assert vm.recv(timeout=5).data == b"alive"


def test_v19_a_trapping_peer_receives_exit_with_the_reason(proc):
    vm.trap_exit(True)
    child = vm.spawn_link(vm.exit, "reason-x")
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == "reason-x"
    assert sig.cap.same_route(child) and sig.cap.permissions == vm.NONE


def test_v19_a_trapping_peer_also_sees_normal_exits(proc):
    vm.trap_exit(True)
    vm.spawn_link(lambda: None)
    assert vm.recv(timeout=5).reason == vm.NORMAL


def test_v19_a_kill_reaching_a_peer_through_a_link_is_killed_and_trappable(proc):
    vm.trap_exit(True)
    child = vm.spawn_link(_idle)
    child.kill()
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == vm.KILLED


def test_v19_a_process_exiting_with_kill_reaches_links_as_killed(proc):
    vm.trap_exit(True)
    vm.spawn_link(vm.exit, "kill")
    assert vm.recv(timeout=5).reason == vm.KILLED


def test_v20_linking_to_a_dead_process_delivers_noproc(proc):
    vm.trap_exit(True)
    child, ref = vm.spawn_monitor(lambda: None)
    assert vm.recv(timeout=5).ref == ref
    child.link()
    sig = vm.recv(timeout=5)
    assert isinstance(sig, vm.Exit) and sig.reason == vm.NOPROC


def test_v20_a_non_trapping_caller_dies_of_noproc(proc):
    def linker(target):
        vm.link(target)
        raise AssertionError("not reached")

    dead, ref = vm.spawn_monitor(lambda: None)
    assert vm.recv(timeout=5).ref == ref
    _, ref2 = vm.spawn_monitor(linker, dead)
    assert vm.recv(timeout=5).reason == vm.NOPROC


def test_v21_a_chain_of_links_goes_down_in_one_pass(proc):
    me = vm.make_capability(SEND)

    def node(reply, depth):
        if depth:
            vm.spawn_link(node, reply, depth - 1)
        else:
            reply.send(b"", [vm.make_capability(vm.KILL)])
        vm.recv()

    vm.trap_exit(True)
    vm.spawn_link(node, me, 2_000)
    tail = vm.recv(timeout=10).caps[0]
    proc.runtime.wait_all_blocked()
    assert len(proc.runtime) == 2_002
    tail.exit("snap")
    # Everything died before exit() returned; the Exit is already queued.
    sig = vm.try_recv()
    assert isinstance(sig, vm.Exit) and sig.reason == "snap"
    assert all(r.reason == "snap" for r in proc.runtime.exits()[-2_001:])



def test_a_process_taken_down_by_a_link_is_not_an_unobserved_crash(runtime):
    def child():
        vm.recv()

    def parent():
        vm.spawn_link(child, name="child")
        vm.recv()
        raise RuntimeError("boom")

    with runtime.open_process():
        cap = vm.spawn(parent, name="parent")
        runtime.wait_all_blocked()
        cap.send(b"go")
        runtime.wait_all_blocked()
    assert {(e.name, e.reason[1]) for e in runtime.exits() if e.name} == {
        ("parent", "RuntimeError"),
        ("child", "RuntimeError"),
    }
    # Only the parent's crash went unobserved; the child's death was its link.
    assert [c.name for c in runtime.crashes] == ["parent"]
    runtime.crashes.clear()
