"""hearth-client as a peer (headless): it connects to a real hearth-server,
hands it its registry, is reachable through hearth.net.Peers, reconnects
when the server comes back, and stops on a wrong secret."""

import pytest

from hearth import otp
from hearth.native import request
from hearth.net import connect

from .servers import Program, start_server

pytestmark = pytest.mark.hearth_timeout(120)


def _client_root(sock):
    """From the server's IPC socket: the root the one connected client gave."""
    with connect("unix://" + sock) as tools:
        peers = otp.lookup(tools.root, "hearth.net.Peers")
        (entry,) = request(peers, "list")
        root = request(peers, ["root", entry["id"]])
        return otp.registered(root)


def test_a_headless_client_hands_the_server_its_registry_and_reconnects(tmp_path, proc):
    server, url, sock = start_server(tmp_path, "s3cret")
    client = Program("hearth.client", "--headless", "--server", url,
                     env={"HEARTH_SECRET": "s3cret"})
    try:
        client.wait_for(f"connected to {url}")
        names = _client_root(sock)
        assert "hearth.UnixTime" in names and "hearth.wasm.WasmProcessSpawner" in names
        from hearth.client import EXPORTED
        assert set(names) <= set(EXPORTED)  # never the terminal factory, init, ...
        seen = len(client.lines)
        assert server.stop() == 0
        client.wait_for("lost the connection", after=seen)
        port = url.rsplit(":", 1)[1].strip("/")
        server, url2, sock = start_server(tmp_path, "s3cret", bind=f"127.0.0.1:{port}",
                                          name="again")
        client.wait_for(f"connected to {url}", after=seen)
        assert "hearth.UnixTime" in _client_root(sock)
    finally:
        assert client.stop() == 0, "".join(client.lines)
        server.stop()


def test_a_client_with_the_wrong_secret_stops_and_says_why(tmp_path, proc):
    server, url, _ = start_server(tmp_path, "right")
    try:
        client = Program("hearth.client", "--headless", "--server", url,
                         env={"HEARTH_SECRET": "wrong"})
        client.wait_for("refused us")
        assert "wrong secret" in "".join(client.lines)
        # A failed connection is an exit a script can see.
        assert client.proc.wait(timeout=30) == 1
        client.stop()
        assert "hearth-client failed: the server at" in "".join(client.lines)
    finally:
        server.stop()


def test_a_client_without_a_secret_is_told_to_give_one():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "hearth.client", "--headless", "--server",
                           "ws://127.0.0.1:9/"], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in __import__("os").environ.items()
                               if not k.startswith("HEARTH_SECRET")})
    assert done.returncode == 2
    assert "--server needs a shared secret" in done.stderr
