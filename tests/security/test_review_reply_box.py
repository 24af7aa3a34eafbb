"""A server a process called once must not be able to answer that
process's later requests to anyone else, nor fill its memory.

`otp.request` and `otp.call` reuse one reply mailbox per process (kept in
its process dictionary). The reply capability a remote server got with one
request stayed valid for every later request and call of that process: a
hostile server (or a hostile peer the process had called) could drop a
``{"ok": ...}`` into it and have it taken for the answer of the process's
next request to a service of its own side, forge ``$reply`` terms for the
next `call` tags (they count up), or fill the mailbox while the process
was not calling anyone. Here the victim is a client (the test's runtime)
and the hostile side is a server runtime over a real loopback socket; the
server holds on to each reply capability it is handed.
"""

from hearth import otp, vm
from hearth.net import connect
from hearth.vm import Message
from hearth.vm._introspect import process_info
from tests.net.conftest import SECRET, server  # noqa: F401 (a fixture)

FORGED = "forged by the server"


def _evil():
    """A service that answers each request, and keeps every reply
    capability it gets for later: ``"keep"`` answers ok; ``["forge",
    tags]`` forges a reply for each kept capability (``{"ok": FORGED}``
    and ``("$reply", tag, FORGED)`` for each tag) and then answers;
    ``["flood", n]`` sends `n` KiB-sized messages to each kept capability,
    then answers."""
    kept = []
    while True:
        sig = vm.recv()
        if type(sig) is not Message or not sig.caps:
            continue
        reply_to = sig.caps[0]
        term = otp.decode(sig.data, sig.caps)
        request = term[2] if type(term) is tuple and term[:1] == ("$call",) else term
        if type(request) is tuple and request[0] == "forge":
            for cap in kept:
                cap.send(otp.encode({"ok": FORGED})[0])
                for tag in range(request[1], request[1] + 64):
                    cap.send(otp.encode(("$reply", tag, FORGED))[0])
        if type(request) is tuple and request[0] == "flood":
            for cap in kept:
                for _ in range(request[1]):
                    cap.send(otp.encode({"ok": "x" * 1024})[0])
        if type(term) is tuple and term[:1] == ("$call",):
            reply_to.send(otp.encode(("$reply", term[1], "done"))[0])
        else:
            reply_to.send(otp.encode({"ok": "done"})[0])
        kept.append(reply_to)


def _register_evil(held):
    otp.register(held["registry"], "evil", vm.spawn(_evil, name="evil"))


def _honest():
    """A local service of the victim's side that, before it answers, asks
    the remote service (whose capability comes in its first message)
    something itself: from its own process, over the same connection, so
    what the server sends before answering it arrives first."""
    evil = vm.recv().caps[0]
    while True:
        sig = vm.recv()
        if type(sig) is not Message or not sig.caps:
            continue
        term = otp.decode(sig.data, sig.caps)
        if type(term) is tuple and term[:1] == ("$call",):
            otp.request(evil, ["forge", term[1]])
            sig.caps[0].send(otp.encode(("$reply", term[1], "honest"))[0])
        else:
            otp.request(evil, ["forge", 0])
            sig.caps[0].send(otp.encode({"ok": "honest"})[0])


def test_a_server_cant_answer_a_later_request_to_another_service(server, proc):  # noqa: F811
    server.run(_register_evil)
    with connect(server.url, secret=SECRET) as peer:
        honest = vm.spawn(_honest)
        honest.send(b"evil", [otp.lookup(peer.root, "evil")])
        evil = otp.lookup(peer.root, "evil")
        assert otp.request(evil, "keep") == "done"
        # The local service's answer is its own, not what the server put
        # into the reply capability it was handed before.
        assert otp.request(honest, "hello") == "honest"
        assert otp.request(honest, "again") == "honest"
    honest.kill()


def test_a_server_cant_answer_a_later_call_to_another_server(server, proc):  # noqa: F811
    server.run(_register_evil)
    with connect(server.url, secret=SECRET) as peer:
        honest = vm.spawn(_honest)
        honest.send(b"evil", [otp.lookup(peer.root, "evil")])
        evil = otp.lookup(peer.root, "evil")
        assert otp.call(evil, "keep") == "done"
        # `_honest` has the server forge replies for the tag it was called
        # with and the 63 after it.
        assert otp.call(honest, "hello") == "honest"
        assert otp.call(honest, "again") == "honest"
    honest.kill()


def test_a_server_cant_fill_a_clients_memory_through_a_reply_capability(server, proc):  # noqa: F811
    server.run(_register_evil)
    with connect(server.url, secret=SECRET) as peer:
        evil = otp.lookup(peer.root, "evil")
        assert otp.request(evil, "keep") == "done"
        assert otp.call(evil, "keep") == "done"
        # From another process of ours (with its own reply mailbox), ask
        # the server to flood every reply capability it kept: what it
        # sends before answering arrives before the answer.
        flooder = vm.spawn(lambda: otp.request(vm.recv().caps[0], ["flood", 2000]))
        flooder.send(b"evil", [otp.lookup(peer.root, "evil")])
        ref = flooder.monitor()
        down = vm.recv(timeout=20)
        assert type(down) is vm.Down and down.ref == ref and down.reason == "normal", down
        assert process_info(vm.current_process()).mailbox_depth == 0
