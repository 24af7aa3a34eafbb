"""The bounds of ``hearth.World``: what a peer can make the server hold.

Peers are authenticated, not trusted: everything a request can make the
world keep is bounded here, and each refusal is an error reply with kind
``limit_reached`` that says which bound. docs/world.md explains each.
"""

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Bounds of one world.

    Attributes:
        entities: entities in the world at once, persistent ones included.
        entities_per_peer: entities whose owner came through one peer
            connection (local owners count only against `entities`).
        subscribers: subscriptions at once.
        subscribers_per_peer: subscriptions through one peer connection.
        compact_after: log records appended past the live state (plus four
            per entity) before the log is compacted.
    """

    entities: int = 4096
    entities_per_peer: int = 256
    subscribers: int = 256
    subscribers_per_peer: int = 4
    compact_after: int = 1000
