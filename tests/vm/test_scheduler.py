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
