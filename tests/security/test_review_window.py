"""A server can't read a client's screen, nor make it hold unbounded
memory through its window.

The client hands its server ``hearth.Window`` (CLIENT_EXPORTS). The
server could take screenshots of it: the frame shows the user's terminals
(a shell, Hibashi, what is typed into them), and a burst of screenshot
requests made the client hold a copy of the frame for each, queued on the
connection at once. Screenshots are now for the client's own processes
only. A real server runtime, a real connection, the client's real window
under Xvfb.
"""

from hearth import otp, vm
from hearth.native._service import request
from hearth.net import connect
from hearth.otp import decode
from tests.client.conftest import client, xvfb  # noqa: F401 - fixtures
from tests.net.conftest import SECRET, Side, _server_setup

BURST = 200


def _burst_of_screenshots(held):
    """On the server: ask the client's window for `BURST` screenshots at
    once, then read every answer: (frames sent, refusals' texts)."""
    window = otp.lookup(held["registry"], "client.window")
    mb = vm.create_mailbox()
    for _ in range(BURST):
        otp.send_request(window, "screenshot", mb.make_capability(vm.SEND))
    shots, refusals = 0, []
    for _ in range(BURST):
        sig = mb.recv(timeout=30)
        assert sig is not None, "an answer is missing"
        reply = decode(sig.data, sig.caps)
        if "ok" in reply:
            shots += 1
        else:
            refusals.append((reply["err"]["kind"], reply["err"]["message"]))
    mb.destroy()
    return shots, refusals


def test_a_server_can_neither_read_the_clients_screen_nor_queue_frames_on_it(
        client):  # noqa: F811
    server = Side(vm.Runtime(), _server_setup)
    try:
        with connect(server.info.url, secret=SECRET) as peer:
            otp.register(peer.root, "client.window", client.window)
            shots, refusals = server.run(_burst_of_screenshots, timeout=60)
            assert shots == 0, f"{shots} frames sent to the server"
            assert set(refusals) == {("permission_denied", "screenshots are for this client's"
                                      " own processes: the frame shows its terminals, and what"
                                      " is typed into them")}
            # The client's own processes still get theirs.
            assert request(client.window, "screenshot", timeout=30)["width"] == 160
    finally:
        server.stop()
        server.rt.shutdown(timeout=5)
    assert not server.rt.crashes


def _subscribe_many(held, n):
    """On the server: subscribe `n` mailboxes of its own to the client's
    window: (how many were taken, the first refusal)."""
    window = otp.lookup(held["registry"], "client.window")
    taken = 0
    for _ in range(n):
        mb = vm.create_mailbox()
        held.setdefault("mailboxes", []).append(mb)
        try:
            request(window, ["subscribe", mb.make_capability(vm.SEND | vm.MONITOR)],
                    timeout=10)
        except otp.ServiceError as e:
            return taken, (e.kind, e.message)
        taken += 1
    return taken, None


def _subscribe_theirs(held):
    """On the server: subscribe the client's own canvas factory (a route the
    client handed it) to the client's window."""
    window = otp.lookup(held["registry"], "client.window")
    canvases = otp.lookup(held["registry"], "client.canvases")
    try:
        request(window, ["subscribe", canvases], timeout=10)
    except otp.ServiceError as e:
        return e.kind, e.message
    return "granted", None


def test_a_server_subscribes_a_few_routes_of_its_own_to_the_window(client):  # noqa: F811
    server = Side(vm.Runtime(), _server_setup)
    try:
        with connect(server.info.url, secret=SECRET) as peer:
            otp.register(peer.root, "client.window", client.window)
            otp.register(peer.root, "client.canvases", client.canvases)
            taken, refusal = server.run(_subscribe_many, 64)
            # Each subscriber gets every frame's redraw (at 60 frames a
            # second, 60 sends a second each), and the server could
            # subscribe as many routes as its connection may export.
            assert taken == 8, f"{taken} subscribers taken from the server"
            assert refusal == ("limit_reached", "a peer subscribes at most 8 routes to the"
                                                " window")
            kind, message = server.run(_subscribe_theirs)
            assert kind == "invalid_request", kind
            assert "the subscriber must be a route of your own" in message
        # The client's own processes are not bounded by it.
        mine = [vm.create_mailbox() for _ in range(16)]
        for mb in mine:
            assert request(client.window, ["subscribe", mb.make_capability(vm.SEND | vm.MONITOR)])
    finally:
        server.stop()
        server.rt.shutdown(timeout=5)
    assert not server.rt.crashes
