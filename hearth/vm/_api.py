"""The kernel as Erlang-style functions of the current process.

Each function acts as the process the calling greenlet runs (like Erlang's
BIFs act as ``self()``) and raises `NotInProcess` anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._runtime import Runtime
    from ._signals import Signal
from ._errors import InvalidHandle, Misuse, ProcessExit
from ._mailbox import Mailbox
from ._perms import ALL
from ._process import current_process
from ._reasons import check_reason
from ._table import Cap

__all__ = [
    "current_runtime",
    "self_pid",
    "spawn",
    "spawn_link",
    "spawn_monitor",
    "send",
    "recv",
    "try_recv",
    "select",
    "parent_mailbox",
    "create_mailbox",
    "make_capability",
    "kill",
    "exit",
    "link",
    "unlink",
    "monitor",
    "demonitor",
    "trap_exit",
    "set_metadata",
]


def current_runtime() -> Runtime:
    """The runtime of the current process. Switches: never."""
    return current_process().runtime


def self_pid() -> int:
    """The current process's debug pid (for logs only). Switches: never."""
    return current_process().pid


def spawn(fn: Callable[..., object], *args: Any, **options: Any) -> Cap:
    """Spawn ``fn(*args)``; return a capability to the child (rule V13).

    `Cap` arguments are imported into the child's table. Options: `name`,
    `trap_exit`, and metadata fields. Switches: never.
    """
    return current_process().spawn(fn, *args, **options)


def spawn_link(fn: Callable[..., object], *args: Any, **options: Any) -> Cap:
    """Spawn and link atomically (rule V13). Switches: never."""
    return current_process().spawn(fn, *args, link=True, **options)


def spawn_monitor(
    fn: Callable[..., object], *args: Any, mailbox: Mailbox | None = None, **options: Any
) -> tuple[Cap, int]:
    """Spawn and monitor atomically; return ``(cap, ref)`` (rule V13).

    Switches: never.
    """
    return current_process().spawn(fn, *args, monitor=True, mailbox=mailbox, **options)


def _cap(cap: object) -> Cap:
    if type(cap) is not Cap:
        raise InvalidHandle(f"expected a capability handle (Cap), got {type(cap).__name__}")
    return cap


def _mailbox(mailbox: object) -> Mailbox:
    if not isinstance(mailbox, Mailbox):
        raise Misuse(f"expected a mailbox (Mailbox), got {type(mailbox).__name__}")
    return mailbox


def send(cap: Cap, data: bytes, caps: Iterable[Cap] = ()) -> None:
    """Send bytes and capabilities through `cap` (needs SEND). Switches: never."""
    _cap(cap).send(data, caps)


def recv(timeout: float | None = None, mailbox: Mailbox | None = None) -> Signal | None:
    """Receive the next signal of `mailbox` (default: the parent mailbox).

    Returns None on timeout, losing nothing (rule V10). Raises `Misuse` if
    `mailbox` is not a `Mailbox` or `timeout` not a number. Switches: when
    empty.
    """
    proc = current_process()
    if mailbox is None:
        mb = proc.mailboxes[0]
        if proc.reason is not None:
            mb._owner_check()  # raises the caller's own exit
        return mb._recv(proc, timeout)
    return _mailbox(mailbox).recv(timeout)


def try_recv(mailbox: Mailbox | None = None) -> Signal | None:
    """Receive without blocking: a signal, or None when empty.

    Raises `MailboxClosed` when closed and drained. Switches: never.
    """
    proc = current_process()
    return (proc.mailboxes[0] if mailbox is None else _mailbox(mailbox)).try_recv()


def select(
    mailboxes: Sequence[Mailbox], timeout: float | None = None
) -> tuple[Mailbox, Signal] | None:
    """Wait on several mailboxes; return ``(mailbox, signal)`` or None.

    Switches: when all are empty.
    """
    return current_process().select(mailboxes, timeout)


def parent_mailbox() -> Mailbox:
    """The current process's mailbox 0. Switches: never."""
    return current_process().mailboxes[0]


def create_mailbox() -> Mailbox:
    """A new mailbox of the current process. Switches: never."""
    return current_process().create_mailbox()


def make_capability(perms: int = ALL, mailbox: Mailbox | None = None) -> Cap:
    """Mint a capability to one of the current process's mailboxes (V4).

    Switches: never.
    """
    proc = current_process()
    return (proc.mailboxes[0] if mailbox is None else mailbox).make_capability(perms)


def kill(cap: Cap) -> None:
    """Kill the process owning `cap`'s route (needs KILL; V16)."""
    _cap(cap).kill()


def exit(*args: Any) -> None:
    """``exit(reason)`` ends the current process with `reason`;
    ``exit(cap, reason)`` sends an exit signal (needs KILL; V17).

    Raises:
        ProcessExit: (one-argument form) always, to unwind the caller.
        BadReason: the reason is not plain data.
    """
    if len(args) == 1:
        current_process()
        raise ProcessExit(check_reason(args[0]))
    if len(args) != 2:
        raise TypeError("exit(reason) or exit(cap, reason)")
    cap, reason = args
    _cap(cap).exit(reason)


def link(cap: Cap) -> None:
    """Link the current process with `cap`'s process (needs LINK; V18)."""
    _cap(cap).link()


def unlink(cap: Cap) -> None:
    """Remove a link (needs LINK; V18). Switches: never."""
    _cap(cap).unlink()


def monitor(cap: Cap, mailbox: Mailbox | None = None) -> int:
    """Monitor `cap`'s route (needs MONITOR); return the reference (V22).

    Switches: never.
    """
    return _cap(cap).monitor(mailbox)


def demonitor(ref: int, flush: bool = False) -> bool:
    """Stop a monitor; `flush` also drops its queued Down (V24).

    Switches: never.
    """
    return current_process().demonitor(ref, flush)


def trap_exit(flag: bool) -> bool:
    """Set whether exit signals become `Exit` messages; return the old value.

    Switches: never.
    """
    return current_process().trap_exit(flag)


def set_metadata(**fields: Any) -> None:
    """Set the current process's metadata (name, description, authors, ...)."""
    current_process().set_metadata(**fields)
