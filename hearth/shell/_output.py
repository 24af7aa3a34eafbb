"""Where a shell session's prints go: a stand-in for `sys.stdout` and
`sys.stderr` that sends what a shell's process (or a process the shell
spawned) writes to that session, and everything else where it went before.

The runtime's greenlets share one `sys.stdout`; replacing it while one
session evaluates would catch every other process's prints too. So the
stand-in is installed once (`install`) and looks up, on each write, the
current greenlet in `_sinks`; `sys.displayhook` likewise. Switches: never.
"""

import sys
import weakref

import gevent

__all__ = ["Sink", "install", "capture", "release", "sink_of"]

# greenlet -> the list a session collects text in (weak: a dead process's
# entry goes with its greenlet).
_sinks: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Sink(list):
    """The text a session has gathered (str parts), and the namespace whose
    ``_`` an expression statement's value goes to. Bounded: past `LIMIT`
    characters not yet shown (a spawned process that prints in a loop, its
    session gone), more text is counted and dropped."""

    LIMIT = 4 << 20

    def __init__(self, ns=None):
        super().__init__()
        self.ns = ns
        self.size = 0
        self.dropped = 0

    def append(self, text):
        if self.size + len(text) > self.LIMIT:
            self.dropped += len(text)
            return
        self.size += len(text)
        super().append(text)

    def clear(self):
        if self.dropped:
            super().append(f"\n... ({self.dropped} characters of output dropped)\n")
        parts = list(self)
        super().clear()
        self.size = self.dropped = 0
        return parts


def _displayhook(value):
    """`sys.displayhook` for everyone: in a shell's process, the value's
    repr goes to its session and into its ``_``; elsewhere, as before."""
    sink = _current_sink()
    if sink is None:
        return _original_displayhook(value)
    if value is None:
        return None
    sink.append(repr(value) + "\n")
    if sink.ns is not None:
        sink.ns["_"] = value
    return None


_original_displayhook = sys.displayhook


def _current_sink():
    try:
        return _sinks.get(gevent.getcurrent())
    except Exception:  # noqa: BLE001 - at interpreter exit: no sinks any more
        return None


class _Tee:
    """A text stream that writes to the current greenlet's sink, if it has
    one, else to the stream it replaced."""

    def __init__(self, under):
        self._under = under

    def write(self, text):
        sink = _current_sink()
        if sink is None:
            return self._under.write(text)
        sink.append(str(text))
        return len(text)

    def flush(self):
        if _current_sink() is None:
            self._under.flush()

    def isatty(self):
        return False if _current_sink() is not None else self._under.isatty()

    def __getattr__(self, name):
        return getattr(self._under, name)


def install():
    """Put the stand-ins on `sys.stdout` and `sys.stderr` (once; a second
    call does nothing)."""
    if not isinstance(sys.stdout, _Tee):
        sys.stdout = _Tee(sys.stdout)
    if not isinstance(sys.stderr, _Tee):
        sys.stderr = _Tee(sys.stderr)
    sys.displayhook = _displayhook


def capture(greenlet, sink):
    """Send what `greenlet` prints to `sink` (a `Sink`) from now on."""
    _sinks[greenlet] = sink


def release(greenlet):
    _sinks.pop(greenlet, None)


def sink_of(greenlet):
    """The sink of `greenlet`, or None."""
    return _sinks.get(greenlet)
