"""The listening side: a WebSocket server (gevent-websocket) for peers on
the network, and a Unix socket for tools on the same machine.

Both hand every authenticated peer a root capability, chosen when the
listener starts (for `hearth-server`: what the `hearth.init.Server` hook
answers, by default a read-only view of the registry).

Before a peer is authenticated it costs little and not for long: the
whole HTTP upgrade and handshake must end within `HANDSHAKE_TIMEOUT`
seconds (then its socket is closed), at most `MAX_HANDSHAKES` connections
may be in it at once, `MAX_HANDSHAKES_PER_ADDRESS` from one address (a new
one past either ceiling closes the oldest one still in the handshake, so a
client that answers promptly always gets in), and its frames are tiny
(`_auth.MAX_HANDSHAKE_FRAME`). The limits are module constants, read when
a listener starts; `listen` takes each as an option too.

Behind a reverse proxy every peer comes from the proxy's address. For a
connection from one of the listener's `trusted_proxies` (none by default)
the peer's address is taken from the request's ``X-Forwarded-For`` (its
right-most hop that is not itself a trusted proxy) or else ``Forwarded``
header, once the HTTP request has been read: the logs, ``hearth.net.Peers``,
the failure throttle and the per-address handshake ceiling then use it.
From any other address those headers are ignored.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import ssl
import stat
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import gevent
from gevent import getcurrent
from gevent.pool import Group, Pool
from gevent.pywsgi import WSGIServer
from geventwebsocket.handler import WebSocketHandler

from hearth._sockpath import LIVE, STALE, prepare_socket_dir, probe
from hearth.vm import Cap, current_runtime, foreign

from . import _auth
from ._connection import MAX_OUTBOX, Connection
from ._errors import AddressInUse, AuthError
from ._transport import StreamTransport, WebSocketServerTransport
from ._wire import ProtocolError

if TYPE_CHECKING:
    from hearth.vm import Runtime

    from ._transport import Transport

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = ["Listener", "listen", "listen_unix", "parse_bind"]

log = logging.getLogger("hearth.net")

#: Seconds a peer has from connecting to the end of the handshake (the
#: WebSocket upgrade included).
HANDSHAKE_TIMEOUT = 10.0

#: Connections in the upgrade or handshake at once, in all.
MAX_HANDSHAKES = 1024

#: Connections in the upgrade or handshake at once from one address.
MAX_HANDSHAKES_PER_ADDRESS = 128

#: Connections a WebSocket listener serves at once (established or not).
MAX_CONNECTIONS = 10000


def parse_bind(text: str) -> tuple[str, int]:
    """``(host, port)`` from ``HOST:PORT`` (``[::1]:PORT`` for IPv6).

    Raises:
        ValueError: not of that form.
    """
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"expected HOST:PORT, not {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    number = int(port)
    if number > 65535:
        raise ValueError(f"port {number} is out of range")
    return host, number


def parse_trusted(items: Iterable[object] | None) -> tuple[_Network, ...]:
    """The networks of `items` (addresses like ``127.0.0.1`` or ``::1``, or
    networks like ``10.0.0.0/8``) as a tuple of `ipaddress` networks.

    Raises:
        ValueError: one is neither.
    """
    nets: list[_Network] = []
    for item in items or ():
        try:
            nets.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(nets)


def _ip(text: str) -> _Address | None:
    """An `ipaddress` address from a header's hop (``1.2.3.4``,
    ``1.2.3.4:5678``, ``[::1]:80``, ``"[::1]"``, ``::1``), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(ip: _Address | None, trusted: Iterable[_Network]) -> bool:
    if ip is None:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:a.b.c.d on a dual-stack socket
    return any(ip in net or (mapped is not None and mapped in net) for net in trusted)


def forwarded_address(environ: Mapping[str, Any],
                      trusted: Iterable[_Network]) -> str | None:
    """The client's address for a request that came through a trusted
    proxy: the right-most hop of ``X-Forwarded-For`` (else of the
    ``for=`` parameters of ``Forwarded``) that is not a trusted proxy
    itself (all of them trusted: the left-most). None if the request has
    neither header, or a hop is not an IP address (the header is then not
    believed at all). Never switches."""
    hops: list[str] | None = None
    xff = environ.get("HTTP_X_FORWARDED_FOR")
    if xff:
        hops = [h for h in xff.split(",") if h.strip()]
    else:
        fwd = environ.get("HTTP_FORWARDED")
        if fwd:
            hops = []
            for element in fwd.split(","):
                for pair in element.split(";"):
                    key, _, value = pair.partition("=")
                    if key.strip().lower() == "for":
                        hops.append(value)
    if not hops:
        return None
    ips = [_ip(h) for h in hops]
    if any(ip is None for ip in ips):
        return None
    for ip in reversed(ips):
        if not _is_trusted(ip, trusted):
            return str(ip)
    return str(ips[0])


class _Left(Exception):
    """The peer left (or its time ran out) during the handshake."""


def server_handshake(transport: Transport, secret: bytes, throttle: _auth.Throttle | None,
                     timeout: float = HANDSHAKE_TIMEOUT, log_level: int = logging.INFO) -> bool:
    """Authenticate the peer on `transport`; True if it proved the secret.

    A wrong answer is answered with ``denied`` and a message — after the
    `throttle`'s delay for its address, if any — and the transport is
    closed. A peer that leaves or runs out of `timeout` is just closed.
    Switches: always.
    """
    address = transport.address
    try:
        with gevent.Timeout(timeout, _Left("the handshake timed out")):
            hello, nonce = _auth.server_hello()
            transport.send(hello)
            answer = transport.recv(_auth.MAX_HANDSHAKE_FRAME)
            if answer is None:
                raise _Left("the peer left during the handshake")
            client_nonce = _auth.check_client(answer, secret, nonce)
    except (AuthError, ProtocolError) as e:
        delay = throttle.failed(address) if throttle is not None else 0
        log.warning("refused peer %s: %s", address, e)
        try:
            if delay:
                gevent.sleep(delay)
            transport.send(_auth.denied(str(e)))
        except Exception:
            pass
        transport.close(str(e))
        return False
    except Exception as e:  # _Left, or the socket died under us
        log.log(log_level, "peer %s left during the handshake: %s", address, e)
        transport.close()
        return False
    transport.send(_auth.server_welcome(secret, nonce, client_nonce))
    return True


class _Ticket:
    """One connection still in the upgrade or handshake: its socket is
    closed when its deadline passes or when it is pushed out."""

    __slots__ = ("sock", "address", "timer", "gate", "__weakref__")

    sock: socket.socket
    address: str
    timer: Any  # a gevent loop timer
    gate: _Gate

    def __init__(self, gate: _Gate, sock: socket.socket, address: str) -> None:
        self.gate, self.sock, self.address = gate, sock, address
        self.timer = gevent.get_hub().loop.timer(gate.timeout)
        self.timer.start(self.expire, "its time to finish the handshake ran out")

    def expire(self, why: str) -> None:
        """Close the socket (wakes whatever reads it); forget the ticket."""
        if self.gate.forget(self):
            log.debug("closing %s: %s", self.address, why)
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def done(self) -> None:
        """The handshake ended (either way): no deadline any more."""
        self.gate.forget(self)


class _Gate:
    """Counts the connections in the upgrade or handshake, in all and per
    address, and closes the oldest past a ceiling. Never switches."""

    def __init__(self, timeout: float, max_total: int, max_per_address: int,
                 trusted: tuple[_Network, ...] = ()) -> None:
        self.timeout = timeout
        self.max_total, self.max_per_address = max_total, max_per_address
        self.trusted = trusted  # proxies: their connections are counted by forwarded address
        self._pending: dict[_Ticket, None] = {}  # ticket -> None, oldest first
        # address -> {ticket: None}, oldest first
        self._by_address: dict[str, dict[_Ticket, None]] = {}
        self._current: dict[Any, _Ticket] = {}  # greenlet -> its ticket

    def enter(self, sock: socket.socket, address: str) -> _Ticket:
        # A trusted proxy's connections are counted under the address it
        # forwards once their request is read (`rekey`); until then only
        # the total ceiling holds them.
        if not (self.trusted and _is_trusted(_ip(address), self.trusted)):
            self._make_room(address)
        if len(self._pending) >= self.max_total:
            next(iter(self._pending)).expire(
                f"over {self.max_total} connections in the handshake")
        ticket = _Ticket(self, sock, address)
        self._pending[ticket] = None
        self._by_address.setdefault(address, {})[ticket] = None
        self._current[getcurrent()] = ticket
        return ticket

    def _make_room(self, address: str) -> None:
        mine = self._by_address.get(address)
        if mine is not None and len(mine) >= self.max_per_address:
            next(iter(mine)).expire(f"over {self.max_per_address} connections from"
                                    " one address in the handshake")

    def rekey(self, ticket: _Ticket, address: str) -> None:
        """Count `ticket` under `address` (a proxy's client) from now on,
        under that address's ceiling."""
        if ticket not in self._pending:
            return
        mine = self._by_address.get(ticket.address)
        if mine is not None:
            mine.pop(ticket, None)
            if not mine:
                del self._by_address[ticket.address]
        self._make_room(address)
        ticket.address = address
        self._by_address.setdefault(address, {})[ticket] = None

    def forget(self, ticket: _Ticket) -> bool:
        """True if `ticket` was still pending (it is not any more)."""
        if ticket not in self._pending:
            return False
        del self._pending[ticket]
        ticket.timer.stop()
        ticket.timer.close()
        mine = self._by_address.get(ticket.address)
        if mine is not None:
            mine.pop(ticket, None)
            if not mine:
                del self._by_address[ticket.address]
        return True

    def leave(self, ticket: _Ticket) -> None:
        self._current.pop(getcurrent(), None)
        self.forget(ticket)

    def current(self) -> _Ticket | None:
        """The calling greenlet's ticket, or None."""
        return self._current.get(getcurrent())

    @property
    def pending(self) -> int:
        return len(self._pending)


class Listener:
    """Accepts peers and keeps their connections.

    Attributes:
        address: what it listens on: ``(host, port)`` or a socket path.
        url: how a peer names it (``ws://host:port/`` or ``unix://path``).
        connections: the live `Connection` objects.
        operator: True if its peers are the operator's tools (the IPC
            socket): their connections get no account (`hearth.vm.Accounts`).
    """

    #: Level of the log lines of a peer coming and going.
    log_level = logging.INFO
    operator = False

    def __init__(self, runtime: Runtime, root: tuple[Any, int] | None, secret: bytes,
                 max_outbox: int, handshake_timeout: float | None = None,
                 ping_interval: float | None = None, ping_timeout: float | None = None) -> None:
        self.runtime = runtime
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self._root = root
        self._secret = secret
        self.max_outbox = max_outbox
        self.handshake_timeout = (HANDSHAKE_TIMEOUT if handshake_timeout is None
                                  else handshake_timeout)
        self.throttle: _auth.Throttle | None = _auth.Throttle()
        self.connections: set[Connection] = set()
        self.address: tuple[str, int] | str | None = None
        self.url: str | None = None
        self._closed = False

    def _handshake_done(self) -> None:
        """The calling greenlet's connection is past its handshake."""

    def _serve(self, transport: Transport) -> None:
        """Run one peer to its end in the calling greenlet. Switches: always."""
        level = self.log_level
        try:
            if self._closed or not server_handshake(transport, self._secret, self.throttle,
                                                    self.handshake_timeout, level):
                return
        finally:
            self._handshake_done()
        conn = Connection(self.runtime, transport, root=self._root, max_outbox=self.max_outbox,
                          log_level=level, ping_interval=self.ping_interval,
                          ping_timeout=self.ping_timeout)
        if self.operator:  # the IPC socket's tools: nothing of theirs is bounded
            self.runtime.accounts.set_carrier(conn, None)
        self.connections.add(conn)
        conn.on_close(self.connections.discard)
        log.log(level, "peer %s connected", conn.name)
        conn.start(read_here=True)
        conn.join()  # let the writer flush (an ERROR for the peer) before the socket goes
        log.log(level, "peer %s gone: %s", conn.name, conn.reason)

    def _close_connections(self, message: str) -> None:
        conns = list(self.connections)
        for conn in conns:
            conn.close(message)
        for conn in conns:
            conn.join()

    def close(self) -> None:
        """Stop listening and close every connection. Switches: may."""
        self._closed = True
        self._close_connections("the server is shutting down")

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _GuardedServer(WSGIServer):
    """pywsgi's server, each connection under the listener's `_Gate` from
    its first byte (the TLS handshake included) to the end of the Hearth
    handshake."""

    gate: _Gate = None  # type: ignore[assignment]  # the listener's, set before it starts

    def _guarded(self, inner: Callable[[Any, Any], Any], sock: Any, address: Any) -> Any:
        gate = self.gate
        ticket = gate.enter(sock, address[0] if isinstance(address, tuple) else str(address))
        try:
            inner(sock, address)
        finally:
            gate.leave(ticket)

    def handle(self, sock: Any, address: Any) -> Any:
        if self.gate.current() is not None:  # inside wrap_socket_and_handle
            return super().handle(sock, address)
        return self._guarded(super().handle, sock, address)

    def wrap_socket_and_handle(self, sock: Any, address: Any) -> Any:
        return self._guarded(super().wrap_socket_and_handle, sock, address)


class _WebSocketListener(Listener):
    def __init__(self, runtime: Runtime, root: tuple[Any, int] | None, secret: bytes,
                 host: str, port: int, max_outbox: int, ssl_context: ssl.SSLContext | None,
                 handshake_timeout: float | None, max_handshakes: int | None,
                 max_handshakes_per_address: int | None, max_connections: int | None,
                 trusted_proxies: tuple[_Network, ...], ping_interval: float | None,
                 ping_timeout: float | None) -> None:
        super().__init__(runtime, root, secret, max_outbox, handshake_timeout,
                         ping_interval, ping_timeout)
        self.trusted_proxies = trusted_proxies
        self.gate = _Gate(self.handshake_timeout,
                          MAX_HANDSHAKES if max_handshakes is None else max_handshakes,
                          MAX_HANDSHAKES_PER_ADDRESS if max_handshakes_per_address is None
                          else max_handshakes_per_address, trusted_proxies)
        tls = {"ssl_context": ssl_context} if ssl_context is not None else {}
        self._server = _GuardedServer(
            # SERVER_NAME given, or pywsgi looks up our own name (a DNS
            # query on gevent's thread pool) when it starts.
            (host, port), self._app, handler_class=WebSocketHandler, log=None,
            environ={"SERVER_NAME": host},
            spawn=Pool(MAX_CONNECTIONS if max_connections is None else max_connections),
            **tls, error_log=logging.getLogger("hearth.net.http"))
        self._server.gate = self.gate
        self._server.start()
        host, port = self._server.address[:2]
        self.address = (host, port)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"{'wss' if tls else 'ws'}://{shown}:{port}/"

    def _app(self, environ: dict[str, Any],
             start_response: Callable[..., Any]) -> list[bytes]:
        ws = environ.get("wsgi.websocket")
        if ws is None:
            start_response("426 Upgrade Required", [("Content-Type", "text/plain")])
            return [b"This is a Hearth peer endpoint: connect with a WebSocket client.\n"]
        _no_delay(ws)
        address = environ.get("REMOTE_ADDR", "?")
        trusted = self.trusted_proxies
        if trusted and _is_trusted(_ip(address), trusted):
            client = forwarded_address(environ, trusted)
            if client is None:  # counted as one client of its own, the proxy's address
                log.debug("%s is a trusted proxy but forwarded no usable client address",
                          address)
            else:
                address = client
            ticket = self.gate.current()
            if ticket is not None:
                self.gate.rekey(ticket, address)
        self._serve(WebSocketServerTransport(ws, address))
        return []

    def _handshake_done(self) -> None:
        ticket = self.gate.current()
        if ticket is not None:
            ticket.done()

    def close(self) -> None:
        super().close()
        self._server.stop(timeout=2)


class _UnixListener(Listener):
    # The owner's own tools (each hearth-ctl command is a connection): their
    # comings and goings are debug lines, and their failures are never
    # throttled.
    log_level = logging.DEBUG
    operator = True

    def __init__(self, runtime: Runtime, root: tuple[Any, int] | None, path: str,
                 max_outbox: int) -> None:
        super().__init__(runtime, root, b"", max_outbox)
        self.throttle = None
        self.address = self._path = path
        self.url = f"unix://{path}"
        self._sock = _bind_unix(path)
        self._group = Group()
        self._acceptor = gevent.spawn(self._accept_loop)

    def _accept_loop(self) -> None:
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

    def close(self) -> None:
        super().close()
        self._acceptor.kill()
        self._sock.close()
        self._group.kill(timeout=2)
        try:
            if os.path.exists(self._path):
                os.unlink(self._path)
        except OSError:
            pass


def _no_delay(ws: Any) -> None:
    """Send small frames at once on an accepted WebSocket (TCP_NODELAY),
    as `connect` does on the sockets it opens: with Nagle's algorithm on,
    a small frame behind an unacknowledged one waits for the peer's delayed
    ACK, about 40 ms. Switches: never."""
    sock = getattr(ws.handler, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def _same_user(sock: socket.socket) -> bool:
    """Is the peer the runtime's own user (or root)? Linux's SO_PEERCRED."""
    try:
        import struct

        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
    except (OSError, AttributeError):
        return True  # no peer credentials here: the file's mode is the guard
    return uid in (os.getuid(), 0)


def _bind_unix(path: str) -> socket.socket:
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


def _root_of(root: Cap | None) -> tuple[Any, int] | None:
    return foreign.route_of(root) if root is not None else None


def listen(bind: str | tuple[str, int], *, secret: bytes | str, root: Cap | None = None,
           max_outbox: int = MAX_OUTBOX, ssl_context: ssl.SSLContext | None = None,
           handshake_timeout: float | None = None, max_handshakes: int | None = None,
           max_handshakes_per_address: int | None = None, max_connections: int | None = None,
           trusted_proxies: Iterable[object] = (), ping_interval: float | None = None,
           ping_timeout: float | None = None) -> Listener:
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
        handshake_timeout, max_handshakes, max_handshakes_per_address,
        max_connections: the limits on peers not yet authenticated (None:
            the module's `HANDSHAKE_TIMEOUT`, `MAX_HANDSHAKES`,
            `MAX_HANDSHAKES_PER_ADDRESS`, `MAX_CONNECTIONS` when called).
        trusted_proxies: addresses or networks (``"127.0.0.1"``,
            ``"10.0.0.0/8"``) of reverse proxies whose ``X-Forwarded-For``
            / ``Forwarded`` headers name the peer's address (none by
            default: those headers are ignored).
        ping_interval, ping_timeout: each connection's keepalive
            (`hearth.net.Connection`; None: `PING_INTERVAL`, `PING_TIMEOUT`;
            an interval of 0: no pings).

    Raises:
        ValueError: an empty secret, or a trusted proxy that is not an
            address or network.

    Switches: never.
    """
    host, port = parse_bind(bind) if isinstance(bind, str) else bind
    if isinstance(secret, str):
        secret = secret.encode()
    if not secret:
        raise ValueError("a network listener needs a non-empty secret")
    trusted = parse_trusted(trusted_proxies)
    return _WebSocketListener(current_runtime(), _root_of(root), secret, host, port, max_outbox,
                              ssl_context, handshake_timeout, max_handshakes,
                              max_handshakes_per_address, max_connections, trusted,
                              ping_interval, ping_timeout)


def listen_unix(path: str | os.PathLike[str], *, root: Cap | None = None,
                max_outbox: int = MAX_OUTBOX) -> Listener:
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
