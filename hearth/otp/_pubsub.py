"""Pub-sub: a service that fans each published term out to its subscribers.

A pub-sub service is a `GenServer` holding a set of subscriber capabilities.
`publish` sends a term to every subscriber; a subscriber that dies is
dropped (the service monitors each one); subscribing twice is a no-op::

    events = start_pubsub()
    subscribe(events)                       # this process's mailbox 0
    publish(events, ("resized", 800, 600))
    sig = vm.recv()                         # a Message
    decode(sig.data, sig.caps)              # ("resized", 800, 600)

Subscribers receive each published term as one plain msgpack message
(encoded with the codec, capabilities and all), in publish order. The
service keeps one reference to each subscriber capability; it needs SEND
(to deliver) and MONITOR (to notice the subscriber's death), so
`subscribe` without a capability subscribes the caller's parent mailbox
with exactly those.

Wire protocol (`call` unless said otherwise; replies as in `_patterns`):

===================================  ========================================
request                              ``ok`` value
===================================  ========================================
``("subscribe", cap)``               True, or False if that route was already
                                     subscribed (whatever the permissions);
                                     err ``invalid_request`` (not a Cap),
                                     ``permission_denied`` (lacks SEND or
                                     MONITOR)
``("unsubscribe", cap)``             True, or False if it was not subscribed
                                     (any capability to the route will do)
``("subscriber_count",)``            the number of subscribers
``("publish", term)`` (cast)         none; a `call` gets ``{"ok": n}``, the
                                     number of subscribers it went to
===================================  ========================================

Anything else is answered ``invalid_request`` (or logged, see `_patterns`),
and the service goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from hearth.vm import MONITOR, SEND, Cap, Down, current_process

from ._call import DEFAULT_TIMEOUT, cast
from ._codec import encode
from ._gen_server import GenServer, start as start_server, start_link as start_link_server
from ._patterns import INVALID, err, ok, reject, request

__all__ = [
    "start_pubsub",
    "start_link_pubsub",
    "subscribe",
    "unsubscribe",
    "publish",
    "subscriber_count",
]

log = logging.getLogger("hearth.otp.pubsub")

_NEEDED = SEND | MONITOR


class PubSub(GenServer):
    """The service. State: ``{"subs": {route id: (cap, ref)}, "refs": {ref:
    route id}}``; dicts keep subscription order, so fan-out is in that
    order."""

    def init(self):
        return ("ok", {"subs": {}, "refs": {}})

    def handle_call(self, req, from_, state):
        if type(req) is tuple and req:
            op = req[0]
            if op == "subscribe" and len(req) == 2:
                return ("reply", _subscribe(state, req[1]), state)
            if op == "unsubscribe" and len(req) == 2:
                return ("reply", _unsubscribe(state, req[1]), state)
            if op == "subscriber_count" and len(req) == 1:
                return ("reply", ok(len(state["subs"])), state)
            if op == "publish" and len(req) == 2:
                return ("reply", ok(_publish(state, req[1])), state)
        return ("reply", err(INVALID, f"unknown pub-sub request {req!r}"), state)

    def handle_cast(self, req, state):
        if type(req) is tuple and len(req) == 2 and req[0] == "publish":
            _publish(state, req[1])
        else:
            log.warning("pub-sub dropped an unknown cast: %r", req)
        return ("noreply", state)

    def handle_info(self, info, state):
        if type(info) is Down:
            route = state["refs"].pop(info.ref, None)
            if route is not None:
                cap, _ = state["subs"].pop(route)
                cap.release()
        else:
            reject("pub-sub", info, "not a call or cast of the pub-sub protocol")
        return ("noreply", state)

    def terminate(self, reason, state):
        for cap, _ in state["subs"].values():
            cap.release()
        state["subs"].clear()


def _subscribe(state, cap):
    if type(cap) is not Cap:
        return err(INVALID, f"subscribe needs a capability, not {type(cap).__name__}")
    if cap.permissions & _NEEDED != _NEEDED:
        return err("permission_denied", "a subscriber capability needs SEND and MONITOR")
    route = cap.route_id
    if route in state["subs"]:
        return ok(False)
    cap.inc_ref()  # lent by the call: keep our own reference
    ref = cap.monitor()
    state["subs"][route] = (cap, ref)
    state["refs"][ref] = route
    return ok(True)


def _unsubscribe(state, cap):
    if type(cap) is not Cap:
        return err(INVALID, f"unsubscribe needs a capability, not {type(cap).__name__}")
    entry = state["subs"].pop(cap.route_id, None)
    if entry is None:
        return ok(False)
    kept, ref = entry
    del state["refs"][ref]
    current_process().demonitor(ref, flush=True)
    kept.release()
    return ok(True)


def _publish(state, term):
    try:
        data, caps = encode(term)
    except TypeError as e:  # can't happen for a decoded term; guard anyway
        log.warning("pub-sub could not publish %r: %s", term, e)
        return 0
    subs = state["subs"]
    for cap, _ in subs.values():
        cap.send(data, caps)
    return len(subs)


# -- the service and its clients ----------------------------------------------------------


def start_pubsub(
    *, name: Any = None, registry: Any = None, timeout: float | None = DEFAULT_TIMEOUT
) -> Cap:
    """Start a pub-sub service; return a capability (all permissions) to it.

    `name` and `registry` register it, as with `start_server`.
    Switches: always.
    """
    return start_server(PubSub, name=name, registry=registry, timeout=timeout)


def start_link_pubsub(
    *, name: Any = None, registry: Any = None, timeout: float | None = DEFAULT_TIMEOUT
) -> Cap:
    """Like `start_pubsub`, linked to the caller. Switches: always."""
    return start_link_server(PubSub, name=name, registry=registry, timeout=timeout)


def subscribe(pubsub: Cap, cap: Cap | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
    """Subscribe `cap` (SEND and MONITOR; default: the caller's parent
    mailbox) to `pubsub`.

    Returns:
        True, or False if that route was subscribed already (a no-op).

    Raises:
        ServiceError: `cap` lacks SEND or MONITOR (``permission_denied``).
        CallTimeout, ServerExited: no reply (see `call`).

    Switches: always.
    """
    if cap is None:
        mine = current_process().make_capability(_NEEDED)
        try:
            return request(pubsub, ("subscribe", mine), timeout)
        finally:
            mine.release()
    return request(pubsub, ("subscribe", cap), timeout)


def unsubscribe(
    pubsub: Cap, cap: Cap | None = None, timeout: float | None = DEFAULT_TIMEOUT
) -> Any:
    """Unsubscribe `cap`'s route (default: the caller's parent mailbox).

    Returns True if it was subscribed. Messages already sent to it stay in
    its mailbox. Switches: always.
    """
    if cap is None:
        mine = current_process().make_capability(0)
        try:
            return request(pubsub, ("unsubscribe", mine), timeout)
        finally:
            mine.release()
    return request(pubsub, ("unsubscribe", cap), timeout)


def publish(pubsub: Cap, term: Any) -> None:
    """Send `term` to every subscriber of `pubsub` (a `cast`: never blocks,
    never raises for a dead service). Switches: never."""
    cast(pubsub, ("publish", term))


def subscriber_count(pubsub: Cap, timeout: float | None = DEFAULT_TIMEOUT) -> int:
    """How many subscribers `pubsub` has. Switches: always."""
    return request(pubsub, ("subscriber_count",), timeout)
