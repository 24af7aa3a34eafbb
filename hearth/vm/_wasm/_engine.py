"""The guest host of one runtime: its linker, its bridge, prepared modules.

A runtime has one wasmtime engine (`Runtime.engine`, made on first use with
the settings of `_settings.py`) and one `WasmHost`, made on first use too
and kept as ``runtime._wasm_host``. The host defines every ABI function once
on a `Linker`, so a module is linked once (`GuestModule`, an `InstancePre`)
and each guest only instantiates it in its own store.
"""

from __future__ import annotations

import weakref
from typing import Any

import wasmtime

from .._lumps import LumpId
from ._abi import define_all
from ._bridge import Bridge
from ._errors import GuestModuleError
from ._settings import DEFAULT_MEMORY_LIMIT, thread_stack_size

__all__ = ["WasmHost", "GuestModule", "wasm_host", "ENTRY", "SPAWN_ENTRY", "EPOCH_TICK"]

# How often the engine's epoch moves while guests with a CPU slice live
# (seconds): each tick costs every guest then in wasm one epoch callback.
EPOCH_TICK = 0.05

ENTRY = "run"
SPAWN_ENTRY = "_hearth_spawn_by_index"
_SIGNATURES = {
    ENTRY: ((), ()),
    SPAWN_ENTRY: (("i32",), ()),
    "_hearth_init": ((), ()),
    "_hearth_metadata": ((), ()),
}


def _load_namespaces():
    # Importing a namespace module registers its host functions.
    from . import (  # noqa: F401
        _ns_account,
        _ns_log,
        _ns_lump,
        _ns_mailbox,
        _ns_metadata,
        _ns_process,
        _ns_table,
    )


class GuestModule:
    """A module compiled for one runtime's engine and linked against the ABI.

    There is no public constructor: use `load_module`.

    Attributes:
        lump_id: the `LumpId` of its source, or None if it was handed over
            as a compiled `wasmtime.Module` (then ``hearth::lump::this_lump``
            traps).
        module: the `wasmtime.Module`.
    """

    __slots__ = ("host", "module", "lump_id", "pre", "functions", "__weakref__")

    def __init__(self, host: Any, module: wasmtime.Module, lump_id: bytes) -> None:
        self.host = host
        self.module = module
        self.lump_id = lump_id
        try:
            self.pre = host.linker.instantiate_pre(module)
        except wasmtime.WasmtimeError as e:
            raise GuestModuleError(lump_id, f"can't be linked against the guest ABI: {e}") from None
        self.functions = {}
        for export in module.exports:
            ty = export.type
            if isinstance(ty, wasmtime.FuncType):
                signature = (tuple(str(p) for p in ty.params), tuple(str(r) for r in ty.results))
                self.functions[export.name] = signature
                wanted = _SIGNATURES.get(export.name)
                if wanted is not None and signature != wanted:
                    raise GuestModuleError(
                        lump_id,
                        f"export `{export.name}` must be"
                        f" {_text(wanted)}, not {_text(signature)}",
                    )

    def has(self, name: str) -> bool:
        """Whether the module exports the function `name`."""
        return name in self.functions

    def __repr__(self):
        name = self.lump_id.hex()[:16] if self.lump_id is not None else "(no lump)"
        return f"<GuestModule {name}>"


def _text(signature):
    params, results = signature
    return f"({', '.join(params)}) -> ({', '.join(results)})"


class WasmHost:
    """Everything one runtime needs to run guests.

    Attributes:
        engine: the runtime's `wasmtime.Engine`.
        linker: a `wasmtime.Linker` with every ABI function defined.
        bridge: the hub's end of the guest threads (`_bridge.Bridge`).
        memory_reservation: the most memory any guest may have.
    """

    def __init__(self, runtime):
        settings = runtime._engine_settings
        self.runtime = runtime
        self.engine = runtime.engine
        self.memory_reservation = settings["memory_reservation"]
        self.linker = wasmtime.Linker(self.engine)
        _load_namespaces()
        self._keep = define_all(self.linker)
        self.bridge = Bridge(runtime.hub, thread_stack_size(settings))
        self._prepared = weakref.WeakKeyDictionary()  # wasmtime.Module -> GuestModule
        self._ticker = None  # the hub timer that moves the epoch
        self._n_sliced = 0  # live guests with a CPU slice

    def prepare(self, module, lump_id=None):
        """The `GuestModule` of a compiled module (linked once, then cached).

        Raises:
            GuestModuleError: it imports something the ABI doesn't define, or
                exports an entry point with the wrong signature.
        """
        prepared = self._prepared.get(module)
        if prepared is None or prepared.lump_id != lump_id:
            prepared = GuestModule(self, module, lump_id)
            self._prepared[module] = prepared
        return prepared

    def load(self, source):
        """A `GuestModule` from a lump id, wasm or WAT bytes, WAT text, a
        compiled `wasmtime.Module` or a `GuestModule`.

        Bytes and text are stored in the runtime's lump store first, so the
        module has a lump id; compiling goes through the runtime's module
        cache.

        Raises:
            ModuleError: it doesn't compile (`GuestModuleError`: it doesn't
                link, or has a bad entry point).
            LumpNotFound: a lump id the store doesn't have.
        """
        if isinstance(source, GuestModule):
            if source.host is not self:
                raise GuestModuleError(source.lump_id, "was loaded by another runtime")
            return source
        if isinstance(source, wasmtime.Module):
            return self.prepare(source)
        runtime = self.runtime
        if isinstance(source, LumpId):
            lid = source
        elif isinstance(source, str):
            lid = runtime.lumps.put(source.encode("utf-8"))
        elif isinstance(source, (bytes, bytearray, memoryview)):
            lid = runtime.lumps.put(source)
        else:
            raise TypeError(
                "a guest module is a LumpId, wasm or WAT bytes, WAT text, a"
                f" wasmtime.Module or a GuestModule, not {type(source).__name__}"
            )
        return self.prepare(runtime.modules.get(lid), lid)

    def memory_limit(self, limit):
        """Check a spawner's memory cap; None means the default."""
        if limit is None:
            return min(DEFAULT_MEMORY_LIMIT, self.memory_reservation)
        limit = int(limit)
        if not 0 <= limit <= self.memory_reservation:
            raise ValueError(
                f"memory_limit must be between 0 and the engine's memory_reservation"
                f" ({self.memory_reservation}), not {limit}"
            )
        return limit

    def start_ticking(self):
        """One more live guest has a CPU slice: move the epoch every
        `EPOCH_TICK` seconds while any does. On the hub; switches: never."""
        self._n_sliced += 1
        if self._ticker is None:
            self._ticker = self.runtime.hub.loop.timer(EPOCH_TICK, EPOCH_TICK)
            self._ticker.start(self.engine.increment_epoch)

    def stop_ticking(self):
        """A guest with a CPU slice exited. On the hub; switches: never."""
        self._n_sliced -= 1
        if self._n_sliced <= 0 and self._ticker is not None:
            self._n_sliced = 0
            self._ticker.stop()
            self._ticker.close()
            self._ticker = None

    def interrupt(self):
        """Make every guest running wasm check whether it was killed.

        Thread-safe; switches: never.
        """
        self.engine.increment_epoch()


def wasm_host(runtime):
    """The `WasmHost` of `runtime`, made on first use. Switches: never."""
    host = runtime.__dict__.get("_wasm_host")
    if host is None:
        host = runtime._wasm_host = WasmHost(runtime)
    return host

