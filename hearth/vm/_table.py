"""Capability tables and the `Cap` handles that index them.

A process never holds a capability directly: it holds a `Cap`, a handle into
its own table. Handles are reference counted per table (rule V1): importing a
capability the table already holds (same route, same permissions) returns the
same `Cap` and adds a reference. Releasing the last reference frees the
handle; its number may be reused by a later import, but the old `Cap` object
stays dead and raises `InvalidHandle` (rule V2).

Every method that acts on a `Cap` must be called by the process that owns its
table (else `ForeignCapability`), checks its permission before anything is
queued (rule V6), and never switches greenlets unless it says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._mailbox import Mailbox
from greenlet import getcurrent

from ._errors import (
    ForeignCapability,
    InvalidHandle,
    PayloadError,
    PermissionDenied,
    ProcessExit,
)
from ._perms import ALL, KILL, LINK, MONITOR, NONE, SEND, Perm, as_int
from ._signals import Message

__all__ = ["Cap", "Table"]

_PERM_NAMES = {SEND: "SEND", MONITOR: "MONITOR", KILL: "KILL", LINK: "LINK"}


def _missing(perms, needed):
    return "|".join(n for bit, n in _PERM_NAMES.items() if needed & bit and not perms & bit)


class Cap:
    """A handle to a capability in one process's table.

    There is no public constructor: a `Cap` comes from `spawn`, from
    `make_capability`, or from a received signal. `handle` is the integer a
    guest would see; it means nothing in any other table.
    """

    __slots__ = ("_table", "handle", "_route", "_perms", "_refs")

    def __init__(self, table: Table, handle: int, route: Any, perms: int) -> None:
        self._table = table
        self.handle = handle
        self._route = route
        self._perms = perms
        self._refs = 1

    # -- checks -----------------------------------------------------------

    def _check(self, needed):
        """Return the owning process after the ownership, liveness and
        permission checks. Switches: never."""
        table = self._table
        if table._greenlet is not getcurrent():
            raise ForeignCapability(
                f"capability {self.handle} belongs to process {table._proc.pid}, "
                "not to the caller"
            )
        if not self._refs:
            raise InvalidHandle(f"capability handle {self.handle} was released")
        if needed & ~self._perms:
            raise PermissionDenied(
                f"capability {self.handle} lacks {_missing(self._perms, needed)}"
            )
        proc = table._proc
        if proc.reason is not None:
            raise ProcessExit(proc.reason)
        return proc

    # -- reading -----------------------------------------------------------

    @property
    def permissions(self) -> Perm:
        """The permission bits, as a `Perm`. Switches: never."""
        self._check(NONE)
        return Perm(self._perms)

    @property
    def perms(self) -> int:
        """The permission bits, as an int, without the ownership and
        liveness checks of `permissions` (reading them grants nothing; the
        hot paths of `hearth.otp` test a bit per message). Switches: never."""
        return self._perms

    def names(self, mailbox: Mailbox) -> bool:
        """True if this capability names `mailbox` (a `Mailbox` of the
        caller's, say: proof that a request's sender holds a capability to
        it). Switches: never."""
        return self._route is mailbox

    @property
    def route_id(self) -> int:
        """The id of the route this names (for logs and tools only)."""
        return self._route.route_id

    @property
    def refs(self) -> int:
        """How many references the table holds to this handle."""
        return self._refs

    def same_route(self, other: object) -> bool:
        """True if `other` names the same route (whatever the permissions)."""
        return isinstance(other, Cap) and other._route is self._route

    def __copy__(self) -> Cap:
        """A `Cap` is a handle, not a reference: a copy is the same handle
        (`inc_ref` adds a reference). Without this, `copy.copy` made a
        second object for one table entry, which could send after the
        entry was freed and free it twice. Switches: never."""
        return self

    def __deepcopy__(self, memo: Any) -> Cap:
        """The same handle, as `__copy__`. Switches: never."""
        return self

    # -- table operations ----------------------------------------------------

    def inc_ref(self) -> None:
        """Add a reference to this handle. Switches: never."""
        self._check(NONE)
        self._refs += 1

    def release(self) -> None:
        """Drop one reference; the last one frees the handle. Switches: never.

        Raises:
            InvalidHandle: the handle was already freed.
        """
        table = self._table
        if table._greenlet is not getcurrent() or not self._refs or table._proc.reason is not None:
            self._check(NONE)  # raises
        self._refs -= 1
        if not self._refs:
            table._drop(self)

    def demote(self, perms: int) -> Cap:
        """Return a handle to the same route with a subset of the permissions.

        Adds one reference to the returned handle (rule V3). Switches: never.

        Raises:
            PermissionDenied: `perms` asks for a permission this one lacks.
            Misuse: `perms` is not an int (a `Perm`, or bits such as ``SEND``).
        """
        perms = as_int(perms)
        if perms & ~ALL:
            raise PermissionDenied(f"unknown permission bits {perms:#x}")
        self._check(perms)
        return self._table._import(self._route, perms)

    # -- acting on the route -------------------------------------------------

    def send(self, data: bytes, caps: Iterable[Cap] = ()) -> None:
        """Queue a message of bytes and capabilities on the route (rule V8).

        The sender keeps its own references; the receiver gets its own when
        it receives. A message to a closed route is dropped silently.
        Switches: never.

        Raises:
            PayloadError: `data` is not bytes, or `caps` holds a non-`Cap`.
            PermissionDenied: this capability lacks SEND.
        """
        table = self._table
        if table._greenlet is not getcurrent():
            self._check(SEND)
        if not self._refs or not self._perms & SEND:
            self._check(SEND)
        proc = table._proc
        if proc.reason is not None:
            raise ProcessExit(proc.reason)
        if type(data) is not bytes:
            data = _as_bytes(data)
        routes: Any
        if not caps:
            routes = ()
        elif type(caps) is tuple and len(caps) == 1:
            # A call's reply capability: `_routes_of` for one, inline.
            cap = caps[0]
            if type(cap) is not Cap or cap._table is not table or not cap._refs:
                routes = table._routes_of(caps)  # raises
            routes = ((cap._route, cap._perms),)
        else:
            routes = table._routes_of(caps)
        proc.n_out += 1
        # `Message(data, routes)` without running its __init__ (a Python
        # frame, about a tenth of a microsecond of every send).
        msg = Message.__new__(Message)
        msg.data = data
        msg.caps = routes
        msg.account = None
        self._route._deliver(msg)

    def kill(self) -> None:
        """Kill the process owning the route; it dies with ``killed`` (V16).

        Untrappable. Switches: never, unless the kill reaches the caller
        through a link, in which case the caller's own exit is raised.

        Raises:
            PermissionDenied: this capability lacks KILL.
        """
        proc = self._check(KILL)
        proc._kill(self._route._proc)

    def exit(self, reason: Any) -> None:
        """Send an exit signal with `reason` to the owning process (V17).

        Switches: never, unless the signal reaches the caller.

        Raises:
            PermissionDenied: this capability lacks KILL.
            BadReason: `reason` is not plain data.
        """
        proc = self._check(KILL)
        proc._send_exit(self._route._proc, reason)

    def link(self) -> None:
        """Link the caller with the process owning the route (V18, V20).

        Raises:
            PermissionDenied: this capability lacks LINK.
        """
        proc = self._check(LINK)
        proc._link(self._route._proc)

    def unlink(self) -> None:
        """Remove the link with the owning process, if any (V18).

        Raises:
            PermissionDenied: this capability lacks LINK.
        """
        proc = self._check(LINK)
        proc._unlink(self._route._proc)

    def monitor(self, mailbox: Mailbox | None = None) -> int:
        """Monitor the route; `mailbox` (default: the parent mailbox) gets
        one `Down` when it closes. Returns the monitor reference (V22).

        Raises:
            PermissionDenied: this capability lacks MONITOR.
        """
        proc = self._check(MONITOR)
        return proc._monitor_route(self._route, mailbox)

    def __repr__(self):
        state = "" if self._refs else " released"
        return (
            f"<Cap {self.handle} route={self._route.route_id} "
            f"perms={Perm(self._perms)!s}{state}>"
        )


def _as_bytes(data):
    if isinstance(data, bytes):
        return bytes(data)
    raise PayloadError(
        f"message data must be bytes, not {type(data).__name__}"
        " (copy mutable buffers with bytes(...))"
    )


class Table:
    """One process's capability table: handles, reference counts, and the
    index that makes re-imports return the same handle.

    The index is by permissions, then by route: ``_index[perms][route]``
    is the `Cap`. Split so, a monitor that holds 100,000 children's
    capabilities (every permission) finds the no-permission handle of each
    `Down` in a small dict of its own, not among those 100,000, whose
    lookups miss the processor's caches; and no key is a tuple to build and
    hash.

    Freed handle numbers wait in `_free[:_nfree]`, a stack kept by its
    count: a list popped to empty frees its storage and the next append
    allocates it again, and a monitor taking a `Down` (or a server a call)
    imports and releases one handle each time.
    """

    __slots__ = ("_proc", "_greenlet", "_entries", "_free", "_nfree", "_index")

    def __init__(self, proc, greenlet):
        self._proc = proc
        self._greenlet = greenlet
        self._entries = []
        self._free = []
        self._nfree = 0
        self._index = {}

    def _import(self, route, perms):
        """Add a reference to (route, perms), making a handle if needed.

        Switches: never.
        """
        routes = self._index.get(perms)
        if routes is None:
            routes = self._index[perms] = {}
        else:
            cap = routes.get(route)
            if cap is not None:
                cap._refs += 1
                return cap
        # `Cap(self, handle, route, perms)` without a call of its __init__.
        cap = Cap.__new__(Cap)
        cap._table = self
        cap._route = route
        cap._perms = perms
        cap._refs = 1
        n = self._nfree
        if n:
            n -= 1
            self._nfree = n
            handle = self._free[n]
            cap.handle = handle
            self._entries[handle] = cap
        else:
            cap.handle = len(self._entries)
            self._entries.append(cap)
        routes[route] = cap
        return cap

    def _dec_ref(self, cap):
        cap._refs -= 1
        if not cap._refs:
            self._drop(cap)

    def _drop(self, cap):
        """Free the handle of `cap`, whose last reference is gone.
        Switches: never."""
        handle = cap.handle
        self._entries[handle] = None
        n = self._nfree
        free = self._free
        if n < len(free):
            free[n] = handle
        else:
            free.append(handle)
        self._nfree = n + 1
        routes = self._index[cap._perms]
        del routes[cap._route]

    def _routes_of(self, caps):
        """Validate capabilities to pass in a message; return (route, perms)
        pairs. Needs no permission on them (V6). Switches: never."""
        out = []
        for cap in caps:
            if type(cap) is not Cap:
                raise PayloadError(f"caps must hold Cap handles, not {type(cap).__name__}")
            if cap._table is not self:
                raise ForeignCapability(
                    f"capability {cap.handle} in the message belongs to another process"
                )
            if not cap._refs:
                raise InvalidHandle(f"capability handle {cap.handle} in the message was released")
            out.append((cap._route, cap._perms))
        return out

    def get(self, handle):
        """The live `Cap` with this handle number.

        Raises:
            InvalidHandle: no live capability has that number.
        """
        try:
            cap = self._entries[handle] if handle >= 0 else None
        except (IndexError, TypeError):
            cap = None
        if cap is None:
            raise InvalidHandle(f"no capability with handle {handle!r}")
        return cap

    def __len__(self):
        return sum(len(routes) for routes in self._index.values())

    def caps(self):
        """The live handles, in handle order."""
        return [c for c in self._entries if c is not None]

    def _clear(self):
        for cap in self._entries:
            if cap is not None:
                cap._refs = 0
        self._entries = []
        self._free = []
        self._nfree = 0
        self._index = {}
