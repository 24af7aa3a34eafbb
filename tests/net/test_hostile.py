"""Peers that misbehave: hand-written frames (rawpeer.py) that break the
protocol are dropped; the server and its other peers go on (rule N4), and
nothing the bad peer caused outlives it."""

import logging
import struct

import msgpack
import pytest
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth import otp, vm
from hearth.native import start_wasm_spawner
from hearth.net import MAX_FRAME, connect, listen
from hearth.net._wire import (
    CLOSED, EXIT, KILL, LINK, LUMP, LUMP_WANT, MSG, RELEASE, ROOT, pack,
)

from .conftest import SECRET
from .rawpeer import RawPeer

pytestmark = pytest.mark.hearth_timeout(120)


def _get(peer, name):
    """Ask the server's registry (the root) for `name`; its export id."""
    peer.request(peer.root, ["get", name])
    while True:
        for op in peer.recv():
            if op[0] == MSG:
                reply = msgpack.unpackb(op[2], raw=False)
                assert "ok" in reply, reply
                return op[3][0][0]


def _healthy(server):
    """A well-behaved peer still gets its echo."""
    with connect(server.url, secret=SECRET) as peer:
        echo = otp.lookup(peer.root, "echo")
        mb = vm.create_mailbox()
        echo.send(b"still there?", [mb.make_capability(vm.SEND)])
        assert mb.recv(timeout=10).data == b"echo:still there?"
        echo.release()
        mb.destroy()


def _all_gone(listener):
    """Wait (on each connection's end event) until the listener has no
    connection left: clients close first, the server notices after."""
    for conn in list(listener.connections):
        assert conn.wait(10), f"{conn} did not end"
    assert not listener.connections


def test_frames_before_authentication_are_refused(server, proc):
    raw = RawPeer(server.url, SECRET, authenticate=False)
    raw.recv_raw()  # the hello
    raw.send([(MSG, 1, b"let me in", [])])
    denied = msgpack.unpackb(raw.recv_raw(), raw=False)
    assert denied[0] == "denied" and "handshake" in denied[1]
    assert raw.closed_by_server() == ""
    _healthy(server)
    _all_gone(server.listener)


def test_naming_a_capability_never_exported_drops_the_peer(server, proc):
    raw = RawPeer(server.url, SECRET)
    raw.send([(MSG, 999, b"guess", [])])
    assert "never exported" in raw.closed_by_server()
    _healthy(server)
    _all_gone(server.listener)


def test_the_owner_enforces_permissions_a_forged_kill_is_refused(server, proc):
    def spawn_guarded(held):
        cap = vm.spawn(lambda: vm.recv(), name="guarded")
        otp.register(held["registry"], "guarded", cap.demote(vm.SEND))
        held["guarded"] = cap
        return True

    server.run(spawn_guarded)
    raw = RawPeer(server.url, SECRET)
    guarded = _get(raw, "guarded")
    raw.send([(KILL, guarded)])  # an honest peer's kernel would refuse this
    assert "does not allow" in raw.closed_by_server()
    assert server.run(lambda held: held["guarded"].monitor() and vm.try_recv() is None)


def test_a_lump_that_fails_its_hash_is_refused(server, proc):
    server.run(lambda held: start_wasm_spawner(held["registry"]) and True)
    raw = RawPeer(server.url, SECRET)
    spawner = _get(raw, "hearth.wasm.WasmProcessSpawner")
    lid = b"\x42" * 32
    raw.request(spawner, ["spawn", lid], reply_id=2)
    reply = None
    while reply is None:
        for op in raw.recv():
            if op[0] == LUMP_WANT:  # the server asks us: answer with junk
                assert op[2] == lid
                raw.send([(LUMP, op[1], lid, b"not what that hash names")])
            elif op[0] == MSG:
                reply = msgpack.unpackb(op[2], raw=False)
    assert reply["err"]["kind"] == "not_found"
    assert not server.rt.lumps.has(lid)
    raw.close()


def test_an_oversized_frame_is_refused_from_its_header(server, proc):
    raw = RawPeer(server.url, SECRET)
    # A binary frame header claiming MAX_FRAME + 1 bytes (masked, as a
    # client must); the payload never comes.
    header = bytes([0x82, 0x80 | 127]) + struct.pack(">Q", MAX_FRAME + 1) + b"\0\0\0\0"
    raw.ws.sock.sendall(header)
    assert "over the limit" in raw.closed_by_server()
    _healthy(server)


def test_text_frames_are_refused(server, proc):
    raw = RawPeer(server.url, SECRET)
    raw.ws.send("hello", opcode=websocket.ABNF.OPCODE_TEXT)
    assert "binary only" in raw.closed_by_server()


# -- the fuzzer ------------------------------------------------------------------------

ids = st.integers(min_value=-5, max_value=2**40)
descs = st.tuples(ids, st.integers(min_value=-2, max_value=20))
reasons = st.one_of(st.text(max_size=8), st.integers(-2**63, 2**63 - 1), st.none())
ops = st.one_of(
    st.tuples(st.just(MSG), ids, st.binary(max_size=16), st.lists(descs, max_size=3)),
    st.tuples(st.just(KILL), ids),
    st.tuples(st.just(EXIT), ids, descs, reasons),
    st.tuples(st.just(LINK), ids, descs),
    st.tuples(st.just(CLOSED), ids, reasons, st.booleans()),
    st.tuples(st.just(RELEASE), ids, st.integers(min_value=-3, max_value=5)),
    st.tuples(st.just(ROOT), st.one_of(st.none(), descs)),
    st.tuples(st.just(LUMP), ids, st.binary(min_size=32, max_size=32), st.none()),
    st.tuples(st.integers(min_value=12, max_value=300)),
    st.lists(st.integers(-2**63, 2**63 - 1), max_size=3).map(tuple),
)


def _frames():
    valid = st.lists(ops, min_size=1, max_size=4).map(pack)
    truncated = valid.flatmap(lambda f: st.integers(0, max(0, len(f) - 1)).map(lambda n: f[:n]))
    garbage = st.binary(min_size=1, max_size=64)
    return st.lists(st.one_of(valid, truncated, garbage), min_size=1, max_size=3)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(frames=_frames())
def test_fuzzed_frames_never_hurt_the_server_or_other_peers(server, proc, frames):
    processes = len(server.rt.processes())
    raw = RawPeer(server.url, SECRET)
    for frame in frames:
        try:
            raw.send_raw(frame)
        except (websocket.WebSocketException, OSError):
            break  # already dropped
    # Either the connection survived (the probe's answer comes back), or
    # the server dropped it: in both cases the server goes on.
    try:
        raw.request(raw.root, ["get", "echo"])
        while True:
            got = raw.recv()
            if got is None or any(op[0] == MSG for op in got):
                break
    except (websocket.WebSocketException, OSError):
        pass
    raw.close()
    _healthy(server)
    # Nothing leaks: the raw peer's connection (dropped, or closed by it
    # now) and the healthy one both end, and their tables go with them;
    # the server runs the same processes as before.
    _all_gone(server.listener)
    assert len(server.rt.processes()) == processes


# -- back-pressure ----------------------------------------------------------------------


def dropped_reason(caplog):
    return " ".join(r.getMessage() for r in caplog.records if "gone" in r.getMessage())


def test_a_peer_that_stops_reading_is_dropped_when_its_queue_is_full(server, proc, caplog):
    caplog.set_level(logging.INFO, logger="hearth.net")
    limit = 1 << 20

    def small_listener(held):
        lst = listen("127.0.0.1:0", secret=SECRET, root=held["registry"], max_outbox=limit)
        held["small"] = lst
        return lst.url

    url = server.run(small_listener)
    raw = RawPeer(url, SECRET)
    echo = _get(raw, "echo")
    blob = b"x" * 65536
    sent = 0
    try:
        # The echo answers every message; we never read a reply. The
        # server queues them for us until the limit, then drops us.
        for _ in range(400):
            raw.send([(MSG, echo, blob, [(1, 1)])])
            sent += 1
    except (websocket.WebSocketException, OSError):
        pass
    small = server.run(lambda held: held["small"])
    (conn,) = small.connections or [None]
    if conn is not None:
        assert conn.wait(10)
    # Its writer was blocked on us: the socket is simply cut.
    raw.closed_by_server()
    assert sent < 400 or conn is not None
    assert not small.connections
    assert "not reading" in (conn.reason if conn is not None else dropped_reason(caplog))
    _healthy(server)
