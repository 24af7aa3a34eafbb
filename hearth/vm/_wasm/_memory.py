"""Guest memory: the one place where host calls read or write a guest's
linear memory, and where a bad pointer becomes a trap.

Every pointer and length comes from the guest as an unsigned 32-bit value
and is checked against the memory's current size before any byte moves;
arithmetic is done on Python ints, so ``ptr + len`` can't wrap around.

The engine is configured so that memories never move (`memory_may_move` off,
a fixed reservation): the base address is read once at instantiation, and
accesses slice a memoryview laid over it. The size only grows, so it is
re-read (and the view remade) only when an access looks out of bounds.
Only the guest's own thread touches its memory.
"""

import ctypes
import struct

from . import _ffi
from ._errors import GuestTrap

__all__ = ["GuestMemory", "NoMemory"]


def _view(base, size):
    """A writable byte view of `size` bytes at `base` (slicing it is much
    cheaper than a ctypes call per access)."""
    return memoryview((ctypes.c_ubyte * size).from_address(base)).cast("B")


class GuestMemory:
    """Bounds-checked access to one instance's exported ``memory``."""

    __slots__ = ("_store", "_memory", "_size", "_view")

    def __init__(self, store, memory):
        self._store = store
        self._memory = memory
        base, self._size = _ffi.memory_base_and_size(store, memory)
        self._view = _view(base, self._size)

    @property
    def size(self):
        """The memory's size in bytes, as last seen."""
        return self._size

    def _grown(self, ptr, n):
        # `ptr + n` is past the size last seen: look again (the memory may
        # have grown), and trap if it is still out of bounds.
        base, self._size = _ffi.memory_base_and_size(self._store, self._memory)
        self._view = _view(base, self._size)
        if ptr + n > self._size:
            raise GuestTrap(
                f"bad pointer: {n} bytes at {ptr:#x} are outside the guest's"
                f" memory ({self._size} bytes)"
            )

    def read(self, ptr, n):
        """Copy `n` bytes out of guest memory (immutable `bytes`)."""
        if ptr + n > self._size:
            self._grown(ptr, n)
        return self._view[ptr:ptr + n].tobytes()

    def write(self, ptr, data):
        """Copy `data` into guest memory at `ptr`."""
        n = len(data)
        if ptr + n > self._size:
            self._grown(ptr, n)
        self._view[ptr:ptr + n] = data

    def read_str(self, ptr, n):
        """Read a UTF-8 string; bad UTF-8 traps."""
        raw = self.read(ptr, n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise GuestTrap(f"bad UTF-8 at {ptr:#x}: {e.reason} at byte {e.start}") from None

    def read_u32s(self, ptr, n):
        """Read an array of `n` little-endian u32 (handle arrays)."""
        if n > 0x3FFFFFFF:
            raise GuestTrap(f"bad pointer: an array of {n} u32 can't fit in memory")
        return struct.unpack(f"<{n}I", self.read(ptr, 4 * n))

    def write_u32s(self, ptr, values):
        """Write `values` as little-endian u32 at `ptr`."""
        self.write(ptr, struct.pack(f"<{len(values)}I", *values))


class NoMemory:
    """Stands in for the memory of a module that exports none: every access
    traps, every empty access is fine."""

    __slots__ = ()
    size = 0

    def _fail(self, *args):
        raise GuestTrap("the module exports no memory named `memory`")

    def read(self, ptr, n):
        return b"" if n == 0 else self._fail()

    def read_str(self, ptr, n):
        return "" if n == 0 else self._fail()

    def read_u32s(self, ptr, n):
        return () if n == 0 else self._fail()

    def write(self, ptr, data):
        if data:
            self._fail()

    def write_u32s(self, ptr, values):
        if values:
            self._fail()
