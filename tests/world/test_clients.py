"""Clients in the shared world, end to end: real ``hearth-client
--headless`` processes, each a peer of one real ``hearth-server`` over a
real socket, each running the mirror and an avatar (docs/world.md, "The
mirror", "Avatars"); what the world holds is read with the real
``hearth-ctl world --json``."""

import json
import signal

import gevent
import pytest

from tests.net.servers import Program
from tests.security.world_harness import SECRET, WorldServer

CLIENTS = 10
KILLED = 3


@pytest.fixture
def server(tmp_path):
    s = WorldServer(tmp_path)
    yield s
    s.stop()


def avatars(server):
    """The labels of the world's entities, by ``hearth-ctl world --json``."""
    code, out, err = server.ctl("world", "--json")
    assert code == 0, err
    return sorted(e["label"] for e in json.loads(out))


def wait_for_labels(server, expected, timeout):
    """Poll `hearth-ctl world --json` (bounded; each turn is a subprocess)
    until the world's labels are `expected`."""
    seen = None
    try:
        with gevent.Timeout(timeout):
            while True:
                seen = avatars(server)
                if seen == sorted(expected):
                    return
                gevent.sleep(0.2)
    except gevent.Timeout:
        raise AssertionError(f"the world is {seen}, not {sorted(expected)}") from None


def client(server, name):
    return Program("hearth.client", "--headless", "--server", server.url, "--name", name,
                   env={"HEARTH_SECRET": SECRET})


def test_ten_clients_see_each_other_and_the_killed_leave_nothing(server):
    names = [f"c{i}" for i in range(CLIENTS)]
    clients = {n: client(server, n) for n in names}
    try:
        # Every avatar is in the world, and every client's mirror holds all ten.
        wait_for_labels(server, names, timeout=25)
        for n, prog in clients.items():
            prog.wait_for(f"mirror: {CLIENTS} entities", timeout=10)
            assert f"avatar: '{n}' is entity" in "".join(prog.lines)
        # kill -9 three: their connections drop, their avatars go with them.
        marks = {n: len(p.lines) for n, p in clients.items()}
        for n in names[:KILLED]:
            clients[n].proc.send_signal(signal.SIGKILL)
        for n in names[:KILLED]:
            assert clients[n].proc.wait(timeout=10) == -signal.SIGKILL
        left = names[KILLED:]
        wait_for_labels(server, left, timeout=10)
        for n in left:
            clients[n].wait_for(f"mirror: {len(left)} entities", timeout=10, after=marks[n])
        # ... and nothing else moves: the world still holds exactly those seven.
        assert avatars(server) == sorted(left)
    finally:
        for prog in clients.values():
            prog.stop()
