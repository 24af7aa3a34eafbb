"""An urwid event loop on gevent's hub.

urwid asks an event loop for four things: call back when a file descriptor
is readable, call back after a delay, call back when it goes idle, and
run until `urwid.ExitMainLoop`. Here the hub's own watchers (an io watcher
per descriptor, a timer per alarm) notice the events; they never run urwid
code themselves. They only queue the callback and wake the greenlet that
called `run`, which runs the queued callbacks one after the other, then
the idle callbacks (urwid redraws the screen there).

Why not the hub's callbacks directly: a callback of ours may switch
greenlets (asking the runtime for a snapshot is a kernel request that
waits for the reply), and a hub callback must never switch. Running every
callback in one ordinary greenlet — which is a Hearth process in
`hearth-tui` — keeps urwid single-threaded and non-reentrant (nothing runs
urwid code while a callback waits: events queue until it is done) and
lets callbacks wait on the kernel.

Why not urwid's `SelectEventLoop` under monkey patching: it works, but it
polls with ``select`` with a timeout of 0 after every event ("did
something"), and its alarms are read from `time.monotonic` in a loop of
its own; the hub already has both.
"""

import itertools
from collections import deque

import gevent
import urwid
from gevent.event import Event

__all__ = ["GeventEventLoop"]


class GeventEventLoop(urwid.EventLoop):
    """urwid's `EventLoop` on gevent: watchers on the hub, callbacks in the
    greenlet that calls `run`.

    Every method but `run` only registers or removes a watcher: they never
    switch, so callbacks may call them. `run` switches (it waits for
    events).
    """

    def __init__(self):
        super().__init__()
        self._hub = gevent.get_hub()
        self._ids = itertools.count(1)
        self._ready = deque()  # callbacks due, in order
        self._wake = Event()
        self._alarms = {}  # handle -> timer watcher
        self._watches = {}  # handle -> [io watcher, callback]
        self._idle = {}  # handle -> callback
        self._running = False

    # -- alarms -------------------------------------------------------------------

    def alarm(self, seconds, callback):
        """Call `callback()` `seconds` from now; return a handle."""
        handle = next(self._ids)
        timer = self._hub.loop.timer(max(0.0, float(seconds)))
        self._alarms[handle] = timer
        timer.start(self._alarm_due, handle, callback)
        return handle

    def _alarm_due(self, handle, callback):  # a hub callback: never switches
        timer = self._alarms.pop(handle, None)
        if timer is None:
            return
        timer.close()
        self._post(callback)

    def remove_alarm(self, handle):
        timer = self._alarms.pop(handle, None)
        if timer is None:
            return False
        timer.close()
        return True

    # -- files ----------------------------------------------------------------------

    def watch_file(self, fd, callback):
        """Call `callback()` whenever `fd` is readable; return a handle."""
        handle = next(self._ids)
        fileno = fd if isinstance(fd, int) else fd.fileno()
        watcher = self._hub.loop.io(fileno, 1)
        self._watches[handle] = [watcher, callback]
        watcher.start(self._readable, handle)
        return handle

    def _readable(self, handle):  # a hub callback: never switches
        entry = self._watches.get(handle)
        if entry is None:
            return
        # Level-triggered: stop until the callback has read, or the hub
        # would queue the same callback again on every turn.
        entry[0].stop()
        self._post(lambda: self._run_watch(handle))

    def _run_watch(self, handle):
        entry = self._watches.get(handle)
        if entry is None:
            return
        try:
            entry[1]()
        finally:
            entry = self._watches.get(handle)
            if entry is not None:
                entry[0].start(self._readable, handle)

    def remove_watch_file(self, handle):
        entry = self._watches.pop(handle, None)
        if entry is None:
            return False
        entry[0].close()
        return True

    # -- idle -----------------------------------------------------------------------

    def enter_idle(self, callback):
        handle = next(self._ids)
        self._idle[handle] = callback
        return handle

    def remove_enter_idle(self, handle):
        return self._idle.pop(handle, None) is not None

    # -- running --------------------------------------------------------------------

    def _post(self, callback):
        self._ready.append(callback)
        self._wake.set()

    def run(self):
        """Run callbacks as events come, until one raises `ExitMainLoop`
        (a clean exit) or another exception (which propagates).

        Switches: always.
        """
        self._running = True
        try:
            self._run()
        except urwid.ExitMainLoop:
            pass
        finally:
            self._running = False

    def _run(self):
        did_something = True
        while True:
            while self._ready:
                self._ready.popleft()()
                did_something = True
            if did_something:
                for callback in list(self._idle.values()):
                    callback()
                did_something = False
                if self._ready:
                    continue
            self._wake.clear()
            if not self._ready:
                self._wake.wait()

    def close(self):
        """Stop every watcher (after `run`, or instead of it). Never switches."""
        for timer in self._alarms.values():
            timer.close()
        for watcher, _ in self._watches.values():
            watcher.close()
        self._alarms.clear()
        self._watches.clear()
        self._idle.clear()
        self._ready.clear()
