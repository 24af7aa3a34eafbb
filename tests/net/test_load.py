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
