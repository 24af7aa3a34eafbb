"""The chat room's members against an untrusted peer, end to end (a real
hearth-server with the bundled room, real WebSocket peers).

Before: ``join`` kept every member a peer named, any number of them and
any route, so one connection could make the room hold thousands of
capabilities and monitors and send every post (anyone's, the operator's
too) that many times, or point the room's posts at a service the server
had handed it.
"""

import pytest

from hearth import otp
from hearth.otp import ServiceError
from hearth.vm import MONITOR, SEND
from tests.net.conftest import wait_until
from tests.security.world_harness import WorldServer


@pytest.fixture
def server(tmp_path):
    s = WorldServer(tmp_path, chat=True)
    yield s
    assert s.stop() == 0, "".join(s.program.lines[-40:])


def test_a_peer_joins_the_room_with_a_few_members_of_its_own(server, proc):
    with server.peer() as greedy, server.peer() as other:
        chat = otp.lookup(greedy.root, "chat")
        boxes = [proc.create_mailbox() for _ in range(64)]
        joined, refusal = 0, None
        for box in boxes:
            try:
                joined = otp.request(chat, "join", [box.make_capability(SEND | MONITOR)])
            except ServiceError as e:
                refusal = e
                break
        assert refusal is not None, f"the room took {joined} members from one connection"
        assert refusal.kind == "limit_reached"
        assert refusal.message == "a connection joins at most 4 members"
        assert otp.request(chat, "members") == 4
        # A route the server handed the peer is not the peer's to enrol.
        clock = otp.lookup(other.root, "clock")
        with pytest.raises(ServiceError) as e:
            otp.request(otp.lookup(other.root, "chat"), "join", [clock])
        assert e.value.kind == "invalid_request"
        assert "the member, caps[1], must be a route of your own" in e.value.message
        # Another connection still joins, and a member that leaves frees its place.
        mine = proc.create_mailbox().make_capability(SEND | MONITOR)
        assert otp.request(otp.lookup(other.root, "chat"), "join", [mine]) == 5
        assert otp.request(chat, "leave", [boxes[0].make_capability(SEND | MONITOR)]) is True
        assert otp.request(chat, "join", [boxes[10].make_capability(SEND | MONITOR)]) == 5
    # The greedy connection's members go with it.
    with server.operator() as op:
        chat = otp.lookup(op.root, "chat")
        wait_until(lambda: otp.request(chat, "members") == 0, timeout=20,
                   what="the members of closed connections dropped")
