"""The three signals a mailbox delivers: Message, Down and Exit.

While a signal waits in a mailbox its capabilities are raw routes; they are
imported into the receiver's table when the signal is received (rule V5),
so a signal dropped with a closed mailbox costs no table entry anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._perms import NONE

if TYPE_CHECKING:
    from ._accounts import Account

__all__ = ["Signal", "Message", "Down", "Exit"]


class Signal:
    """Base class of what `recv` returns."""

    __slots__ = ()

    def _import(self, table):
        """Turn queued routes into handles of `table`. Switches: never."""


class Message(Signal):
    """Bytes and capabilities sent by a process.

    Attributes:
        data: the payload (immutable bytes).
        caps: tuple of `Cap` in the receiver's table, in the order sent,
            duplicates kept (each occurrence holds one reference).
        account: the `Account` the sender acts for (a peer's, stamped by
            its connection, or that of the guest that sent it); None for
            host Python. Services that spend on a sender's behalf charge it
            (`hearth/vm/_accounts.py`).
    """

    __slots__ = ("data", "caps", "account")

    def __init__(self, data: bytes, caps: Sequence[Any], account: Account | None = None) -> None:
        self.data = data
        self.caps = caps
        self.account = account

    def _import(self, table):
        caps = self.caps
        if caps:
            if len(caps) == 1:  # the usual case (a call's reply capability)
                route, perms = caps[0]
                self.caps = (table._import(route, perms),)
            else:
                self.caps = tuple([table._import(route, perms) for route, perms in caps])

    def __repr__(self):
        return f"Message({self.data!r}, caps={self.caps!r})"


class Down(Signal):
    """A monitored route closed.

    Attributes:
        ref: the reference `monitor` returned.
        cap: a capability to the closed route with no permissions (it
            identifies the route; it can do nothing).
        reason: the exit reason of its process, ``"closed"`` if only that
            mailbox was destroyed, or ``"noproc"`` if it was already closed.
    """

    __slots__ = ("ref", "cap", "reason")

    def __init__(self, ref: int, cap: Any, reason: Any) -> None:
        self.ref = ref
        self.cap = cap
        self.reason = reason

    def _import(self, table):
        self.cap = table._import(self.cap, NONE)

    def __repr__(self):
        return f"Down(ref={self.ref}, cap={self.cap!r}, reason={self.reason!r})"


class Exit(Signal):
    """An exit signal turned into a message because the receiver traps exits.

    Attributes:
        cap: a no-permission capability to the sender's parent mailbox.
        reason: the exit reason carried by the signal.
    """

    __slots__ = ("cap", "reason")

    def __init__(self, cap: Any, reason: Any) -> None:
        self.cap = cap
        self.reason = reason

    def _import(self, table):
        self.cap = table._import(self.cap, NONE)

    def __repr__(self):
        return f"Exit(cap={self.cap!r}, reason={self.reason!r})"
