"""hearth.net — peers: capabilities across WebSocket and the local IPC socket.

Layer 2: imports `hearth.vm` and `hearth.otp` only (its service,
``hearth.net.Peers``, is a `hearth.otp.Service`). A capability held by a
peer is used like a local one (rules N1–N6 and V25 of docs/semantics.md); the tour is
docs/network.md.

- `listen(bind, secret=..., root=cap)`: serve peers over WebSocket.
- `listen_unix(path, root=cap)`: serve local tools on a Unix socket.
- `connect(url, secret=..., root=cap)`: connect; returns a `Peer` whose
  `root` is the other side's root capability.
- `start_peers_service(registry, listener)`: ``hearth.net.Peers``, through
  which the server's processes reach the roots its peers exported.
"""

from ._connect import CertificateError, Peer, connect, default_secret, start_uplink
from ._connection import MAX_OUTBOX, PING_INTERVAL, PING_TIMEOUT, Connection
from ._errors import AddressInUse, AuthError, ConnectError, NetError
from ._listen import (
    HANDSHAKE_TIMEOUT,
    MAX_HANDSHAKES,
    Listener,
    listen,
    listen_unix,
    parse_bind,
)
from ._peers import PEERS, PeersService, start_peers_service
from ._wire import MAX_FRAME, ProtocolError

__all__ = [
    "connect",
    "start_uplink",
    "listen",
    "listen_unix",
    "parse_bind",
    "PEERS",
    "PeersService",
    "start_peers_service",
    "default_secret",
    "Peer",
    "Listener",
    "Connection",
    "MAX_OUTBOX",
    "MAX_FRAME",
    "HANDSHAKE_TIMEOUT",
    "MAX_HANDSHAKES",
    "NetError",
    "ConnectError",
    "CertificateError",
    "PING_INTERVAL",
    "PING_TIMEOUT",
    "AuthError",
    "AddressInUse",
    "ProtocolError",
]
