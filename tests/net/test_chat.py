"""The bundled chat room (kindling/root/init/chat) across the network:
clients join from their own runtimes, posts fan out to all of them, and a
member whose connection is lost is dropped by the room's monitor."""

import os

import msgpack

from hearth import otp, vm
from hearth.native import request, start_guest_service
from hearth.net import connect

from .conftest import SECRET

CHAT = os.path.join(os.path.dirname(__import__("kindling").__file__),
                    "root", "init", "chat", "chat.wasm")


def _start_chat(held):
    # As init starts it: the guest behind its front, with a registry view
    # (no world in this one: the room serves without a board).
    with open(CHAT, "rb") as f:
        lump = vm.current_runtime().lumps.put(f.read())
    view = otp.registry_view(held["registry"], read_only=True, names=["hearth.World"])
    svc = start_guest_service(lump, view, name="chat")
    view.release()
    otp.register(held["registry"], "chat", svc.cap.demote(vm.SEND | vm.MONITOR))
    held["chat"] = svc.front
    return True


def test_chat_members_on_two_clients_get_every_post_and_a_lost_one_is_dropped(
        server, clients, proc):
    server.run(_start_chat)
    b = clients.client()

    def b_joins(held):
        chat = otp.lookup(held["peer"].root, "chat")
        box = vm.create_mailbox()
        held["box"] = box
        return request(chat, "join", args=[box.make_capability(vm.SEND | vm.MONITOR)])

    def b_reads(held):
        return msgpack.unpackb(held["box"].recv(timeout=10).data)

    with connect(server.url, secret=SECRET) as peer:
        chat = otp.lookup(peer.root, "chat")
        mine = vm.create_mailbox()
        assert request(chat, "join", args=[mine.make_capability(vm.SEND | vm.MONITOR)]) == 1
        assert b.run(b_joins) == 2
        assert request(chat, ["post", "hello all", "a"]) == 2
        assert msgpack.unpackb(mine.recv(timeout=10).data) == {"from": "a", "text": "hello all"}
        assert b.run(b_reads) == {"from": "a", "text": "hello all"}
        # B's connection is lost: the room's monitor on B's member fires
        # noconnection and the room drops it. (B connected first, so its
        # connection on the server is the older one.)
        b_conn = min(server.listener.connections, key=lambda c: int(c.name.rsplit("#")[1]))
        b.run(lambda held: held["peer"].close())
        assert b_conn.wait(10)
        # The room's Down was queued when the server closed B's connection,
        # before this request arrived.
        assert request(chat, "members") == 1
