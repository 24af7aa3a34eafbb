"""The time services: sleeps side by side, a drift-free timer, a stopwatch,
the wall clock, and a timer that goes when its owner dies.

Run it: ``python examples/time_services.py``. It prints what happens (in
about a second of real time) and exits 0.
"""

from gevent import monkey

monkey.patch_all()

import time  # noqa: E402

from hearth import vm  # noqa: E402
from hearth.native._service import read_reply, request, send_request  # noqa: E402
from hearth.native._time import start_time_services  # noqa: E402
from hearth.otp import lookup, registered, start_registry  # noqa: E402


def client(registry):
    """A process that finds the services by name, as a guest would."""
    clock = vm.current_runtime().clock
    sleep = lookup(registry, "hearth.Sleep")
    timers = lookup(registry, "hearth.TimerFactory")
    stopwatches = lookup(registry, "hearth.StopwatchFactory")
    unix = lookup(registry, "hearth.UnixTime")

    # Two sleeps asked together: the short one is not held behind the long one.
    start = clock.now()
    long_box, short_box = vm.create_mailbox(), vm.create_mailbox()
    send_request(sleep, 0.3, long_box.make_capability(vm.SEND))
    send_request(sleep, 0.1, short_box.make_capability(vm.SEND))
    read_reply(short_box.recv(timeout=5))
    print(f"sleep 0.1 done at {clock.now() - start:.2f}s")
    read_reply(long_box.recv(timeout=5))
    print(f"sleep 0.3 done at {clock.now() - start:.2f}s")

    # A timer keeps its own schedule: the client's 30 ms of work per tick
    # doesn't push the ticks later. Passing a MONITOR capability to our own
    # mailbox 0 makes us the timer's owner.
    me = vm.make_capability(vm.MONITOR)
    timer = request(timers, "new", [me])
    start = clock.now()
    for n in range(1, 6):
        request(timer, ["tick", 0.1])
        print(f"tick {n} at {clock.now() - start:.3f}s (due at {n * 0.1:.3f}s)")
        time.sleep(0.03)  # busy elsewhere (a real, blocking wait)

    stopwatch = request(stopwatches, "new", [me])
    request(sleep, 0.05)
    print(f"lap: {request(stopwatch, 'lap'):.3f}s")
    print(f"unix time: {request(unix, 'now')} ns (time.time_ns() says {time.time_ns()})")

    bad = None
    try:
        request(sleep, -1)
    except Exception as e:  # noqa: BLE001 - printing whatever the service said
        bad = e
    print(f"sleep -1 is refused: {bad}")
    return timer


def owner(registry, report):
    """A process that makes a timer, hands it out, and waits to be killed."""
    timers = lookup(registry, "hearth.TimerFactory")
    timer = request(timers, "new", [vm.make_capability(vm.MONITOR)])
    report.send(b"", [timer])
    vm.recv()


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        registry = start_registry()
        start_time_services(registry)  # linked to this process: they stop with it
        print("registered:", registered(registry))

        _, ref = vm.spawn_monitor(client, registry, name="client")
        down = vm.recv(timeout=10)
        assert down.ref == ref and down.reason == vm.NORMAL, down

        # Resources belong to their owner: when it dies, its timer goes too.
        holder = vm.spawn(owner, registry, vm.make_capability(vm.SEND), name="owner")
        timer = vm.recv(timeout=5).caps[0]
        watch = timer.monitor()
        holder.kill()
        down = vm.recv(timeout=5)
        assert down.ref == watch
        print("owner killed; its timer exited with", down.reason)
    runtime.shutdown()


if __name__ == "__main__":
    main()
