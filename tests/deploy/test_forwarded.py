"""Which address a peer behind a trusted proxy gets (X-Forwarded-For,
Forwarded), and hearth-server's --trusted-proxy option."""

import subprocess
import sys

import pytest

from hearth.net._listen import forwarded_address, parse_trusted

TRUSTED = parse_trusted(["127.0.0.1", "10.0.0.0/8", "::1"])


@pytest.mark.parametrize("headers, expected", [
    ({"HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "203.0.113.9"),
    # the right-most hop that is not a trusted proxy: a client's own header can't win
    ({"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9"}, "203.0.113.9"),
    ({"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"),
    ({"HTTP_X_FORWARDED_FOR": "10.1.2.3, 127.0.0.1"}, "10.1.2.3"),  # all trusted: left-most
    ({"HTTP_X_FORWARDED_FOR": "2001:db8::7"}, "2001:db8::7"),
    ({"HTTP_FORWARDED": 'for=192.0.2.60;proto=https;by=203.0.113.43'}, "192.0.2.60"),
    ({"HTTP_FORWARDED": 'for=192.0.2.43, for="[2001:db8:cafe::17]:4711"'}, "2001:db8:cafe::17"),
    ({"HTTP_FORWARDED": 'for="192.0.2.43:80", for=10.0.0.1'}, "192.0.2.43"),
    # X-Forwarded-For wins over Forwarded
    ({"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_FORWARDED": "for=192.0.2.1"}, "203.0.113.9"),
    # not believed at all: none, empty, or a hop that is not an address
    ({}, None),
    ({"HTTP_X_FORWARDED_FOR": " , "}, None),
    ({"HTTP_X_FORWARDED_FOR": "evil.example, 203.0.113.9"}, None),
    ({"HTTP_FORWARDED": "for=_hidden"}, None),
    ({"HTTP_FORWARDED": "for=unknown"}, None),
])
def test_the_forwarded_address(headers, expected):
    assert forwarded_address(headers, TRUSTED) == expected


def test_trusted_proxies_are_addresses_or_networks():
    assert [str(n) for n in parse_trusted(["127.0.0.1", "10.0.0.0/8", " ::1 "])] == \
        ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="'proxy.example' is not an IP address or network"):
        parse_trusted(["proxy.example"])


def test_hearth_server_refuses_a_trusted_proxy_that_is_not_an_address(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "hearth.server", "--no-ipc", "--trusted-proxy", "nginx"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "--trusted-proxy: 'nginx' is not an IP address or network" in out.stderr


def test_hearth_client_refuses_a_missing_cafile(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "hearth.client", "--headless", "--server", "wss://127.0.0.1:9/",
         "--cafile", str(tmp_path / "missing.pem")],
        capture_output=True, text=True, timeout=60, env={"HEARTH_SECRET": "s", "PATH": "/usr/bin"})
    assert out.returncode == 2
    assert "--cafile" in out.stderr and "no such file" in out.stderr


def test_a_trusted_proxy_s_connections_count_under_the_forwarded_address(proc):
    import socket

    from hearth.net._listen import _Gate

    gate = _Gate(10.0, 100, 2, parse_trusted(["127.0.0.1"]))
    pairs = [socket.socketpair() for _ in range(4)]
    try:
        # From the proxy: more than 2 at once before their requests are read.
        tickets = [gate.enter(a, "127.0.0.1") for a, _ in pairs[:3]]
        assert gate.pending == 3
        # Once forwarded, each client address has its own ceiling of 2.
        for t in tickets:
            gate.rekey(t, "198.51.100.1")
        assert gate.pending == 2 and tickets[0] not in gate._pending
        assert pairs[0][1].recv(1) == b""  # the oldest was closed
        # An address that is not a trusted proxy is held at 2 from the start.
        other = [gate.enter(a, "192.0.2.5") for a, _ in pairs[3:]]
        assert gate.pending == 3 and other
        # A dual-stack socket's ::ffff:127.0.0.1 is the trusted proxy too.
        from hearth.net._listen import _ip, _is_trusted
        assert _is_trusted(_ip("::ffff:127.0.0.1"), gate.trusted)
    finally:
        for a, b in pairs:
            a.close()
            b.close()
        for t in list(gate._pending):
            gate.forget(t)


def test_a_proxy_s_own_address_forwarded_is_held_by_its_ceiling_too(proc):
    import socket

    from hearth.net._listen import _Gate

    gate = _Gate(10.0, 100, 2, parse_trusted(["127.0.0.1"]))
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        tickets = [gate.enter(a, "127.0.0.1") for a, _ in pairs]
        for t in tickets:  # no usable header, or the client is the proxy's host
            gate.rekey(t, "127.0.0.1")
        # Past the ceiling one older connection was closed, never the one
        # whose request was just read.
        assert gate.pending == 2 and tickets[-1] in gate._pending
    finally:
        for a, b in pairs:
            a.close()
            b.close()
        for t in list(gate._pending):
            gate.forget(t)
