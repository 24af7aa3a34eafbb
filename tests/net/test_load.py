"""Many peers at once: 100 clients connected together, each doing
request/response through the server; no message is lost."""

import pytest
from gevent.event import AsyncResult

from hearth import otp, vm
from hearth.net import connect

from .conftest import SECRET

pytestmark = pytest.mark.hearth_timeout(120)

CLIENTS = 100
ROUNDS = 20


def _client(url, index, all_connected, results):
    peer = connect(url, secret=SECRET, timeout=30)
    echo = otp.lookup(peer.root, "echo")
    results.append(peer)
    if len(results) == CLIENTS:
        all_connected.set(True)
    all_connected.get()  # every client is connected before any sends
    mb = vm.create_mailbox()
    reply = mb.make_capability(vm.SEND)
    got = []
    for i in range(ROUNDS):
        echo.send(b"%d:%d" % (index, i), [reply])
        got.append(mb.recv(timeout=30).data)
    peer.close()
    vm.exit(("done", got))


def test_a_hundred_clients_at_once_lose_no_message(server, proc):
    all_connected = AsyncResult()
    peers = []
    refs = {}
    for i in range(CLIENTS):
        _, ref = vm.spawn_monitor(_client, server.url, i, all_connected, peers)
        refs[ref] = i
    assert all_connected.get(timeout=60)
    assert len(server.listener.connections) == CLIENTS
    for _ in range(CLIENTS):
        down = vm.recv(timeout=60)
        i = refs.pop(down.ref)
        tag, got = down.reason
        assert tag == "done"
        assert list(got) == [b"echo:%d:%d" % (i, n) for n in range(ROUNDS)]
    assert not refs
    for conn in list(server.listener.connections):
        assert conn.wait(10)
    assert not server.listener.connections


def test_a_sender_that_never_yields_is_batched_not_dropped(server, proc):
    """A tight loop of sends queues more than fits one frame: the writer
    splits it into frames, and the connection is not mistaken for a peer
    that stopped reading."""
    from hearth.net._connection import FRAME_OPS

    n = 5 * FRAME_OPS + 7
    with connect(server.url, secret=SECRET, max_outbox=64 * 1024) as peer:
        def start_counter(held):
            def count(total):
                got = 0
                while got < total:
                    m = vm.recv()
                    got += 1
                report = m.caps[0]
                report.send(b"%d" % got)

            cap = vm.spawn(count, n, name="counter")
            otp.register(held["registry"], "counter", cap)
            return True

        server.run(start_counter)
        counter = otp.lookup(peer.root, "counter")
        reply = vm.make_capability(vm.SEND)
        frames_before = peer.connection.frames_out
        for _ in range(n - 1):
            counter.send(b"x" * 32)  # no yield: all of it queues at once
        counter.send(b"last", [reply])
        assert vm.recv(timeout=30).data == b"%d" % n
        assert not peer.closed
        assert peer.connection.frames_out - frames_before >= n // FRAME_OPS


def test_a_message_too_big_for_the_network_is_refused_at_the_sender(server, proc):
    from hearth.net._connection import MAX_MESSAGE

    with connect(server.url, secret=SECRET) as peer:
        echo = otp.lookup(peer.root, "echo")
        with pytest.raises(vm.PayloadError, match="too big for the network"):
            echo.send(bytes(MAX_MESSAGE + 1))
        assert not peer.closed
