"""Per-guest handle tables for what only the guest itself holds: received
signals and loaded lumps. (Capabilities and mailboxes use the process's own
kernel tables, so their handles mean the same to the guest and to Python.)

Only the guest's thread touches these tables. Freed numbers are reused,
lowest first is not promised. ``0xFFFFFFFF`` is never a handle.
"""

from ._errors import GuestTrap

__all__ = ["HandleTable"]


class HandleTable:
    """Small integers naming guest-local objects."""

    __slots__ = ("_kind", "_items", "_free")

    def __init__(self, kind):
        self._kind = kind
        self._items = []
        self._free = []

    def add(self, obj):
        """Store `obj`; return its new handle."""
        if self._free:
            handle = self._free.pop()
            self._items[handle] = obj
            return handle
        self._items.append(obj)
        return len(self._items) - 1

    def get(self, handle):
        """The object named by `handle`; an unknown handle traps."""
        try:
            obj = self._items[handle]
        except IndexError:
            obj = None
        if obj is None:
            raise GuestTrap(f"unknown {self._kind} handle {handle}")
        return obj

    def remove(self, handle):
        """Free `handle`; return what it named. An unknown handle traps."""
        obj = self.get(handle)
        self._items[handle] = None
        self._free.append(handle)
        return obj

    def __len__(self):
        return len(self._items) - len(self._free)
