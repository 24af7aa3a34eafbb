"""Lumps: immutable blobs named by their BLAKE3 digest, and the store that keeps them.

A lump's id *is* its content's digest, so the store needs no index: the file
of lump ``abcd…`` is ``root/ab/cd…``, a second `put` of the same bytes finds
the file and writes nothing, and every read from disk is checked against the
name it was read by. A file that fails the check is moved to
``root/quarantine/`` (never deleted: it is evidence) and the read raises
`LumpCorrupt`. Data arriving from a peer is checked the same way on arrival
(rule N6) by `LumpStore.put` with ``expect=``.

Lumps the operator stores are never deleted. Lumps stored on behalf of a
peer are counted against its account and deleted with `LumpStore.discard`
once nothing holds them (`hearth/vm/_accounts.py`, `LumpLedger`).

Threads. Guest threads (real OS threads, not greenlets) call `get` and `put`
while the hub thread does too, so the store's lock is a *native* lock from
`gevent.monkey.get_original`; gevent's patched primitives deadlock in a
thread that isn't the hub's. The lock guards only the in-memory cache and
renames, never a read, write, fsync or hash, so no thread holds it for long.
For the same reason nothing here logs: the `logging` module's locks are
patched in a monkey-patched process and a guest thread that logs can hang.
Outcomes are counted in `cache_info()` and carried by the exceptions instead.
"""

from __future__ import annotations

import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import blake3
from gevent import monkey

from ._errors import LumpCorrupt, LumpNotFound

__all__ = [
    "LumpId",
    "lump_id",
    "LumpStore",
    "LumpCacheInfo",
    "LumpNotFound",
    "LumpCorrupt",
]

_NativeLock = monkey.get_original("threading", "Lock")

ID_BYTES = 32
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024

# Above this, BLAKE3 may hash on several cores (its Rust threads, GIL
# released); below it the thread start-up costs more than it saves.
_PARALLEL_HASH_BYTES = 1 << 20

_HEX = re.compile(r"[0-9a-f]+")
_QUARANTINE = "quarantine"


# -- ids ---------------------------------------------------------------------------------


class LumpId(bytes):
    """A lump's name: the 32 raw bytes of the BLAKE3 digest of its data.

    A `bytes` subclass, so it packs into msgpack and copies into guest memory
    as it is. ``str(id)`` and ``id.hex()`` give the 64-character hex form;
    `LumpId.from_hex` parses it back.

    Raises:
        TypeError: `raw` is not bytes-like (an int or a str, say).
        ValueError: `raw` is not exactly 32 bytes long.
    """

    __slots__ = ()

    def __new__(cls, raw):
        if type(raw) is cls:
            return raw
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            hint = "; parse hex with LumpId.from_hex" if isinstance(raw, str) else ""
            raise TypeError(f"a lump id is {ID_BYTES} bytes, not {type(raw).__name__}{hint}")
        raw = bytes(raw)
        if len(raw) != ID_BYTES:
            raise ValueError(f"a lump id is {ID_BYTES} bytes, not {len(raw)}")
        return super().__new__(cls, raw)

    @classmethod
    def from_hex(cls, text: str) -> LumpId:
        """Parse the 64-character lowercase or uppercase hex form of an id.

        Raises:
            ValueError: `text` is not 64 hex digits.
        """
        if not isinstance(text, str) or len(text) != 2 * ID_BYTES:
            raise ValueError(f"a lump id in hex is {2 * ID_BYTES} hex digits: {text!r}")
        return cls(bytes.fromhex(text))

    def __str__(self):
        return self.hex()

    def __repr__(self):
        return f"LumpId.from_hex({self.hex()!r})"


def _frozen(data):
    """`data` as immutable bytes, so nobody can change a lump after it is named."""
    if type(data) is bytes:
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"a lump's data is bytes, not {type(data).__name__}")


def _digest(data):
    if len(data) >= _PARALLEL_HASH_BYTES:
        return blake3.blake3(data, max_threads=blake3.blake3.AUTO).digest()
    return blake3.blake3(data).digest()


def lump_id(data: bytes | bytearray | memoryview) -> LumpId:
    """The id `data` has, or would have, as a lump. Switches: never.

    Raises:
        TypeError: `data` is not bytes-like.
    """
    return LumpId(_digest(_frozen(data)))


# -- the store ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LumpCacheInfo:
    """Counters of a `LumpStore`, in the manner of ``functools.lru_cache``."""

    hits: int  # gets answered from memory
    misses: int  # gets that read the disk
    cached: int  # lumps in the memory cache now
    cached_bytes: int  # their total size, never above max_bytes
    max_bytes: object  # the bound, or None for a memory-only store (unbounded)
    quarantined: int  # corrupt files moved aside by this store


class LumpStore:
    """A content-addressed store of lumps, on disk under `root` or in memory.

    On disk, lumps survive restarts: a new store on the same root finds every
    lump an earlier one stored. Reads are served from a bounded LRU cache of
    recently used lumps (at most `cache_bytes` of data in total; a lump larger
    than the bound is never cached) or else from disk, checked against their
    id on every disk read.

    With `root` None the store is memory-only, for tests: it must keep every
    lump, since there is nowhere else to get them from, so it is *not*
    bounded and `cache_bytes` is ignored.

    Every method is safe to call from any OS thread. None switches greenlets,
    but a disk read or write blocks the calling thread: a cache hit costs
    microseconds; a miss reads and hashes the file (BLAKE3 runs at several
    GB/s, so disk speed dominates), and a `put` of new data writes it and
    waits for two fsyncs (the file, then its directory), a few milliseconds
    on most disks. On the hub that stalls every greenlet for that long: call
    big or uncached lumps from a guest thread or from gevent's threadpool.

    Args:
        root: directory of the store (created if missing), or None.
        cache_bytes: bound of the in-memory cache, in bytes of lump data.

    Raises:
        ValueError: `cache_bytes` is negative.
        OSError: `root` can't be created.
    """

    def __init__(self, root: str | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, not {cache_bytes}")
        self._lock = _NativeLock()
        self._root = None if root is None else os.fspath(root)
        self._max_bytes = None if root is None else int(cache_bytes)
        # LumpId -> bytes; everything when memory-only
        self._cache: OrderedDict[LumpId, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._hits = self._misses = self._quarantined = 0
        if self._root is not None:
            os.makedirs(self._root, exist_ok=True)

    @property
    def root(self) -> str | None:
        """The store's directory, or None for a memory-only store."""
        return self._root

    def __repr__(self):
        where = self._root if self._root is not None else "memory"
        return f"<LumpStore {where}>"

    # -- paths

    def _path(self, lid):
        h = lid.hex()
        return os.path.join(self._root, h[:2], h[2:])

    # -- the memory cache (call with the lock held)

    def _remember(self, lid, data):
        if lid in self._cache:
            self._cache.move_to_end(lid)
            return
        if self._max_bytes is not None and len(data) > self._max_bytes:
            return
        self._cache[lid] = data
        self._cached_bytes += len(data)
        if self._max_bytes is not None:
            while self._cached_bytes > self._max_bytes:
                _, old = self._cache.popitem(last=False)
                self._cached_bytes -= len(old)

    # -- the public calls

    #: Called with the id of every lump stored by a `put` that is not
    #: `charged` (the runtime's lump ledger marks it the operator's).
    on_put: Callable[[LumpId], None] | None = None

    def put(self, data: bytes | bytearray | memoryview, *, expect: bytes | None = None,
            charged: bool = False) -> LumpId:
        """Store `data` as a lump and return its id. Switches: never.

        Idempotent: storing bytes that are already in the store writes
        nothing (the file there is read back and compared; a file with other
        bytes is quarantined and written again). A new lump is written to a
        temporary file in its final directory, fsynced, and renamed into
        place, so a crash leaves either the whole lump or none of it (and
        perhaps a ``.tmp-*`` file, which every other call ignores).

        Args:
            data: the bytes (bytearray and memoryview are copied first).
            expect: if given, the id the data must have: for data received
                from a peer (rule N6). Nothing is stored if it differs.
            charged: the caller charges the lump to a peer's account (the
                ledger may collect it later); otherwise it is the operator's
                and is never collected, even if a peer stored it first.

        Raises:
            TypeError: `data` is not bytes-like.
            TypeError, ValueError: `expect` is not a 32-byte id.
            LumpCorrupt: `data` does not hash to `expect`.
            OSError: the disk refused the write (full, read-only, ...).
        """
        data = _frozen(data)
        if expect is not None:
            expect = LumpId(expect)
        lid = LumpId(_digest(data))
        if expect is not None and lid != expect:
            raise LumpCorrupt(expect, lid, what="received lump")
        if not charged and self.on_put is not None:
            self.on_put(lid)
        if self._root is None:
            with self._lock:
                self._remember(lid, data)
            return lid
        path = self._path(lid)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        # A file already there is compared with the data before it is taken
        # as the lump: one of the right size may still hold other bytes (a
        # flipped bit), and a put must never report a lump it doesn't hold.
        if st is not None and not self._holds(path, st, data):
            self._quarantine(lid, path, st)
            st = None
        if st is None:
            self._write(path, data)
        with self._lock:
            self._remember(lid, data)
        return lid

    def get(self, lump_id: bytes) -> bytes:
        """The data of the lump `lump_id`. Switches: never.

        From the memory cache, or else read from disk and checked against its
        id. See the class docstring for how long a disk read blocks.

        Raises:
            LumpNotFound: the store has no such lump.
            LumpCorrupt: its file failed the check and was quarantined.
            TypeError, ValueError: `lump_id` is not a 32-byte id.
            OSError: the file exists but can't be read.
        """
        lid = LumpId(lump_id)
        with self._lock:
            data = self._cache.get(lid)
            if data is not None:
                self._cache.move_to_end(lid)
                self._hits += 1
                return data
            if self._root is None:
                raise LumpNotFound(lid)
            self._misses += 1
        path = self._path(lid)
        try:
            with open(path, "rb", buffering=0) as f:
                st = os.fstat(f.fileno())
                data = f.read()
        except FileNotFoundError:
            raise LumpNotFound(lid) from None
        actual = _digest(data)
        if actual != lid:
            moved = self._quarantine(lid, path, st)
            raise LumpCorrupt(lid, LumpId(actual), moved)
        with self._lock:
            self._remember(lid, data)
        return data

    def has(self, lump_id: bytes) -> bool:
        """Whether the store holds the lump; the data is not checked. Switches: never."""
        lid = LumpId(lump_id)
        with self._lock:
            if lid in self._cache:
                return True
        return self._root is not None and os.path.isfile(self._path(lid))

    __contains__ = has

    def size(self, lump_id: bytes) -> int:
        """The lump's length in bytes, without reading or checking it. Switches: never.

        Raises:
            LumpNotFound: the store has no such lump.
        """
        lid = LumpId(lump_id)
        with self._lock:
            data = self._cache.get(lid)
            if data is not None:
                return len(data)
        if self._root is None:
            raise LumpNotFound(lid)
        try:
            return os.stat(self._path(lid)).st_size
        except FileNotFoundError:
            raise LumpNotFound(lid) from None

    def ids(self) -> Iterator[LumpId]:
        """Iterate over the ids of every lump in the store. Switches: never.

        Reads one directory at a time, so lumps stored while it runs may or
        may not be seen. Quarantined files and leftover temporary files are
        not lumps and are never listed.
        """
        if self._root is None:
            with self._lock:
                snapshot = list(self._cache)
            yield from snapshot
            return
        for top in sorted(os.listdir(self._root)):
            if len(top) != 2 or not _HEX.fullmatch(top):
                continue
            try:
                names = os.listdir(os.path.join(self._root, top))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for name in sorted(names):
                if len(name) == 2 * ID_BYTES - 2 and _HEX.fullmatch(name):
                    yield LumpId(bytes.fromhex(top + name))

    def discard(self, lump_id: bytes) -> bool:
        """Delete the lump `lump_id` from memory and disk, if it is there.

        For the runtime's lump ledger, which knows nothing holds the lump
        any more; a later `put` of the same bytes stores it again.
        Switches: never.

        Returns:
            True if the store held it.
        """
        lid = LumpId(lump_id)
        with self._lock:
            data = self._cache.pop(lid, None)
            if data is not None:
                self._cached_bytes -= len(data)
            if self._root is None:
                return data is not None
            try:
                os.unlink(self._path(lid))
            except FileNotFoundError:
                return data is not None
        return True

    def cache_info(self) -> LumpCacheInfo:
        """A snapshot of the store's counters (`LumpCacheInfo`). Switches: never."""
        with self._lock:
            return LumpCacheInfo(
                self._hits,
                self._misses,
                len(self._cache),
                self._cached_bytes,
                self._max_bytes,
                self._quarantined,
            )

    # -- disk

    def _write(self, path, data):
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
            _fsync_dir(self._root)
        tmp = os.path.join(folder, ".tmp-" + os.urandom(8).hex())
        # Read-only: a lump never changes, and this keeps casual edits off it.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            # Under the lock so that `_quarantine`'s "is it still the file I
            # read?" check and the move can't straddle this rename.
            with self._lock:
                os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        _fsync_dir(folder)

    def _holds(self, path, st, data):
        """Whether the file `path` (as `st` describes it) holds exactly `data`."""
        if st.st_size != len(data):
            return False
        try:
            with open(path, "rb", buffering=0) as f:
                return f.read() == data
        except FileNotFoundError:
            return False

    def _quarantine(self, lid, path, st):
        """Move the bad file `path` (as `st` described it) aside; return where to.

        Returns None if the file is gone or has been replaced since it was
        read: another thread or process got there first.
        """
        folder = os.path.join(self._root, _QUARANTINE)
        os.makedirs(folder, exist_ok=True)
        dest = os.path.join(folder, f"{lid.hex()}.{time.time_ns()}")
        with self._lock:
            try:
                now = os.stat(path)
            except FileNotFoundError:
                return None
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                return None
            try:
                os.rename(path, dest)
            except FileNotFoundError:  # another process moved it
                return None
            self._quarantined += 1
        return dest


def _fsync_dir(path):
    """Make a rename or a new entry in directory `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
