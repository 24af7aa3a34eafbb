"""Compiled WebAssembly modules, cached by the id of the lump they came from.

Compiling a module with wasmtime costs milliseconds to seconds; loading the
machine code wasmtime serialized for it costs a fraction of that (see
benchmarks/bench_lumps.py). `ModuleCache.get` looks in three places in turn:

1. memory: the last `max_modules` modules used (an LRU by count);
2. disk: ``root/modules/<lump hex>-<engine fingerprint>.cwasm``, written by
   this cache after an earlier compile;
3. the lump store: the lump's bytes (a wasm binary, or WAT text, which
   wasmtime accepts too) are compiled, and the result written to disk.

Deserializing is only safe for bytes wasmtime itself produced: what it loads
is native code, run as it is, so a crafted or damaged file means arbitrary
code execution or a crash. A ``.cwasm`` file is therefore deserialized only
if it carries this cache's MAC: a keyed BLAKE3 hash, under a random key kept
in ``root/modules/key`` (mode 0600), of the file's format tag, the engine
fingerprint, the lump id and the payload. A file that fails the check (bit
rot, a torn or truncated write, a file copied in from elsewhere or renamed to
another lump's name) or that wasmtime refuses is ignored, the module is
compiled again and the file rewritten; nothing crashes. Whoever can read the
key can forge files, so the modules directory must be as private as the
program's own code.

The engine fingerprint names everything that makes compiled code unusable by
another engine: the wasmtime version, the machine, and the `Config` settings
the engine was made with (pass them as ``engine_settings``; `make_engine`
builds an engine from the same dict). A different fingerprint is a different
file name, so after a wasmtime upgrade or a settings change every module is
simply compiled once more. The files of old fingerprints are left behind
(deleting cache files is part of the lump GC, out of scope for now).
wasmtime also checks the settings that matter to it when deserializing; a
module it refuses is recompiled like a corrupt one.

Threads: as for `LumpStore`, any OS thread may call `get`; the locks are
native ones and nothing here logs (see `_lumps`). Two threads asking for the
same uncached module wait for one compile rather than doing two.
"""

from __future__ import annotations

import hmac
import importlib.metadata
import json
import os
import platform
import sys
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import blake3
import wasmtime
from gevent import monkey

from ._errors import ModuleError
from ._lumps import LumpId, LumpStore

__all__ = [
    "ModuleCache",
    "ModuleCacheInfo",
    "ModuleError",
    "make_engine",
    "engine_fingerprint",
]

_NativeLock = monkey.get_original("threading", "Lock")

WASMTIME_VERSION = importlib.metadata.version("wasmtime")
DEFAULT_MAX_MODULES = 64

# The format tag starts every .cwasm this cache writes; bump its digits when
# the layout changes. Layout: tag (8 bytes), MAC (32 bytes), the bytes of
# `wasmtime.Module.serialize()`.
_TAG = b"HRTHCW01"
_MAC_BYTES = 32
_HEADER_BYTES = len(_TAG) + _MAC_BYTES
_KEY_BYTES = 32
_SUBDIR = "modules"
_KEY_FILE = "key"

# The settings a `wasmtime.Config` takes as plain assignments.
CONFIG_SETTINGS = frozenset(
    name for name, attr in vars(wasmtime.Config).items() if isinstance(attr, property)
)


# -- engines -----------------------------------------------------------------------------


def _checked(settings):
    settings = dict(settings or {})
    for name, value in settings.items():
        if name not in CONFIG_SETTINGS:
            raise ValueError(f"{name!r} is not a wasmtime.Config setting")
        if not isinstance(value, (bool, int, str)):
            raise TypeError(
                f"engine setting {name!r} must be a bool, int or str, not {type(value).__name__}"
            )
    return settings


def make_engine(settings: Mapping[str, Any] | None = None) -> wasmtime.Engine:
    """A `wasmtime.Engine` whose `Config` has `settings` applied.

    Args:
        settings: a mapping of `wasmtime.Config` setting names to values, for
            example ``{"epoch_interruption": True, "memory_reservation":
            1 << 24}``. Pass the same mapping to `ModuleCache`.

    Raises:
        ValueError: a name is not a `Config` setting.
        TypeError: a value is not a bool, int or str.
        wasmtime.WasmtimeError: wasmtime rejected a value.
    """
    config = wasmtime.Config()
    for name, value in _checked(settings).items():
        setattr(config, name, value)
    return wasmtime.Engine(config)


def engine_fingerprint(
    settings: Mapping[str, Any] | None = None, *, wasmtime_version: str | None = None
) -> str:
    """A short hex name for the code an engine with `settings` compiles.

    It changes with the wasmtime version, the machine and OS, the settings,
    and the format of this cache's files.

    Raises:
        ValueError, TypeError: as `make_engine`.
    """
    described = json.dumps(
        {
            "format": _TAG.decode(),
            "wasmtime": wasmtime_version or WASMTIME_VERSION,
            "machine": platform.machine(),
            "os": sys.platform,
            "settings": _checked(settings),
        },
        sort_keys=True,
    )
    return blake3.blake3(described.encode()).hexdigest()[:16]


# -- the cache ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleCacheInfo:
    """Counters of a `ModuleCache`: which path each `get` took."""

    hits: int  # answered from memory
    deserialized: int  # loaded from a .cwasm file
    compiled: int  # compiled from the lump
    rejected: int  # .cwasm files ignored (failed the check, or wasmtime refused them)
    write_errors: int  # compiled modules that could not be written to disk
    cached: int  # modules in memory now
    max_modules: int
    last_problem: object  # text of the latest rejection or write error, or None


class ModuleCache:
    """Compiled modules of one engine, by lump id, in memory and on disk.

    Args:
        engine: the `wasmtime.Engine` the modules are for.
        store: the `LumpStore` the lumps come from.
        root: directory under which ``modules/`` holds the compiled files,
            or None to keep compiled modules in memory only.
        max_modules: how many modules the memory cache holds.
        engine_settings: the `Config` settings `engine` was made with (see
            `make_engine`). They go into the fingerprint; with None, the
            fingerprint assumes a default engine, and only wasmtime's own
            checks stand between a differently configured engine and the
            files of another.

    Raises:
        ValueError, TypeError: bad `max_modules` or `engine_settings`.
        OSError: the modules directory or its key can't be created or read.
    """

    def __init__(
        self,
        engine: wasmtime.Engine,
        store: LumpStore,
        root: str | None = None,
        *,
        max_modules: int = DEFAULT_MAX_MODULES,
        engine_settings: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(engine, wasmtime.Engine):
            raise TypeError(f"engine must be a wasmtime.Engine, not {type(engine).__name__}")
        if max_modules < 0:
            raise ValueError(f"max_modules must be >= 0, not {max_modules}")
        self._engine = engine
        self._store = store
        self._max = int(max_modules)
        self._fingerprint = engine_fingerprint(engine_settings)
        self._lock = _NativeLock()
        self._modules: OrderedDict[bytes, wasmtime.Module] = OrderedDict()  # by LumpId
        self._inflight: dict[bytes, Any] = {}  # LumpId -> native lock held by the thread loading it
        self._hits = self._deserialized = self._compiled = 0
        self._rejected = self._write_errors = 0
        self._last_problem = None
        if root is None:
            self._dir = self._key = None
        else:
            self._dir = os.path.join(os.fspath(root), _SUBDIR)
            os.makedirs(self._dir, exist_ok=True)
            self._key = _load_key(self._dir)

    @property
    def engine(self) -> wasmtime.Engine:
        return self._engine

    @property
    def store(self) -> LumpStore:
        return self._store

    @property
    def fingerprint(self) -> str:
        """The engine fingerprint in this cache's file names."""
        return self._fingerprint

    def __repr__(self):
        where = self._dir if self._dir is not None else "memory"
        return f"<ModuleCache {where} engine {self._fingerprint}>"

    def get(self, lump_id: bytes) -> wasmtime.Module:
        """The compiled module of lump `lump_id`. Switches: never.

        Blocks the calling OS thread while it reads a file or compiles: a
        memory hit is microseconds, loading a compiled file well under the
        compile time, compiling milliseconds for a small module and up to
        seconds for a large one. On the hub, run misses in gevent's
        threadpool or a guest thread.

        Raises:
            ModuleError: the lump is not a usable wasm module.
            LumpNotFound, LumpCorrupt: from the lump store.
            TypeError, ValueError: `lump_id` is not a 32-byte id.
        """
        lid = LumpId(lump_id)
        with self._lock:
            module = self._recall(lid)
            if module is not None:
                return module
            gate = self._inflight.get(lid)
            if gate is None:
                gate = self._inflight[lid] = _NativeLock()
        with gate:
            with self._lock:
                module = self._recall(lid)
                if module is not None:
                    return module
            try:
                module = self._load(lid)
                if module is None:
                    module = self._compile(lid)
            except BaseException:
                with self._lock:
                    if self._inflight.get(lid) is gate:
                        del self._inflight[lid]
                raise
            with self._lock:
                self._remember(lid, module)
                if self._inflight.get(lid) is gate:
                    del self._inflight[lid]
        return module

    def cache_info(self) -> ModuleCacheInfo:
        """A snapshot of the cache's counters (`ModuleCacheInfo`). Switches: never."""
        with self._lock:
            return ModuleCacheInfo(
                self._hits,
                self._deserialized,
                self._compiled,
                self._rejected,
                self._write_errors,
                len(self._modules),
                self._max,
                self._last_problem,
            )

    def discard(self, lump_id: bytes) -> None:
        """Forget the compiled module of `lump_id`, in memory and on disk
        (its lump was deleted). Switches: never."""
        lid = LumpId(lump_id)
        with self._lock:
            self._modules.pop(lid, None)
        path = self.path_of(lid)
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def path_of(self, lump_id: bytes) -> str | None:
        """Where the compiled file of `lump_id` for this engine lives, or None."""
        if self._dir is None:
            return None
        return os.path.join(self._dir, f"{LumpId(lump_id).hex()}-{self._fingerprint}.cwasm")

    # -- memory (call with the lock held)

    def _recall(self, lid):
        module = self._modules.get(lid)
        if module is not None:
            self._modules.move_to_end(lid)
            self._hits += 1
        return module

    def _remember(self, lid, module):
        if self._max == 0:
            return
        self._modules[lid] = module
        self._modules.move_to_end(lid)
        while len(self._modules) > self._max:
            self._modules.popitem(last=False)

    # -- disk and compiler

    def _mac(self, lid, payload):
        h = blake3.blake3(_TAG + self._fingerprint.encode() + lid, key=self._key)
        h.update(payload)
        return h.digest()

    def _problem(self, text, *, write=False):
        with self._lock:
            if write:
                self._write_errors += 1
            else:
                self._rejected += 1
            self._last_problem = text

    def _load(self, lid):
        """The module from its .cwasm file, or None if there is no good one."""
        path = self.path_of(lid)
        if path is None:
            return None
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            self._problem(f"{path}: unreadable: {e}")
            return None
        payload = memoryview(blob)[_HEADER_BYTES:]
        if (
            len(blob) <= _HEADER_BYTES
            or blob[: len(_TAG)] != _TAG
            or not hmac.compare_digest(blob[len(_TAG):_HEADER_BYTES], self._mac(lid, payload))
        ):
            self._problem(f"{path}: failed its check; recompiling")
            return None
        try:
            module = wasmtime.Module.deserialize(self._engine, bytes(payload))
        except wasmtime.WasmtimeError as e:
            self._problem(f"{path}: wasmtime refused it ({e}); recompiling")
            return None
        with self._lock:
            self._deserialized += 1
        return module

    def _compile(self, lid):
        data = self._store.get(lid)
        try:
            module = wasmtime.Module(self._engine, data)
        except wasmtime.WasmtimeError as e:
            raise ModuleError(lid, str(e)) from None
        with self._lock:
            self._compiled += 1
        self._save(lid, module)
        return module

    def _save(self, lid, module):
        """Write the module's .cwasm file; a failure only costs a later compile."""
        if self._dir is None:
            return
        path = self.path_of(lid)
        tmp = os.path.join(self._dir, ".tmp-" + os.urandom(8).hex())
        try:
            payload = module.serialize()
            blob = _TAG + self._mac(lid, payload) + payload
            _write_new(tmp, blob, 0o644)
            os.replace(tmp, path)
        except (OSError, wasmtime.WasmtimeError) as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            self._problem(f"{path}: could not write it: {e}", write=True)


def _write_new(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_key(folder):
    """The MAC key of the cache in `folder`, made on first use.

    A new key is linked into place, never renamed over an old one, so two
    processes opening a new cache at once end up with the same key. A key
    file of the wrong length is replaced: the files under it then fail their
    check and are recompiled.
    """
    path = os.path.join(folder, _KEY_FILE)
    for _ in range(3):
        try:
            with open(path, "rb") as f:
                key = f.read()
            if len(key) == _KEY_BYTES:
                return key
            os.unlink(path)
        except FileNotFoundError:
            pass
        tmp = os.path.join(folder, ".tmp-" + os.urandom(8).hex())
        _write_new(tmp, os.urandom(_KEY_BYTES), 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    raise OSError(f"could not make or read the module cache key {path}")
