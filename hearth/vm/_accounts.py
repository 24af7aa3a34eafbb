"""Accounts: on whose behalf the runtime holds guests and lumps, and how much.

Peers are authenticated, not trusted: whatever a peer can make the runtime
hold must be bounded per peer and let go when the peer goes. The kernel
keeps that bargain with *accounts*:

- An `Account` is one party the runtime spends on: live guests (count,
  linear memory, CPU) and stored lumps (count, bytes), each bounded by its
  `GuestLimits`.
- Every carrier (a network connection, `hearth.vm.foreign`) has one, made
  on first use with the runtime's peer limits (`Accounts.peer_limits`) and
  closed when the carrier calls back through ``on_close``. A carrier the
  operator trusts (the IPC socket) is given no account with
  `Accounts.set_carrier` (``None``: nothing is counted or bounded).
- A message a peer sends is stamped with its carrier's account
  (`Message.account`), and so is every message a guest charged to an
  account sends. A guest spawned on behalf of a message's account is
  charged to that account (`Process.account`), and so is everything it
  spawns in turn: a peer can't launder a spawn through its guests or
  through a reply capability that points elsewhere.
- Processes of host Python (the operator's code, services) have no
  account: they are never bounded here.

When an account closes (its peer's connection is lost), its guests are
stopped with ``("shutdown", "noconnection")``, except a guest that something of the
operator's *keeps*: one linked to a live local process of host Python
(a supervisor that adopted it, say). A kept guest leaves the account and
is the operator's from then on. Lumps stored for the account are let go
(`LumpLedger`): a lump is deleted from the store once no open account is
charged for it, no live guest runs it, and the operator has not pinned it.

Everything here runs on the hub thread and never switches greenlets.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._process import Process
    from ._runtime import Runtime
    from ._signals import Message
import collections
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

from ._errors import QuotaExceeded
from ._reasons import NOCONNECTION, SHUTDOWN

__all__ = [
    "ACCOUNT_CLOSED",
    "GuestLimits",
    "UNLIMITED",
    "Account",
    "Accounts",
    "LumpLedger",
    "QuotaExceeded",
    "WASM_PAGE",
]

WASM_PAGE = 64 * 1024

# The exit reason of a guest whose account closed: an orderly stop (no
# crash report), saying why.
ACCOUNT_CLOSED = (SHUTDOWN, NOCONNECTION)
MiB = 1024 * 1024


@dataclass(frozen=True)
class GuestLimits:
    """What one account may make the runtime hold. None means no limit.

    Attributes:
        max_guests: live guests at once (spawns past it are refused).
        memory_pages: linear memory of each guest, in 64 KiB wasm pages
            (``memory.grow`` past it returns -1).
        cpu_slice: seconds of CPU a guest may run in wasm without calling
            the host; past it the guest traps (its exit reason says so).
        max_lumps: lumps stored for the account (fetched from its peer, or
            stored by its guests).
        max_lump_bytes: their total size in bytes.
    """

    max_guests: Optional[int] = 64
    memory_pages: Optional[int] = 256
    cpu_slice: Optional[float] = 1.0
    max_lumps: Optional[int] = 64
    max_lump_bytes: Optional[int] = 64 * MiB

    def __post_init__(self):
        for field in ("max_guests", "memory_pages", "max_lumps", "max_lump_bytes"):
            value = getattr(self, field)
            if value is not None and (type(value) is not int or value < 0):
                raise ValueError(f"GuestLimits.{field} is None or an int >= 0, not {value!r}")
        if self.cpu_slice is not None and not (
            isinstance(self.cpu_slice, (int, float)) and self.cpu_slice > 0
        ):
            raise ValueError(f"GuestLimits.cpu_slice is None or seconds > 0,"
                             f" not {self.cpu_slice!r}")

    @property
    def memory_limit(self) -> int | None:
        """`memory_pages` in bytes, or None."""
        return None if self.memory_pages is None else self.memory_pages * WASM_PAGE


UNLIMITED = GuestLimits(None, None, None, None, None)


class Account:
    """One party the runtime holds guests and lumps for. Its methods run on
    the hub and never switch greenlets.

    There is no public constructor: carriers get theirs from `Accounts`,
    and the operator makes others with `Accounts.open`.

    Attributes:
        name: for logs and tools (a carrier's name).
        limits: its `GuestLimits`.
        guests: the live guest processes charged to it.
        pending: guests reserved but not spawned yet (`reserve_guest`).
        lumps: lump id -> size, of the lumps stored for it, oldest first.
        lump_bytes: their total size.
        closed: True once its peer is gone; it spawns and stores nothing more.
        refused: how many spawns and stores its limits refused.
    """

    def __init__(self, accounts: Accounts, name: str, limits: GuestLimits) -> None:
        self._accounts = accounts
        self.name = name
        self.limits = limits
        self.guests: set[Process] = set()
        self.pending = 0
        self.lumps: OrderedDict[bytes, int] = OrderedDict()
        self.lump_bytes = 0
        self.closed = False
        self.refused = 0

    def __repr__(self):
        state = " closed" if self.closed else ""
        return (f"<Account {self.name}{state} guests={len(self.guests)}"
                f" lumps={len(self.lumps)}/{self.lump_bytes}B>")

    # -- guests -------------------------------------------------------------------------

    def admit_guest(self) -> None:
        """Check that one more guest may be spawned for this account.

        Raises:
            QuotaExceeded: it is closed, or has `max_guests` live guests.
        """
        if self.closed:
            self.refused += 1
            raise QuotaExceeded(f"{self.name} is gone: no more guests are spawned for it")
        cap = self.limits.max_guests
        n = len(self.guests) + self.pending
        if cap is not None and n >= cap:
            self.refused += 1
            raise QuotaExceeded(
                f"{self.name} has {n} live guests (or spawns under way), the most it may"
                f" have (max_guests={cap}); wait for one to exit or kill one")

    def reserve_guest(self) -> None:
        """`admit_guest`, and hold the place until `unreserve_guest`: for a
        spawn that must wait (a module to fetch and compile) before it can
        be made, so that a flood of requests can't all start waiting."""
        self.admit_guest()
        self.pending += 1

    def unreserve_guest(self) -> None:
        """Give back a place `reserve_guest` held (right before spawning
        into it, or when the spawn failed)."""
        self.pending -= 1

    def charge_guest(self, proc: Process) -> None:
        """Charge the new guest process `proc` to this account (after
        `admit_guest`). Its exit uncharges it."""
        self.guests.add(proc)
        proc.account = self
        if proc.at_exit is None:
            proc.at_exit = []
        proc.at_exit.append(self._guest_exited)

    def _guest_exited(self, proc, reason):
        self.guests.discard(proc)

    # -- lumps -------------------------------------------------------------------------

    def admit_lump(self, lid: bytes, size: int) -> None:
        """Check that a new lump of `size` bytes may be stored for this
        account; lumps it stored that no live guest runs go first if room
        is needed.

        Raises:
            QuotaExceeded: closed, or even so over `max_lumps` or
                `max_lump_bytes`.
        """
        if self.closed:
            self.refused += 1
            raise QuotaExceeded(f"{self.name} is gone: no lump is stored for it")
        if lid in self.lumps:
            return
        limits = self.limits
        ledger = self._accounts.ledger
        if not self._fits(size):
            for old in list(self.lumps):
                if ledger.in_use(old):
                    continue
                self.release_lump(old)
                if self._fits(size):
                    break
        if not self._fits(size):
            self.refused += 1
            raise QuotaExceeded(
                f"{self.name} has {len(self.lumps)} lumps of {self.lump_bytes} bytes stored,"
                f" a lump of {size} bytes more is over its limits (max_lumps="
                f"{limits.max_lumps}, max_lump_bytes={limits.max_lump_bytes})")

    def _fits(self, size):
        limits = self.limits
        if limits.max_lumps is not None and len(self.lumps) + 1 > limits.max_lumps:
            return False
        if limits.max_lump_bytes is not None and self.lump_bytes + size > limits.max_lump_bytes:
            return False
        return True

    def charge_lump(self, lid: bytes, size: int) -> None:
        """Record that lump `lid` (`size` bytes) was stored for this account."""
        if lid in self.lumps:
            self.lumps.move_to_end(lid)
            return
        self.lumps[lid] = size
        self.lump_bytes += size
        self._accounts.ledger._charge(self, lid)

    def release_lump(self, lid: bytes) -> None:
        """Stop charging lump `lid` to this account; the store lets go of it
        if nothing else holds it (`LumpLedger`)."""
        size = self.lumps.pop(lid, None)
        if size is None:
            return
        self.lump_bytes -= size
        self._accounts.ledger._uncharge(self, lid)

    # -- the end ---------------------------------------------------------------------------

    def close(self, reason: Any = ACCOUNT_CLOSED) -> None:
        """The account's peer is gone: kill its guests with `reason`, but
        hand the ones the operator keeps (linked to a live local process of
        host Python) over to the operator; let go of its lumps. Idempotent.
        """
        if self.closed:
            return
        self.closed = True
        runtime = self._accounts.runtime
        for proc in sorted(self.guests, key=lambda p: p.pid):
            if proc.reason is not None:
                continue
            if _kept(proc):
                self.guests.discard(proc)
                proc.account = None
            else:
                runtime._terminate(proc, reason)
        for lid in list(self.lumps):
            self.release_lump(lid)


def _kept(proc):
    """Whether a local process of host Python is linked to `proc`."""
    for peer in proc.links or ():
        if peer.reason is None and not peer.foreign and peer.guest is None and peer.account is None:
            return True
    return False


class LumpLedger:
    """Which stored lumps the runtime may let go of, and when.

    Only lumps stored for an account are ever deleted; lumps the operator
    stores (`LumpStore.put` by host Python) are never tracked. A tracked
    lump is deleted from the store (and its compiled module from the module
    cache) when no open account is charged for it, no live guest runs it,
    and it is not pinned. Its methods run on the hub and never switch.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._charged: dict[bytes, set[Account]] = {}  # LumpId -> set of Accounts
        self._users: dict[bytes, int] = {}  # LumpId -> live guests running it
        # LumpId -> how many pins hold it
        self._pins: collections.Counter[bytes] = collections.Counter()
        self._owned: set[bytes] = set()  # lumps the operator stored too: never collected
        self.collected = 0

    def pin(self, lid: bytes) -> None:
        """Keep lump `lid` in the store whoever stored it (the operator's
        say, or a service that names it in lasting state, such as the
        world's persistent entities). Pins are counted: each `pin` needs
        its own `unpin`. Switches: never."""
        self._pins[lid] += 1

    def unpin(self, lid: bytes) -> None:
        """Undo one `pin`; the lump goes once no pin and nothing else holds
        it. Switches: never."""
        if self._pins[lid] > 1:
            self._pins[lid] -= 1
            return
        self._pins.pop(lid, None)
        self._maybe_collect(lid)

    def own(self, lid: bytes) -> None:
        """Lump `lid` was stored by the operator (an uncharged
        `LumpStore.put`): it is never collected, even if a peer stored the
        same bytes first. Safe from any thread (one set insertion).
        Switches: never."""
        self._owned.add(lid)

    def in_use(self, lid: bytes) -> bool:
        """Whether a live guest runs lump `lid`."""
        return self._users.get(lid, 0) > 0

    def tracked(self, lid: bytes) -> bool:
        """Whether lump `lid` was stored for some account and is still held."""
        return lid in self._charged

    def drop(self, lid: bytes) -> None:
        """Let go of lump `lid` now unless a guest runs it or it is pinned:
        every account stops being charged for it (say, it turned out to be
        no module). Switches: never."""
        if lid in self._pins or self.in_use(lid):
            return
        for account in list(self._charged.get(lid, ())):
            account.release_lump(lid)

    def use(self, lid: bytes) -> None:
        """A guest running lump `lid` started."""
        self._users[lid] = self._users.get(lid, 0) + 1

    def unuse(self, lid: bytes) -> None:
        """A guest running lump `lid` exited."""
        n = self._users.get(lid, 0) - 1
        if n > 0:
            self._users[lid] = n
            return
        self._users.pop(lid, None)
        self._maybe_collect(lid)

    def _charge(self, account, lid):
        self._charged.setdefault(lid, set()).add(account)

    def _uncharge(self, account, lid):
        holders = self._charged.get(lid)
        if holders is not None:
            holders.discard(account)
        self._maybe_collect(lid)

    def _maybe_collect(self, lid):
        holders = self._charged.get(lid)
        if holders is None or holders or lid in self._pins or self.in_use(lid):
            return
        del self._charged[lid]
        if lid in self._owned:
            return  # the operator stored these bytes too: theirs to keep
        runtime = self.runtime
        runtime.lumps.discard(lid)
        if runtime._modules is not None:
            runtime._modules.discard(lid)
        self.collected += 1


class Accounts:
    """The accounts of one runtime (``runtime.accounts``).

    Attributes:
        peer_limits: the `GuestLimits` of the account a carrier gets.
        ledger: the runtime's `LumpLedger`.
    """

    def __init__(self, runtime: Runtime, peer_limits: GuestLimits) -> None:
        if not isinstance(peer_limits, GuestLimits):
            raise TypeError(f"guest limits are a GuestLimits, not {type(peer_limits).__name__}")
        self.runtime = runtime
        self.peer_limits = peer_limits
        self.ledger = LumpLedger(runtime)
        self._by_carrier: weakref.WeakKeyDictionary[Any, Account | None] = (
            weakref.WeakKeyDictionary())

    def open(self, name: str, limits: GuestLimits | None = None) -> Account:
        """A new account, for the operator's own use (say, one per tenant
        that a service of host Python spawns guests for). Switches: never."""
        return Account(self, name, limits if limits is not None else self.peer_limits)

    def of_carrier(self, carrier: Hashable) -> Account | None:
        """The account of `carrier`: made on first use with `peer_limits`,
        closed when the carrier's ``on_close`` calls back; None if the
        operator trusts it (`set_carrier`). Switches: never."""
        try:
            return self._by_carrier[carrier]
        except KeyError:
            pass
        name = getattr(carrier, "name", None) or repr(carrier)
        account = Account(self, f"peer {name}", self.peer_limits)
        self._by_carrier[carrier] = account
        on_close = getattr(carrier, "on_close", None)
        if on_close is not None:
            on_close(lambda _carrier: account.close())
        return account

    def set_carrier(self, carrier: Hashable, account: Account | None) -> None:
        """Give `carrier` an account of the operator's choosing, before it
        carries anything; None: trusted, nothing is counted or bounded
        (the IPC socket's connections). Switches: never."""
        self._by_carrier[carrier] = account

    def of_route(self, route: Any) -> Account | None:
        """The account of whoever owns `route`: its carrier's for a foreign
        route, else its process's (None for host Python)."""
        if getattr(route, "carrier", None) is not None:
            return self.of_carrier(route.carrier)
        return route._proc.account

    def of_request(self, message: Message | None, reply_route: Any) -> Account | None:
        """The account a request is made on behalf of: the message's stamp
        (its peer's, or its guest's), else the reply route's owner's."""
        if message is not None and message.account is not None:
            return message.account
        return self.of_route(reply_route) if reply_route is not None else None
