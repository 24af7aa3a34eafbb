"""A hostile server against a real ``hearth-client``'s connection.

The client's uplink (linked to its boot process) lists the server's
services once connected. Before, a registry answer that was not a list of
names raised in the uplink, and the client stopped. Here the server is a
runtime of its own whose root is a fake registry, over a real loopback
connection; the client is a real headless ``hearth-client``.
"""

from hearth import vm
from hearth.net import listen
from hearth.otp import decode, encode
from hearth.vm import Message
from tests.net.conftest import SECRET, Side
from tests.net.servers import Program


def _fake_registry():
    """Answers ``list`` with 42 and anything else with nil."""
    while True:
        sig = vm.recv()
        if type(sig) is not Message or not sig.caps:
            continue
        term = decode(sig.data, sig.caps)
        answer = 42 if type(term) is dict and term.get("op") == "list" else None
        sig.caps[0].send(encode({"ok": answer})[0])


def _setup(held):
    root = vm.spawn(_fake_registry, name="fake registry")
    held["root"] = root
    held["listener"] = lst = listen("127.0.0.1:0", secret=SECRET, root=root)
    return lst


def test_a_client_outlives_a_server_whose_registry_answers_nonsense(proc):
    server = Side(vm.Runtime(), _setup)
    client = None
    try:
        client = Program("hearth.client", "--headless", "--no-ipc", "--server",
                         server.info.url, env={"HEARTH_SECRET": SECRET.decode()})
        line = client.wait_for(f"connected to {server.info.url}", timeout=60)
        assert "its services could not be listed: invalid_reply: list replied 42" in line, line
        assert client.proc.poll() is None, "".join(client.lines)
    finally:
        if client is not None:
            assert client.stop() == 0, "".join(client.lines[-40:])
        server.stop()
        server.rt.shutdown(timeout=5)
    assert not server.rt.crashes
