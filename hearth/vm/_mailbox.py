"""Mailboxes: the routes of a process, each with its own queue.

A mailbox *is* a route: its identity, `route_id`, is never reused. A process
owns one or more; mailbox 0 (the parent mailbox) lives as long as the
process. Only the owner receives from a mailbox; anyone with a capability
to it may send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._process import Process
    from ._signals import Signal
    from ._table import Cap
from collections import deque

from greenlet import getcurrent

from ._clock import not_a_timeout
from ._deques import append as _append, popleft as _popleft
from ._errors import ForeignCapability, InvalidHandle, MailboxClosed, Misuse, ProcessExit
from ._perms import ALL, known
from ._scheduler import WAITING

__all__ = ["Mailbox"]



class Mailbox:
    """One route of a process: a queue of signals and the monitors on it.

    There is no public constructor: use `create_mailbox()` or
    `parent_mailbox()`.
    """

    __slots__ = (
        "_proc",
        "route_id",
        "handle",
        "_queue",
        "_waiter",
        "_thread_waiter",
        "_closed",
        "_monitors",
    )

    def __init__(self, proc: Process, route_id: int, handle: int) -> None:
        self._proc = proc
        self.route_id = route_id
        self.handle = handle
        self._queue: deque[Any] = deque()
        self._waiter: Process | None = None
        self._thread_waiter: Any = None  # a guest thread parked here (see _wasm._handoff)
        self._closed = False
        self._monitors = None  # ref -> watching Mailbox, made on first use

    # -- delivery (any greenlet; never switches) ----------------------------

    def _deliver(self, sig):
        """Queue a signal, waking the owner if it waits here. Switches: never."""
        if self._closed:
            return
        _append(self._queue, sig)
        proc = self._proc
        proc.n_in += 1
        waiter = self._waiter
        if waiter is not None and waiter.state is WAITING:
            sched = proc._sched
            sched.wake(waiter)
        elif self._thread_waiter is not None:
            self._thread_waiter.unpark(self)

    # -- owner's side --------------------------------------------------------

    def _owner_check(self):
        proc = self._proc
        if proc.greenlet is not getcurrent():
            raise ForeignCapability(
                f"mailbox {self.handle} belongs to process {proc.pid}, not to the caller"
            )
        if proc.reason is not None:
            raise ProcessExit(proc.reason)
        return proc

    @property
    def closed(self) -> bool:
        """True once destroyed or once the process exited."""
        return self._closed

    def __len__(self):
        """Signals queued and not yet received."""
        return len(self._queue)

    def recv(self, timeout: float | None = None) -> Signal | None:
        """Wait for the next signal and return it (rule V10).

        Args:
            timeout: seconds on the runtime's clock, or None to wait forever.

        Returns:
            A `Message`, `Down` or `Exit`; None if the timeout passed first
            (nothing is lost: a later `recv` gets what arrives later).

        Raises:
            MailboxClosed: the mailbox is closed and drained (V11).
            Misuse: `timeout` is neither a number nor None.

        Switches: when the mailbox is empty.
        """
        proc = self._proc
        if proc.greenlet is not getcurrent() or proc.reason is not None:
            self._owner_check()  # raises
        return self._recv(proc, timeout)

    def _recv(self, proc, timeout):
        """`recv`, once its caller is known to be the owner, `proc`, and
        alive (`vm.recv` knows it from finding the process by its greenlet:
        it saves the second look at the current greenlet)."""
        queue = self._queue
        if queue:
            sig = _popleft(queue)
            sig._import(proc.table)
            return sig
        # Wait: the queue is empty, so the deadline, just set, is first
        # checked after the first wait. (Inline rather than a method of the
        # process: this runs for every message a process waits for.)
        deadline = None
        if timeout is not None:
            clock = proc.runtime.clock
            try:  # (`positive_timeout`, inline: a call waits with a timeout)
                wait = timeout > 0
            except TypeError:
                raise not_a_timeout(timeout) from None
            if wait:
                now = clock.now()
                deadline = now + timeout
            if deadline is None or deadline <= now:  # nothing to wait for
                if self._closed:
                    raise MailboxClosed(f"mailbox {self.handle} is closed")
                return None
        sched = proc._sched
        while True:
            if self._closed:
                raise MailboxClosed(f"mailbox {self.handle} is closed")
            if proc.reason is not None:
                raise ProcessExit(proc.reason)
            self._waiter = proc
            try:
                sched.block(proc, deadline)
            finally:
                self._waiter = None
            if queue:
                sig = _popleft(queue)
                sig._import(proc.table)
                return sig
            if deadline is not None and clock.now() >= deadline:
                if self._closed:
                    raise MailboxClosed(f"mailbox {self.handle} is closed")
                return None

    def try_recv(self) -> Signal | None:
        """Return the next signal, or None if the queue is empty.

        Raises:
            MailboxClosed: the mailbox is closed and drained, which tells
                "closed" apart from "empty".

        Switches: never.
        """
        proc = self._owner_check()
        queue = self._queue
        if queue:
            sig = queue.popleft()
            sig._import(proc.table)
            return sig
        if self._closed:
            raise MailboxClosed(f"mailbox {self.handle} is closed")
        return None

    def make_capability(self, perms: int = ALL) -> Cap:
        """Mint a capability to this mailbox with any permissions (V4).

        Adds one reference to the returned handle. Switches: never.
        """
        proc = self._owner_check()
        perms = known(perms)
        if self._closed:
            raise InvalidHandle(f"mailbox {self.handle} is destroyed")
        return proc.table._import(self, perms)

    def monitor(self, cap: Cap) -> int:
        """Let this mailbox receive a `Down` when `cap`'s route closes.

        Equivalent to ``cap.monitor(self)``. Returns the reference.
        """
        return cap.monitor(self)

    def destroy(self) -> None:
        """Close this mailbox's route (rule V11).

        Monitors of the route get `Down` with reason ``closed``; the process
        lives on. Signals already queued can still be received; after them
        `recv` raises `MailboxClosed`. Switches: never.

        Raises:
            Misuse: this is the parent mailbox (handle 0), which lives as
                long as the process.
        """
        proc = self._owner_check()
        if self.handle == 0:
            raise Misuse("the parent mailbox (0) can't be destroyed")
        if self._closed:
            return
        proc._close_mailbox(self, "closed")
        proc.mailboxes[self.handle] = None
        if proc.free_mailboxes is None:
            proc.free_mailboxes = []
        proc.free_mailboxes.append(self.handle)

    def _flush_down(self, ref):
        queue = self._queue
        kept = [s for s in queue if getattr(s, "ref", None) != ref]
        if len(kept) != len(queue):
            queue.clear()
            queue.extend(kept)

    def __repr__(self):
        state = " closed" if self._closed else ""
        return f"<Mailbox {self.handle} of pid {self._proc.pid} route={self.route_id}{state}>"

