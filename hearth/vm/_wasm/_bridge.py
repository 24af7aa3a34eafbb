"""Guest thread ↔ hub: where a guest's OS thread and the gevent hub meet.

The kernel is not thread-safe, so every kernel operation a guest asks for
runs on the hub thread, in the guest's *proxy*: the greenlet of its Hearth
process. The two sides pass a baton:

- The guest thread appends an entry to the runtime's `Bridge` inbox (a
  deque, whose appends and pops are atomic) and wakes the hub with a gevent
  async watcher, whose ``send()`` is the one thread-safe way into a libev
  loop. A *post* (send a message to a Python process, log a line) doesn't
  wait: it runs in the watcher's callback, in order with everything else
  the guest asked for. A *call* (a timed receive, link, spawn, ...) blocks
  the guest thread on a native lock until the proxy answers.
- The proxy waits for calls parked in ``hub.switch()`` with its process
  RUNNING, like a greenlet blocked in gevent I/O, so that a guest busy in
  wasm never counts as blocked for `Runtime.wait_all_blocked`. The watcher's
  callback switches into it to serve a call; a call that waits in the
  kernel (``recv_timeout``) blocks the proxy in the kernel like any
  process, with no wasm on the hub's stack.

Whoever holds the baton is the only one touching the guest's capability
table, its signal and lump tables and its memory: the guest thread while it
runs, the proxy while it serves a call (the guest thread is then waiting).
Posted work touches none of them.

Every call gets exactly one answer: from the proxy (OK or TRAP), or DEAD
once the process has died (then the guest thread unwinds).

Messages between guests mostly skip the hub: see `_handoff.py`, which uses
the same native lock to park a guest thread in a receive.
"""

import logging
import os
from collections import deque

from gevent.monkey import get_original

from .._scheduler import RUNNING
from ._errors import GuestExit, GuestTrap

__all__ = ["Bridge", "Port", "OK", "TRAP", "DEAD", "WOKE", "DONE", "as_batch_thread"]

log = logging.getLogger("hearth.wasm")

_allocate_lock = get_original("_thread", "allocate_lock")
_start_new_thread = get_original("_thread", "start_new_thread")
_stack_size = get_original("_thread", "stack_size")

# Answers to a call.
OK = 0
TRAP = 1
DEAD = 2
WOKE = 3  # not an answer to a call: a parked receive may go on (`_handoff`)

# Inbox entry kinds.
_POST = 0
_CALL = 1
_DONE = 2


# The request a guest thread sends last, with its outcome (an exit reason,
# or None if it was only unwinding a dead process) as the one argument.
DONE = object()


def as_batch_thread():
    """Give the calling OS thread Linux's SCHED_BATCH policy.

    A batch thread that is woken (one guest releasing another, the hub
    answering a call) doesn't preempt the thread that woke it: it runs when
    that one blocks or its slice ends. Preempting at once gains nothing
    here, since the waker still holds the GIL, which the woken thread then
    waits for: on one CPU that made about 5.7 context switches a guest
    round trip instead of 2 (docs/benchmarks.md). Elsewhere, or if the
    system refuses, the thread keeps its policy. Switches: never.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass


class Bridge:
    """The hub's end of every guest thread of one runtime.

    The async watcher is started, and keeps the hub's loop alive, only while
    at least one guest thread runs.
    """

    def __init__(self, hub, stack_size):
        self.hub = hub
        self._inbox = deque()
        self._watcher = hub.loop.async_()
        self._stack_size = stack_size
        self.n_threads = 0
        # Guards every hand-off between threads that skips the hub (see
        # `_handoff.py`). Held for a few lines at a time, never across a
        # switch or a wait.
        self.handoff_lock = _allocate_lock()

    def start_thread(self, fn):
        """Start `fn()` on a new OS thread with the guest stack size.

        Switches: never.
        """
        if not self.n_threads:
            self._watcher.start(self._on_wake)
        self.n_threads += 1
        # stack_size is process-wide: set it only around our own start.
        old = _stack_size(self._stack_size)
        try:
            _start_new_thread(fn, ())
        except BaseException:
            self._thread_ended()
            raise
        finally:
            _stack_size(old)

    def _thread_ended(self):
        self.n_threads -= 1
        if not self.n_threads:
            self._watcher.stop()

    def _on_wake(self):
        # Runs in the hub. Take only what is there now; what guests append
        # meanwhile waits for the next loop iteration, so a guest posting in
        # a loop can't hold the hub here.
        inbox = self._inbox
        for _ in range(len(inbox)):
            port, kind, op, args = inbox.popleft()
            try:
                if kind == _POST:
                    try:
                        op(port, *args)
                    finally:
                        port.n_served += 1
                elif kind == _CALL:
                    port._hand_over(op, args)
                else:
                    self._thread_ended()
                    port._hand_over(DONE, args)
            except Exception:  # a host bug: keep serving the other guests
                log.exception("guest host: %r of pid %s failed", op, port.proc.pid)
        if inbox:
            self._watcher.send()


class Port:
    """A guest's end of the bridge: one outstanding call at a time.

    Attributes:
        proc: the guest's `Process`.
        killed: set on the hub once the process is dead; the guest thread
            checks it before every host call and at every epoch tick.
        n_posted: posts the guest thread made (written by it alone).
        n_served: posts the hub has run (written by the hub alone); while
            it is behind `n_posted`, something this guest sent may still
            be on its way.
    """

    __slots__ = (
        "proc",
        "killed",
        "n_posted",
        "n_served",
        "_bridge",
        "_append",
        "_wake",
        "_lock",
        "_reply",
        "_request",
        "_pending",
        "_parked",
    )

    def __init__(self, bridge, proc):
        self.proc = proc
        self.killed = False
        self.n_posted = 0
        self.n_served = 0
        self._bridge = bridge
        self._append = bridge._inbox.append
        self._wake = bridge._watcher.send
        self._lock = _allocate_lock()
        self._lock.acquire()  # released once per answer, or per wake of a park
        self._reply = None
        self._request = None
        self._pending = False
        self._parked = False

    # -- the guest thread's side ---------------------------------------------

    def call(self, op, *args):
        """Run ``op(port, *args)`` in the proxy and wait for its result.

        Raises:
            GuestTrap: the kernel refused (the message says why).
            GuestExit: the process is dead.
        """
        if self.killed:
            raise GuestExit
        self._append((self, _CALL, op, args))
        self._wake()
        self._lock.acquire()
        kind, value = self._reply
        if kind == OK:
            return value
        if kind == TRAP:
            raise GuestTrap(value)
        raise GuestExit

    def post(self, op, *args):
        """Run ``op(port, *args)`` on the hub soon, in order with this
        guest's other requests; don't wait. `op` runs in the hub's own
        greenlet, must never switch, and may find the process dead since."""
        self.n_posted += 1
        self._append((self, _POST, op, args))
        self._wake()

    def finish(self, outcome):
        """Tell the proxy the guest thread is done (its last request)."""
        self._append((self, _DONE, None, (outcome,)))
        self._wake()

    # -- the hub's side -------------------------------------------------------------

    def _hand_over(self, op, args):
        self._request = (op, args)
        if op is not DONE:
            self._pending = True
        proc = self.proc
        # Resume the proxy only where it parked for this, never a process
        # the scheduler is about to unwind (it answers DEAD then).
        if self._parked and proc.state is RUNNING and not proc.throw_pending:
            proc.greenlet.switch()

    def wait_request(self):
        """Park the proxy until the guest thread asks something; return
        ``(op, args)``. Switches: when nothing is waiting."""
        hub = self._bridge.hub
        while self._request is None:
            self._parked = True
            try:
                hub.switch()
            finally:
                self._parked = False
        request = self._request
        self._request = None
        return request

    def answer(self, kind, value=None):
        """Answer the outstanding call. Switches: never."""
        self._pending = False
        self._reply = (kind, value)
        self._lock.release()

    def stop(self):
        """The process is dead: answer an outstanding call with DEAD, and
        make every later one fail at once. Switches: never."""
        self.killed = True
        if self._pending:
            self._request = None
            self.answer(DEAD)

    def wait_done(self):
        """After `stop`: park until the guest thread has finished, answering
        DEAD to calls it made before it noticed; return its outcome.

        Switches: until the thread is done.
        """
        while True:
            op, args = self.wait_request()
            if op is DONE:
                return args[0]
            self.answer(DEAD)
