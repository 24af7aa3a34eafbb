"""The local IPC socket: the same protocol on a Unix stream socket, with
the socket file's permissions (and the peer's uid) as the guard."""

import os
import socket
import stat
import struct

import pytest

from hearth import otp, vm
from hearth.net import AddressInUse, connect, listen_unix


@pytest.fixture
def ipc(proc, tmp_path):
    reg = otp.start_registry()
    otp.register(reg, "me", vm.make_capability(vm.SEND))
    path = str(tmp_path / "run" / "hearth.sock")
    with listen_unix(path, root=reg) as lst:
        yield lst


def test_a_tool_attaches_and_uses_the_root(ipc):
    assert stat.S_IMODE(os.stat(ipc.address).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(ipc.address)).st_mode) == 0o700
    with connect(ipc.url) as peer:
        otp.lookup(peer.root, "me").send(b"from the socket")
        assert vm.recv(timeout=10).data == b"from the socket"


def test_a_second_listener_refuses_a_live_socket(ipc):
    with pytest.raises(AddressInUse, match="another Hearth runtime"):
        listen_unix(ipc.address)


def test_garbage_on_the_socket_drops_that_client_only(ipc):
    bad = socket.socket(socket.AF_UNIX)
    bad.connect(ipc.address)
    hello_len = struct.unpack(">I", bad.recv(4))[0]
    bad.recv(hello_len)
    bad.sendall(struct.pack(">I", 5) + b"\xc1junk")  # \xc1 is never valid msgpack
    # The server answers "denied" and closes.
    data = b""
    while True:
        chunk = bad.recv(4096)
        if not chunk:
            break
        data += chunk
    assert b"denied" in data
    bad.close()
    with connect(ipc.url) as peer:
        assert otp.registered(peer.root) == ["me"]


def _has_ipv6():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback here")
def test_peers_connect_over_ipv6_loopback(proc):
    from hearth.net import listen

    reg = otp.start_registry()
    otp.register(reg, "me", vm.make_capability(vm.SEND))
    with listen("[::1]:0", secret=b"s", root=reg) as lst:
        assert lst.url.startswith("ws://[::1]:")
        with connect(lst.url, secret=b"s") as peer:
            assert otp.registered(peer.root) == ["me"]
