"""Keepalive (WebSocket pings both ways, a dead peer dropped), the TLS
options of `connect`, and `start_uplink`, which reconnects."""

import ssl

import pytest

from hearth import otp, vm
from hearth.net import CertificateError, ConnectError, connect, listen, start_uplink

from tests.deploy.proxies import CA
from tests.net.conftest import wait_until
from tests.net.rawpeer import RawPeer
from tests.security.conftest import SECRET, Server


@pytest.fixture
def registry(proc):
    reg = otp.start_registry()
    otp.register(reg, "me", vm.make_capability(vm.SEND))
    return reg


def test_a_peer_that_answers_no_ping_is_dropped_with_the_reason_logged(tmp_path, proc):
    server = Server(tmp_path, extra_args=("--ping-interval", "0.2", "--ping-timeout", "0.6"))
    try:
        raw = RawPeer(server.url, SECRET.encode())  # authenticated, then reads nothing
        line = server.program.wait_for("the peer is gone: nothing heard from it")
        assert "dropping 127.0.0.1#" in line and "after a ping (the limit is 0.6 s)" in line
        raw.close()
        with connect(server.url, secret=SECRET) as peer:  # the server goes on
            assert "clock" in otp.registered(peer.root)
    finally:
        assert server.stop() == 0, "".join(server.program.lines[-40:])


def test_a_quiet_peer_is_kept_by_pings_both_ways(registry, proc):
    with listen("127.0.0.1:0", secret=SECRET, root=registry, ping_interval=0.1,
                ping_timeout=0.3) as lst:
        with connect(lst.url, secret=SECRET, ping_interval=0.1, ping_timeout=0.3) as peer:
            conn = next(iter(lst.connections))
            # Quiet (no message either way) for many timeouts: still up,
            # because each side heard the other's pongs.
            assert not peer.wait(timeout=1.5), peer.reason
            assert not conn.closed, conn.reason
            assert peer.connection.transport.heard > 0
            assert otp.lookup(peer.root, "me") is not None


def test_a_certificate_for_another_name_is_refused(tmp_path, registry, proc):
    ca = CA(tmp_path / "ca", sans="DNS:other.example")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(ca.server_cert, ca.server_key)
    with listen("127.0.0.1:0", secret=SECRET, root=registry, ssl_context=server_ctx) as lst:
        with pytest.raises(CertificateError, match="mismatch") as info:
            connect(lst.url, secret=SECRET, cafile=ca.cert)
        assert isinstance(info.value, ConnectError)
        with pytest.raises(ConnectError, match="can't use .* as a CA file"):
            connect(lst.url, secret=SECRET, cafile=tmp_path / "ca" / "world.ext")


def test_an_uplink_reconnects_and_registers_the_new_root(registry, proc):
    mine = otp.start_registry()
    with listen("127.0.0.1:0", secret=SECRET, root=registry) as lst:
        uplink = start_uplink(lst.url, registry=mine, name="server", secret=SECRET,
                              retry=(0.05, 0.2), link=False)
        ref = uplink.monitor()
        wait_until(lambda: otp.lookup(mine, "server") is not None, 10, "the first connection")
        first = next(iter(lst.connections))
        first.close("kicked by the test")
        wait_until(lambda: any(c is not first for c in lst.connections), 10, "a reconnection")
        wait_until(lambda: otp.lookup(mine, "server") is not None, 10, "the new registration")
        server = otp.lookup(mine, "server")
        assert otp.lookup(server, "me") is not None  # the new root works
        uplink.kill()
        assert vm.recv(timeout=10).ref == ref


def test_an_uplink_refused_exits_with_the_reason(registry, proc):
    mine = otp.start_registry()
    with listen("127.0.0.1:0", secret=SECRET, root=registry) as lst:
        uplink = start_uplink(lst.url, registry=mine, name="server", secret="wrong",
                              link=False)
        ref = uplink.monitor()
        down = vm.recv(timeout=10)
        assert down.ref == ref
        assert down.reason[0] == "refused" and "wrong secret" in down.reason[1]
