"""Rules N1–N6 and V25 over real loopback sockets, between runtimes that
share nothing but the connection.

The test's own greenlet is a process of the plugin's runtime (client A);
the server and any further client are runtimes of their own (conftest).
"""

import gc
import logging
import ssl
import subprocess

import pytest

from hearth import otp, vm
from hearth.native import request, start_wasm_spawner
from hearth.native._service import ServiceError
from hearth.net import AuthError, ConnectError, connect, listen, listen_unix

from ..wasm.wat import data, module
from .conftest import SECRET, Clients, Side
from .conftest import _echo as _conftest_echo

pytestmark = pytest.mark.hearth_timeout(60)

TRANSPORTS = ["ws", "unix", "tls"]
SECRET_TRANSPORTS = ["ws", "tls"]  # a Unix socket has no secret: its file mode guards it


# -- the same contract over every transport: WebSocket, Unix socket, TLS ------------------


@pytest.fixture(scope="module")
def tls_contexts(tmp_path_factory):
    """A test certificate (as test_tls.py makes one): the server's and the
    client's SSL contexts."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    return server_ctx, ssl.create_default_context(cafile=str(cert))


def _setup_for(transport, path, server_ctx):
    def setup(held):
        reg = otp.start_registry()
        echo = vm.spawn(_conftest_echo, name="echo")
        otp.register(reg, "echo", echo)
        held["registry"] = reg
        if transport == "unix":
            held["listener"] = lst = listen_unix(path, root=reg)
        else:
            held["listener"] = lst = listen("127.0.0.1:0", secret=SECRET, root=reg,
                                            ssl_context=server_ctx if transport == "tls"
                                            else None)
        return lst
    return setup


@pytest.fixture(params=TRANSPORTS)
def server(request, runtime, tmp_path, tls_contexts):
    """conftest's server, over the transport of the parameter; its
    `connect(**options)` connects to it the way that transport needs."""
    transport = request.param
    server_ctx, client_ctx = tls_contexts
    rt = vm.Runtime()
    side = Side(rt, _setup_for(transport, str(tmp_path / "peer.sock"), server_ctx))
    side.transport = transport
    side.listener = side.info
    side.url = side.listener.url
    assert side.url.startswith({"ws": "ws://", "unix": "unix://", "tls": "wss://"}[transport])
    options = {} if transport == "unix" else {"secret": SECRET}
    if transport == "tls":
        options["ssl_context"] = client_ctx
    side.connect_options = options
    side.connect = lambda **kw: connect(side.url, **dict(options, **kw))
    yield side
    side.stop()
    rt.shutdown(timeout=5)
    assert not rt.crashes, rt.crashes


class _Clients(Clients):
    def client(self):
        server = self.server

        def setup(held):
            held["peer"] = peer = server.connect()
            return peer

        side = Side(vm.Runtime(), setup)
        side.peer = side.info
        self.sides.append(side)
        return side


@pytest.fixture
def clients(server):
    c = _Clients(server)
    yield c
    c.close()


def _server_connection(server):
    (conn,) = server.listener.connections
    return conn


def _echo_roundtrip(echo, payload=b"ping"):
    mb = vm.create_mailbox()
    reply = mb.make_capability(vm.SEND)
    echo.send(payload, [reply])
    reply.release()
    sig = mb.recv(timeout=10)
    mb.destroy()
    return sig


def _spawn_on(server, fn, name):
    """Spawn `fn` on the server and register it under `name`."""

    def job(held):
        cap = vm.spawn(fn, name=name)
        otp.register(held["registry"], name, cap)

    server.run(job)


def _sleeper():
    vm.recv()


# -- N1: a remote capability is used like a local one ------------------------------


def test_n1_a_message_and_its_reply_cross_the_connection(server, proc):
    with server.connect() as peer:
        echo = otp.lookup(peer.root, "echo")
        sig = _echo_roundtrip(echo, b"hello")
        assert isinstance(sig, vm.Message) and sig.data == b"echo:hello"


def test_n1_monitor_and_kill_across_the_connection(server, proc):
    _spawn_on(server, _sleeper, "victim")
    with server.connect() as peer:
        victim = otp.lookup(peer.root, "victim")
        ref = victim.monitor()
        victim.kill()
        down = vm.recv(timeout=10)
        assert isinstance(down, vm.Down) and down.ref == ref and down.reason == vm.KILLED


def test_n1_exit_with_a_reason_reaches_a_remote_process_trapping_exits(server, proc):
    def trapper():
        vm.trap_exit(True)
        sig = vm.recv()
        assert isinstance(sig, vm.Exit)
        sig.cap.release()
        vm.exit(("got", sig.reason))

    _spawn_on(server, trapper, "trapper")
    with server.connect() as peer:
        t = otp.lookup(peer.root, "trapper")
        ref = t.monitor()
        t.exit("custom")
        down = vm.recv(timeout=10)
        assert down.ref == ref and down.reason == ("got", "custom")


def test_n1_a_remote_death_travels_along_a_link(server, proc):
    _spawn_on(server, _sleeper, "linked")
    with server.connect() as peer:
        target = otp.lookup(peer.root, "linked")
        vm.trap_exit(True)
        target.link()
        target.exit("boom")  # exit signals need KILL; the registry gave ALL
        sig = vm.recv(timeout=10)
        assert isinstance(sig, vm.Exit) and sig.reason == "boom"
        assert sig.cap.same_route(target)


def test_n1_a_local_death_travels_along_a_link_to_the_remote_side(server, proc):
    reports = vm.create_mailbox()

    def linker():
        # Gets a capability to a client process, links to it, reports the exit.
        vm.trap_exit(True)
        m = vm.recv()
        client_proc, report = m.caps
        client_proc.link()
        report.send(b"linked")
        sig = vm.recv()
        report.send(repr(sig.reason).encode())

    _spawn_on(server, linker, "linker")
    with server.connect() as peer:
        linker_cap = otp.lookup(peer.root, "linker")

        def doomed():
            vm.recv()
            vm.exit("doomed-reason")

        d = vm.spawn(doomed)
        linker_cap.send(b"", [d, reports.make_capability(vm.SEND)])
        assert reports.recv(timeout=10).data == b"linked"
        d.send(b"go")
        assert reports.recv(timeout=10).data == b"'doomed-reason'"


def test_n1_permissions_are_checked_before_anything_is_sent(server, proc):
    _spawn_on(server, _sleeper, "guarded")
    with server.connect() as peer:
        full = otp.lookup(peer.root, "guarded")
        weak = full.demote(vm.SEND)
        with pytest.raises(vm.PermissionDenied):
            weak.kill()
        with pytest.raises(vm.PermissionDenied):
            weak.monitor()
        ref = full.monitor()
        weak.send(b"still alive")
        assert vm.try_recv() is None
        full.kill()
        assert vm.recv(timeout=10).ref == ref


# -- N2 and N3: per-connection ids, capabilities inside messages ------------------------


def test_n3_a_capability_sent_out_and_back_is_the_original_route(server, proc):
    with server.connect() as peer:
        echo = otp.lookup(peer.root, "echo")
        mine = vm.create_mailbox()
        token = mine.make_capability(vm.SEND)
        sig = _echo_roundtrip_with(echo, token)
        (back,) = sig.caps
        assert back.same_route(token)  # not a proxy of a proxy
        back.send(b"home")
        assert mine.recv(timeout=10).data == b"home"


def _echo_roundtrip_with(echo, *caps):
    mb = vm.create_mailbox()
    reply = mb.make_capability(vm.SEND)
    echo.send(b"x", [reply, *caps])
    reply.release()
    sig = mb.recv(timeout=10)
    mb.destroy()
    return sig


def test_n3_releasing_the_last_reference_releases_the_export(server, proc):
    with server.connect() as peer:
        conn = _server_connection(server)
        baseline = len(conn.exports)  # the root
        echo = otp.lookup(peer.root, "echo")
        assert len(conn.exports) == baseline + 1
        extra = echo.demote(vm.SEND)  # same import, another local handle
        echo.release()
        # Still held through `extra`: a round trip proves nothing was released.
        _echo_roundtrip(extra)
        assert len(conn.exports) == baseline + 1
        extra.release()
        del echo, extra
        gc.collect()
        # The RELEASE goes before the next request on the same connection,
        # so once that request is answered the server has processed it.
        assert isinstance(_echo_roundtrip_via_registry(peer), vm.Message)
        assert len(conn.exports) == baseline + 1  # the lookup just re-exported echo


def _echo_roundtrip_via_registry(peer):
    echo = otp.lookup(peer.root, "echo")
    sig = _echo_roundtrip(echo)
    echo.release()
    return sig


def test_n3_exports_on_the_client_side_are_released_by_the_server(server, proc):
    with server.connect() as peer:
        client_conn = peer.connection
        echo = otp.lookup(peer.root, "echo")
        before = len(client_conn.exports)
        for _ in range(50):
            _echo_roundtrip(echo)  # each sends a fresh reply capability
        # The echo releases every reply capability it got: after one more
        # round trip the server has sent every RELEASE that was due.
        _echo_roundtrip(echo)
        _echo_roundtrip(echo)
        assert len(client_conn.exports) <= before + 1


def test_n2_ids_are_per_connection(server, clients, proc):
    b = clients.client()

    def b_imports(held):
        e = otp.lookup(held["peer"].root, "echo")
        ids = dict(held["peer"].connection.imports)
        e.release()
        return set(ids)

    with server.connect() as peer:
        echo = otp.lookup(peer.root, "echo")
        # Each connection numbers its own exports from 1: the same ids name
        # the root and echo on both, and mean nothing on any other.
        assert set(peer.connection.imports) == {1, 2}
        assert b.run(b_imports) == {1, 2}
        echo.release()


# -- N4: authentication first -----------------------------------------------------------


@pytest.mark.parametrize("server", SECRET_TRANSPORTS, indirect=True)
def test_n4_a_wrong_secret_is_refused_with_a_clear_message_on_both_sides(server, proc, caplog):
    with caplog.at_level(logging.WARNING, logger="hearth.net"):
        with pytest.raises(AuthError, match="wrong secret"):
            server.connect(secret=b"not the secret")
    assert any("refused peer" in r.message and "wrong secret" in r.message for r in caplog.records)
    assert not server.listener.connections
    # The right secret still works (the throttle delays only failures).
    with server.connect() as peer:
        assert peer.root is not None


@pytest.mark.parametrize("server", SECRET_TRANSPORTS, indirect=True)
def test_n4_repeated_failures_from_one_address_are_slowed_down(server, proc):
    throttle = server.listener.throttle
    assert throttle.delay("127.0.0.1") == 0
    for _ in range(3):
        with pytest.raises(AuthError):
            server.connect(secret=b"guess")
    # 3 failures: the next failure from this address is answered after 0.1 * 2**2 s.
    assert throttle.delay("127.0.0.1") == pytest.approx(0.4)
    clock = vm.current_runtime().clock
    t0 = clock.now()
    with pytest.raises(AuthError):
        server.connect(secret=b"guess")
    assert clock.now() - t0 >= 0.4
    # A client that knows the secret is never slowed down by another's
    # failures from the same address (behind a reverse proxy, every client's).
    t0 = clock.now()
    with server.connect():
        pass
    assert clock.now() - t0 < 0.8
    # ... and its success does not clear the address's failures either.
    assert throttle.delay("127.0.0.1") == pytest.approx(0.8)


def test_n4_nothing_listens_is_a_connect_error(proc):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ConnectError, match="can't connect"):
        connect(f"ws://127.0.0.1:{port}/", secret=SECRET, timeout=5)


# -- N5 and V25: losing a connection ---------------------------------------------------


def test_n5_v25_losing_the_connection_fires_monitors_and_links_with_noconnection(server, proc):
    _spawn_on(server, _sleeper, "far")
    peer = server.connect()
    far = otp.lookup(peer.root, "far")
    ref = far.monitor()
    vm.trap_exit(True)
    far.link()
    local = vm.spawn(_sleeper)  # local state that must not be disturbed
    # The server drops us (as if the network failed).
    server.run(lambda held: _server_connection(server).close("test drops the client"))
    got = {type(s): s for s in (vm.recv(timeout=10), vm.recv(timeout=10))}
    assert got[vm.Down].ref == ref and got[vm.Down].reason == vm.NOCONNECTION
    assert got[vm.Exit].reason == vm.NOCONNECTION
    assert "test drops the client" in peer.reason
    # Nothing else moved: the local process lives, the remote one too.
    lref = local.monitor()
    assert vm.try_recv() is None
    local.kill()
    assert vm.recv(timeout=5).ref == lref
    assert server.run(lambda held: otp.lookup(held["registry"], "far") is not None)
    # The server freed everything it exported to us.
    assert not server.listener.connections


def test_n5_a_client_can_reconnect_and_carry_on(server, proc):
    peer = server.connect()
    echo = otp.lookup(peer.root, "echo")
    peer.close()
    assert peer.closed
    echo.send(b"into the void")  # a send to a lost route is dropped, like a dead one
    peer = server.connect()
    echo = otp.lookup(peer.root, "echo")
    assert _echo_roundtrip(echo).data == b"echo:ping"
    peer.close()


# -- three peers ---------------------------------------------------------------------------


def test_a_capability_of_client_a_passes_through_the_server_to_client_b(server, clients, proc):
    b = clients.client()
    with server.connect() as peer:
        inbox = vm.create_mailbox()
        a_cap = inbox.make_capability(vm.SEND | vm.MONITOR)
        otp.register(peer.root, "a.inbox", a_cap)

        def b_uses_it(held):
            found = otp.lookup(held["peer"].root, "a.inbox")
            found.send(b"hello from B")
            held["a_inbox"] = found
            held["ref"] = found.monitor()
            return True

        assert b.run(b_uses_it)
        msg = inbox.recv(timeout=10)
        assert msg.data == b"hello from B"

        def b_waits_for_down(held):
            down = vm.recv(timeout=10)
            return down.ref == held["ref"], down.reason

        # B's monitor must be in place before A leaves: it is (b_uses_it returned).
        import gevent

        waiter = gevent.spawn(b.run, b_waits_for_down)
        peer.close()  # A disconnects
        assert waiter.get(timeout=15) == (True, vm.NOCONNECTION)
        # The server's registry saw its Down too and dropped the name (R2).
        assert b.run(lambda held: otp.lookup(held["peer"].root, "a.inbox")) is None


# -- N6: lumps by hash, on demand ------------------------------------------------------------


ECHO_GUEST = module(
    data(0, "guest says hi")
    + """
    (func (export "run")
      (call $send (i32.const 0) (i32.const 0) (i32.const 13) (i32.const 0) (i32.const 0)))""",
    "send",
)


def _server_with_spawner(held):
    start_wasm_spawner(held["registry"])
    return True


def test_n6_a_client_spawns_a_guest_from_a_lump_the_server_never_saw(server, proc):
    assert server.run(_server_with_spawner)
    lid = proc.runtime.lumps.put(ECHO_GUEST.encode())
    assert not server.rt.lumps.has(lid)
    with server.connect() as peer:
        spawner = otp.lookup(peer.root, "hearth.wasm.WasmProcessSpawner")
        guest = request(spawner, ["spawn", lid], args=[vm.make_capability(vm.SEND)], timeout=30)
        assert vm.recv(timeout=30).data == b"guest says hi"
        assert server.rt.lumps.has(lid)
        ref = guest.monitor()
        assert vm.recv(timeout=10).ref == ref


def test_n6_a_lump_nobody_has_is_not_found(server, proc):
    assert server.run(_server_with_spawner)
    with server.connect() as peer:
        spawner = otp.lookup(peer.root, "hearth.wasm.WasmProcessSpawner")
        with pytest.raises(ServiceError) as info:
            request(spawner, ["spawn", b"\x07" * 32], timeout=30)
        assert info.value.kind == "not_found"


# -- the server reaches what a client exports -------------------------------------------


def test_server_processes_reach_a_client_s_root_through_hearth_net_peers(server, proc):
    from hearth.net import start_peers_service

    server.run(lambda held: start_peers_service(held["registry"], held["listener"]) and True)
    mine = otp.start_registry()
    inbox = vm.create_mailbox()
    otp.register(mine, "client.inbox", inbox.make_capability(vm.SEND))
    with server.connect(root=mine) as peer:
        # Our ROOT went out before this request: once it is answered, the
        # server has our root.
        assert otp.lookup(peer.root, "echo") is not None

        def reach_the_client(held):
            peers = otp.lookup(held["registry"], "hearth.net.Peers")
            (entry,) = request(peers, "list")
            assert entry["root"] is True
            root = request(peers, ["root", entry["id"]])
            otp.lookup(root, "client.inbox").send(b"from the server")
            with pytest.raises(ServiceError) as info:
                request(peers, ["root", 10**6])
            return info.value.kind

        assert server.run(reach_the_client) == "not_found"
        assert inbox.recv(timeout=10).data == b"from the server"
