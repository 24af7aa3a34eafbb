"""What the pattern services share: the reply convention and bad input.

The services of this layer (pub-sub, factory, the ownership warden, the
application controller) take requests with `call` and answer them, as
docs/protocols.md's request/response convention says, with a map built by
`_request`'s `ok` and `err` (the envelope's own replies):

- ``{"ok": value}`` on success;
- ``{"err": {"kind": K, "message": M, ...}}`` on failure: `K` a short
  machine-readable str (``invalid_request``, ``permission_denied``,
  ``not_found``, ...), `M` a str for people, and sometimes more fields
  (the application controller adds ``"reason"``).

Bad input never stops a service (docs/protocols.md):

- a well-formed `call` with a request the service does not understand is
  answered ``{"err": {"kind": "invalid_request", ...}}``;
- a message that is not a `call` or `cast` of `_call`'s protocol (not
  msgpack, a foreign term) is answered the same way, raw, through caps[0]
  when caps[0] can SEND (the reply capability of docs/protocols.md's raw
  convention), and logged and dropped otherwise;
- a `cast` the service does not understand is logged and dropped.

Client side, `request` makes the call and `unwrap`s the reply: the value, or
a `ServiceError` carrying the kind.
"""


from __future__ import annotations

import logging
from typing import Any

from hearth.vm import SEND, Cap, Message

from ._call import DEFAULT_TIMEOUT, call
from ._codec import encode
from ._errors import ServiceError
from ._request import INVALID_REQUEST, err, ok, unwrap

__all__ = ["ServiceError", "ok", "err", "unwrap", "request", "reject", "INVALID"]

log = logging.getLogger("hearth.otp.patterns")

INVALID = INVALID_REQUEST


def request(
    server: Cap,
    req: Any,
    timeout: float | None = DEFAULT_TIMEOUT,
    error: type[ServiceError] = ServiceError,
) -> Any:
    """`call` `server` with `req` and `unwrap` the reply.

    Raises:
        ServiceError (or `error`): the service refused.
        CallTimeout, ServerExited: no reply (see `call`).

    Switches: always.
    """
    return unwrap(call(server, req, timeout), error)


def reject(service: str, sig: Any, why: str) -> None:
    """Deal with input that is not a request of the service's protocol.

    A `Message` whose caps[0] can SEND gets a raw ``invalid_request`` error
    reply there; anything else is only logged. The caller still owns (and
    releases) the signal's capabilities. Switches: never.

    Args:
        service: the service's name, for the log.
        sig: the signal.
        why: what was wrong, for people.
    """
    if type(sig) is Message and sig.caps:
        cap = sig.caps[0]
        if cap.refs and cap.permissions & SEND:
            cap.send(*encode(err(INVALID, why)))
            log.info("%s answered a malformed message with an error: %s", service, why)
            return
    log.warning("%s dropped a malformed message: %s (%r)", service, why, sig)
