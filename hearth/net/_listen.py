"""The listening side: a WebSocket server (gevent-websocket) for peers on
the network, and a Unix socket for tools on the same machine.

Both hand every authenticated peer a root capability, chosen when the
listener starts (for `hearth-server`: what the `hearth.init.Server` hook
answers, by default a read-only view of the registry).
"""

import logging
import os
import socket
import stat

import gevent
from gevent.pool import Group, Pool
from gevent.pywsgi import WSGIServer
from geventwebsocket.handler import WebSocketHandler

from hearth._sockpath import LIVE, STALE, prepare_socket_dir, probe
from hearth.vm import current_runtime, foreign

from . import _auth
from ._connection import MAX_OUTBOX, Connection
from ._errors import AddressInUse, AuthError
from ._transport import StreamTransport, WebSocketServerTransport
from ._wire import ProtocolError

__all__ = ["Listener", "listen", "listen_unix", "parse_bind"]

log = logging.getLogger("hearth.net")

#: Seconds a peer has to finish the handshake.
HANDSHAKE_TIMEOUT = 10.0


def parse_bind(text):
    """``(host, port)`` from ``HOST:PORT`` (``[::1]:PORT`` for IPv6).

    Raises:
        ValueError: not of that form.
    """
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"expected HOST:PORT, not {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    port = int(port)
    if port > 65535:
        raise ValueError(f"port {port} is out of range")
    return host, port


def server_handshake(transport, secret, throttle):
    """Authenticate the peer on `transport`; True if it proved the secret.

    A failure is answered with ``denied`` and a message, the transport is
    closed, and the address's failure count goes up. Switches: always.
    """
    address = transport.address
    delay = throttle.delay(address)
    if delay:
        gevent.sleep(delay)
    try:
        with gevent.Timeout(HANDSHAKE_TIMEOUT, AuthError("handshake timed out")):
            hello, nonce = _auth.server_hello()
            transport.send(hello)
            answer = transport.recv()
            if answer is None:
                raise AuthError("the peer left during the handshake")
            client_nonce = _auth.check_client(answer, secret, nonce)
    except (AuthError, ProtocolError) as e:
        throttle.failed(address)
        log.warning("refused peer %s: %s", address, e)
        try:
            transport.send(_auth.denied(str(e)))
        except Exception:
            pass
        transport.close(str(e))
        return False
    except Exception as e:  # the socket died under us
        log.info("peer %s left during the handshake: %s", address, e)
        transport.close()
        return False
    throttle.succeeded(address)
    transport.send(_auth.server_welcome(secret, nonce, client_nonce))
    return True


class Listener:
    """Accepts peers and keeps their connections.

    Attributes:
        address: what it listens on: ``(host, port)`` or a socket path.
        url: how a peer names it (``ws://host:port/`` or ``unix://path``).
        connections: the live `Connection` objects.
        operator: True if its peers are the operator's tools (the IPC
            socket): their connections get no account (`hearth.vm.Accounts`).
    """

    operator = False

    def __init__(self, runtime, root, secret, max_outbox):
        self.runtime = runtime
        self._root = root
        self._secret = secret
        self.max_outbox = max_outbox
        self.throttle = _auth.Throttle()
        self.connections = set()
        self.address = None
        self.url = None
        self._closed = False

    def _serve(self, transport):
        """Run one peer to its end in the calling greenlet. Switches: always."""
        if self._closed or not server_handshake(transport, self._secret, self.throttle):
            return
        conn = Connection(self.runtime, transport, root=self._root, max_outbox=self.max_outbox)
        if self.operator:  # the IPC socket's tools: nothing of theirs is bounded
            self.runtime.accounts.set_carrier(conn, None)
        self.connections.add(conn)
        conn.on_close(self.connections.discard)
        log.info("peer %s connected", conn.name)
        conn.start(read_here=True)
        conn.join()  # let the writer flush (an ERROR for the peer) before the socket goes
        log.info("peer %s gone: %s", conn.name, conn.reason)

    def _close_connections(self, message):
        conns = list(self.connections)
        for conn in conns:
            conn.close(message)
        for conn in conns:
            conn.join()

    def close(self):
        """Stop listening and close every connection. Switches: may."""
        self._closed = True
        self._close_connections("the server is shutting down")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _WebSocketListener(Listener):
    def __init__(self, runtime, root, secret, host, port, max_outbox, ssl_context):
        super().__init__(runtime, root, secret, max_outbox)
        tls = {"ssl_context": ssl_context} if ssl_context is not None else {}
        self._server = WSGIServer(
            # SERVER_NAME given, or pywsgi looks up our own name (a DNS
            # query on gevent's thread pool) when it starts.
            (host, port), self._app, handler_class=WebSocketHandler, log=None,
            environ={"SERVER_NAME": host}, spawn=Pool(10000), **tls,
            error_log=logging.getLogger("hearth.net.http"))
        self._server.start()
        host, port = self._server.address[:2]
        self.address = (host, port)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"{'wss' if tls else 'ws'}://{shown}:{port}/"

    def _app(self, environ, start_response):
        ws = environ.get("wsgi.websocket")
        if ws is None:
            start_response("426 Upgrade Required", [("Content-Type", "text/plain")])
            return [b"This is a Hearth peer endpoint: connect with a WebSocket client.\n"]
        address = environ.get("REMOTE_ADDR", "?")
        self._serve(WebSocketServerTransport(ws, address))
        return []

    def close(self):
        super().close()
        self._server.stop(timeout=2)


class _UnixListener(Listener):
    operator = True
    def __init__(self, runtime, root, path, max_outbox):
        super().__init__(runtime, root, b"", max_outbox)
        self.address = path
        self.url = f"unix://{path}"
        self._sock = _bind_unix(path)
        self._group = Group()
        self._acceptor = gevent.spawn(self._accept_loop)

    def _accept_loop(self):
        while True:
            try:
                sock, _ = self._sock.accept()
            except OSError:
                return
            if not _same_user(sock):
                log.warning("refused a local peer of another user on %s", self.address)
                sock.close()
                continue
            self._group.spawn(self._serve, StreamTransport(sock, f"unix:{self.address}"))

    def close(self):
        super().close()
        self._acceptor.kill()
        self._sock.close()
        self._group.kill(timeout=2)
        try:
            if os.path.exists(self.address):
                os.unlink(self.address)
        except OSError:
            pass


def _same_user(sock):
    """Is the peer the runtime's own user (or root)? Linux's SO_PEERCRED."""
    try:
        import struct

        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
    except (OSError, AttributeError):
        return True  # no peer credentials here: the file's mode is the guard
    return uid in (os.getuid(), 0)


def _bind_unix(path):
    """A listening socket at `path`: a stale one is replaced, a live one refused."""
    prepare_socket_dir(path)
    state = probe(path)
    if state == LIVE:
        if os.path.exists(path) and not stat.S_ISSOCK(os.stat(path).st_mode):
            raise AddressInUse(f"{path} exists and is not a socket; not touching it")
        raise AddressInUse(f"another Hearth runtime is listening at {path}")
    if state == STALE:
        log.info("replacing the stale socket %s (its runtime is gone)", path)
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def _root_of(root):
    return foreign.route_of(root) if root is not None else None


def listen(bind, *, secret, root=None, max_outbox=MAX_OUTBOX, ssl_context=None):
    """Serve peers over WebSocket on `bind` (``"HOST:PORT"`` or a tuple;
    port 0 picks a free one). Must be called in a process: `root`, a `Cap`
    of the caller, is what every peer gets as its root capability (the
    caller keeps its own reference, and must keep it while listening).

    Args:
        secret: the shared secret (bytes or str) peers must prove.
        max_outbox: see `hearth.net.Connection` (back-pressure).
        ssl_context: an `ssl.SSLContext` with the server's certificate to
            speak ``wss://`` itself; by default it speaks plain ``ws://``
            and TLS is a reverse proxy's job (docs/network.md).

    Switches: never.
    """
    host, port = parse_bind(bind) if isinstance(bind, str) else bind
    if isinstance(secret, str):
        secret = secret.encode()
    if not secret:
        raise ValueError("a network listener needs a non-empty secret")
    return _WebSocketListener(current_runtime(), _root_of(root), secret, host, port, max_outbox,
                              ssl_context)


def listen_unix(path, *, root=None, max_outbox=MAX_OUTBOX):
    """Serve local peers on a Unix socket at `path`, owner-only (0600).

    Authentication is the operating system's: the socket file admits only
    its owner, and peers of another user (by SO_PEERCRED) are refused; the
    handshake still runs, with an empty secret, to check the protocol. A
    stale socket left by a runtime that died is replaced.

    Raises:
        AddressInUse: a live runtime listens there, or the path is not a socket.

    Switches: never.
    """
    return _UnixListener(current_runtime(), _root_of(root), os.fspath(path), max_outbox)
