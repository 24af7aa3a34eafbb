"""The wasm guest host: untrusted WebAssembly guests as Hearth processes.

Each guest is a Hearth process whose code runs in wasm on its own OS thread
(`_host.py`), bridged to the hub for every kernel operation (`_bridge.py`).
Guests call the host through the guest ABI of ``docs/abi.md`` (the
original Rust Hearth's ABI plus Hearth's process model): one module per host namespace (`_ns_log`,
`_ns_lump`, `_ns_table`, `_ns_mailbox`, `_ns_metadata`, `_ns_process`,
`_ns_account`),
guest-memory access and "bad pointer -> trap" in `_memory.py`, the
trampoline that turns misuse into traps in `_abi.py`.

The public names below are loaded on first use, so that the kernel can read
`_settings` without importing wasmtime's whole host.
"""

__all__ = [
    "load_module",
    "spawn_guest",
    "spawn_guest_link",
    "spawn_guest_monitor",
    "GuestModule",
    "GuestModuleError",
    "AccountIds",
    "WasmHost",
    "wasm_host",
]

_WHERE = {
    "load_module": "_api",
    "spawn_guest": "_api",
    "spawn_guest_link": "_api",
    "spawn_guest_monitor": "_api",
    "GuestModule": "_engine",
    "WasmHost": "_engine",
    "wasm_host": "_engine",
    "GuestModuleError": "_errors",
    "AccountIds": "_ns_account",
}


def __getattr__(name):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
