"""``hearth::account``: on whose behalf a message came, for per-party bounds.

A service held to per-peer bounds (so many members per connection, a rate
of posts per connection, one name per connection) must know which party a
request acts for, whether a capability it is handed is that party's own,
and when the party has gone. Python services read it from
`Message.account` and `account_of` (`hearth.vm._accounts`); a guest reads
it through these calls, which name accounts by **opaque small integers**:

- 0 is "no account": the server's own side (its processes, its tools, the
  operator's trusted connections); never closed, no name.
- Any other id is this guest's own name for one account, handed out from 1
  up in the order the guest first meets it, and never reused: the same
  account is always the same id to one guest, two guests number them
  independently, and an id says nothing else.
- The versions of one upgradable guest service (`hearth.native`'s guest
  front) share one table, which the front passes to each version it spawns
  (``spawn_guest(..., account_ids=...)``): to every version of that service
  an id means the same account, so an old version can hand its state on
  to the next keyed by ids. The table is still that service's alone; the
  guests a version spawns number accounts on their own.

What the host keeps for it is bounded: per table, a weak reference for
each account it has named, pruned of the accounts that no longer exist
whenever the table has doubled (an account lives while its connection
does, or while a message or guest of it is alive), so a guest can't make
the host hold anything that would not exist anyway. An id whose account is
gone reads as closed.

What a guest may learn: the ids (identity only), whether an account is
closed, and a name, which for a peer is its address (``peer
127.0.0.1#3``). Only guests of the server's own side (no account) ask
those two of other accounts: a guest spawned for a peer asks them of its
own account (and of 0) only, and asking of another traps, or it could
watch another peer's connection come and go without holding anything of
it that allows a monitor.
"""

import weakref

from gevent.monkey import get_original

from .._signals import Message
from ._abi import I32, hostfunc
from ._errors import GuestTrap
from ._ns_mailbox import signal_of

__all__ = ["AccountIds"]

_NS = "hearth::account"
_PRUNE_FLOOR = 64  # entries kept before the first prune
_allocate_lock = get_original("_thread", "allocate_lock")  # guest threads share a table


class AccountIds:
    """The ids of the accounts met by one guest, or by the versions of one
    guest service (which may run at once, on their own threads, during an
    upgrade: a native lock keeps the numbering one). Never switches."""

    __slots__ = ("_ids", "_refs", "_next", "_prune_at", "_lock")

    def __init__(self):
        self._ids = weakref.WeakKeyDictionary()  # Account -> id
        self._refs = {}  # id -> weakref to its Account
        self._next = 1
        self._prune_at = _PRUNE_FLOOR
        self._lock = _allocate_lock()

    def id_of(self, account):
        """The id of `account` (0 for None), made on first use."""
        if account is None:
            return 0
        with self._lock:
            return self._id_of(account)

    def _id_of(self, account):
        ident = self._ids.get(account)
        if ident is not None:
            return ident
        if len(self._refs) >= self._prune_at:
            self._prune()
        if self._next > 0x7FFFFFFF:
            raise GuestTrap("this guest has met 2**31 accounts: no ids are left")
        ident = self._next
        self._next += 1
        self._ids[account] = ident
        self._refs[ident] = weakref.ref(account)
        return ident

    def _prune(self):
        for ident in [i for i, ref in self._refs.items() if ref() is None]:
            del self._refs[ident]
        self._prune_at = max(_PRUNE_FLOOR, 2 * len(self._refs))

    def account(self, ident):
        """The account `ident` names: None for 0 or one that is gone.

        Raises:
            GuestTrap: an id this guest was never given.
        """
        if ident == 0:
            return None
        with self._lock:
            if not 0 < ident < self._next:
                raise GuestTrap(f"unknown account id {ident}")
            ref = self._refs.get(ident)
        return ref() if ref is not None else None

    def __len__(self):
        return len(self._refs)


def _ids(guest):
    ids = guest.accounts  # the service's shared table, if its front gave one
    if ids is None:
        ids = guest.accounts = AccountIds()
    return ids


@hostfunc(_NS, "of_message", (I32,), (I32,))
def of_message(guest, handle):
    # The stamp the kernel put on the message: its peer's account, or the
    # account of the guest that sent it.
    return _ids(guest).id_of(signal_of(guest, handle, Message).account)


@hostfunc(_NS, "of_capability", (I32,), (I32,))
def of_capability(guest, handle):
    route = guest.cap(handle)._route  # needs no permission
    if getattr(route, "carrier", None) is None:
        account = route._proc.account  # fixed at spawn: read here, without a hop
    else:
        account = guest.call(_of_route, route)  # may make the carrier's account
    return _ids(guest).id_of(account)


def _of_route(guest, route):
    return guest.host.runtime.accounts.of_route(route)


@hostfunc(_NS, "mine", (), (I32,))
def mine(guest):
    return _ids(guest).id_of(guest.proc.account)


def _readable(guest, ident, call):
    """The account `ident` names, if this guest may ask `call` of it
    (None: 0, or gone).

    Raises:
        GuestTrap: an unknown id, or another account's asked by a guest
            spawned for a peer.
    """
    account = _ids(guest).account(ident)
    own = guest.proc.account
    if account is not None and own is not None and account is not own:
        raise GuestTrap(f"account {ident} is not this guest's: a"
                        f" guest spawned for a peer asks {call} of its own account only")
    return account


@hostfunc(_NS, "is_closed", (I32,), (I32,))
def is_closed(guest, ident):
    if ident == 0:
        return 0
    account = _readable(guest, ident, "is_closed")
    return 1 if account is None or account.closed else 0


@hostfunc(_NS, "name", (I32, I32, I32), (I32,))
def name(guest, ident, dst_ptr, dst_len):
    if dst_len:  # the whole destination must be the guest's, whatever is written
        guest.memory.read(dst_ptr + dst_len - 1, 1)
    account = _readable(guest, ident, "name")
    if account is None:
        return 0
    data = str(account.name).encode()
    guest.memory.write(dst_ptr, data[:dst_len])
    return len(data)
