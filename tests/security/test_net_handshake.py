"""Before a peer is authenticated it costs the server little and not for
long: handshake frames are tiny (refused from their header), the upgrade
and handshake have a deadline, a ceiling holds the connections in the
handshake, and the failure throttle slows only failures — never a client
that knows the secret, never the IPC socket's owner."""

import socket
import struct
import subprocess
import sys
import time

import msgpack
import pytest

from hearth import otp
from hearth.net import connect
from hearth.net._auth import MAX_HANDSHAKE_FRAME, Throttle

from tests.security.conftest import SECRET
from tests.security.net_helpers import NetServer, raw_peer, rss

pytestmark = pytest.mark.hearth_timeout(120)


def _denied(raw):
    answer = msgpack.unpackb(raw.recv_raw(), raw=False)
    assert answer[0] == "denied", answer
    return answer[1]


def test_a_64_mib_frame_before_authentication_is_refused_from_its_header(hearth_server, proc):
    before = hearth_server.snapshot()
    memory = rss(hearth_server.pid)
    raw = raw_peer(hearth_server, authenticate=False)
    raw.recv_raw()  # the hello
    # A binary frame claiming 64 MiB (masked, as a client must); then the
    # start of a payload of empty maps.
    header = bytes([0x82, 0x80 | 127]) + struct.pack(">Q", 64 << 20) + b"\0\0\0\0"
    raw.ws.sock.sendall(header + b"\xdd\x04\x00\x00\x00" + b"\x80" * 65536)
    message = _denied(raw)
    assert message == (f"frame of {64 << 20} bytes is over the limit of {MAX_HANDSHAKE_FRAME}")
    assert raw.closed_by_server() == ""
    assert rss(hearth_server.pid) - memory < 16 << 20
    hearth_server.assert_unchanged(before)


def test_a_small_handshake_frame_of_empty_maps_is_just_a_wrong_answer(hearth_server, proc):
    raw = raw_peer(hearth_server, authenticate=False)
    raw.recv_raw()
    raw.send_raw(b"\xdc\x03\x00" + b"\x80" * 768)
    assert "not a Hearth handshake" in _denied(raw)


def _half_open(url, n):
    host, port = url.split("//")[1].strip("/").split(":")
    socks = []
    for _ in range(n):
        s = socket.socket()  # an IP literal: no name lookup (no thread pool)
        s.connect((host, int(port)))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")  # never ends
        socks.append(s)
    return socks


def _closed(sock, timeout):
    """True if the server closes `sock` within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_half_sent_upgrades_are_closed_by_the_deadline_and_others_get_in(tmp_path, proc):
    server = NetServer(tmp_path, {"HANDSHAKE_TIMEOUT": 3.0})
    try:
        t0 = time.monotonic()
        socks = _half_open(server.url, 300)
        # Meanwhile a client that knows the secret gets in at once.
        with connect(server.url, secret=SECRET) as peer:
            assert "clock" in otp.registered(peer.root)
        assert time.monotonic() - t0 < 2.5
        # Every half-open connection is closed by the deadline (not before:
        # the last one opened is still open now).
        assert not _closed(socks[-1], 0.1)
        for s in socks:
            assert _closed(s, 10), "a half-open connection outlived the deadline"
        assert time.monotonic() - t0 >= 3.0
        for s in socks:
            s.close()
        with connect(server.url, secret=SECRET):
            pass
    finally:
        assert server.stop() == 0


def test_past_the_ceiling_per_address_the_oldest_handshake_is_closed(tmp_path, proc):
    server = NetServer(tmp_path, {"HANDSHAKE_TIMEOUT": 60.0, "MAX_HANDSHAKES_PER_ADDRESS": 50})
    try:
        socks = _half_open(server.url, 80)
        # The first 30 were pushed out by the next ones, long before any deadline.
        for s in socks[:30]:
            assert _closed(s, 10)
        # A client that answers promptly still gets in (it pushes out the oldest).
        with connect(server.url, secret=SECRET, timeout=5) as peer:
            assert peer.root is not None
        assert _closed(socks[30], 10)
        assert not _closed(socks[-1], 0.1)
        for s in socks:
            s.close()
    finally:
        assert server.stop() == 0


def test_failures_slow_down_only_failures_and_never_overflow(hearth_server, proc):
    from hearth.net import AuthError

    for _ in range(4):  # answered after 0, 0.1, 0.2 and 0.4 s
        with pytest.raises(AuthError, match="wrong secret"):
            connect(hearth_server.url, secret="a guess")
    # The next failure from this address waits 0.8 s; a client with the
    # secret, from the same address, does not wait at all.
    t0 = time.monotonic()
    with connect(hearth_server.url, secret=SECRET) as peer:
        assert peer.root is not None
    assert time.monotonic() - t0 < 0.6
    t0 = time.monotonic()
    with pytest.raises(AuthError, match="wrong secret"):
        connect(hearth_server.url, secret="a guess")
    assert time.monotonic() - t0 >= 0.8


def test_the_throttle_has_a_ceiling_and_no_overflow():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    for _ in range(5000):  # an OverflowError came after 1,024
        throttle.failed("10.0.0.1")
        now[0] += 0.01
    assert throttle.delay("10.0.0.1") == throttle.cap == 5.0
    assert throttle.delay("10.0.0.2") == 0  # per address
    now[0] += throttle.window + 1
    assert throttle.delay("10.0.0.1") == 0  # forgotten after the window


def _ipc_bad_handshake(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rb")
    (n,) = struct.unpack(">I", f.read(4))
    f.read(n)  # the hello
    junk = msgpack.packb(["auth", b"\0" * 32, b"not a proof"])
    s.sendall(struct.pack(">I", len(junk)) + junk)
    (n,) = struct.unpack(">I", f.read(4))
    answer = msgpack.unpackb(f.read(n), raw=False)
    f.close()
    s.close()
    return answer


def test_the_ipc_sockets_owner_is_never_throttled(hearth_server, proc):
    t0 = time.monotonic()
    for _ in range(20):  # throttled, these would take over a minute
        assert _ipc_bad_handshake(hearth_server.sock)[0] == "denied"
    assert time.monotonic() - t0 < 5
    t0 = time.monotonic()
    with hearth_server.operator() as op:
        assert "hearth.Inspector" in otp.registered(op.root)
    assert time.monotonic() - t0 < 2


def test_a_hearth_ctl_command_logs_nothing_at_info(hearth_server, proc):
    program = hearth_server.program
    mark = len(program.lines)
    done = subprocess.run([sys.executable, "-m", "hearth.ctl", "ps"], capture_output=True,
                          text=True, timeout=60, env={**__import__("os").environ,
                                                      "HEARTH_SOCK": hearth_server.sock})
    assert done.returncode == 0, done.stderr
    # A network peer's coming and going is logged: once its "gone" line is
    # there, the ctl connection's end (earlier) was handled too.
    with connect(hearth_server.url, secret=SECRET):
        pass
    program.wait_for("gone: closed by the peer", after=mark)
    ipc_lines = [line for line in program.lines[mark:] if "unix:" in line]
    assert ipc_lines == []


def test_a_peer_that_closes_cleanly_or_is_stopped_is_logged_as_closed_by_the_peer(
        hearth_server, proc):
    program = hearth_server.program
    mark = len(program.lines)
    with connect(hearth_server.url, secret=SECRET):
        pass  # a normal WebSocket close
    program.wait_for("gone: closed by the peer", after=mark)
    mark2 = len(program.lines)
    raw = raw_peer(hearth_server)
    raw.ws.sock.close()  # as if its process was stopped: no close frame
    program.wait_for("gone: closed by the peer", after=mark2)
    text = "".join(program.lines[mark:])
    assert "malformed" not in text and "protocol error" not in text
