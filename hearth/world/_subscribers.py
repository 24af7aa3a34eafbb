"""The subscribers of ``hearth.World``: who gets the world's changes, in
order, with one encode per change.

Kept by the world process; a subscriber is a capability (SEND, MONITOR)
the world monitors into its parent mailbox, so a subscriber that dies is
dropped on its Down. Nothing here switches.
"""

import collections

from hearth.native import INVALID_REQUEST, NOT_FOUND
from hearth.otp import ServiceError, encode
from hearth.vm import MONITOR, SEND

__all__ = ["Subscribers", "LIMIT_REACHED"]

LIMIT_REACHED = "limit_reached"


class Subscribers:
    """The subscriptions of one world, and the sequence of its changes.

    Args:
        limits: the world's `Limits`.
        own: the world's own capabilities (it can't subscribe to itself).
        mailbox: where the subscribers' Down signals go.

    Attributes:
        seq: the number of the last change published.
    """

    def __init__(self, limits, own, mailbox):
        self.limits = limits
        self.seq = 0
        self._own = own
        self._mailbox = mailbox
        self._subs = {}  # monitor ref -> (Cap, origin)
        self._per_origin = collections.Counter()

    def __contains__(self, ref):
        return ref in self._subs

    def check(self, sub, origin):
        """Refuse `sub` (from `origin`, a peer connection or None) with a
        `ServiceError` if it can't subscribe."""
        if sub.permissions & (SEND | MONITOR) != SEND | MONITOR:
            raise ServiceError(INVALID_REQUEST, "the subscriber, caps[1], needs SEND and"
                               " MONITOR")
        if any(sub.same_route(c) for c, _ in self._subs.values()):
            raise ServiceError(INVALID_REQUEST, "this capability's route is subscribed already")
        if any(sub.same_route(c) for c in self._own):
            raise ServiceError(INVALID_REQUEST, "the world can't subscribe to itself")
        lim = self.limits
        if len(self._subs) >= lim.subscribers:
            raise ServiceError(LIMIT_REACHED, f"the world has its {lim.subscribers}"
                               " subscribers already")
        if origin is not None and self._per_origin[origin] >= lim.subscribers_per_peer:
            raise ServiceError(LIMIT_REACHED, f"a peer may subscribe at most"
                               f" {lim.subscribers_per_peer} times")

    def add(self, sub, origin, world_term):
        """Keep `sub` (the caller's reference becomes the subscription's),
        monitor it, and send it `world_term` (the ``world`` event). Returns
        the sequence number of that event."""
        ref = sub.monitor(self._mailbox)
        self._subs[ref] = (sub, origin)
        if origin is not None:
            self._per_origin[origin] += 1
        world_term["seq"] = self.seq
        data, caps = encode(world_term)
        sub.send(data, caps)
        return self.seq

    def remove(self, cap, proc):
        """End the subscription of `cap`'s route (`proc`, the world's
        process, stops the monitor).

        Raises:
            ServiceError: ``not_found``.
        """
        for ref, (sub, _) in list(self._subs.items()):
            if sub.same_route(cap):
                proc.demonitor(ref, flush=True)
                self.drop(ref)
                return
        raise ServiceError(NOT_FOUND, "that capability's route is not subscribed")

    def drop(self, ref):
        """Forget the subscriber monitored by `ref` (it died, or left)."""
        sub, origin = self._subs.pop(ref)
        sub.release()
        if origin is not None:
            self._per_origin[origin] -= 1
            if not self._per_origin[origin]:
                del self._per_origin[origin]

    def publish(self, event):
        """Number `event` and send it to every subscriber: one encode, then
        one send each (a send never switches: to a peer it queues on the
        connection)."""
        self.seq += 1
        event["seq"] = self.seq
        if not self._subs:
            return
        data, caps = encode(event)
        for sub, _ in self._subs.values():
            sub.send(data, caps)
