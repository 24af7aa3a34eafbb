"""A counter server: start it, call it, cast to it, stop it (rules O1–O4).

Run it: ``python examples/gen_server_counter.py``. It prints what happens
and exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp import call, cast, reply  # noqa: E402
from hearth.otp._gen_server import GenServer, start  # noqa: E402


class Counter(GenServer):
    """Counts; answers "get"; defers "wait for" replies until the count
    reaches a target."""

    def init(self, start_at):
        return ("ok", {"count": start_at, "waiting": []})

    def handle_call(self, request, from_, state):
        op = request[0]
        if op == "get":
            return ("reply", state["count"], state)
        if op == "wait for":
            if state["count"] >= request[1]:
                return ("reply", state["count"], state)
            # A deferred reply: answer later, from handle_cast.
            state["waiting"].append((request[1], from_))
            return ("noreply", state)
        if op == "stop":
            return ("stop", "normal", state["count"], state)
        return ("reply", ("error", f"unknown request {op!r}"), state)

    def handle_cast(self, request, state):
        if request[0] == "add":
            state["count"] += request[1]
            still_waiting = []
            for target, from_ in state["waiting"]:
                if state["count"] >= target:
                    reply(from_, state["count"])
                else:
                    still_waiting.append((target, from_))
            state["waiting"] = still_waiting
        return ("noreply", state)

    def terminate(self, reason, state):
        print(f"counter terminating ({reason}) at {state['count']}")


def waiter(counter, report):
    """Wait (with a deferred reply) until the counter reaches 10."""
    value = call(counter, ("wait for", 10))
    report.send(b"the counter reached %d" % value)


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        counter = start(Counter, 5)  # returns once init has run
        print("started; count =", call(counter, ("get",)))
        vm.spawn(waiter, counter, vm.make_capability(vm.SEND))
        cast(counter, ("add", 2))  # never blocks
        print("after a cast of 2; count =", call(counter, ("get",)))
        # The waiter's call is queued behind ours: the server defers its
        # reply (7 < 10) until these two casts bring the count to 11.
        cast(counter, ("add", 2))
        cast(counter, ("add", 2))
        print(vm.recv(timeout=5).data.decode())
        ref = counter.monitor()
        print("stopped with final count", call(counter, ("stop",)))
        down = vm.recv(timeout=5)
        assert down.ref == ref
        print("the server exited:", down.reason)
    runtime.shutdown()


if __name__ == "__main__":
    main()
