"""The run queue: which process runs next, and the blocked/runnable count.

Processes are greenlets whose parent is the gevent hub. A runnable process
waits in the run queue; one hub callback, `_drain`, switches into each in
turn, and a process that blocks in `recv` switches back to the hub, which
resumes `_drain` right where it left off. So waking a process costs a list
append, not a hub callback of its own, and a process is only ever resumed
by the drain while it is READY: a stale wake (a timeout racing a message, a
kill racing both) can never switch into it at the wrong point.

While a drain runs, a process that blocks switches straight into the next
READY process itself (`_hand_off`), as the drain would have, instead of
going through the hub to have the drain do it: one switch instead of two
per wait. The pick, the count against the slice and the order under a seed
are the drain's own, and every 64 processes the switch goes to the hub so
the drain can check its slice.

With a seed, the drain picks the next process at random from the run queue
with its own `random.Random(seed)`, so an interleaving that fails a test can
be replayed from the seed alone.
"""

import random
import time
from collections import deque

from ._deques import append as _append, popleft as _popleft
from ._errors import ProcessExit

__all__ = ["Scheduler", "READY", "RUNNING", "WAITING", "DONE"]

# Process states. RUNNING covers "current" and "blocked outside the kernel"
# (in gevent I/O, say); WAITING is "blocked in a kernel receive".
READY = "ready"
RUNNING = "running"
WAITING = "waiting"
DONE = "done"

# How long one drain may run before it lets the hub poll I/O and timers.
_SLICE = 0.005


class Scheduler:
    """The run queue of one runtime.

    Attributes:
        exits: the runtime's history of recent exits (a bounded deque of
            tuples), which the exit path appends to: kept here, a field of
            a compiled class, so that the path reads it without a lookup
            in the runtime's instance dict (set by the runtime).
        now: the clock's ``now``, for the exit path's records likewise.
        processes: the runtime's live processes by pid, which `reaped`
            takes a finished one out of (set by the runtime).
        n_live: processes whose greenlet has not finished.
        n_waiting: processes blocked in a kernel receive.
        n_parked: guest processes whose OS thread waits in a receive of its
            own, outside the hub (`hearth.vm._wasm._handoff`); they count as
            blocked. Written only under the wasm host's hand-off lock, by
            guest threads and the hub alike.
    """

    def __init__(self, hub, clock, seed=None):
        self.hub = hub
        self._loop = hub.loop
        self._clock = clock
        self.now = clock.now
        self.exits = None
        self.processes = {}
        self._seed = seed
        self._rng = random.Random(seed) if seed is not None else None
        self._ready = [] if self._rng is not None else deque()
        self._scheduled = False
        self.n_live = 0
        self.n_waiting = 0
        self.n_parked = 0
        self._idle_watchers = []  # (callback, n_excluded)
        self._autojump = False
        # After a full slice the drain resumes from a zero-delay timer, not a
        # callback: gevent runs queued callbacks (up to 50 between clock
        # checks) before it polls, so a drain that re-queued itself as a
        # callback would hold I/O and timers back for about 50 slices.
        self._resume = self._loop.timer(0.0)
        # A process that blocks with a deadline during a drain gets its clock
        # timer when the drain ends: a real clock's timers only fire between
        # drains anyway, and a receive answered within the same drain (a
        # call's, usually) then never makes one.
        self._draining = False
        self._defer_timers = clock.timers_fire_between_drains
        self._unarmed = []  # (proc, wseq, deadline) that blocked in this drain
        self._count = 0  # processes resumed since the slice's clock was last read
        self._started = 0.0  # when the current drain began

    @property
    def seed(self):
        """The seed of the random run order, or None for first-come order."""
        return self._seed

    # -- making runnable (never switches) -----------------------------------

    def start(self, proc):
        """Queue a new process to run. Switches: never."""
        self.n_live += 1
        proc.state = READY
        self._push(proc)

    def wake(self, proc):
        """Make a WAITING process runnable. Switches: never."""
        proc.state = READY
        self.n_waiting -= 1
        self._push(proc)

    def interrupt(self, proc):
        """Arrange for a process that is not the caller to be unwound with
        `ProcessExit(proc.reason)` the next time it is resumed by the drain.

        Switches: never.
        """
        state = proc.state
        if state is DONE:
            return
        proc.throw_pending = True
        if state is READY:
            return
        if state is WAITING:
            self.n_waiting -= 1
        proc.state = READY
        self._push(proc)

    def _push(self, proc):
        """Put a READY process on the run queue, and have the hub drain the
        queue if no drain is due yet. Switches: never."""
        if self._rng is None:
            _append(self._ready, proc)
        else:
            self._ready.append(proc)
        if not self._scheduled:
            self._scheduled = True
            self._loop.run_callback(self._drain)

    def _timeout(self, proc, seq):
        if proc.state is WAITING and proc.wseq == seq:
            self.wake(proc)

    # -- blocking (switches) -------------------------------------------------

    def block(self, proc, deadline):
        """Park the current process until woken or until `deadline`.

        Returns with the process RUNNING. It may return without a wake
        (a timeout, or a foreign exception thrown in by gevent); callers
        re-check their condition. Switches: always.
        """
        proc.state = WAITING
        proc.wseq = seq = proc.wseq + 1
        self.n_waiting += 1
        if self._idle_watchers or self._autojump:
            self._note_maybe_idle()
        if deadline is not None:
            if self._draining and self._defer_timers:
                self._unarmed.append((proc, seq, deadline))
            else:
                proc.timer = self._clock.call_at(deadline, self._timeout, proc, seq)
        try:
            ready = self._ready
            if self._draining and ready and self._count < 63 and self._rng is None:
                # `_hand_off` inline, for the first-come order: the usual
                # path of every message a process waits for.
                nxt = ready.popleft()
                while nxt.state is not READY:
                    if not ready:
                        nxt = None
                        break
                    nxt = ready.popleft()
                if nxt is None:
                    self.hub.switch()
                else:
                    self._count += 1
                    nxt.state = RUNNING
                    if nxt.throw_pending:
                        self._resume_proc(nxt)
                    else:
                        nxt.greenlet.switch()
            elif self._draining and ready:
                self._hand_off()
            else:
                self.hub.switch()
        finally:
            if deadline is not None:
                timer = proc.timer
                if timer is not None:
                    proc.timer = None
                    timer.cancel()
            state = proc.state
            if state is not RUNNING:
                # Resumed by something other than the drain (a gevent
                # Timeout thrown in, say): a queued entry is now stale.
                if state is WAITING:
                    self.n_waiting -= 1
                proc.state = RUNNING
                proc.wseq += 1

    def reaped(self, proc):
        """Note that a process's greenlet finished. Switches: never."""
        self.processes.pop(proc.pid, None)
        proc.state = DONE
        self.n_live -= 1
        if self._idle_watchers or self._autojump:
            self._note_maybe_idle()

    # -- the drain (runs in the hub) -------------------------------------------

    def _pick(self):
        """Take the next READY process off the run queue (first come, or
        drawn from the seeded generator), or None if none is left."""
        ready = self._ready
        rng = self._rng
        while ready:
            if rng is None:
                proc = _popleft(ready)
            else:
                i = rng.randrange(len(ready))
                proc = ready[i]
                ready[i] = ready[-1]
                ready.pop()
            if proc.state is READY:
                return proc
        return None

    @staticmethod
    def _resume_proc(proc):
        """Switch into `proc` (RUNNING now), unwinding it if it was
        interrupted. Switches: always."""
        proc.state = RUNNING
        g = proc.greenlet
        if proc.throw_pending:
            proc.throw_pending = False
            if g:
                g.throw(ProcessExit(proc.reason))
            elif not g.dead:
                g.switch()
        else:
            g.switch()

    def _hand_off(self):
        """Run the next process of this drain straight from the one that
        blocks, without a trip through the hub (a process resumed here is
        one the drain would have resumed next: same pick, same count
        against the slice). Falls back to the hub when the slice's count
        is due for its clock check, or nothing is READY. Switches: always.
        """
        if self._count >= 63:
            self.hub.switch()
            return
        proc = self._pick()
        if proc is None:
            self.hub.switch()
            return
        self._count += 1
        self._resume_proc(proc)

    def _drain(self):
        # `_scheduled` stays True while the drain runs, so the processes it
        # wakes are taken by this same pass instead of queueing another hub
        # callback each; it turns False only once the run queue is empty.
        # A process that blocks while the drain runs resumes the next one
        # itself (`_hand_off`); the drain's own switch returns when one
        # switches to the hub instead.
        # (`self._pick()` and `self._resume_proc(proc)` each time rather than
        # bound once: compiled, they are C calls.)
        self._started = started = time.perf_counter()
        self._count = 0
        self._draining = True
        try:
            while True:
                proc = self._pick()
                if proc is None:
                    break
                self._resume_proc(proc)
                self._count += 1
                if self._count >= 64:
                    if time.perf_counter() - started > _SLICE:
                        # Let the hub poll I/O and run its timers first.
                        self._resume.start(self._drain, update=True)
                        return
                    self._count = 0
        except BaseException:
            self._loop.run_callback(self._drain)
            raise
        finally:
            self._draining = False
            if self._unarmed:
                self._arm_deferred()
        self._scheduled = False

    def _arm_deferred(self):
        """Give each process still blocked since this drain its timer."""
        unarmed = self._unarmed
        self._unarmed = []
        call_at = self._clock.call_at
        timeout = self._timeout
        for proc, seq, deadline in unarmed:
            if proc.state is WAITING and proc.wseq == seq:
                proc.timer = call_at(deadline, timeout, proc, seq)

    # -- idleness (wait_all_blocked, autojump) ----------------------------------

    def all_blocked(self, n_excluded=0):
        """True if every live process but `n_excluded` waits in a receive."""
        return self.n_waiting + self.n_parked + n_excluded >= self.n_live

    @property
    def watching_idle(self):
        """True while someone waits for every process to block (an idle
        watcher or autojump): a guest thread that parks must then tell the
        hub (`note_maybe_idle`). Safe to read from any thread."""
        return bool(self._idle_watchers) or self._autojump

    def add_idle_watcher(self, callback, n_excluded):
        entry = (callback, n_excluded)
        self._idle_watchers.append(entry)
        return entry

    def remove_idle_watcher(self, entry):
        try:
            self._idle_watchers.remove(entry)
        except ValueError:
            pass

    def enable_autojump(self, jump):
        self._autojump = jump is not None
        self._jump = jump

    def note_maybe_idle(self):
        """Run the idle watchers whose condition holds. Switches: never."""
        self._note_maybe_idle()

    def _note_maybe_idle(self):
        blocked = self.n_waiting + self.n_parked
        for callback, n_excluded in self._idle_watchers:
            if blocked + n_excluded >= self.n_live:
                callback()
        if self._autojump and blocked >= self.n_live:
            self._loop.run_callback(self._try_autojump)

    def _try_autojump(self):
        if self.n_waiting + self.n_parked >= self.n_live and not self._ready:
            self._jump()
