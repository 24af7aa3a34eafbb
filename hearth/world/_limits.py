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
        canvas_side: a painted canvas's width and height, at most.
        canvas_bytes_each: one canvas's RGBA bytes, at most.
        canvas_bytes: the RGBA bytes of every canvas held at once.
        canvas_bytes_per_peer: those of the entities owned through one
            peer connection.
        paints_per_second, paints_burst: paints of one entity (a token
            bucket: `paints_burst` at once, then this many a second).
        peer_paints_per_second, peer_paints_burst: paints of the entities
            owned through one peer connection (a bucket too).
        paint_bytes_per_second, paint_bytes_burst: RGBA bytes painted on
            the entities owned through one peer connection (a bucket too).
        updates_per_second, updates_burst: updates (through an entity's
            capability) of the entities owned through one peer connection
            (a bucket: each update goes to every subscriber, so a peer's
            rate of them is the rate the world fans out for it). An avatar
            sends 20 a second.
    """

    entities: int = 4096
    entities_per_peer: int = 256
    subscribers: int = 256
    subscribers_per_peer: int = 4
    compact_after: int = 1000
    canvas_side: int = 1024
    canvas_bytes_each: int = 1 << 20
    canvas_bytes: int = 64 << 20
    canvas_bytes_per_peer: int = 4 << 20
    paints_per_second: float = 4.0
    paints_burst: int = 4
    peer_paints_per_second: float = 4.0
    peer_paints_burst: int = 8
    paint_bytes_per_second: int = 1 << 20
    paint_bytes_burst: int = 2 << 20
    updates_per_second: float = 60.0
    updates_burst: int = 120
