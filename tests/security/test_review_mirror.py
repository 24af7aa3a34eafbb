"""A hostile server against a client's mirror of the world.

Every client mirrors the server's ``hearth.World`` (`hearth.world.run_mirror`,
linked to the client's boot process): it subscribes and applies the events
the server sends. Before, the mirror believed them whole: an event whose
entity was not a map raised in the mirror (which took the client down with
it, through the link), and the server could make it keep any number of
entities (a renderer object and two label texts each, in a real client).
Here the server is a runtime of its own with a fake ``hearth.World``,
over a real loopback connection; the mirror runs in the test's runtime as
the client runs it.
"""

import logging

from hearth import otp, vm, world
from hearth.net import connect
from hearth.otp import decode, encode
from hearth.vm import Message
from hearth.world import Limits
from tests.net.conftest import SECRET, Side, _server_setup, wait_until
from tests.net.servers import Program

CAP = Limits().entities  # what a real world holds at most
FLOOD = CAP + 1000


def _entity(i):
    return {"id": i, "owner": "x", "transform": [1.0] * 16, "mesh": bytes(32),
            "material": None, "label": None, "persistent": False}


def _fake_world():
    """Answers ``subscribe`` with seq 1, then sends its subscriber a
    ``world`` event of `FLOOD` entities (and two that are not maps),
    malformed events, `FLOOD` more ``added`` ones and an ``updated`` of
    entity 0 labelled "the end". Anything else, a second subscribe too, is
    answered with what a world never answers."""
    subscribed = []
    while True:
        sig = vm.recv()
        if type(sig) is not Message or not sig.caps:
            continue
        term = decode(sig.data, sig.caps)
        if term != "subscribe":
            sig.caps[0].send(encode({"ok": None})[0])
            continue
        sub = sig.caps[1]
        if subscribed:  # a second subscription gets no door of a reply
            sig.caps[0].send(encode({"ok": "no seq"})[0])
            continue
        subscribed.append(sub)
        sig.caps[0].send(encode({"ok": {"seq": 1}})[0])
        sub.send(encode({"event": "world", "seq": 1,
                         "entities": [_entity(i) for i in range(FLOOD)] + [7, "x"]})[0])
        seq = 2
        for bad in (5, {"no": "id"}, {"id": (1, 2)}, None):
            sub.send(encode({"event": "added", "seq": seq, "entity": bad})[0])
            seq += 1
        for bad in ({"event": "removed", "seq": seq}, {"event": "removed", "seq": seq + 1,
                                                         "id": {"a": 1}}):
            sub.send(encode(bad)[0])
        seq += 2
        sub.send(encode({"event": "added", "seq": "x", "entity": _entity(1)})[0])
        for i in range(FLOOD, 2 * FLOOD):
            sub.send(encode({"event": "added", "seq": seq, "entity": _entity(i)})[0])
            seq += 1
        last = dict(_entity(0), label="the end")  # applied last: all before it were
        sub.send(encode({"event": "updated", "seq": seq, "entity": last})[0])
        # A gap: the mirror subscribes again, and gets no seq this time.
        sub.send(encode({"event": "updated", "seq": seq + 5, "entity": last})[0])


def _register(held):
    otp.register(held["registry"], world.WORLD, vm.spawn(_fake_world, name="fake world"))


class Counting:
    """A view that counts what the mirror shows."""

    def __init__(self):
        self.shown = set()
        self.ended = False

    def add(self, entity):
        self.shown.add(entity["id"])

    def update(self, entity):
        self.ended = self.ended or entity["label"] == "the end"

    def remove(self, entity):
        self.shown.discard(entity["id"])

    def hide(self, eid):
        pass


def test_a_server_cant_crash_or_fill_a_clients_mirror(caplog, proc):
    caplog.set_level(logging.WARNING, logger="hearth.world")
    server = Side(vm.Runtime(), _server_setup)
    try:
        server.run(_register)
        with connect(server.info.url, secret=SECRET) as peer:
            view = Counting()
            # The mirror finds the server's world in its first message.
            mirror = vm.spawn(world.run_mirror, lambda: vm.recv().caps[0], view)
            mirror.send(b"world", [otp.lookup(peer.root, world.WORLD)])
            ref = mirror.monitor()
            died = []

            def settled():
                sig = vm.try_recv()
                if sig is not None:
                    died.append(sig)
                return bool(died) or view.ended

            wait_until(settled, timeout=30, what="the server's last event shown")
            assert not died, f"the mirror died: {died[0]}"
            assert len(view.shown) <= CAP, f"the mirror keeps {len(view.shown)} entities"
            assert any(f"at most {CAP} entities" in r.getMessage() for r in caplog.records)
            assert any("not an entity" in r.getMessage() for r in caplog.records)
            mirror.kill()
            down = vm.recv(timeout=10)
            assert type(down) is vm.Down and down.ref == ref
    finally:
        server.stop()
        server.rt.shutdown(timeout=5)
    assert not server.rt.crashes


def test_a_real_client_outlives_a_hostile_servers_world(proc):
    """A headless ``hearth-client`` of that server: its mirror takes the
    flood, its avatar gets a reply to ``add`` that is no door, and it keeps
    running (both processes are linked to the client's boot)."""
    server = Side(vm.Runtime(), _server_setup)
    client = None
    try:
        server.run(_register)
        client = Program("hearth.client", "--headless", "--no-ipc", "--server",
                         server.info.url, env={"HEARTH_SECRET": SECRET.decode()})
        client.wait_for(f"mirror: {CAP} entities", timeout=60)
        client.wait_for("the world refused", timeout=60)  # the avatar, told why
        client.wait_for("could not subscribe to the world: invalid_reply", timeout=60)
        assert client.proc.poll() is None, "".join(client.lines)
    finally:
        if client is not None:
            assert client.stop() == 0, "".join(client.lines[-40:])
        server.stop()
        server.rt.shutdown(timeout=5)
