"""What the layers above the kernel may ask of it beyond a process's own
calls: who owns a route, exit hooks, fresh references, where a capability
came from, and finding processes by a metadata mark.

These are for trusted Python code of the runtime (`hearth.otp`,
`hearth.net`, the native services), never for guests or peers: a
`Process` object gives authority over that process, so what returns one is
kept out of any message. None of these calls switches greenlets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import ProcessExit
from ._perms import SEND
from ._process import Process, current_process, current_process_or_none
from ._signals import Message
from ._table import Cap

if TYPE_CHECKING:
    from ._runtime import Runtime

__all__ = [
    "ExitHook",
    "route_owner",
    "is_self",
    "on_exit",
    "cancel_on_exit",
    "make_ref",
    "carrier_of",
    "pids_with_metadata",
    "forward",
]

#: ``hook(proc, reason)``, run by the kernel when `proc` exits.
ExitHook = Callable[[Process, Any], object]


def route_owner(cap: Cap) -> Process | None:
    """The live process whose mailbox `cap` names, or None if that mailbox
    is closed or its process has exited.

    For a capability that came from a peer it is the kernel's stand-in for
    the remote process (``foreign`` is True on it). Needs no permission on
    `cap`, and may be asked from any greenlet. Switches: never.
    """
    route = cap._route
    proc = route._proc
    if route._closed or proc.reason is not None:
        return None
    return proc


def is_self(cap: Cap) -> bool:
    """True if `cap` names a mailbox (open or closed) of the calling
    process: a call through it could never be answered while the caller
    waits. False outside a process. Switches: never."""
    me = current_process_or_none()
    return me is not None and getattr(cap._route, "_proc", None) is me


def on_exit(proc: Process, hook: ExitHook) -> ExitHook:
    """Run ``hook(proc, reason)`` when `proc` exits; return `hook`.

    The kernel runs a process's hooks first thing in its exit path, in the
    order they were added, before any of its routes closes, so what a hook
    undoes (a registered name, a child OS process) is gone before anyone
    gets a `Down` or an `Exit` for it (docs/design.md, "The exit path"). A
    hook runs on whichever greenlet is killing `proc`: it must never
    switch, and an exception in it is logged, not raised. A hook added to
    a process that has already exited never runs. Switches: never.
    """
    hooks = proc.at_exit
    if hooks is None:
        hooks = proc.at_exit = []
    hooks.append(hook)
    return hook


def cancel_on_exit(proc: Process, hook: ExitHook) -> bool:
    """Take `hook` (added by `on_exit`) off `proc`; False if it was not
    there (already run, or never added). Switches: never."""
    hooks = proc.at_exit
    if hooks and hook in hooks:
        hooks.remove(hook)
        return True
    return False


def make_ref(runtime: Runtime | None = None) -> int:
    """A fresh reference: an int no other `make_ref` of the same runtime
    returns (call tags, correlation ids). `runtime` defaults to the calling
    process's. Switches: never.

    Raises:
        NotInProcess: no `runtime` given, outside a process.
    """
    rt = current_process().runtime if runtime is None else runtime
    return rt._new_ref()


def carrier_of(cap: Cap) -> object | None:
    """The connection that carries `cap`'s route, for a capability that
    came from a peer; None for a route of this runtime.

    Per-peer bounds use it to tell which peer a capability belongs to. It
    grants nothing: the connection object is `hearth.net`'s. Switches:
    never.
    """
    return getattr(cap._route, "carrier", None)


def account_of(cap: Cap) -> Any:
    """The `Account` whose capability `cap` is: its peer's for a route a
    peer exported, its process's for a local route (a peer's guest's
    mailbox is the peer's), None for the operator's own processes and
    trusted connections. A request stamped with an account
    (`Message.account`) may name as its reply or owner only routes of that
    same account: a peer acts only for itself. Switches: never."""
    route = cap._route
    return current_process().runtime.accounts.of_route(route)


def forward(cap: Cap, message: Message) -> None:
    """Send `message`'s bytes and capabilities on through `cap` (which
    needs SEND), stamped with the account `message` was sent for: a relay
    that acts for nobody (a guest service's front) must not turn a peer's
    request into one of the server's own. The capabilities must be the
    caller's (a received message's are). Switches: never.

    Raises:
        PermissionDenied: `cap` lacks SEND.
        ProcessExit: the calling process has exited.
    """
    cap._check(SEND)
    table = cap._table
    proc = table._proc
    if proc.reason is not None:
        raise ProcessExit(proc.reason)
    routes = table._routes_of(message.caps) if message.caps else ()
    proc.n_out += 1
    cap._route._deliver(Message(message.data, routes, message.account))


def pids_with_metadata(runtime: Runtime, key: str, value: object) -> list[int]:
    """The live processes of `runtime` whose metadata has ``key: value``,
    by pid, without snapshotting every process (the inspector finds
    supervisors by their ``behaviour`` mark this way). Switches: never."""
    out = []
    for p in list(runtime._processes.values()):
        md = p.metadata
        if md and p.reason is None and md.get(key) == value:
            out.append(p.pid)
    out.sort()
    return out
