"""Factory: one session process per client, owned by the client.

A session factory makes a fresh session process for each client that asks.
The session belongs to the client: when the client goes (even normally),
its session goes too. The factory is linked to none of them.

Run it: ``python examples/factory.py``. It prints what happens and exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp import call, classify, decode, encode, reply  # noqa: E402
from hearth.otp._factory import create, created_count, start_factory  # noqa: E402


def session(world, user):
    """A client's session: answers ("say", text) with a line of the world."""
    lines = 0
    while True:
        kind = classify(vm.recv())
        if kind[0] == "call":
            from_, request = kind[1], kind[2]
            lines += 1
            reply(from_, f"[{world}] {user} says {request[1]!r} (line {lines})")


def client(factory, user, report):
    """Get a session, use it, report it, and leave on "bye"."""
    owned = create(factory, user)
    print(" ", call(owned.resource, ("say", "hello")))
    print(" ", call(owned.resource, ("say", "anyone here?")))
    report.send(*encode(("session", user, owned.resource)))
    while decode(vm.recv().data) != "bye":
        pass


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        factory = start_factory(session, "garden")
        box = vm.create_mailbox()
        report = box.make_capability(vm.SEND)
        clients = {}
        sessions = {}
        for user in ("alice", "bob"):
            clients[user] = vm.spawn_monitor(client, factory, user, report)
            sig = box.recv(timeout=5)
            _, name, cap = decode(sig.data, sig.caps)
            sessions[name] = cap
        print("sessions made:", created_count(factory))

        watch = sessions["alice"].monitor()
        print("alice leaves (a normal exit)...")
        clients["alice"][0].send(*encode("bye"))
        while True:
            sig = vm.recv(timeout=5)
            if type(sig) is vm.Down and sig.ref == watch:
                print(f"alice's session went with her: {sig.reason}")
                break
        print("bob's session still answers:", call(sessions["bob"], ("say", "bye alice")))
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
