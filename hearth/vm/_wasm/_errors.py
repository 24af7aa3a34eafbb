"""The guest host's exceptions: one flat module, each saying whose fault it is.

`GuestModuleError` is public (a Python caller handed over a module that
can't run as a guest). The other two never leave the package: they carry a
host call's outcome from the call's Python code back to the trampoline that
turns it into a wasm trap (see `_abi.py`), where wasmtime unwinds the guest.
"""

from __future__ import annotations

from .._errors import HearthError, ModuleError

__all__ = ["GuestModuleError", "GuestTrap", "GuestExit"]


class GuestModuleError(ModuleError):
    """A module compiled but can't run as a guest: it imports a function the
    guest ABI doesn't define (a misspelt name, a wrong signature, an unknown
    namespace), exports an entry point with the wrong signature, or lacks the
    entry point a spawn asked for.

    The caller's fault: raised by `load_module` and `spawn_guest`, before any
    process exists. A `ModuleError` (like a module that doesn't compile), with
    ``lump_id`` None for a module handed over already compiled.
    """

    def __init__(self, lump_id: bytes, detail: str) -> None:
        name = lump_id.hex() if lump_id is not None else "(compiled, no lump)"
        HearthError.__init__(self, f"module {name}: {detail}")
        self.lump_id = lump_id
        self.detail = detail


class GuestTrap(Exception):
    """A host call refused what the guest asked (unknown handle, bad pointer,
    missing permission, bad UTF-8, wrong phase, ...).

    The guest's fault. Raised inside a host call; the trampoline prefixes the
    call's name, records the message, and traps, so the guest process exits
    with ``("error", "Trap", message, backtrace)``.
    """


class GuestExit(BaseException):
    """Unwinds a guest whose process is already dead, or that called
    ``hearth::process::exit``.

    Nobody's fault: the process's reason is already decided; wasm is only
    being unwound. A `BaseException` so that no host code swallows it.
    """
