"""The bundled chat room against untrusted peers, end to end: a real
hearth-server on a copy of the bundled root, real WebSocket peers, the
real ``hearth-ctl chat`` (kindling/root/init/chat, docs/world.md "The chat
board").

A peer's posts carry the name its connection posts as (it can't post as
another connection, nor change names), are bounded in length and rate,
and the room keeps a bounded log; its board in the world is repainted as
people post.
"""

import json

import pytest

from hearth import otp, vm, world
from hearth.otp import ServiceError
from hearth.vm import MONITOR, SEND
from hearth.world import WORLD
from tests.net.conftest import wait_until
from tests.security.world_harness import serve_world


@pytest.fixture
def server(tmp_path):
    yield from serve_world(tmp_path, chat=True)


def chat_of(peer):
    return otp.lookup(peer.root, "chat")


def refused(chat, term):
    with pytest.raises(ServiceError) as e:
        otp.request(chat, term)
    return e.value


def test_a_peer_posts_only_as_its_own_connections_name(server, proc):
    with server.peer() as a, server.peer() as b:
        chat_a, chat_b = chat_of(a), chat_of(b)
        box = proc.create_mailbox()
        otp.request(chat_b, "join", [box.make_capability(SEND | MONITOR)])
        otp.request(chat_a, ["post", "hello", "alice"])
        assert otp.decode(box.recv(timeout=10).data) == {"from": "alice", "text": "hello"}
        # A can't change its name; B can't take A's.
        e = refused(chat_a, ["post", "it's bob", "bob"])
        assert e.kind == "permission_denied"
        assert "this connection posts as 'alice'; it can't post as 'bob'" in e.message
        e = refused(chat_b, ["post", "I am alice", "alice"])
        assert e.kind == "permission_denied" and "'alice' is taken by another connection" in \
            e.message
        # Without a name a post carries A's bound name, or B's connection's.
        otp.request(chat_a, ["post", "again"])
        otp.request(chat_b, {"op": "post", "text": "who am I"})
        lines = otp.request(chat_b, "log")
        assert lines[0] == {"from": "alice", "text": "hello"}
        assert lines[1] == {"from": "alice", "text": "again"}
        assert lines[2]["from"].startswith("peer #") and lines[2]["text"] == "who am I"
        e = refused(chat_b, ["post", "x", "  spaced  "])
        assert e.kind == "invalid_request" and "a name is 1 to 32 printable" in e.message
        e = refused(chat_b, ["post", "x", lines[2]["from"].replace("#", "# ")])
        assert e.kind == "permission_denied" and "names starting with 'peer '" in e.message
    # A's connection is gone: its name is free again.
    with server.peer() as c:
        otp.request(chat_of(c), ["post", "I am alice now", "alice"])
    code, out, err = server.ctl("chat", "log", "--json")
    assert code == 0, err
    assert json.loads(out)[-1] == {"from": "alice", "text": "I am alice now"}


def test_a_peer_cannot_flood_the_room_or_its_board(server, proc):
    with server.peer() as greedy, server.peer() as other:
        chat = chat_of(greedy)
        e = refused(chat, ["post", "x" * 501, "greedy"])
        assert e.kind == "limit_reached" and "at most 500 characters" in e.message
        for i in range(5):
            otp.request(chat, ["post", f"spam {i}", "greedy"])
        e = refused(chat, ["post", "spam 5", "greedy"])
        assert e.kind == "limit_reached"
        assert "a connection posts at most 1 a second (5 at once): try again in" in e.message
        # Another connection is not held back.
        otp.request(chat_of(other), ["post", "still here", "other"])
        assert otp.request(chat_of(other), "log")[-1] == {"from": "other", "text": "still here"}
    # The operator is not bounded by a peer's rate; the log keeps 100 lines.
    code, out, err = server.ctl("chat", "say", "from the operator's tool", "--as", "op")
    assert code == 0 and "posted as op" in out, err
    with server.operator() as op:
        chat = otp.lookup(op.root, "chat")
        for i in range(120):
            otp.request(chat, ["post", f"line {i}", "op"])
        lines = otp.request(chat, "log")
        assert len(lines) == 100 and lines[-1] == {"from": "op", "text": "line 119"}


def test_the_board_in_the_world_is_repainted_as_people_post(server, proc):
    with server.peer() as peer:
        pub = otp.lookup(peer.root, WORLD)

        def board():
            return [e for e in world.list_entities(pub) if e["label"] == "chat"]

        wait_until(lambda: len(board()) == 1 and board()[0]["material"] is not None,
                   timeout=20, what="the chat board, painted, in the world")
        before = board()[0]["material"]
        otp.request(chat_of(peer), ["post", "look at the board", "painter"])
        wait_until(lambda: board()[0]["material"] != before, timeout=20,
                   what="the board repainted")
        # Its pixels are a lump of the server's that a peer can fetch.
        material = board()[0]["material"]
        assert vm.current_runtime().fetch_lump(material, timeout=30)
        # The board is the room's: a peer can't change it (no capability),
        # and an owner on the peer's side can't be the world's own.
        e = refused(pub, ["update", board()[0]["id"], {"label": "mine"}])
        assert e.kind == "invalid_request" and "unknown op 'update'" in e.message
        world.add(pub, vm.make_capability(MONITOR), bytes(32), label="chat")  # a look-alike
        assert len(board()) == 2 and len({e["owner"] for e in board()}) == 2
