"""Guest thread ↔ guest thread: receiving and sending without the hub.

Through the hub, a message from one guest to another crosses threads twice
(sender → hub → receiver), a round trip four times, and on this machine
each crossing, an OS wake-up, is most of what a round trip costs (see the
wasm section of docs/benchmarks.md). Two shortcuts halve that:

- **Parking.** A guest whose mailboxes are empty waits in ``recv`` (or
  ``poll``) on its own native lock (the one its calls wait on), not in a
  call to its proxy: it registers as each mailbox's ``_thread_waiter`` and
  sleeps. Whoever queues a signal there next wakes it: the hub, for
  everything the kernel delivers (a Python process's message, a Down, an
  Exit: see `Mailbox._deliver`), or a guest thread sending straight in. A
  parked guest counts as blocked for `Runtime.wait_all_blocked`
  (`Scheduler.n_parked`) once the hub has run what it posted before.
- **Direct sends.** A guest sending to a mailbox of a live guest appends
  the message to the queue itself and, if the owner is parked there,
  wakes it: the hub takes no part.

Both run under the bridge's ``handoff_lock``, which guards what they rely
on:

- ``killed`` of both ends. The kernel's exit path runs `mark_dead` (an
  ``at_exit`` hook, so before any route of the dying process closes and
  before its Downs and Exits leave) under the lock. A direct send thus
  either lands before the sender's Down or Exit signals (rule V9) or sees
  the sender dead and goes through the hub, which drops it; and nothing is
  appended to the queue of a process that died. A parked thread of a dead
  guest is released by `stop`, when its proxy unwinds.
- The waiter slot and `parked_on`: set by the parking thread, cleared by
  exactly one waker (`_claim`), which then releases the parked thread once.
- `Scheduler.n_parked`.

Rule V9 also needs a direct send to follow whatever the sender posted
through the hub before; a guest takes the shortcut only while the hub has
run all its posts (``n_served == n_posted``).

Still through the hub: sends to Python processes and foreign routes, and
receives with a timeout, which wait in the kernel (`kernel_wait`).
"""

from .._mailbox import Mailbox
from ._bridge import DEAD, WOKE, Port
from ._errors import GuestExit

__all__ = ["HandoffPort"]


class HandoffPort(Port):
    """A `Port` whose guest thread can park in a receive and send to other
    guests without the hub.

    Attributes:
        parked_on: the mailboxes the guest thread is parked on (a tuple,
            empty when it is not parked).
        in_kernel: True while the proxy waits in a kernel receive for the
            guest (`kernel_wait`): senders then go through the hub, whose
            delivery wakes the proxy.
        n_direct_in: messages other guests queued here directly (written
            under the hand-off lock).
        n_direct_out: messages this guest queued directly (written by its
            thread alone).
    """

    __slots__ = ("parked_on", "park_seq", "counted", "in_kernel", "n_direct_in", "n_direct_out")

    def __init__(self, bridge, proc):
        super().__init__(bridge, proc)
        self.parked_on = ()
        self.park_seq = 0  # parks so far, so a late note finds its own
        self.counted = False  # whether this park is in `Scheduler.n_parked`
        self.in_kernel = False
        self.n_direct_in = 0
        self.n_direct_out = 0

    # -- the guest thread's side -------------------------------------------------

    def park(self, mailboxes):
        """Wait on this thread until something may have reached one of
        `mailboxes` (a tuple of the guest's own mailboxes, all found empty).
        The caller then looks again.

        Returns:
            False if one of them is closed: receive through the hub, which
            knows what a closed mailbox means there.

        Raises:
            GuestExit: the process is dead.

        Switches: never (it runs on the guest thread).
        """
        sched = self.proc.runtime._sched
        with self._bridge.handoff_lock:
            if self.killed:
                raise GuestExit
            for mb in mailboxes:
                if mb._closed:
                    return False
            # Register first, then look: the hub appends and then looks for
            # a waiter, so one of the two sees the other.
            for mb in mailboxes:
                mb._thread_waiter = self
            for mb in mailboxes:
                if mb._queue:
                    for other in mailboxes:
                        other._thread_waiter = None
                    return True
            self.parked_on = mailboxes
            self.park_seq = seq = self.park_seq + 1
            if self.n_served == self.n_posted:
                self._count_parked(sched)
                tell = sched.watching_idle
            else:
                # Something this guest posted is still on its way: it is not
                # blocked for `wait_all_blocked` until the hub has run that.
                tell = True
        if tell:
            self.post(_note_parked, seq)
        self._lock.acquire()
        if self._reply[0] == DEAD:
            raise GuestExit
        return True

    def send_direct(self, route, message):
        """Queue `message` on `route` from this thread and wake its owner
        if it is parked there, when `route` is a mailbox of a live guest
        and nothing this guest posted is still on its way.

        Returns:
            False if the hub must deliver it instead (`post`).

        Switches: never.
        """
        if type(route) is not Mailbox or self.n_served != self.n_posted:
            return False
        target = route._proc.guest
        if target is None:
            return False
        with self._bridge.handoff_lock:
            if self.killed or target.killed or target.in_kernel or route._closed:
                return False
            route._queue.append(message)
            target.n_direct_in += 1
            wake = route in target.parked_on
            if wake:
                target._claim(WOKE)
        self.n_direct_out += 1
        if wake:
            target._lock.release()
        return True

    # -- the hub's side ------------------------------------------------------------

    def kernel_wait(self, fn, *args):
        """Run ``fn(*args)``, a kernel receive the proxy makes for the
        guest (``recv_timeout``, ``poll_timeout``), with direct sends held
        off: the kernel wakes a waiting process only for what the hub
        delivers.
        A direct send that got in before sees its message found by `fn`.

        Switches: when `fn` waits.
        """
        with self._bridge.handoff_lock:
            self.in_kernel = True
        try:
            return fn(*args)
        finally:
            self.in_kernel = False

    def unpark(self, mb):
        """Something reached `mb`, where the guest thread may be parked:
        wake it. Called by the kernel's delivery on the hub.

        Switches: never (on the hub it may wait a moment for the hand-off
        lock, which a guest thread holds only for a few lines).
        """
        with self._bridge.handoff_lock:
            if mb not in self.parked_on:
                return
            self._claim(WOKE)
        self._lock.release()

    def mark_dead(self, proc=None, reason=None):
        """The process is exiting: no more hand-offs to or from it. An
        ``at_exit`` hook (runs on the hub, before the process's routes
        close). A parked guest thread is released later, by `stop`, when
        the proxy unwinds: killing many guests at once then doesn't wake
        all their threads into the hub's kill loop. Switches: never."""
        with self._bridge.handoff_lock:
            self.killed = True
            if self.counted:  # about to run again, to unwind: not blocked
                self.counted = False
                self.proc.runtime._sched.n_parked -= 1

    def stop(self):
        """The process is dead: a parked guest thread unwinds, and so does
        one that calls the host later. Switches: never."""
        with self._bridge.handoff_lock:
            self.killed = True
            parked = bool(self.parked_on)
            if parked:
                self._claim(DEAD)
        if parked:
            self._lock.release()
        super().stop()

    def _count_parked(self, sched):
        # Under the hand-off lock.
        self.counted = True
        sched.n_parked += 1

    def _claim(self, kind):
        # Under the hand-off lock: take the parked thread off its mailbox;
        # the caller releases it after letting go of the lock.
        for mb in self.parked_on:
            mb._thread_waiter = None
        self.parked_on = ()
        if self.counted:
            self.counted = False
            self.proc.runtime._sched.n_parked -= 1
        self._reply = (kind, None)


def _note_parked(port, seq):
    # Posted by a thread that parked (park number `seq`) with posts still on
    # their way, or while someone waits for every process to block. It runs
    # after those posts: count the park if it still holds, and let the hub
    # look again.
    sched = port.proc.runtime._sched
    with port._bridge.handoff_lock:
        if port.parked_on and port.park_seq == seq and not (port.counted or port.killed):
            port._count_parked(sched)
    sched.note_maybe_idle()
