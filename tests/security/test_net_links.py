"""A peer can't act as the server's own processes: the sender of every
LINK, UNLINK, LINK_EXIT and EXIT it sends is one of its own processes,
never one of the server's exports (a negative id). Refused before anything
happens, with a message the peer reads before it is dropped."""

import pytest

from hearth.net._wire import EXIT, LINK, LINK_EXIT, UNLINK

from tests.security.net_helpers import get, pids, raw_peer, spawn_counter, wait_gone

pytestmark = pytest.mark.hearth_timeout(90)


def test_a_link_whose_sender_is_the_servers_clock_is_refused(hearth_server, proc):
    base = hearth_server.snapshot()
    raw = raw_peer(hearth_server)
    clock, perms = get(raw, "clock")
    assert perms == 3  # SEND | MONITOR only
    guest, _ = spawn_counter(hearth_server, raw)  # all permissions: LINK too
    before = hearth_server.snapshot()
    (guest_pid,) = pids(before) - pids(base)
    # "clock links itself to my guest": the forged sender is clock's export.
    raw.send([(LINK, guest, (-clock, 0))])
    message = raw.closed_by_server()
    assert "LINK names a process of this side as its sender" in message
    assert "a peer acts only for itself" in message
    # No link was made: the guest dies with the peer's connection (reason
    # ("shutdown", "noconnection"), which would take a linked clock with it),
    # and clock keeps its pid.
    wait_gone(hearth_server, guest_pid)
    hearth_server.assert_unchanged(before, ignore_pids=[guest_pid])


@pytest.mark.parametrize("op", [LINK_EXIT, UNLINK, EXIT])
def test_other_link_operations_with_a_forged_sender_are_refused(hearth_server, proc, op):
    before = hearth_server.snapshot()
    raw = raw_peer(hearth_server)
    clock, _ = get(raw, "clock")
    chat, _ = get(raw, "chat")
    # Without any permission, LINK_EXIT used to cut the link between two
    # server processes (here: "chat, linked to clock, died normally").
    frame = {LINK_EXIT: (LINK_EXIT, clock, (-chat, 0), "normal"),
             UNLINK: (UNLINK, clock, (-chat, 0)),
             EXIT: (EXIT, clock, (-chat, 0), "kill")}[op]
    raw.send([frame])
    name = {LINK_EXIT: "LINK_EXIT", UNLINK: "UNLINK", EXIT: "EXIT"}[op]
    assert f"{name} names a process of this side as its sender" in raw.closed_by_server()
    hearth_server.assert_unchanged(before)


def test_a_link_from_the_peers_own_process_still_works(hearth_server, proc):
    """The check refuses forged senders only: a peer's own process (a
    positive id, its export) links to a guest it spawned, and hears the
    guest's death."""
    from hearth.net._wire import LINK_EXIT as LX

    raw = raw_peer(hearth_server)
    guest, _ = spawn_counter(hearth_server, raw)
    raw.send([(LINK, guest, (7, 0))])  # our export 7: one of our processes
    raw.send([(EXIT, guest, (7, 0), "kill")])
    got = None
    while got is None:
        ops = raw.recv()
        assert ops is not None, "dropped"
        for op in ops:
            if op[0] == LX and op[1] == 7:
                got = op
    assert got[3] == "killed"
    raw.close()
