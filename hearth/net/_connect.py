"""The connecting side: `connect` to a server (or to a runtime's IPC
socket) and get its root capability."""

from __future__ import annotations

import logging
import os
import socket
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import SplitResult, urlsplit

import gevent

from hearth.vm import Cap, current_process, foreign

from . import _auth
from ._connection import MAX_OUTBOX, Connection
from ._errors import AuthError, ConnectError
from ._transport import StreamTransport, WebSocketClientTransport

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["Peer", "connect", "start_uplink", "CertificateError"]

log = logging.getLogger("hearth.net")


class CertificateError(ConnectError):
    """The server's TLS certificate failed verification (an unknown CA, a
    name or address it was not made for, expired). A configuration error,
    not a network one: trying again won't help."""


class Peer:
    """A connection made by `connect`, seen from the process that made it.

    Attributes:
        root: a `Cap` (in the connecting process's table) to the peer's
            root capability, or None if it exports none.
        connection: the `Connection`.
    """

    def __init__(self, connection: Connection, root: Cap | None) -> None:
        self.connection = connection
        self.root = root

    @property
    def closed(self) -> bool:
        return self.connection.closed

    @property
    def reason(self) -> str | None:
        """Why the connection ended (None while it is up)."""
        return self.connection.reason if self.connection.closed else None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the connection ends; True if it did. Switches: always."""
        return self.connection.wait(timeout)

    def close(self) -> None:
        """Close the connection and wait (briefly) for its greenlets to end.
        Every capability that came through it closes with ``noconnection``.
        Switches: always."""
        self.connection.close()
        self.connection.join()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Peer {self.connection!r}>"


def _tls_context(ssl_context: ssl.SSLContext | None,
                 cafile: str | os.PathLike[str] | None) -> ssl.SSLContext:
    """The `ssl.SSLContext` a ``wss://`` URL is checked with: the one given,
    else the system's trust store (which ``$SSL_CERT_FILE`` replaces) plus
    `cafile`'s certificates, if any."""
    if ssl_context is not None:
        return ssl_context
    context = ssl.create_default_context()
    if cafile is not None:
        try:
            context.load_verify_locations(cafile=os.fspath(cafile))
        except (OSError, ssl.SSLError) as e:
            raise ConnectError(f"can't use {os.fspath(cafile)} as a CA file: {e}") from None
    return context


def _refused_certificate(url: str, e: BaseException) -> CertificateError:
    parts = [getattr(e, "reason", None), getattr(e, "verify_message", None)]
    why = ": ".join(p for p in parts if p) or str(e)
    return CertificateError(
        f"{url}: the server's TLS certificate was refused ({why}); if it is signed by your"
        " own CA, give that CA's certificate (--cafile FILE, or cafile= / ssl_context= in"
        " Python)")


def _bad_status(url: str, e: BaseException) -> ConnectError:
    status = getattr(e, "status_code", None)
    hint = ""
    if status in (200, 301, 302, 404):
        hint = (" (that is not a Hearth endpoint: check the URL's path, e.g. the /hearth/"
                " location a reverse proxy forwards)")
    elif status in (502, 503, 504):
        hint = " (a reverse proxy answered: is hearth-server running behind it?)"
    return ConnectError(f"can't connect to {url}: the server answered HTTP {status}{hint}")


def _open(url: str, timeout: float, ssl_context: ssl.SSLContext | None,
          cafile: str | os.PathLike[str] | None = None) -> Transport:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        path = parts.path or parts.netloc
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            sock.close()
            raise ConnectError(f"no Hearth runtime is listening at {path} ({e.strerror})") from None
        except OSError as e:
            sock.close()
            raise ConnectError(f"can't connect to {path}: {e.strerror or e}") from None
        return StreamTransport(sock, f"unix:{path}")
    if parts.scheme not in ("ws", "wss"):
        raise ConnectError(f"unsupported URL {url!r}: use ws://, wss:// or unix://")
    import websocket

    context = _tls_context(ssl_context, cafile) if parts.scheme == "wss" else None
    sslopt = {"context": context} if context is not None else None
    try:
        literal = _literal_socket(parts, timeout, context)
        ws = websocket.create_connection(url, timeout=timeout, sslopt=sslopt,
                                         enable_multithread=False, socket=literal)
    except ssl.SSLCertVerificationError as e:
        raise _refused_certificate(url, e) from None
    except websocket.WebSocketBadStatusException as e:
        raise _bad_status(url, e) from None
    except (OSError, websocket.WebSocketException) as e:
        raise ConnectError(f"can't connect to {url}: {e}") from None
    ws.settimeout(None)
    return WebSocketClientTransport(ws, parts.netloc)


def _literal_socket(parts: SplitResult, timeout: float,
                    ssl_context: ssl.SSLContext | None) -> socket.socket | None:
    """A connected socket if the URL's host is an IP address, else None
    (websocket-client then resolves the name itself, on gevent's resolver)."""
    import ipaddress

    host = parts.hostname
    if host is None:
        return None
    try:
        ip = ipaddress.ip_address(host)
    except (TypeError, ValueError):
        return None
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except OSError:
        sock.close()
        raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if parts.scheme == "wss":  # websocket-client leaves a socket it is given as it is
        assert ssl_context is not None  # `_open` makes one for wss://
        try:
            sock = ssl_context.wrap_socket(sock, server_hostname=host)
        except OSError:
            sock.close()
            raise
    return sock


def connect(url: str, *, secret: bytes | str | None = None, root: Cap | None = None,
            timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None,
            cafile: str | os.PathLike[str] | None = None, max_outbox: int = MAX_OUTBOX,
            ping_interval: float | None = None, ping_timeout: float | None = None) -> Peer:
    """Connect to the peer at `url` and return a `Peer` holding its root.

    Must be called in a process: the peer's root capability is imported
    into the caller's table.

    Args:
        url: ``ws://host:port/``, ``wss://host/path`` (TLS, e.g. behind a
            reverse proxy) or ``unix:///path/to/hearth.sock``.
        secret: the server's shared secret (bytes or str); not used on a
            Unix socket, whose file permissions are the guard.
        root: a `Cap` of the caller to hand the peer as *our* root
            capability (the caller must keep it while connected), or None.
        ssl_context: an `ssl.SSLContext` for ``wss://`` (default: the
            system's trust store, which ``$SSL_CERT_FILE`` replaces).
        cafile: a PEM file of CA certificates trusted for ``wss://`` besides
            the system's (your own CA's); ignored with `ssl_context`.
        ping_interval, ping_timeout: the keepalive (`Connection`; None: the
            module's `PING_INTERVAL`, `PING_TIMEOUT`; an interval of 0: no pings).

    Raises:
        CertificateError: the server's TLS certificate failed verification
            (a `ConnectError`; retrying won't help).
        ConnectError: nothing listens there, or the connection dropped.
        AuthError: the secret is wrong (the message is the server's), or
            the server could not prove it knows the secret.

    Switches: always.
    """
    proc = current_process()
    if isinstance(secret, str):
        secret = secret.encode()
    scheme = urlsplit(url).scheme
    if scheme != "unix" and not secret:
        raise ValueError("connecting to a server needs its secret")
    transport = _open(url, timeout, ssl_context, cafile)
    try:
        with gevent.Timeout(timeout, ConnectError(f"{url}: the handshake timed out")):
            hello = transport.recv(_auth.MAX_HANDSHAKE_FRAME)
            if hello is None:
                raise ConnectError(f"{url} closed the connection before the handshake")
            frame, nonce, server_nonce = _auth.client_auth(hello, secret or b"")
            transport.send(frame)
            answer = transport.recv(_auth.MAX_HANDSHAKE_FRAME)
            if answer is None:
                raise AuthError(f"{url} closed the connection during the handshake")
            _auth.check_welcome(answer, secret or b"", server_nonce, nonce)
    except BaseException:
        transport.close()
        raise
    conn = Connection(proc.runtime, transport,
                      root=foreign.route_of(root) if root is not None else None,
                      max_outbox=max_outbox, ping_interval=ping_interval,
                      ping_timeout=ping_timeout)
    conn.start()
    if not conn.got_root.wait(timeout) or conn.closed:
        conn.close("no root capability arrived in time")
        raise ConnectError(f"{url}: the connection ended before it was ready: {conn.reason}")
    remote = conn.remote_root
    cap = foreign.import_route(remote, remote.perms) if remote is not None else None
    return Peer(conn, cap)


def default_secret(env: str = "HEARTH_SECRET",
                   file_env: str = "HEARTH_SECRET_FILE") -> bytes | None:
    """The shared secret from ``$HEARTH_SECRET_FILE`` (a file's first line)
    or else ``$HEARTH_SECRET``; None if neither is set."""
    path = os.environ.get(file_env)
    if path:
        with open(path, "rb") as f:
            return f.read().strip() or None
    value = os.environ.get(env)
    return value.encode() if value else None


#: Seconds an uplink waits before its first retry, and at most between two.
RETRY = (0.5, 30.0)


def start_uplink(url: str, *, registry: Cap, name: str, secret: bytes | str | None = None,
                 root: Cap | None = None, retry: tuple[float, float] = RETRY, link: bool = True,
                 **options: Any) -> Cap:
    """Stay connected to `url` from a process of its own, and keep the
    peer's root registered in `registry` as `name` while connected.

    The peer that `connect` returns does not reconnect: when the connection
    is lost its imports close with ``noconnection``. The uplink process
    connects again after `retry[0]` seconds, doubling up to `retry[1]`
    (reset once connected), re-imports the new root and registers it again
    (the old registration went with the old root). A refusal — a wrong
    secret (`AuthError`) or a certificate that fails verification
    (`CertificateError`) — is final: the process exits with the reason
    ``["refused", message]``, so a linked caller or a supervisor hears it.

    Must be called in a process. `root` (a `Cap` of the caller, or None) is
    what we hand the server each time; `options` go to `connect`
    (``cafile``, ``ssl_context``, ``ping_interval``, ...). With `link`, the
    caller is linked to the uplink (a supervisor's start function wants
    that). Returns the uplink's capability. Switches: never.
    """
    from hearth import vm

    return vm.spawn(_uplink, url, secret, root, registry, name, tuple(retry), options,
                    name=f"uplink {name}", link=link)


def _uplink(url: str, secret: bytes | str | None, root: Cap | None, registry: Cap, name: str,
            retry: tuple[float, float], options: Mapping[str, Any]) -> NoReturn:
    """The uplink process's body (`start_uplink`). Switches: always."""
    from hearth import vm

    vm.set_metadata(description=f"keeps {name} connected to {url}")
    delay = retry[0]
    while True:
        try:
            peer = connect(url, secret=secret, root=root, **options)
        except (AuthError, CertificateError) as e:
            log.error("uplink %s: %s refused: %s", name, url, e)
            vm.exit(["refused", str(e)])
        except ConnectError as e:
            log.warning("uplink %s: %s; trying again in %.1f s", name, e, delay)
            _idle(delay)
            delay = min(delay * 2, retry[1])
            continue
        delay = retry[0]
        try:
            _serve_uplink(peer, registry, name, url)
        finally:  # the uplink killed: its connection goes with it
            peer.connection.close()
        log.warning("uplink %s: lost the connection to %s (%s); reconnecting", name, url,
                    peer.reason)
        peer.close()


def _serve_uplink(peer: Peer, registry: Cap, name: str, url: str) -> None:
    """Register the peer's root; return when the connection is lost."""
    from hearth import otp, vm

    ref = peer.root.monitor() if peer.root is not None else None
    if peer.root is not None:
        try:
            otp.register(registry, name, peer.root)
        except otp.RegistryError as e:
            log.warning("uplink %s: not registered: %s", name, e)
    log.info("uplink %s: connected to %s", name, url)
    while not peer.closed:
        sig = vm.recv(timeout=None if ref is not None else 1.0)
        if isinstance(sig, vm.Down) and sig.ref == ref:
            sig.cap.release()
            break
        _release(sig)
    if peer.root is not None:
        peer.root.release()


def _release(sig: object) -> None:
    for cap in getattr(sig, "caps", None) or ():
        cap.release()


def _idle(seconds: float) -> None:
    """Wait `seconds`, releasing whatever arrives meanwhile."""
    import time

    from hearth import vm

    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        _release(vm.recv(timeout=left))
