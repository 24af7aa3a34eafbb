"""Factory: a service that makes a new process per request, owned by the
requester.

docs/protocols.md's factories (timers, stopwatches, canvases, terminals) answer
"new" with a capability to a fresh process that belongs to whoever asked:
it goes when its owner dies (see `_ownership`). `start_factory(fn, *args)`
runs such a service as a `GenServer`; `create` asks it for one::

    def session(user):
        ...                                   # one client's session loop

    sessions = start_factory(session)
    alice, deed = create(sessions, "alice")   # runs session("alice")
    # alice dies with this process; `deed` hands it on (`transfer`)

The new process runs ``fn(*args, *request_args)`` in its own process, with
a warden linking it to the owner (`spawn_owned`). The factory itself is
linked to none of them: a factory that dies leaves its products running,
and a product that crashes does not touch the factory.

Wire protocol (`call`; replies as in `_patterns`):
``("create", owner, args)`` → ``{"ok": {"resource": cap, "deed": cap}}``;
`owner` is a capability with LINK to the requester's parent mailbox (the
client mints it), `args` an array (capabilities in it travel to the new
process). Err ``invalid_request`` for anything malformed,
``permission_denied`` if `owner` lacks LINK, ``start_failed`` if the
process could not be started. ``("created",)`` → how many it has made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hearth.vm import LINK, Cap, Message, current_process

from ._call import DEFAULT_TIMEOUT, reply
from ._errors import StartError
from ._gen_server import GenServer, start as start_server, start_link as start_link_server
from ._ownership import Owned, spawn_owned
from ._patterns import INVALID, err, ok, reject, request

__all__ = ["start_factory", "start_link_factory", "create", "created_count"]

log = logging.getLogger("hearth.otp.factory")


class Factory(GenServer):
    """The service. State: ``{"fn", "args", "options", "created"}``."""

    def init(self, fn, options, *args):
        # `args` come as spawn arguments, so their capabilities are in our
        # table; the factory keeps them for its whole life.
        return ("ok", {"fn": fn, "args": args, "options": options, "created": 0})

    def handle_call(self, req, from_, state):
        if type(req) is tuple and len(req) == 3 and req[0] == "create":
            _create(state, req[1], req[2], from_)
            return ("noreply", state)
        if req == ("created",):
            return ("reply", ok(state["created"]), state)
        return ("reply", err(INVALID, f"unknown factory request {req!r}"), state)

    def handle_cast(self, req, state):
        log.warning("factory dropped an unknown cast: %r", req)
        return ("noreply", state)

    def handle_info(self, info, state):
        if type(info) is Message:
            reject("factory", info, "not a call of the factory protocol")
        return ("noreply", state)


def _create(state, owner, args, from_):
    """Make one product and answer `from_`."""
    if type(owner) is not Cap or type(args) is not tuple:
        reply(from_, err(INVALID, "create needs an owner capability and an array of arguments"))
        return
    if not owner.permissions & LINK:
        reply(from_, err("permission_denied", "the owner capability needs LINK"))
        return
    try:
        resource, deed = spawn_owned(
            state["fn"], *state["args"], *args, owner=owner, **state["options"]
        )
    except StartError as e:
        reply(from_, err("start_failed", f"could not start: {e}", reason=e.reason))
        return
    state["created"] += 1
    try:
        reply(from_, ok({"resource": resource, "deed": deed}))
    finally:
        # The reply message holds its own references (rule V5): drop ours.
        resource.release()
        deed.release()


def start_factory(
    fn: Callable[..., object],
    *args: Any,
    name: str | None = None,
    registry: Any = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    **options: Any,
) -> Cap:
    """Start a factory of processes running ``fn(*args, *request_args)``.

    Args:
        fn: the product's function (any callable: it never crosses a
            message).
        *args: the first arguments of every product (`Cap` ones are
            imported into the factory's table and each product gets its
            own reference).
        name, registry, timeout: as for `start_server`.
        **options: spawn options of each product (`trap_exit`, metadata).

    Returns:
        a capability (all permissions) to the factory.

    Switches: always.
    """
    return _start(start_server, fn, args, name, registry, timeout, options)


def start_link_factory(
    fn: Callable[..., object],
    *args: Any,
    name: str | None = None,
    registry: Any = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    **options: Any,
) -> Cap:
    """Like `start_factory`, linked to the caller. Switches: always."""
    return _start(start_link_server, fn, args, name, registry, timeout, options)


def _start(starter, fn, args, name, registry, timeout, options):
    if not callable(fn):
        raise TypeError(f"a factory needs a callable, not {type(fn).__name__}")
    return starter(Factory, fn, options, *args, name=name, registry=registry, timeout=timeout)


def create(
    factory: Cap, *args: Any, owner: Cap | None = None, timeout: float | None = DEFAULT_TIMEOUT
) -> Owned:
    """Ask `factory` for a new process, owned by the caller (or `owner`).

    Args:
        factory: a capability to a factory.
        *args: the request's arguments for the product (plain data and
            capabilities).
        owner: a capability with LINK to the owner's parent mailbox;
            default the caller's.

    Returns:
        an `Owned` ``(resource, deed)``.

    Raises:
        ServiceError: the factory refused (see the module docstring).
        CallTimeout, ServerExited: no reply (see `call`).

    Switches: always.
    """
    mine = current_process().make_capability(LINK) if owner is None else None
    try:
        value = request(factory, ("create", owner or mine, args), timeout)
    finally:
        if mine is not None:
            mine.release()
    return Owned(value["resource"], value["deed"])


def created_count(factory: Cap, timeout: float | None = DEFAULT_TIMEOUT) -> int:
    """How many processes `factory` has made. Switches: always."""
    return request(factory, ("created",), timeout)
