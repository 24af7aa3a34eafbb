"""Snapshots of the runtime for tools: the CLI, the TUI and tests.

Everything here is plain data copied out of the live structures, so a tool
can hold it, sort it or send it over a socket without touching a process.
"""

from dataclasses import dataclass, field

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
    def mailbox_depth(self):
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


def process_info(proc):
    """Snapshot one live process. Switches: never."""
    mailboxes = tuple(
        MailboxInfo(mb.handle, mb.route_id, len(mb._queue), mb._closed)
        for mb in proc.mailboxes
        if mb is not None
    )
    monitored_by = []
    for mb in proc.mailboxes:
        if mb is not None and mb._monitors:
            monitored_by.extend((ref, w._proc.pid) for ref, w in mb._monitors.items())
    monitors = ()
    if proc.monitors:
        monitors = tuple(
            sorted((ref, target._proc.pid) for ref, (_, target) in proc.monitors.items())
        )
    state = proc.state if proc.reason is None else "exiting"
    return ProcessInfo(
        pid=proc.pid,
        name=proc.name or "",
        state=state,
        initial_call=proc.initial_call or "",
        metadata=dict(proc.metadata or {}),
        mailboxes=mailboxes,
        messages_in=proc.n_in,
        messages_out=proc.n_out,
        links=tuple(sorted(p.pid for p in proc.links or ())),
        monitors=monitors,
        monitored_by=tuple(sorted(monitored_by)),
        trap_exit=proc.trap_exit_flag,
        capabilities=len(proc.table),
        started_at=proc.started_at,
        reason=proc.reason,
    )
