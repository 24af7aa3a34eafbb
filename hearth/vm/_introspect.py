"""Snapshots of the runtime for tools: the CLI, the TUI and tests.

Everything here is plain data copied out of the live structures, so a tool
can hold it, sort it or send it over a socket without touching a process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._process import Process
    from ._runtime import Runtime
    from ._table import Cap
from dataclasses import dataclass, field

from ._perms import known

__all__ = ["MailboxInfo", "ProcessInfo", "ExitRecord", "process_info"]


@dataclass(frozen=True)
class MailboxInfo:
    handle: int
    route_id: int
    depth: int
    closed: bool


@dataclass(frozen=True)
class ProcessInfo:
    """One process as a tool sees it."""

    pid: int
    name: str
    state: str
    initial_call: str
    metadata: dict
    mailboxes: tuple
    messages_in: int
    messages_out: int
    links: tuple
    monitors: tuple  # (ref, pid of the monitored route's owner)
    monitored_by: tuple  # (ref, pid of the watcher)
    trap_exit: bool
    capabilities: int
    started_at: float
    reason: object = None

    @property
    def mailbox_depth(self) -> int:
        """Signals queued across all the process's mailboxes."""
        return sum(m.depth for m in self.mailboxes)


@dataclass(frozen=True)
class ExitRecord:
    """A death, kept in the runtime's bounded history."""

    pid: int
    name: str
    reason: object
    at: float
    observed: bool = field(default=True)


def _pid_of(owner: Any) -> int | None:
    return getattr(owner, "pid", None)


def process_info(proc: Process) -> ProcessInfo:
    """Snapshot one live process. Switches: never."""
    mailboxes = tuple(
        MailboxInfo(mb.handle, mb.route_id, len(mb._queue), mb._closed)
        for mb in proc.mailboxes
        if mb is not None
    )
    monitored_by: list[tuple[int, int | None]] = []
    for mb in proc.mailboxes:
        if mb is not None and mb._monitors:
            # A watcher of the network layer stands in for a remote
            # monitor: it has no owning process here, so no pid (None).
            monitored_by.extend((ref, _pid_of(w._proc)) for ref, w in mb._monitors.items())
    monitors: tuple[tuple[int, int | None], ...] = ()
    if proc.monitors:
        monitors = tuple(
            sorted((ref, _pid_of(target._proc)) for ref, (_, target) in proc.monitors.items())
        )
    state = proc.state if proc.reason is None else "exiting"
    n_in, n_out = proc.n_in, proc.n_out
    guest = proc.guest
    if guest is not None:  # a wasm guest: some of its traffic skips the hub
        n_in += guest.n_direct_in
        n_out += guest.n_direct_out
        if guest.parked_on and proc.reason is None:
            state = "waiting"
    return ProcessInfo(
        pid=proc.pid,
        name=proc.name or "",
        state=state,
        initial_call=proc.initial_call or "",
        metadata=dict(proc.metadata or {}),
        mailboxes=mailboxes,
        messages_in=n_in,
        messages_out=n_out,
        links=tuple(sorted(p.pid for p in proc.links or ())),
        monitors=monitors,
        monitored_by=tuple(sorted(monitored_by)),
        trap_exit=proc.trap_exit_flag,
        capabilities=len(proc.table),
        started_at=proc.started_at,
        reason=proc.reason,
    )


# -- tool powers ----------------------------------------------------------------------
#
# The functions below act by debug pid, which ordinary code never may (a pid
# is no authority). They exist for the inspection service (`hearth.native`'s
# ``hearth.Inspector``), whose capability only the runtime's owner holds (the
# IPC daemon's owner-only socket). They are not exported from `hearth.vm`:
# import them from here, and never hand their power to a guest.


def owner_pid(cap: Cap) -> int | None:
    """The debug pid of the live process whose mailbox `cap` names, or None
    if that mailbox is closed. Switches: never."""
    route = cap._route
    proc = route._proc
    if route._closed or getattr(proc, "reason", None) is not None:
        return None
    return _pid_of(proc)


def last_owner(cap: Cap) -> tuple[int | None, Any]:
    """``(pid, reason)`` of the process whose mailbox `cap` names, live or
    dead: reason None while it lives (or is still unwinding). For tools
    that must tell "this process exited, with this reason" from "no such
    process". Switches: never."""
    proc = cap._route._proc
    return _pid_of(proc), getattr(proc, "reason", None)


def process_alive(runtime: Runtime, pid: int) -> bool:
    """True if `pid` names a live process of `runtime`. Switches: never."""
    proc = runtime._processes.get(pid)
    return proc is not None and proc.reason is None


def capability_to_pid(pid: int, perms: int) -> Cap | None:
    """Mint, in the calling process's table, a capability with `perms` to
    mailbox 0 of the live process `pid` of the caller's runtime; None if
    there is no such live process. Raises `Misuse` if `perms` are not
    permission bits.

    The one exception to rule V4 (only a mailbox's owner mints capabilities
    to it): the inspector's way from a pid a person typed to the process.
    Switches: never.
    """
    from ._process import current_process

    me = current_process()
    target = me.runtime._processes.get(pid)
    if target is None or target.reason is not None:
        return None
    return me.table._import(target.mailboxes[0], known(perms))


def kill_pid(pid: int) -> bool:
    """Kill the live process `pid` of the caller's runtime (reason
    ``killed``, untrappable, rule V16); False if there is no such live
    process.

    Raises:
        ProcessExit: the caller killed itself.

    Switches: never.
    """
    from ._process import current_process

    me = current_process()
    target = me.runtime._processes.get(pid)
    if target is None or target.reason is not None:
        return False
    me._kill(target)
    return True


def pids_by_initial_call(runtime: Runtime, initial_call: str) -> list[int]:
    """The live processes of `runtime` whose initial call is `initial_call`
    (a function's qualified name), by pid, without snapshotting every
    process (the inspector finds supervisors this way). Switches: never."""
    return sorted(p.pid for p in list(runtime._processes.values())
                  if p.initial_call == initial_call and p.reason is None)
