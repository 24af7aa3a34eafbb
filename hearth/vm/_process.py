"""Processes: a greenlet plus a capability table, mailboxes, links, monitors.

This module holds what a process does to itself and to others: receiving,
spawning, linking, monitoring, and the pieces of dying that act on one
process (closing a route and firing its monitors, `_close_mailbox`). The
exit path itself is `_exit.terminate` (`Runtime._terminate`; rule V15): it
runs synchronously and iteratively, so a process that dies has closed its
routes, fired its monitors and signalled its links before the call that
killed it returns, and a chain of links is torn down within one pass (rule
V21) without recursion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._runtime import Runtime
    from ._signals import Signal
    from ._table import Cap
from greenlet import getcurrent, greenlet

from ._clock import positive_timeout
from ._deques import popleft as _popleft
from ._errors import (
    ForeignCapability,
    InvalidHandle,
    MailboxClosed,
    Misuse,
    NotInProcess,
    ProcessExit,
)
from ._exit import reap, terminate
from ._mailbox import Mailbox
from ._perms import ALL
from ._reasons import KILLED, NOPROC, NORMAL, check_reason, error_reason
from ._scheduler import RUNNING, WAITING
from ._signals import Down
from ._table import Table

__all__ = ["Process", "current_process", "current_process_or_none"]

# Greenlets attached with Runtime.open_process(): greenlet -> Process.
_attached: dict[greenlet, Process] = {}


class _ProcessGreenlet(greenlet):
    __slots__ = ("_hearth_process",)


def current_process() -> Process:
    """The process the calling greenlet runs. Switches: never.

    Raises:
        NotInProcess: the caller is not a process.
    """
    g = getcurrent()
    try:
        return g._hearth_process
    except AttributeError:
        proc = _attached.get(g)
        if proc is None:
            raise NotInProcess(
                "this call must run inside a Hearth process "
                "(spawn one, or use Runtime.open_process())"
            ) from None
        return proc


def current_process_or_none() -> Process | None:
    """Like `current_process`, but None outside a process."""
    g = getcurrent()
    try:
        return g._hearth_process
    except AttributeError:
        return _attached.get(g)


class Process:
    """A Hearth process. Its methods act as that process and must be called
    from its own greenlet (the module-level functions of `hearth.vm` call
    them on the current process).

    Attributes:
        pid: debug pid, an integer for logs and tools only (no authority).
        runtime: the runtime this process lives in.
        metadata: name, description, authors, ... (a dict).
        reason: the exit reason once dead, else None.
        dictionary: the process dictionary (Erlang's ``get``/``put``): state
            that libraries keep per process, such as `hearth.otp`'s reply
            mailbox. None until first used.
    """

    __slots__ = (
        "runtime",
        "pid",
        "greenlet",
        "table",
        "mailboxes",
        "free_mailboxes",
        "state",
        "throw_pending",
        "wseq",
        "reason",
        "trap_exit_flag",
        "links",
        "monitors",
        "metadata",
        "n_in",
        "n_out",
        "at_exit",
        "started_at",
        "initial_call",
        "dictionary",
        "timer",
        "guest",
        "account",
        "_start",
        "_sched",
        "__weakref__",
    )

    foreign = False  # True for the stand-ins of `hearth.vm._foreign`

    reason: Any
    links: set[Process] | None
    monitors: dict[int, tuple[Mailbox, Mailbox]] | None
    metadata: dict[str, Any] | None
    at_exit: list[Callable[[Process, Any], object]] | None
    initial_call: str | None
    dictionary: dict[str, Any] | None
    free_mailboxes: list[int] | None
    timer: Any
    guest: Any
    account: Any
    _start: Any

    def __init__(
        self, runtime: Runtime, pid: int, g: greenlet | None, metadata: dict[str, Any] | None
    ) -> None:
        self.runtime = runtime
        self.pid = pid
        self.greenlet = g
        self.table = Table(self, g)
        self.mailboxes = [Mailbox(self, runtime._new_route_id(), 0)]
        self.free_mailboxes = None  # handles of destroyed mailboxes, for reuse
        self.state = RUNNING
        self.throw_pending = False
        self.wseq = 0
        self.reason = None
        self.trap_exit_flag = False
        self.links = None  # set of Process, made on first link
        self.monitors = None  # ref -> (watching Mailbox, target Mailbox)
        self.metadata = metadata
        self.n_in = 0
        self.n_out = 0
        self.at_exit = None  # callables run first thing on exit
        self.started_at = runtime.clock.now()
        self.initial_call = None
        self.dictionary = None  # the process dictionary, made on first use
        self.timer = None  # the clock timer of a timed receive, once armed
        self.guest = None  # a wasm guest's `Guest`, if the process is one
        self.account = None  # the `Account` it is charged to (`_accounts.py`)
        self._start = None
        # The runtime's scheduler, a field of its own: the message path
        # reads it on every wake and receive (compiled, a C read, where
        # `runtime._sched` was a lookup in the runtime's instance dict).
        self._sched = runtime._sched

    # -- identity -------------------------------------------------------------

    @property
    def name(self) -> str | None:
        return self.metadata.get("name") if self.metadata else None

    @property
    def alive(self) -> bool:
        return self.reason is None

    def __repr__(self):
        name = f" {self.name}" if self.name else ""
        return f"<Process {self.pid}{name} {self.state}>"

    def _check_self(self):
        if self.greenlet is not getcurrent():
            raise ForeignCapability(f"only process {self.pid} may act as itself")
        if self.reason is not None:
            raise ProcessExit(self.reason)

    def _raise_if_dead(self):
        if self.reason is not None:
            raise ProcessExit(self.reason)

    # -- the greenlet's body ----------------------------------------------------

    def _main(self):
        fn, args, kwargs = self._start
        self._start = None
        rt = self.runtime
        try:
            if self.reason is None:
                fn(*args, **kwargs)
            reason = NORMAL
        except ProcessExit as e:
            reason = e.reason
        except BaseException as e:  # noqa: B902 - a process may die of anything
            reason = error_reason(e)
        finally:
            fn = args = kwargs = None
        if self.reason is None:
            terminate(rt, self, reason)  # `rt._terminate`
        reap(rt, self)  # `rt._reap`

    # -- mailboxes and receiving --------------------------------------------------

    def parent_mailbox(self) -> Mailbox:
        """Mailbox 0, which lives as long as the process. Switches: never."""
        return self.mailboxes[0]

    def create_mailbox(self) -> Mailbox:
        """A new mailbox of this process (rule V11). Switches: never."""
        self._check_self()
        free = self.free_mailboxes
        if free:
            handle = free.pop()
            mb = self.mailboxes[handle] = Mailbox(self, self.runtime._new_route_id(), handle)
        else:
            mb = Mailbox(self, self.runtime._new_route_id(), len(self.mailboxes))
            self.mailboxes.append(mb)
        return mb

    def mailbox(self, handle: int) -> Mailbox:
        """The live mailbox with this handle.

        Raises:
            InvalidHandle: no such mailbox, or it was destroyed.
        """
        try:
            mb = self.mailboxes[handle] if handle >= 0 else None
        except (IndexError, TypeError):
            mb = None
        if mb is None:
            raise InvalidHandle(f"no mailbox with handle {handle!r}")
        return mb

    def select(
        self, mailboxes: Sequence[Mailbox], timeout: float | None = None
    ) -> tuple[Mailbox, Signal] | None:
        """Wait on several mailboxes; return ``(mailbox, signal)`` (V10).

        Earlier mailboxes in the list win when several have signals.
        Returns None if the timeout passes first. Switches: when all are
        empty.

        Raises:
            MailboxClosed: every mailbox is closed and drained.
            ForeignCapability: a mailbox belongs to another process.
        """
        self._check_self()
        mailboxes = list(mailboxes)
        if not mailboxes:
            raise Misuse("select needs at least one mailbox")
        for mb in mailboxes:
            if type(mb) is not Mailbox or mb._proc is not self:
                raise ForeignCapability(f"{mb!r} is not a mailbox of process {self.pid}")
        clock = self.runtime.clock
        if timeout is not None:
            positive_timeout(timeout)  # raises Misuse if it is not a number
        deadline = None if timeout is None else clock.now() + timeout
        while True:
            open_ = False
            for mb in mailboxes:
                if mb._queue:
                    sig = _popleft(mb._queue)
                    sig._import(self.table)
                    return mb, sig
                open_ = open_ or not mb._closed
            if not open_:
                raise MailboxClosed("every mailbox of the select is closed")
            if deadline is not None and clock.now() >= deadline:
                return None
            for mb in mailboxes:
                mb._waiter = self
            try:
                self._sched.block(self, deadline)
            finally:
                for mb in mailboxes:
                    mb._waiter = None

    def make_capability(self, perms: int = ALL) -> Cap:
        """A capability to this process's parent mailbox (like Erlang's
        ``self()``, but with chosen permissions). Switches: never."""
        return self.mailboxes[0].make_capability(perms)

    def trap_exit(self, flag: bool) -> bool:
        """Set whether exit signals arrive as `Exit` messages; return the
        old value. Switches: never."""
        self._check_self()
        old = self.trap_exit_flag
        self.trap_exit_flag = bool(flag)
        return old

    def set_metadata(self, **fields: Any) -> None:
        """Set metadata fields (name, description, authors, repository,
        homepage, license, ...). Switches: never."""
        self._check_self()
        if self.metadata is None:
            self.metadata = {}
        self.metadata.update(fields)

    # -- spawning -------------------------------------------------------------------

    def spawn(
        self,
        fn: Callable[..., object],
        *args: Any,
        link: bool = False,
        monitor: bool = False,
        mailbox: Mailbox | None = None,
        **options: Any,
    ) -> Any:
        """Spawn a process running ``fn(*args)``; return a capability (all
        permissions) to its parent mailbox, at once (rule V13).

        A `Cap` of the caller's table among `args` is imported into the
        child's table, and the child receives its own handle in its place.
        With `link` or `monitor` the link or monitor is set before the child
        can run, so a child that dies at once is still observed.

        Args:
            link: link the child to the caller.
            monitor: monitor the child from `mailbox` (default the parent
                mailbox); the call then returns ``(cap, ref)``.
            **options: `name`, `trap_exit`, and metadata fields.

        Switches: never (the child runs later).
        """
        self._check_self()
        if monitor:
            watcher = self._own_mailbox(mailbox)
        child = self.runtime._new_process(fn, args, options, parent=self)
        if link:
            self._add_link(child)
        cap = self.table._import(child.mailboxes[0], ALL)
        if monitor:
            ref = self._add_monitor(watcher, child.mailboxes[0])
            self._sched.start(child)
            return cap, ref
        self._sched.start(child)
        return cap

    # -- links ----------------------------------------------------------------------

    def _add_link(self, other):
        if self.links is None:
            self.links = set()
        if other.links is None:
            other.links = set()
        self.links.add(other)
        other.links.add(self)

    def _link(self, target):
        if target is self:
            return
        if target.reason is not None:
            # V20: linking to a dead process is an immediate noproc exit.
            self.runtime._exit_signal(target, self, NOPROC, link=True)
            self._raise_if_dead()
            return
        if target.foreign:
            if not (self.links and target in self.links):
                self._add_link(target)
                target._carry_link(self)
            return
        self._add_link(target)

    def _unlink(self, target):
        if self.links and target in self.links:
            self.links.discard(target)
            target.links.discard(self)
            if target.foreign:
                target._carry_unlink(self)

    # -- monitors ---------------------------------------------------------------------

    def _own_mailbox(self, mailbox):
        if mailbox is None:
            return self.mailboxes[0]
        if type(mailbox) is not Mailbox or mailbox._proc is not self:
            raise ForeignCapability(f"{mailbox!r} is not a mailbox of process {self.pid}")
        if mailbox._closed:
            raise InvalidHandle(f"mailbox {mailbox.handle} is destroyed")
        return mailbox

    def _monitor_route(self, route, mailbox):
        return self._add_monitor(self._own_mailbox(mailbox), route)

    def _add_monitor(self, watcher, target):
        ref = self.runtime._new_ref()
        if target._closed:
            # V23: monitoring a closed route fires at once.
            watcher._deliver(Down(ref, target, NOPROC))
            return ref
        if target._monitors is None:
            target._monitors = {}
        target._monitors[ref] = watcher
        if self.monitors is None:
            self.monitors = {}
        self.monitors[ref] = (watcher, target)
        return ref

    def demonitor(self, ref: int, flush: bool = False) -> bool:
        """Stop a monitor; with `flush`, also remove its queued `Down` (V24).

        Returns True if the monitor was still active. Switches: never.
        """
        self._check_self()
        entry = self.monitors.pop(ref, None) if self.monitors else None
        if entry is not None:
            watcher, target = entry
            if target._monitors:
                target._monitors.pop(ref, None)
            # Still active: no Down can be queued yet.
        elif flush:
            for mb in self.mailboxes:
                if mb is not None and mb._queue:
                    mb._flush_down(ref)
        return entry is not None

    # -- exit signals -------------------------------------------------------------------

    def _kill(self, target):
        if target.foreign:
            target._carry_kill()
            return
        self.runtime._terminate(target, KILLED)
        self._raise_if_dead()

    def _send_exit(self, target, reason):
        reason = check_reason(reason)
        if target.foreign:
            target._carry_exit(self, reason)
            return
        self.runtime._exit_signal(self, target, reason, link=False)
        self._raise_if_dead()

    # -- the exit path (called by the runtime) -------------------------------------------

    def _drop_monitors_from(self, mb):
        """Forget the monitors this process holds that watch from `mb`
        (which is closing): their targets stop pointing at it."""
        monitors = self.monitors
        for ref, (watcher, target) in list(monitors.items()):
            if watcher is mb:
                del monitors[ref]
                if target._monitors:
                    target._monitors.pop(ref, None)

    def _close_mailbox(self, mb, reason):
        """Close one route: fire its monitors, drop the monitors it held."""
        mb._closed = True
        monitors = mb._monitors
        if monitors:
            mb._monitors = None
            for ref, watcher in monitors.items():
                owner = watcher._proc
                if owner.monitors:
                    owner.monitors.pop(ref, None)
                watcher._deliver(Down(ref, mb, reason))
        if self.monitors:
            self._drop_monitors_from(mb)
        # A guest thread parked here (`_thread_waiter`) is left alone: only
        # its owner's death closes a mailbox it waits on, and the guest's
        # proxy releases it when it unwinds (waking it here would wake every
        # killed guest's thread into the caller's loop at once).
        waiter = mb._waiter
        if waiter is not None and waiter.state is WAITING:
            self._sched.wake(waiter)

