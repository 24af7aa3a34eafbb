"""Clocks: every kernel timeout reads one, so tests can replace it.

`RealClock` uses the monotonic clock and the gevent hub's timers.
`VirtualClock` (like trio's `MockClock`) only moves when told to, or, with
``autojump=True``, jumps straight to the next deadline as soon as every
process of its runtime is blocked: a test of a 30-second timeout then runs
in microseconds and always the same way.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any

from ._errors import Misuse

__all__ = ["Clock", "RealClock", "VirtualClock"]


def positive_timeout(timeout: Any) -> bool:
    """True if `timeout` is more than 0 seconds. Switches: never.

    Raises:
        Misuse: it is not a number.
    """
    try:
        return timeout > 0
    except TypeError:
        raise not_a_timeout(timeout) from None


def not_a_timeout(timeout: Any) -> Misuse:
    """The error for a `timeout` that is not a number (nor None)."""
    return Misuse(f"timeout must be seconds (a number) or None, not {type(timeout).__name__}")


class Clock:
    """What the runtime needs of a clock.

    Callbacks given to `call_at` run in the hub (or, for a virtual clock,
    inside `advance`): they must never switch greenlets.
    """

    # True if a timer's callback can only run in the hub's own loop, between
    # two scheduler drains (so arming it at the end of the drain is the same).
    timers_fire_between_drains = False

    def now(self) -> float:
        """Seconds on this clock's own scale. Switches: never."""
        raise NotImplementedError

    def call_at(self, deadline: float, callback: Callable[..., object], *args: Any) -> Any:
        """Run `callback(*args)` once `now() >= deadline`; return a handle
        whose ``cancel()`` stops it. Switches: never."""
        raise NotImplementedError

    def _attach(self, runtime):
        """Called once by the runtime that reads this clock."""


class _Timer:
    __slots__ = ("_watcher",)

    def __init__(self, watcher):
        self._watcher = watcher

    def cancel(self):
        watcher = self._watcher
        if watcher is not None:
            self._watcher = None
            watcher.stop()
            watcher.close()


class RealClock(Clock):
    """The monotonic clock, with timers on the gevent hub's loop."""

    timers_fire_between_drains = True

    def __init__(self) -> None:
        self._loop: Any = None
        self.now = time.monotonic  # type: ignore[method-assign]  # the fastest now()

    def _attach(self, runtime):
        self._loop = runtime.hub.loop

    def call_at(self, deadline: float, callback: Callable[..., object], *args: Any) -> Any:
        delay = max(0.0, deadline - time.monotonic())
        watcher = self._loop.timer(delay)
        watcher.start(callback, *args)
        return _Timer(watcher)


class _VirtualTimer:
    __slots__ = ("entry",)

    def __init__(self, entry):
        self.entry = entry

    def cancel(self):
        self.entry[2] = None


class VirtualClock(Clock):
    """A clock that moves only when told to.

    Args:
        start: the initial reading.
        autojump: when every process of the runtime is blocked and a timer is
            pending, jump to the earliest deadline at once.
    """

    def __init__(self, start: float = 0.0, *, autojump: bool = False) -> None:
        self._now = float(start)
        self._heap: list[Any] = []
        self._seq = itertools.count()
        self.autojump = autojump
        self._runtime = None

    def _attach(self, runtime):
        self._runtime = runtime

    def now(self) -> float:
        return self._now

    def call_at(self, deadline: float, callback: Callable[..., object], *args: Any) -> Any:
        entry = [deadline, next(self._seq), callback, args]
        heapq.heappush(self._heap, entry)
        return _VirtualTimer(entry)

    def next_deadline(self) -> float | None:
        """The earliest pending deadline, or None. Switches: never."""
        heap = self._heap
        while heap and heap[0][2] is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def advance(self, seconds: float) -> None:
        """Move the clock forward and fire every timer now due, in order.

        Switches: never (the fired callbacks only make processes runnable).
        """
        if seconds < 0:
            raise ValueError("a clock never goes backwards")
        self._fire_until(self._now + seconds)

    def jump(self) -> bool:
        """Jump to the next deadline and fire it; False if none is pending.

        Switches: never.
        """
        deadline = self.next_deadline()
        if deadline is None:
            return False
        self._fire_until(max(deadline, self._now))
        return True

    def _fire_until(self, target):
        heap = self._heap
        while heap and heap[0][0] <= target:
            deadline, _, callback, args = heapq.heappop(heap)
            if callback is None:
                continue
            self._now = max(self._now, deadline)
            callback(*args)
        self._now = max(self._now, target)
