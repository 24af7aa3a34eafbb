"""The OTP layer's exceptions."""

from __future__ import annotations

from typing import Any

from hearth.vm import HearthError

__all__ = [
    "CallError",
    "CallTimeout",
    "ServerExited",
    "DecodeError",
    "StartError",
    "StartTimeout",
    "AlreadyStarted",
    "ReloadFailed",
    "RegistryError",
    "NameTaken",
    "ServiceError",
    "ApplicationError",
]


class CallError(HearthError):
    """A `call` got no reply. `reason` says why (rule O2).

    Nobody's fault in particular: servers die and get slow. Callers that
    can't go on without the reply let it propagate and crash, as in OTP.
    """

    def __init__(self, message: str, reason: Any) -> None:
        super().__init__(message)
        self.reason = reason


class CallTimeout(CallError, TimeoutError):
    """No reply within the timeout; `reason` is ``"timeout"``. A reply that
    comes later is dropped, never seen by the caller."""


class ServerExited(CallError):
    """The server was dead (`reason` ``"noproc"``) or died during the call
    (`reason` is its exit reason)."""


class DecodeError(HearthError, ValueError):
    """A message was not a well-formed msgpack term of this protocol.

    The sender's fault; the receiver drops or error-replies and goes on.
    """


class StartError(HearthError):
    """`start` or `start_link` could not start a server (rule O1).

    `reason` is the server's exit reason: what ``init`` returned with
    ``("stop", reason)``, the error it raised, or ``("bad_return_value",
    text)``. Usually the server's fault (or its arguments'). The server is
    dead by the time this is raised.
    """

    def __init__(self, message: str, reason: Any) -> None:
        super().__init__(message)
        self.reason = reason


class StartTimeout(StartError, TimeoutError):
    """``init`` did not finish within the start timeout; the server was
    killed. `reason` is ``"timeout"``."""


class AlreadyStarted(StartError):
    """A name is already registered (rule O1); the message names the holder.

    Raised by `start`/`start_link` when their registry refuses the name; a
    registry may raise it itself from ``register``. The caller's fault, or a
    race it lost.

    Attributes:
        name: the name asked for.
        holder: who holds it: a `Cap` of the catching process's table when the
            registry gave one, else plain data naming it (a debug pid, say).
    """

    def __init__(self, name: Any, holder: Any) -> None:
        super().__init__(
            f"name {name!r} is already registered to {holder!r}", ("already_started", repr(holder))
        )
        self.name = name
        self.holder = holder


class ReloadFailed(HearthError):
    """`reload` could not load the new version of a module (rule O7).

    The module's author's fault (a syntax error, an import that raises). The
    old version stays loaded and every server keeps running it.

    Attributes:
        module: the module's name.
        reason: an error exit reason (plain data, with the traceback).
    """

    def __init__(self, message: str, module: str, reason: Any) -> None:
        super().__init__(message)
        self.module = module
        self.reason = reason


class ServiceError(HearthError):
    """A service answered a request with an error reply.

    Usually the caller's fault (a malformed request, a missing permission);
    `kind` says which, as the wire's ``err.kind``.

    Attributes:
        kind: the error kind, a str.
        message: the text for people.
        details: the other fields of the error map (a dict, maybe empty).
    """

    def __init__(self, kind: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.details = details or {}


class RegistryError(ServiceError):
    """The registry refused a request; `kind` is the wire error kind
    (``not_found``, ``permission_denied``, ``noproc``, ``invalid_request``,
    ``invalid_reply``).

    Usually the caller's fault: a name that is not registered, a view that
    lacks the right, a dead capability to register.
    """



class NameTaken(RegistryError):
    """`register` found the name taken (rules R1, O1). Nobody's fault:
    names are first come, first served.

    Attributes:
        name: the name asked for.
        holder: the holder's debug pid (for logs; no authority), or None if
            the registry did not say.
    """

    def __init__(self, kind: str, message: str, name: Any = None, holder: Any = None) -> None:
        super().__init__(kind, message)
        self.name = name
        self.holder = holder


class ApplicationError(ServiceError):
    """The application controller refused a request.

    `kind` says why (see the module docstring); `reason` is the same as an
    Erlang-like term, such as ``("not_loaded", "db")`` or
    ``("dependency_cycle", ("a", "b", "a"))``. Usually the caller's fault,
    or the application's (``start_failed``).
    """

    @property
    def reason(self) -> Any:
        return self.details.get("reason")
