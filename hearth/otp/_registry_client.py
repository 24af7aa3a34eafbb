"""Python clients of the registry service (rules R1–R3).

Each function sends one request of the wire format described in
`_registry` through `_request.request` (docs/protocols.md's request/response
convention, which the native services speak too) and turns an ``err``
reply into `RegistryError` or `NameTaken`. The
registry capability is the root one from `start_registry` or a view; with
MONITOR on it (both have it) a dead registry is noticed at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hearth.vm import Cap
from hearth.vm._terms import brief

from ._call import DEFAULT_TIMEOUT
from ._errors import NameTaken, RegistryError, ServiceError
from ._request import request

__all__ = [
    "register",
    "unregister",
    "lookup",
    "registered",
    "registry_view",
    "RegistryError",
    "NameTaken",
]



def register(registry: Cap, name: str, cap: Cap, timeout: float | None = DEFAULT_TIMEOUT) -> None:
    """Register `cap` as `name` (like Erlang's ``register/2``; rule R1).

    The name goes when unregistered or when the process owning `cap`'s
    route exits, before anyone sees that process's Down (R2). The caller
    keeps its own reference to `cap`.

    Raises:
        NameTaken: the name is registered already.
        RegistryError: `cap`'s route is closed (``noproc``) or the registry
            capability may not register this name (``permission_denied``).
        CallTimeout, ServerExited: no reply (see `call`).

    Switches: always.
    """
    _check_name(name)
    if type(cap) is not Cap:
        raise TypeError(f"register needs a Cap, not {type(cap).__name__}")
    _request(registry, {"op": "register", "name": name}, [cap], timeout)


def unregister(registry: Cap, name: str, timeout: float | None = DEFAULT_TIMEOUT) -> None:
    """Remove `name` (like Erlang's ``unregister/1``).

    Raises:
        RegistryError: ``not_found``, or ``permission_denied``.
        CallTimeout, ServerExited: no reply.

    Switches: always.
    """
    _check_name(name)
    _request(registry, {"op": "unregister", "name": name}, (), timeout)


def lookup(registry: Cap, name: str, timeout: float | None = DEFAULT_TIMEOUT) -> Cap | None:
    """The capability registered as `name`, or None (like ``whereis/1``).

    The returned `Cap` holds one reference in the caller's table; release
    it when done with it (V1: looking the same name up twice gives the same
    handle with two references). A scoped view finds only its own names.

    Raises:
        CallTimeout, ServerExited: no reply.

    Switches: always.
    """
    _check_name(name)
    try:
        cap = _request(registry, {"op": "get", "name": name}, (), timeout)
    except RegistryError as e:
        if e.kind == "not_found":
            return None
        raise
    if type(cap) is not Cap:
        raise RegistryError("invalid_reply", f"get replied {brief(cap, 80)}, not a capability")
    return cap


def registered(registry: Cap, timeout: float | None = DEFAULT_TIMEOUT) -> list[str]:
    """The registered names the registry capability may see, sorted (like
    Erlang's ``registered/0``).

    Raises:
        RegistryError: ``invalid_reply`` for an answer that is not a list
            of strs (a peer's registry is not trusted).

    Switches: always.
    """
    names = _request(registry, {"op": "list"}, (), timeout)
    if type(names) not in (list, tuple) or not all(type(n) is str for n in names):
        raise RegistryError("invalid_reply", f"list replied {brief(names, 80)}, not a list of"
                            " names")
    return list(names)


def registry_view(
    registry: Cap,
    *,
    read_only: bool = False,
    names: Iterable[str] | None = None,
    hide: Iterable[str] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Cap:
    """A narrower registry capability (rule R3).

    Args:
        read_only: the view can only get, list and make views.
        names: if given, the view sees and may change only these names.
        hide: if given, names the view never sees nor changes.

    Returns:
        A `Cap` (SEND and MONITOR) to the new view. Its rights are those of
        `registry` intersected with the ones asked for: never wider.

    Switches: always.
    """
    if names is not None:
        if isinstance(names, str):
            raise TypeError("names is a collection of names, not one str")
        names = list(names)
        for n in names:
            _check_name(n)
    term = {"op": "view", "read_only": bool(read_only), "names": names}
    if hide is not None:
        if isinstance(hide, str):
            raise TypeError("hide is a collection of names, not one str")
        term["hide"] = list(hide)
    return _request(registry, term, (), timeout)


# -- one request ------------------------------------------------------------------------


def _check_name(name: object) -> None:
    if type(name) is not str:
        raise TypeError(f"a registry name is a str, not {type(name).__name__}")


def _request(registry: Cap, term: Any, args: Sequence[Cap], timeout: float | None) -> Any:
    """Send one request and return the ``ok`` value of its reply.

    Raises `RegistryError` (or `NameTaken`) for an ``err`` reply.
    """
    try:
        return request(registry, term, args, timeout)
    except RegistryError:
        raise
    except ServiceError as e:
        if e.kind == "name_taken":
            pid = e.details.get("pid")
            raise NameTaken(
                e.kind, e.message, term.get("name"), pid if type(pid) is int else None
            ) from None
        raise RegistryError(e.kind, e.message, e.details) from None
