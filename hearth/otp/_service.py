"""Request/response services of docs/protocols.md: the service side of
the envelope (`_request` builds and reads its replies, and is the client),
a service loop, and the helpers that start services under a supervisor.

`hearth.native`'s services, `hearth.net.Peers` and the world build on
`Service`; `hearth.native` re-exports these names.

Every native request/response service (time, filesystem, renderer, ...)
speaks the same envelope; each service's module documents only its own
request terms and ``ok`` values.

Wire format
-----------

A request is one message:

- caps[0] is the reply capability; it needs SEND. A request without one
  (no capabilities, or caps[0] lacking SEND) can't be answered: the service
  logs it, drops it and goes on serving.
- caps[1..] are the request's capability arguments, if it takes any.
- the data is one msgpack term (`hearth.otp`'s codec): nil, bool, int,
  float, str, bin, array, map; a capability inside the term is msgpack
  extension type 1 whose 4-byte payload is its index into the message's
  caps, a little-endian u32 (`hearth.otp._codec.CAP_EXT`).

The reply is one message sent through caps[0]. Its data is a map with one
key: ``{"ok": value}`` or ``{"err": {"kind": K, "message": M}}``, K one of
the kinds below, M a str for people (a kind may add fields to the err
map). Capabilities inside `value` travel in the reply's caps, embedded as
above. There is no request tag: replies come in the order requests finish,
which for a deferred reply (a sleep, say) is not the order they were sent.
To tell concurrent replies apart, give each outstanding request a reply
capability to a mailbox of its own.

Operations
----------

A service with several requests names the operation, in any of three
forms (`parse_op`); fields are positional in the array form:

===============================  ==================================
form                             example
===============================  ==================================
a bare str (op without fields)   ``"new"``
an array                         ``["tick", 0.5]``
a map                            ``{"op": "tick", "seconds": 0.5}``
===============================  ==================================

Other keys of a map are ignored. A service with a schema (hearth/otp/
protocols, `hearth.otp.Schema`) names it in `Service.schema` and checks
each request with `Service.parse`: the op, the fields' types and the
capability arguments, with the same forms; `parse_op` is the older,
untyped helper, for services without one.

Error kinds
-----------

``invalid_request``
    The sender's fault: the data is not msgpack, has the wrong shape,
    names an unknown op, lacks a field or has one of the wrong type or
    range, or a capability argument is missing or lacks a permission the
    op needs.
``internal_error``
    A bug in the service, logged with its traceback. The service keeps
    serving.
``not_found``, ``permission_denied``
    For services that name things (the filesystem, say).

Services may define more kinds; each documents its own.

Capability references
---------------------

A service takes one reference to each capability of a request (one per
occurrence) and releases all of them once the request is handled, except
the reply capability of a deferred reply (released when it answers) and
any argument it keeps (`Request.keep`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

from hearth import vm
from hearth.vm import MONITOR, SEND, Cap, Message, account_of
from hearth.vm._terms import brief

from ._codec import decode, encode
from ._droplog import DropLog
from ._errors import DecodeError, ServiceError
from ._registry_client import lookup, register
from ._request import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    MESSAGE_LIMIT,
    NOT_FOUND,
    PERMISSION_DENIED,
    ok,
    read_reply,
    request,
    send_request,
)
from ._schema import schema as find_schema
from ._supervisor import ChildSpec, start_link as start_link_supervisor

__all__ = [
    "INVALID_REQUEST",
    "INTERNAL_ERROR",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "ServiceError",
    "Request",
    "Service",
    "parse_op",
    "spawn_service",
    "start_registered",
    "register_linked",
    "start_supervised",
    "send_request",
    "read_reply",
    "request",
]

log = logging.getLogger("hearth.native")


def _invalid(message):
    return ServiceError(INVALID_REQUEST, message)


# -- the service side --------------------------------------------------------------------


def parse_op(
    term: Any, ops: Mapping[str, Sequence[str]], defaults: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """Return ``(op, fields)`` of a request naming an operation.

    Args:
        term: the decoded request.
        ops: op name -> tuple of its field names, in array order.
        defaults: field name -> value used when the map form leaves the
            field out (a field without a default is required).

    Returns:
        the op name and a dict of its fields (values unchecked: the
        service checks their types).

    Raises:
        ServiceError: ``invalid_request``: not one of the three forms,
            unknown op, wrong number of fields, or a missing field.

    Switches: never.
    """
    defaults = defaults or {}
    if type(term) is str:
        if term not in ops:
            raise _invalid(f"unknown op {brief(term)}; one of {sorted(ops)}")
        names = ops[term]
        missing = [f for f in names if f not in defaults]
        if missing:
            raise _invalid(f"{term} needs {missing} (use the array or map form)")
        return term, {f: defaults[f] for f in names}
    if type(term) is tuple and term:
        op = term[0]
        if type(op) is not str or op not in ops:
            raise _invalid(f"unknown op {brief(op)}; one of {sorted(ops)}")
        names = ops[op]
        if len(term) != 1 + len(names):
            raise _invalid(f"{op} takes {len(names)} field(s) {list(names)}, got {len(term) - 1}")
        return op, dict(zip(names, term[1:]))
    if type(term) is dict:
        op = term.get("op")
        if type(op) is not str or op not in ops:
            raise _invalid(f"unknown op {brief(op)}; one of {sorted(ops)}" if "op" in term
                           else "the request map has no 'op'")
        fields = {}
        for f in ops[op]:
            if f in term:
                fields[f] = term[f]
            elif f in defaults:
                fields[f] = defaults[f]
            else:
                raise _invalid(f"{op} needs a {f!r} field")
        return op, fields
    raise _invalid(f"a request is a str, a non-empty array or a map, not {_type_name(term)}")


def _type_name(term):
    return {tuple: "an array", dict: "a map", type(None): "nil"}.get(
        type(term), f"a {type(term).__name__}")


_OPEN, _DEFERRED, _ANSWERED = "open", "deferred", "answered"


class Request:
    """One request being handled: its reply capability, term and arguments.

    A handler answers by returning a value (an ``ok`` reply) or raising
    `ServiceError`; or it calls `defer`, keeps the request, and answers
    later with `reply` or `fail`.

    Attributes:
        reply_to: the reply capability (caps[0]; it has SEND).
        term: the decoded data (capabilities in it are `Cap`s of `args`
            or `reply_to`).
        args: caps[1..], a tuple of `Cap`.
        account: the `Account` the request was sent for (a peer's, or its
            guests'; `Message.account`), or None from the operator's side.
    """

    __slots__ = ("reply_to", "term", "args", "account", "_state", "_kept")

    _kept: list[Cap] | None

    def __init__(self, reply_to: Cap, args: Sequence[Cap], account: Any = None) -> None:
        self.reply_to = reply_to
        self.term = None
        self.args = args
        self.account = account
        self._state = _OPEN
        self._kept = None

    def check_own(self, cap: Cap, what: str) -> None:
        """Refuse (``invalid_request``) a request sent for a peer that names
        `cap`, as `what` (an owner, a subscriber), when `cap` is not a route
        of that peer's own (its exports, its guests' mailboxes): one the
        server handed it would make a service hold things for the server's
        own processes, outliving the peer and escaping its bounds.
        Switches: never."""
        if self.account is not None and account_of(cap) is not self.account:
            raise ServiceError(INVALID_REQUEST, f"{what} must be a route of your own (a"
                               " capability of yours or of your guests'), not one the server"
                               " gave you: a peer acts only for itself")

    def defer(self) -> Request:
        """Answer later: the loop neither replies nor releases `reply_to`.

        Returns this request, to keep. Switches: never.
        """
        self._state = _DEFERRED
        return self

    def keep(self, cap: Cap) -> None:
        """Keep one reference to the argument `cap` past the request (the
        loop releases the others). Switches: never."""
        if self._kept is None:
            self._kept = []
        self._kept.append(cap)

    @property
    def answered(self) -> bool:
        return self._state is _ANSWERED

    def reply(self, value: Any) -> None:
        """Send ``{"ok": value}`` and release the reply capability.

        Raises:
            TypeError: `value` can't be encoded (nothing is sent).

        Switches: never.
        """
        self._answer(ok(value))

    def fail(self, kind: str, message: object, details: Mapping[str, Any] | None = None) -> None:
        """Send ``{"err": {"kind": kind, "message": message, **details}}``
        and release the reply capability.

        Raises:
            TypeError: `details` can't be encoded (nothing is sent).

        Switches: never.
        """
        # The details' keys come first on the wire here (unlike `err`'s),
        # as they always have: the bytes a service sends stay the same.
        body = dict(details) if details else {}
        body["kind"] = kind
        body["message"] = str(message)[:MESSAGE_LIMIT]
        self._answer({"err": body})

    def _answer(self, term):
        if self._state is _ANSWERED:
            raise vm.Misuse("this request was answered already")
        data, caps = encode(term)
        self._state = _ANSWERED
        cap = self.reply_to
        try:
            cap.send(data, caps)  # a closed route drops it: the requester is gone
        finally:
            cap.release()


class Service:
    """The loop of one request/response service process.

    Subclasses implement `handle_request`, and may override `handle_info`
    (Down and Exit signals) and `next_deadline`/`handle_deadline` (work due
    at a time of the runtime's clock). Construct and `serve` it inside the
    service's own process (`spawn_service` does both).

    Attributes:
        name: the service's name, for logs.
        proc: the service's `Process`.
        clock: the runtime's clock: every delay is measured on it, so a
            `VirtualClock` makes the service's time virtual too.
        drops: the `DropLog` of messages dropped unanswered (no reply
            capability), logged at a bounded rate.
    """

    name = "service"
    # The name of its protocol's schema (`hearth.otp.schemas`), if it has one.
    schema: str | None = None

    def __init__(self) -> None:
        self.proc = vm.current_process()
        self.clock = self.proc.runtime.clock
        self.drops = DropLog(log)

    def parse(self, request: Request, schema: str | None = None) -> tuple[str, dict[str, Any]]:
        """Check `request` against this service's schema (or the one named
        `schema`): `Schema.parse` of its term and capability arguments.

        Returns:
            ``(op, fields)``, fields type-checked, defaults filled in, the
            capability arguments among them by their schema names.

        Raises:
            ServiceError: ``invalid_request`` naming the field at fault.

        Switches: never.
        """
        name = schema or self.schema
        if name is None:
            raise TypeError(f"{type(self).__name__} names no schema")
        return find_schema(name).parse(request.term, request.args)

    # -- to override ----------------------------------------------------------------------

    def handle_request(self, request: Request) -> Any:
        """Handle one `Request`: return the ``ok`` value, raise
        `ServiceError`, or `defer` it. Should never switch."""
        raise NotImplementedError

    def handle_info(self, sig: Any) -> None:
        """A signal that is not a message (a `Down` or an `Exit`).

        The default releases the capability it carries. Switches: never.
        """
        sig.cap.release()

    def next_deadline(self) -> float | None:
        """The clock time `handle_deadline` is next due, or None."""
        return None

    def handle_deadline(self, now: float) -> None:
        """Do the work due at or before `now` (a clock reading)."""

    # -- the loop ------------------------------------------------------------------------

    def serve(self) -> NoReturn:
        """Serve requests from the parent mailbox until the process dies.

        Work due at a deadline is done before the next message is taken,
        so a flood of requests can't hold a due reply back. Never returns.

        Switches: always.
        """
        mb = self.proc.parent_mailbox()
        clock = self.clock
        while True:
            deadline = self.next_deadline()
            if deadline is None:
                sig = mb.recv()
            else:
                remaining = deadline - clock.now()
                if remaining <= 0:
                    self.handle_deadline(clock.now())
                    continue
                sig = mb.recv(remaining)
                if sig is None:
                    continue  # the deadline is due: the next turn does it
            if type(sig) is Message:
                self._handle_message(sig)
            else:
                self.handle_info(sig)

    def _handle_message(self, sig):
        caps = sig.caps
        if not caps or not caps[0].permissions & SEND:
            self.drops.note(
                self.clock.now(),
                "%s (pid %s) dropped a request without a reply capability (%d bytes, %d caps)",
                self.name, self.proc.pid, len(sig.data), len(caps),
            )
            for cap in caps:
                cap.release()
            return
        account = getattr(sig, "account", None)
        if account is not None and account_of(caps[0]) is not account:
            # A peer's request whose answer would go to a route that is not
            # the peer's (one the server handed it): not answered, so a peer
            # can't aim a service's replies at the server's own processes.
            log.debug("%s (pid %s) dropped a peer's request whose reply capability is not"
                      " the peer's", self.name, self.proc.pid)
            for cap in caps:
                cap.release()
            return
        req = Request(caps[0], caps[1:], account)
        try:
            try:
                try:
                    req.term = decode(sig.data, caps)
                except DecodeError as e:
                    raise _invalid(str(e)) from None
                value = self.handle_request(req)
                if req._state is _OPEN:
                    req.reply(value)
            except ServiceError as e:
                self._refuse(req, e.kind, e.message, e.details)
            except Exception as e:  # noqa: BLE001 - a bug must not stop the service
                log.exception("%s (pid %s) failed on a request", self.name, self.proc.pid)
                self._refuse(req, INTERNAL_ERROR, f"{type(e).__name__}: {_safe_str(e)}")
        finally:
            kept = req._kept or ()
            for cap in caps[1:]:
                if cap in kept:
                    kept.remove(cap)
                else:
                    cap.release()
            if req._state is _OPEN:  # only if even the error reply failed
                req.reply_to.release()


    def _refuse(self, req, kind, message, details=None):
        if req._state is _ANSWERED:
            return
        req._state = _OPEN
        try:
            req.fail(kind, message, details)
        except TypeError:  # details that can't travel: send the rest
            log.exception("%s (pid %s) could not encode an error's details",
                          self.name, self.proc.pid)
            req.fail(kind, message)


def _safe_str(exc):
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not stop the service
        return "<unprintable>"


def _run(cls, *args):
    cls(*args).serve()


def spawn_service(cls: type[Service], *args: Any, link: bool = False, **options: Any) -> Cap:
    """Spawn a process that runs ``cls(*args).serve()``; return a
    capability (all permissions) to it.

    `Cap` arguments must be at the top level of `args` (the kernel imports
    those into the new process). Options are spawn options (`name`,
    metadata). Switches: never.
    """
    options.setdefault("name", cls.name)
    if link:
        return vm.spawn_link(_run, cls, *args, **options)
    return vm.spawn(_run, cls, *args, **options)


# What anyone who looks a registered service up gets.
REGISTERED_PERMS = SEND | MONITOR


def start_registered(registry: Cap, name: str, cls: type[Service], *args: Any) -> Cap:
    """Supervisor start function: spawn ``cls(*args).serve()`` linked to the
    supervisor and register it as `name` (again on every restart), handing
    the registry a SEND|MONITOR capability only.

    Returns:
        the service's full capability, as a supervisor's start function must.

    Raises:
        NameTaken: the name is held by another process (the new service is
            killed first, so nothing is left running).

    Switches: always.
    """
    return register_linked(registry, name, spawn_service(cls, *args, link=True, name=name))


def register_linked(registry: Cap, name: str, cap: Cap) -> Cap:
    """Register a SEND|MONITOR capability of `cap` (a process just spawned
    linked to the caller) as `name`; if the registry refuses, unlink and
    kill the process first, so nothing is left running, then raise.

    Returns:
        `cap`.

    Raises:
        NameTaken: the name is held by another process.

    Switches: always.
    """
    public = cap.demote(REGISTERED_PERMS)
    try:
        register(registry, name, public)
    except BaseException:
        cap.unlink()
        cap.kill()
        raise
    finally:
        public.release()
    return cap


def start_supervised(
    registry: Cap,
    services: Iterable[tuple[str, type[Service], Sequence[Any]]],
    *,
    name: str,
    intensity: int,
    period: float,
) -> tuple[Cap, dict[str, Cap | None]]:
    """Start services under one one_for_one supervisor linked to the caller,
    each registered (again on every restart) by `start_registered`.

    Args:
        registry: a registry capability that may register the names.
        services: ``(registry name, Service class, args)`` triples.
        name: the supervisor's debug name.
        intensity, period: the supervisor's restart limit.

    Returns:
        ``(supervisor cap, {registry name: registered cap})``.

    Raises:
        StartError: a service could not start (nothing is left running).

    Switches: always.
    """
    children = [
        ChildSpec(n, start_registered, args=(registry, n, cls, *args), shutdown="brutal_kill")
        for n, cls, args in services
    ]
    sup = start_link_supervisor(children, strategy="one_for_one", intensity=intensity,
                                period=period, name=name)
    return sup, {n: lookup(registry, n) for n, _, _ in services}
