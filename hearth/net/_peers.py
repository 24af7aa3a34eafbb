"""``hearth.net.Peers``: the server's processes reach what its peers export.

Each peer hands the server a root capability when it connects (for
`hearth-client`, its registry, with its window and renderer in it). This
native service (the request/response envelope of docs/protocols.md) lets processes on
the server find them:

=====================  ===============================================
request                ``ok`` value
=====================  ===============================================
``"list"``             ``[{"id": int, "address": str, "root": bool}]``,
                       one per live connection whose root arrived,
                       oldest first
``["root", id]``       the peer's root capability (as the peer gave it),
                       or err ``not_found`` (no such peer, or it gave none)
=====================  ===============================================

Ids are the listener's own numbers for its connections, never reused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hearth.otp import NOT_FOUND, Request, Service, ServiceError, start_supervised
from hearth.vm import Cap, foreign
from hearth.vm._terms import brief

if TYPE_CHECKING:
    from ._connection import Connection
    from ._listen import Listener

__all__ = ["PEERS", "PeersService", "start_peers_service"]

PEERS = "hearth.net.Peers"


def _serial(conn: Connection) -> int:
    return int(conn.name.rsplit("#", 1)[1])


class PeersService(Service):
    """The service over one `Listener`."""

    name = schema = PEERS

    def __init__(self, listener: Listener) -> None:
        super().__init__()
        self._listener = listener

    def _live(self) -> list[Connection]:
        conns = [c for c in self._listener.connections if not c.closed and c.got_root.is_set()]
        return sorted(conns, key=_serial)

    def handle_request(self, request: Request) -> Any:
        op, fields = self.parse(request)
        if op == "list":
            return [{"id": _serial(c), "address": str(c.transport.address),
                     "root": c.remote_root is not None} for c in self._live()]
        wanted = fields["id"]
        for conn in self._live():
            if _serial(conn) == wanted:
                route = conn.remote_root
                if route is None:
                    raise ServiceError(NOT_FOUND, f"peer {wanted} exported no root")
                cap = foreign.import_route(route, route.perms)
                try:
                    request.reply(cap)
                finally:
                    cap.release()
                return None
        raise ServiceError(NOT_FOUND, f"no connected peer {brief(wanted)}")


def start_peers_service(registry: Cap, listener: Listener) -> Cap | None:
    """Start ``hearth.net.Peers`` for `listener`, supervised, linked to the
    caller and registered in `registry`. Returns its capability.

    Switches: always.
    """
    _, caps = start_supervised(registry, [(PEERS, PeersService, (listener,))],
                               name="hearth.net.peers", intensity=3, period=5.0)
    return caps[PEERS]
