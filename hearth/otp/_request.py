"""docs/protocols.md's request/response envelope: its replies and its
client side (the server side is `_service`).

A request is a msgpack term (see `_codec`) with the reply capability at
caps[0] and capability arguments at caps[1..]; the reply is ``{"ok": value}``
or ``{"err": {"kind": ..., "message": ..., ...}}``. Native services, the
registry and guests speak it; `call` (in `_call`) is the Python servers'
protocol on top of the same kernel, and the pattern services (`_patterns`)
answer their calls with these same ok/err maps inside its ``$reply``.
This module is the one place that builds and reads them.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from typing import Any

from hearth import vm
from hearth.vm import MONITOR, SEND, Cap, Down, Message

from ._call import DEFAULT_TIMEOUT
from ._codec import decode, encode
from ._errors import CallTimeout, DecodeError, ServerExited, ServiceError

__all__ = [
    "INVALID_REQUEST",
    "INTERNAL_ERROR",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "ok",
    "err",
    "unwrap",
    "request",
    "send_request",
    "read_reply",
    "is_reply",
]

# Error kinds every service may answer (docs/protocols.md); services add
# their own.
INVALID_REQUEST = "invalid_request"
INTERNAL_ERROR = "internal_error"
NOT_FOUND = "not_found"
PERMISSION_DENIED = "permission_denied"

MESSAGE_LIMIT = 200  # characters of an error text that go on the wire
_MESSAGE_LIMIT = MESSAGE_LIMIT


def ok(value: Any = None) -> dict[str, Any]:
    """A success reply: ``{"ok": value}``. Switches: never."""
    return {"ok": value}


def err(kind: str, message: str, **details: Any) -> dict[str, Any]:
    """An error reply: ``{"err": {"kind": kind, "message": message, ...}}``.

    Switches: never.
    """
    body = {"kind": kind, "message": message}
    body.update(details)
    return {"err": body}


def unwrap(
    reply: Any, error: type[ServiceError] = ServiceError, what: str = "not an ok/err reply"
) -> Any:
    """The value of an ``{"ok": value}`` reply.

    Raises:
        ServiceError (or `error`, a subclass): an ``{"err": ...}`` reply
            (its kind, message and other fields), or one of neither shape
            (kind ``invalid_reply``, `what` saying so).

    Switches: never.
    """
    if type(reply) is dict and len(reply) == 1:
        if "ok" in reply:
            return reply["ok"]
        body = reply.get("err")
        if type(body) is dict and type(body.get("kind")) is str:
            details = {k: v for k, v in body.items()
                       if type(k) is str and k not in ("kind", "message")}
            raise error(body["kind"], str(body.get("message", "")), details)
    raise error("invalid_reply", f"{what}: {reply!r}"[:_MESSAGE_LIMIT])


def send_request(service: Cap, term: Any, reply_to: Cap, args: Sequence[Cap] = ()) -> None:
    """Send one request: `term` with caps ``[reply_to, *args]``.

    For concurrent requests from one process: give each a reply capability
    to a mailbox of its own, and read each answer with `read_reply`.

    Raises:
        TypeError: `term` can't be encoded.

    Switches: never.
    """
    data, caps = encode(term, [reply_to, *args])
    service.send(data, caps)


def read_reply(sig: Any) -> Any:
    """The ``ok`` value of a reply message; capabilities inside it stay
    held, the message's others are released.

    Raises:
        ServiceError: the reply is an ``err`` (its kind), or not a reply at
            all (kind ``invalid_reply``).

    Switches: never.
    """
    if type(sig) is not Message:
        if getattr(sig, "cap", None) is not None:
            sig.cap.release()
        raise ServiceError("invalid_reply", f"expected a reply message, got {sig!r}")
    try:
        reply = decode(sig.data, sig.caps)
    except DecodeError as e:
        reply = e
    held = collections.Counter(id(c) for c in _caps_in(reply))
    for cap in sig.caps:
        if held[id(cap)]:
            held[id(cap)] -= 1
        else:
            cap.release()
    return unwrap(reply, what="not a reply")


def _caps_in(term: Any, depth: int = 0) -> Iterator[Cap]:
    if type(term) is Cap:
        yield term
    elif depth < 64 and type(term) is tuple:
        for t in term:
            yield from _caps_in(t, depth + 1)
    elif depth < 64 and type(term) is dict:
        for k, v in term.items():
            yield from _caps_in(k, depth + 1)
            yield from _caps_in(v, depth + 1)


_KEY = "$otp.request_reply_mailbox"


def request(
    service: Cap, term: Any, args: Sequence[Cap] = (), timeout: float | None = DEFAULT_TIMEOUT
) -> Any:
    """Send one request to `service` and wait for its reply.

    The reply comes to a mailbox of the caller's own, kept in its process
    dictionary and reused; on a timeout, or after a request to a peer's or
    a guest's service (which may keep the reply capability), it is
    destroyed, so a late or forged reply is dropped and can never be read
    as another request's.

    Args:
        service: a `Cap` with SEND (and MONITOR, to notice the service's
            death at once; without it a dead service is noticed by timeout).
        term: the request term.
        args: capability arguments (caps[1..]).
        timeout: seconds on the runtime's clock, or None to wait forever.
            Give more than the delay when asking for one (a sleep, a tick).

    Returns:
        the ``ok`` value.

    Raises:
        ServiceError: an ``err`` reply.
        CallTimeout: no reply within `timeout`.
        ServerExited: the service was dead or died before replying.

    Switches: always.
    """
    proc = vm.current_process()
    d = proc.dictionary
    if d is None:
        d = proc.dictionary = {}
    entry = d.get(_KEY)
    if entry is None or entry[0].closed:
        mb = proc.create_mailbox()
        entry = d[_KEY] = (mb, mb.make_capability(SEND))
    mb, reply_to = entry
    # A service of a peer (or of a guest) keeps the reply capability it is
    # handed: the mailbox is retired after its request (as after a
    # timeout), so it can neither answer a later request to anyone else nor
    # queue messages in it for good.
    retire = vm.carrier_of(service) is not None or vm.account_of(service) is not None
    send_request(service, term, reply_to, args)  # a bad term raises before anything is sent
    # Monitoring after the send still catches a service that was already
    # dead: its Down comes at once (``noproc``).
    ref = service.monitor(mb) if service.permissions & MONITOR else None
    done = False
    try:
        clock = proc.runtime.clock
        deadline = None if timeout is None else clock.now() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - clock.now())
            sig = mb.recv(remaining)
            if sig is None:
                raise CallTimeout(f"no reply to {term!r} within {timeout}s", "timeout")
            if type(sig) is Down:
                sig.cap.release()
                if sig.ref == ref:
                    raise ServerExited(f"the service exited: {sig.reason!r}", sig.reason)
                continue
            if type(sig) is Message and not is_reply(_decoded(sig)):
                # Not an answer (a stray message to a private mailbox):
                # drop it, and its capabilities, and keep waiting.
                for cap in sig.caps:
                    cap.release()
                continue
            done = True
            return read_reply(sig)
    finally:
        if ref is not None:
            proc.demonitor(ref, flush=True)
        if not done or retire:
            # A reply may still come (or the service kept its reply
            # capability): retire the mailbox (its route closes, so what
            # comes later is dropped) rather than let the next request read
            # it as its own.
            mb.destroy()
            d.pop(_KEY, None)


def _decoded(sig: Message) -> Any:
    try:
        return decode(sig.data, sig.caps)
    except DecodeError:
        return None


def is_reply(term: Any) -> bool:
    """True if `term` has the shape of a reply: ``{"ok": v}`` or
    ``{"err": {"kind": str, ...}}``. Switches: never."""
    if type(term) is not dict or len(term) != 1:
        return False
    if "ok" in term:
        return True
    err = term.get("err")
    return type(err) is dict and type(err.get("kind")) is str
