"""hearth-server deployed as an operator deploys it: behind Debian's nginx
and Caddy terminating TLS with a private CA's certificate, configured as
docs/deploy.md says, reached by real clients over wss://."""

import os
import socket
import ssl
import time
from urllib.parse import urlsplit

import pytest
import websocket

from hearth import otp
from hearth.native import request
from hearth.net import CertificateError, _auth, connect
from hearth.otp import ServiceError

from tests.deploy.proxies import CA, Caddy, Nginx, adapt_caddyfile, doc_block
from tests.net.servers import Program
from tests.security.conftest import SECRET, Server

MIB = 1 << 20
PUBLISHED = "hearth.fs.ReadOnlyFilesystem"


def _upstream(server):
    return server.url.split("//", 1)[1].rstrip("/")


@pytest.fixture
def ca(tmp_path):
    return CA(tmp_path / "ca")


@pytest.fixture
def servers(runtime):  # stopped before the runtime's leak check
    started = []
    yield started
    for server in started:
        code = server.stop()
        assert code == 0, "".join(server.program.lines[-40:])


@pytest.fixture
def proxies(runtime):
    started = []
    yield started
    for proxy in started:
        proxy.stop()


def _server(tmp_path, servers, *args):
    tmp_path.mkdir(parents=True, exist_ok=True)
    server = Server(tmp_path, extra_args=args)
    servers.append(server)
    return server


def _proxy(kind, tmp_path, server, ca, proxies, **options):
    proxy = (Nginx if kind == "nginx" else Caddy)(tmp_path / kind, _upstream(server), ca,
                                                  **options)
    proxies.append(proxy)
    return proxy


@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_a_peer_connects_through_the_proxy_and_10_mib_cross(kind, tmp_path, ca, servers,
                                                            proxies, proc):
    server = _server(tmp_path / "s", servers, "--publish-files", "--trusted-proxy", "127.0.0.1")
    big = os.urandom(10 * MIB)
    (server.root / "big.bin").write_bytes(big)
    proxy = _proxy(kind, tmp_path, server, ca, proxies)
    with connect(proxy.url, secret=SECRET, cafile=ca.cert) as peer:
        assert "clock" in otp.registered(peer.root)
        published = otp.lookup(peer.root, PUBLISHED)
        # 10 MiB from the server to the client (a lump, in one frame) ...
        lid = request(published, ["get", "big.bin"])
        assert proc.runtime.fetch_lump(lid)
        assert proc.runtime.lumps.get(lid) == big
        # ... and a 10 MiB request from the client to the server, answered.
        with pytest.raises(ServiceError) as info:
            request(published, ["put", "copy.bin", big], timeout=30)
        assert info.value.kind in ("read_only", "invalid_request"), info.value
        published.release()
    server.program.wait_for("gone: closed by the peer: a WebSocket close (1000)")


@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_certificates_not_signed_by_a_trusted_ca_are_refused(kind, tmp_path, ca, servers,
                                                             proxies, proc):
    server = _server(tmp_path / "s", servers)
    proxy = _proxy(kind, tmp_path, server, ca, proxies)
    rogue = CA(tmp_path / "rogue", name="Rogue CA")
    for options in ({}, {"cafile": rogue.cert}):
        with pytest.raises(CertificateError, match="CERTIFICATE_VERIFY_FAILED") as info:
            connect(proxy.url, secret=SECRET, **options)
        assert "--cafile" in str(info.value)
    # SSL_CERT_FILE's way of trusting the CA works too (for names and addresses).
    ctx = ssl.create_default_context(cafile=str(ca.cert))
    with connect(proxy.url, secret=SECRET, ssl_context=ctx) as peer:
        assert "clock" in otp.registered(peer.root)


def test_the_documented_url_without_its_path_gets_a_clear_error(tmp_path, ca, servers, proxies,
                                                                proc):
    server = _server(tmp_path / "s", servers)
    proxy = _proxy("nginx", tmp_path, server, ca, proxies)
    with pytest.raises(Exception) as info:
        connect(proxy.url.replace("/hearth/", "/"), secret=SECRET, cafile=ca.cert)
    assert "HTTP 404" in str(info.value) and "check the URL's path" in str(info.value)


def test_hearth_client_trusts_a_private_ca_with_cafile_and_stops_on_a_refused_one(
        tmp_path, ca, servers, proxies):
    server = _server(tmp_path / "s", servers)
    proxy = _proxy("nginx", tmp_path, server, ca, proxies, url_host="localhost")
    env = {"HEARTH_SECRET": SECRET, "SSL_CERT_FILE": "/nonexistent"}
    good = Program("hearth.client", "--headless", "--server", proxy.url, "--cafile",
                   str(ca.cert), "--data-dir", str(tmp_path / "c1"), env=env)
    try:
        good.wait_for(f"connected to {proxy.url}")
    finally:
        assert good.stop() == 0, "".join(good.lines[-30:])
    bad = Program("hearth.client", "--headless", "--server", proxy.url,
                  "--data-dir", str(tmp_path / "c2"), env=env)
    code = bad.proc.wait(timeout=60)
    bad.stop()
    out = "".join(bad.lines)
    assert code == 1, out
    assert "the server's TLS certificate was refused" in out, out
    assert "trying again" not in out, out


def _fail_handshake(url, ca, forwarded):
    """A wrong secret through the proxy, with `forwarded` as X-Forwarded-For;
    seconds from the answer sent to the ``denied`` back."""
    ctx = ssl.create_default_context(cafile=str(ca.cert))
    parts = urlsplit(url)
    sock = socket.socket()  # an IP address, connected here: no name lookup
    sock.settimeout(20)
    sock.connect((parts.hostname, parts.port))
    sock = ctx.wrap_socket(sock, server_hostname=parts.hostname)
    ws = websocket.create_connection(url, timeout=20, socket=sock,
                                     header=[f"X-Forwarded-For: {forwarded}"])
    try:
        frame, nonce, server_nonce = _auth.client_auth(ws.recv(), b"not the secret")
        start = time.monotonic()
        ws.send_binary(frame)
        with pytest.raises(Exception, match="wrong secret"):
            _auth.check_welcome(ws.recv(), b"not the secret", server_nonce, nonce)
        return time.monotonic() - start
    finally:
        ws.close(timeout=1)


def test_behind_a_trusted_proxy_the_throttle_and_peers_see_the_forwarded_address(
        tmp_path, ca, servers, proxies, proc):
    # 127.0.0.1 is nginx, and also plays a front load balancer that forwards
    # its clients' addresses (198.51.100.x) in X-Forwarded-For.
    server = _server(tmp_path / "s", servers, "--trusted-proxy", "127.0.0.1")
    proxy = _proxy("nginx", tmp_path, server, ca, proxies)
    delays = [_fail_handshake(proxy.url, ca, "198.51.100.7") for _ in range(5)]
    # The 5th failure from one address waits 0.1 * 2**3 s for its answer ...
    assert delays[-1] >= 0.7, delays
    server.program.wait_for("refused peer 198.51.100.7: wrong secret")
    # ... while another address behind the same proxy is answered at once,
    assert _fail_handshake(proxy.url, ca, "198.51.100.8") < 0.5
    # and a peer with the secret is never slowed down.
    start = time.monotonic()
    with connect(proxy.url, secret=SECRET, cafile=ca.cert) as peer:
        assert time.monotonic() - start < 5
        assert "clock" in otp.registered(peer.root)
        with server.operator() as op:
            peers = otp.lookup(op.root, "hearth.net.Peers")
            addresses = [p["address"] for p in request(peers, "list")]
            peers.release()
        # nginx appended the real client's 127.0.0.1, a trusted hop itself.
        assert addresses == ["127.0.0.1"], addresses
    server.program.wait_for("peer 127.0.0.1#")


def test_without_trusted_proxy_the_forwarded_headers_are_ignored(tmp_path, ca, servers,
                                                                 proxies, proc):
    server = _server(tmp_path / "s", servers)
    proxy = _proxy("nginx", tmp_path, server, ca, proxies)
    _fail_handshake(proxy.url, ca, "198.51.100.7")
    server.program.wait_for("refused peer 127.0.0.1: wrong secret")
    assert not any("198.51.100.7" in line for line in server.program.lines)


def test_pings_keep_a_quiet_peer_past_the_proxy_s_read_timeout(tmp_path, ca, servers, proxies,
                                                               proc):
    server = _server(tmp_path / "s", servers, "--ping-interval", "0.5")
    proxy = _proxy("nginx", tmp_path, server, ca, proxies, read_timeout="2s")
    with connect(proxy.url, secret=SECRET, cafile=ca.cert, ping_interval=0.5) as peer:
        # Quiet for three times nginx's read timeout: still connected.
        assert not peer.wait(timeout=6), peer.reason
        assert "clock" in otp.registered(peer.root)


def test_without_pings_the_proxy_cuts_a_quiet_peer_and_the_log_says_so(tmp_path, ca, servers,
                                                                       proxies, proc):
    server = _server(tmp_path / "s", servers, "--ping-interval", "0")
    proxy = _proxy("nginx", tmp_path, server, ca, proxies, read_timeout="1s")
    with connect(proxy.url, secret=SECRET, cafile=ca.cert, ping_interval=0) as peer:
        assert peer.wait(timeout=20), "nginx did not cut the quiet connection"
        assert peer.reason.startswith("closed by the peer"), peer.reason
    line = server.program.wait_for("gone: closed by the peer")
    assert "cut without a WebSocket close" in line, line
    assert not any("protocol error" in l or "malformed" in l for l in server.program.lines)


def test_the_documented_lets_encrypt_caddyfile_asks_for_a_certificate(tmp_path):
    config = adapt_caddyfile(tmp_path, doc_block("caddy-acme"))
    text = repr(config)
    assert "world.example.org" in text
    policies = config["apps"]["tls"]["automation"]["policies"]
    assert any("operator@example.org" in repr(p) for p in policies), policies
