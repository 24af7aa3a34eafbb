"""A peer acts only for itself, in requests too: the reply capability of a
request it sends, and any owner or subscriber it names, must be routes of
its own (its exports, or its guests' mailboxes), never a capability the
server handed it. Otherwise a peer could make the server's services hold
things on behalf of the server's own processes (timers owned by ``clock``,
world entities no peer is charged for, replies piling up in a service's
mailbox) that outlive the peer and escape its bounds."""

import pytest

from hearth import otp, vm, world
from hearth.native import request
from hearth.otp import ServiceError

from tests.net.conftest import wait_until

pytestmark = pytest.mark.hearth_timeout(120)


def _mesh(proc):
    return bytes(proc.runtime.lumps.put(b"a mesh that is only bytes"))


def test_a_timer_owned_by_a_server_process_is_refused(hearth_server, attacker):
    before = hearth_server.snapshot()
    clock = otp.lookup(attacker.root, "clock")
    factory = otp.lookup(attacker.root, "hearth.TimerFactory")
    with pytest.raises(ServiceError) as refused:
        request(factory, "new", [clock])
    assert refused.value.kind == "invalid_request"
    assert "must be a route of your own" in refused.value.message
    # Its own capability as the owner is fine.
    mine = vm.make_capability(vm.SEND | vm.MONITOR)
    timer = request(factory, "new", [mine])
    timer.kill()
    hearth_server.assert_unchanged(before)


def test_a_request_whose_reply_goes_to_a_server_process_gets_no_answer(hearth_server, attacker,
                                                                       proc):
    """The forged add of the review: caps [clock, clock] to the world, so
    the reply and the ownership were clock's, and the entity stayed after
    the peer left, charged to nobody."""
    clock = otp.lookup(attacker.root, "clock")
    public = otp.lookup(attacker.root, "hearth.World")
    data, caps = otp.encode(["add", {"mesh": _mesh(proc)}], [clock, clock])
    for _ in range(5):
        public.send(data, caps)
    # The world says nothing to clock and adds nothing; an honest add
    # right after is answered, so the forged ones were handled before it.
    mine = vm.make_capability(vm.SEND | vm.MONITOR)
    mesh = _mesh(proc)
    entity_id, _ = world.add(public, mine, mesh)
    # (The bundled chat room keeps a board of its own, of another mesh.)
    assert [e["id"] for e in world.list_entities(public) if e["mesh"] == mesh] == [entity_id]


def test_a_world_subscriber_must_be_the_peers_own(hearth_server, attacker):
    clock = otp.lookup(attacker.root, "clock")
    public = otp.lookup(attacker.root, "hearth.World")
    with pytest.raises(ServiceError) as refused:
        world.subscribe(public, clock)
    assert "must be a route of your own" in refused.value.message


def test_a_peer_s_timers_are_bounded(hearth_server, attacker):
    factory = otp.lookup(attacker.root, "hearth.TimerFactory")
    mine = vm.make_capability(vm.SEND | vm.MONITOR)
    timers = []
    with pytest.raises(ServiceError) as refused:
        for _ in range(10_000):
            timers.append(request(factory, "new", [mine]))
    assert refused.value.kind == "quota_exceeded"
    assert len(timers) == 256
    for timer in timers:
        timer.kill()


def test_a_peer_s_pending_sleeps_are_bounded(hearth_server, attacker, proc):
    sleep = otp.lookup(attacker.root, "hearth.Sleep")
    box = vm.create_mailbox()
    reply = box.make_capability(vm.SEND)
    data, _ = otp.encode(1e9)
    for _ in range(1100):
        sleep.send(data, [reply])
    answers = [box.recv(timeout=30) for _ in range(1100 - 1024)]
    for msg in answers:
        term = otp.decode(msg.data)
        assert term["err"]["kind"] == "quota_exceeded", term
    box.destroy()
