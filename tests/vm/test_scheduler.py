"""The run queue's manners towards the hub."""

from hearth import vm
from hearth.vm import SEND


def test_busy_processes_leave_the_hub_time_for_timers_and_io(proc):
    """A drain stops after a slice and resumes from a timer, so the hub
    polls between slices; re-queueing itself as a callback used to hold
    gevent timers back for about 50 slices (250 ms)."""
    import gevent

    me = vm.make_capability(SEND)

    def echo():
        while True:
            msg = vm.recv()
            if msg.data == b"stop":
                return
            msg.caps[0].send(b"")
            msg.caps[0].release()

    def pinger(server, reply, n):
        for _ in range(n):
            server.send(b"", [vm.make_capability(SEND)])
            vm.recv()
        server.send(b"stop")
        reply.send(b"done")

    wakes = []

    def sleeper():
        while True:
            gevent.sleep(0.001)
            wakes.append(1)

    ticker = gevent.spawn(sleeper)
    server = vm.spawn(echo)
    vm.spawn(pinger, server, me, 100_000)
    assert vm.recv(timeout=60).data == b"done"
    ticker.kill()
    assert len(wakes) >= 3


def test_a_spawned_process_times_out_on_the_real_clock(proc):
    """Its timer is armed when the drain that ran it ends (timers only fire
    between drains), so a receive answered in the same pass never makes one;
    one that is not answered must still time out."""
    me = vm.make_capability(SEND)

    def child(reply):
        first = vm.recv(timeout=0.01)
        reply.send(b"timed out" if first is None else b"got one")
        second = vm.recv(timeout=30)
        reply.send(second.data)

    cap = vm.spawn(child, me)
    assert vm.recv(timeout=30).data == b"timed out"
    cap.send(b"answered")
    assert vm.recv(timeout=30).data == b"answered"
