"""A server can't take the keyboard of a client that connects to it.

The client hands its server ``hearth.Window`` (it is in CLIENT_EXPORTS:
the server's processes draw and read input through it). Keyboard focus
would let the server read everything the user types into the client's
terminals, so the window refuses ``focus``/``unfocus`` sent for a peer
(a message stamped with a peer's account), and a holder that is a
peer's route. A real server runtime, a real connection, the client's
real window under Xvfb; the refusal is checked from the server's side and
the keyboard is checked to still reach the client's own subscriber."""

import pygame

from hearth import otp, vm
from hearth.native._service import PERMISSION_DENIED, request
from hearth.net import connect
from hearth.otp import ServiceError, decode
from tests.client.conftest import client, xvfb  # noqa: F401 - fixtures
from tests.net.conftest import SECRET, Side, _server_setup


def _try_focus(held, op):
    """On the server: ask the client's window for the keyboard, for a
    mailbox of the server's own."""
    window = otp.lookup(held["registry"], "client.window")
    mb = vm.create_mailbox()
    held.setdefault("mailboxes", []).append(mb)
    try:
        request(window, [op, mb.make_capability(vm.SEND | vm.MONITOR)], timeout=10)
    except ServiceError as e:
        return e.kind, e.message
    return "granted", None


def test_a_server_cant_take_or_give_back_the_clients_keyboard(client):  # noqa: F811
    mine = vm.create_mailbox()
    assert request(client.window, ["subscribe", mine.make_capability(vm.SEND | vm.MONITOR)])
    server = Side(vm.Runtime(), _server_setup)
    try:
        with connect(server.info.url, secret=SECRET) as peer:
            otp.register(peer.root, "client.window", client.window)
            for op in ("focus", "unfocus"):
                kind, message = server.run(_try_focus, op)
                assert kind == PERMISSION_DENIED, (op, kind)
                assert "peer" in message
            assert request(client.window, "focus_holder") is False
            # The user's keys still reach the client's own subscriber.
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_p, mod=0,
                                                 scancode=0, unicode="p"))
            for _ in range(10_000):  # redraws come every frame; skip them
                sig = mine.recv(timeout=5)
                assert sig is not None
                if decode(sig.data)["event"] == "keyboard_input":
                    break
            else:
                raise AssertionError("the key never came")
            pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_p, mod=0,
                                                 scancode=0, unicode="p"))
    finally:
        server.stop()
        server.rt.shutdown(timeout=5)
    assert not server.rt.crashes
