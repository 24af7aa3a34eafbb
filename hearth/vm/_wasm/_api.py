"""The Python-facing API of the guest host: load modules, spawn guests.

A guest is spawned from inside a process, like `hearth.vm.spawn`, and the
call returns a capability (all permissions) to the guest's parent mailbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._mailbox import Mailbox
    from .._runtime import Runtime
    from ._engine import GuestModule
from .._errors import PayloadError
from .._process import current_process
from .._table import Cap
from ._engine import ENTRY, SPAWN_ENTRY, wasm_host
from ._errors import GuestModuleError
from ._host import GuestSpec, spawn_as
from ._ns_account import AccountIds

__all__ = ["load_module", "spawn_guest", "spawn_guest_link", "spawn_guest_monitor"]


def load_module(source: Any, *, runtime: Runtime | None = None) -> GuestModule:
    """Compile and link a guest module for a runtime (default: the current
    process's).

    Args:
        source: a `LumpId` of the runtime's lump store; wasm binary or WAT
            bytes, or WAT text (stored as a lump first, so the guest can
            name itself with ``hearth::lump::this_lump``); a
            `wasmtime.Module` compiled with ``runtime.engine``; or a
            `GuestModule` of this runtime.

    Returns:
        a `GuestModule`, to spawn as many guests from as wanted.

    Raises:
        ModuleError: the module doesn't compile; `GuestModuleError` if it
            doesn't link against the guest ABI (an import the host doesn't
            define, or with another signature) or an entry point has the
            wrong signature.
        LumpNotFound: no lump with that id.

    Switches: never (compiling blocks the hub: milliseconds for a small
    module, served from the runtime's module cache afterwards).
    """
    if runtime is None:
        runtime = current_process().runtime
    return wasm_host(runtime).load(source)


def spawn_guest(
    module: GuestModule,
    *caps: Cap,
    index: int | None = None,
    link: bool = False,
    monitor: bool = False,
    mailbox: Mailbox | None = None,
    memory_limit: int | None = None,
    cpu_slice: float | None = None,
    account: Any = None,
    account_ids: AccountIds | None = None,
    **options: Any,
) -> Any:
    """Spawn a wasm guest process; return a capability to it (rule V13).

    The guest runs on its own OS thread: ``_hearth_metadata``, then
    ``_hearth_init``, then ``run()`` (or ``_hearth_spawn_by_index(index)``),
    each only if exported. It finds `caps` (capabilities of the caller's
    table) at handles 0..n-1 of its own table, in order (a capability given
    twice is one handle with two references, rule V1).

    Args:
        module: anything `load_module` takes.
        index: run ``_hearth_spawn_by_index(index)`` instead of ``run``.
        link: link the guest to the caller before it can run.
        monitor: monitor it from `mailbox` (default the parent mailbox); the
            call then returns ``(cap, ref)``.
        memory_limit: the most bytes of linear memory the guest may have
            (default 16 MiB, at most the engine's ``memory_reservation``).
            ``memory.grow`` past it returns -1; a module whose initial
            memory is larger exits at once with a trap reason. An
            `account`'s ``memory_pages`` lowers it further.
        cpu_slice: seconds of CPU the guest may run in wasm without a host
            call before it traps (default: the account's ``cpu_slice``, or
            none without an account).
        account: the `Account` to charge the guest to (a peer's, for a
            spawn made on its behalf): its `GuestLimits` bound the guest,
            and so is every guest this one spawns. None: the operator's,
            unbounded.
        account_ids: an `AccountIds` table the guest names accounts with
            (``hearth::account``), shared with the other guests given it
            (the versions of one upgradable service); None: a table of
            its own.
        **options: `name`, `trap_exit`, and metadata fields, as for
            `hearth.vm.spawn`; they win over what the guest sets in its
            metadata phase.

    Returns:
        a `Cap` with all permissions, or ``(cap, ref)`` with `monitor`.

    Raises:
        ModuleError: as for `load_module`, or the module lacks the entry
            point (`GuestModuleError`).
        PayloadError: `caps` holds something that is not a `Cap`.
        ValueError: `memory_limit` or `cpu_slice` is out of range.
        TypeError: `account_ids` is not an `AccountIds`.
        QuotaExceeded: the account may spawn no more guests now.

    Switches: never (the guest starts later).
    """
    proc = current_process()
    host = wasm_host(proc.runtime)
    guest_module = host.load(module)
    entry = ENTRY if index is None else SPAWN_ENTRY
    if not guest_module.has(entry):
        raise GuestModuleError(guest_module.lump_id, f"exports no function `{entry}`")
    if index is not None and not -(2**31) <= index < 2**32:
        raise ValueError(f"index must fit in an i32, not {index}")
    for cap in caps:
        if type(cap) is not Cap:
            raise PayloadError(f"a guest is spawned with capabilities, not {type(cap).__name__}")
    limit = host.memory_limit(memory_limit)
    if cpu_slice is not None and not cpu_slice > 0:
        raise ValueError(f"cpu_slice must be seconds > 0, not {cpu_slice!r}")
    if account is not None:
        limits = account.limits
        if limits.memory_limit is not None:
            limit = min(limit, limits.memory_limit)
        if cpu_slice is None:
            cpu_slice = limits.cpu_slice
    if account_ids is not None and type(account_ids) is not AccountIds:
        raise TypeError(f"account_ids is an AccountIds, not {type(account_ids).__name__}")
    spec = GuestSpec(guest_module, index, limit, cpu_slice, account, account_ids)
    return spawn_as(proc, spec, caps, link=link, monitor=monitor, mailbox=mailbox, **options)


def spawn_guest_link(module: GuestModule, *caps: Cap, **options: Any) -> Cap:
    """`spawn_guest` and link atomically (rule V13). Switches: never."""
    return spawn_guest(module, *caps, link=True, **options)


def spawn_guest_monitor(
    module: GuestModule, *caps: Cap, mailbox: Mailbox | None = None, **options: Any
) -> tuple[Cap, int]:
    """`spawn_guest` and monitor atomically; return ``(cap, ref)`` (V13).

    Switches: never.
    """
    return spawn_guest(module, *caps, monitor=True, mailbox=mailbox, **options)
