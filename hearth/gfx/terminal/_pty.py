"""A program in a pseudo-terminal: the pty, the child process and the
input waiting for it. No screen and no drawing here (`_screen`, `_draw`).

The program runs in its own session with the pty as its controlling
terminal and ``TERM=xterm-256color``. `Pty.close` hangs it up: its process
group gets SIGHUP, one still there after `HANGUP_GRACE` seconds gets
SIGKILL, and either way it is reaped before `close` returns.

Nothing here switches greenlets except `read_loop`, a process's body.
"""

import errno
import fcntl
import os
import signal
import struct
import termios
import time

from gevent import get_hub
from gevent.monkey import get_original

from hearth import vm
from hearth.native._service import (
    INVALID_REQUEST,
    NOT_FOUND,
    PERMISSION_DENIED,
    ServiceError,
)

__all__ = ["Pty", "read_loop", "HANGUP_GRACE", "MAX_INPUT"]

# Under gevent's monkey patching these would hand the child to the hub's
# child watchers; the terminal reaps its child itself, at a known moment.
_posix_spawnp = get_original("os", "posix_spawnp")
_waitpid = get_original("os", "waitpid")
_close_fd = get_original("os", "close")
_sleep = get_original("time", "sleep")
_monotonic = get_original("time", "monotonic")

HANGUP_GRACE = 0.1  # seconds a child has to go after SIGHUP before SIGKILL
MAX_INPUT = 1 << 20  # bytes of input waiting for the pty before input is refused
_READ_CHUNK = 65536
# A flood is parsed for at most FLOOD_SHARE of each FLOOD_PERIOD, then the
# reader rests until the period ends: the frame loop (on the same thread)
# keeps its frames, as a terminal's jump scroll keeps the screen live.
FLOOD_PERIOD = 1 / 60
FLOOD_SHARE = 0.4


class Pty:
    """A pty and the program running in it.

    Attributes:
        pid: the child's pid (None before `start` and after `close`).
        master: the pty's master fd, non-blocking (None when closed).
        closed: True once `close` ran.
        read_watcher: the reader's hub watcher (`read_loop`); `close` stops it.
    """

    def __init__(self):
        self.pid = None
        self.master = None
        self.closed = False
        self.read_watcher = None
        self._write_watcher = None
        self._pending = bytearray()  # input the pty did not take yet

    def start(self, argv, columns, rows, width, height):
        """Open the pty with a window of `columns` x `rows` cells (`width` x
        `height` pixels) and run `argv` in it.

        Raises:
            ServiceError: ``not_found`` (no such program), ``permission_denied``
                (not executable) or ``invalid_request`` (any other failure).
        """
        master, slave = os.openpty()
        try:
            _set_winsize(master, columns, rows, width, height)
            env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows))
            # Opened after setsid (glibc does the file actions last), the
            # slave becomes the child's controlling terminal.
            actions = [(os.POSIX_SPAWN_OPEN, 0, os.ttyname(slave), os.O_RDWR, 0),
                       (os.POSIX_SPAWN_DUP2, 0, 1), (os.POSIX_SPAWN_DUP2, 0, 2)]
            try:
                self.pid = _posix_spawnp(argv[0], argv, env, file_actions=actions, setsid=True)
            except FileNotFoundError:
                raise ServiceError(NOT_FOUND, f"no such program: {argv[0]!r}"[:200]) from None
            except PermissionError:
                raise ServiceError(PERMISSION_DENIED,
                                   f"may not run {argv[0]!r}"[:200]) from None
            except OSError as e:
                raise ServiceError(INVALID_REQUEST,
                                   f"cannot run {argv[0]!r}: {e.strerror}"[:200]) from None
        except BaseException:
            _close_fd(master)
            raise
        finally:
            _close_fd(slave)
        os.set_blocking(master, False)
        self.master = master

    def resize(self, columns, rows, width, height):
        """Tell the program its window changed (it gets SIGWINCH)."""
        if self.master is not None:
            _set_winsize(self.master, columns, rows, width, height)

    # -- input --------------------------------------------------------------------------

    def write(self, data):
        """Queue `data` for the program and write what the pty takes now;
        the rest goes as it drains (a hub watcher). Nothing after `close`.

        Raises:
            ServiceError: ``invalid_request`` when more than `MAX_INPUT`
                bytes would be waiting.
        """
        if self.closed:
            return
        if len(self._pending) + len(data) > MAX_INPUT:
            raise ServiceError(INVALID_REQUEST, "the terminal's input backlog is full")
        self._pending += data
        self._flush()

    def _flush(self):  # also a hub callback: never switches, never raises
        pending = self._pending
        while pending and self.master is not None:
            try:
                n = os.write(self.master, pending)
            except BlockingIOError:
                break
            except OSError:  # the child's side is gone: nobody will read it
                pending.clear()
                break
            del pending[:n]
        if pending and self.master is not None:
            if self._write_watcher is None:
                self._write_watcher = get_hub().loop.io(self.master, 2)
            if not self._write_watcher.active:
                self._write_watcher.start(self._flush)
        elif self._write_watcher is not None:
            self._write_watcher.stop()

    # -- the end ------------------------------------------------------------------------

    def close(self):
        """Close the pty, end the program and reap it. Idempotent. Blocks
        the thread (without switching) for at most `HANGUP_GRACE`.
        Switches: never."""
        if self.closed:
            return
        self.closed = True
        for watcher in (self.read_watcher, self._write_watcher):
            if watcher is not None:
                watcher.stop()
        if self._write_watcher is not None:
            self._write_watcher.close()
            self._write_watcher = None
        if self.master is not None:
            _close_fd(self.master)
            self.master = None
        self._end_child()

    def _end_child(self):
        pid, self.pid = self.pid, None
        if pid is None or _reaped(pid):
            return
        _signal_group(pid, signal.SIGHUP)
        deadline = _monotonic() + HANGUP_GRACE
        while _monotonic() < deadline:
            if _reaped(pid):
                return
            _sleep(0.001)
        _signal_group(pid, signal.SIGKILL)
        try:
            _waitpid(pid, 0)
        except ChildProcessError:
            pass


def read_loop(pty, feed):
    """The body of a terminal's reader process: wait on the pty with a hub
    watcher and pass what the program writes to `feed` (which must not
    switch). Returns (exit normal) when the program's side of the pty is
    closed, that is when the program ended, or when `pty` is closed.
    Switches: always (it waits for the pty between chunks)."""
    vm.set_metadata(description=f"reads the pty of the terminal's child {pty.pid}")
    hub = get_hub()
    watcher = pty.read_watcher = hub.loop.io(pty.master, 1)
    period_start, spent = time.monotonic(), 0.0
    try:
        while not pty.closed:
            hub.wait(watcher)  # yields to the hub between chunks: a flood can't starve it
            if pty.closed:
                return
            try:
                data = os.read(pty.master, _READ_CHUNK)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno in (errno.EIO, errno.EBADF):
                    return  # EIO: every slave fd closed (Linux's end of file on a pty)
                raise
            if not data:
                return
            started = time.monotonic()
            feed(data)
            now = time.monotonic()
            if now - period_start >= FLOOD_PERIOD:
                period_start, spent = started, 0.0
            spent += now - started
            if spent >= FLOOD_SHARE * FLOOD_PERIOD:  # a flood: rest until the period ends
                rest = hub.loop.timer(max(0.0, period_start + FLOOD_PERIOD - now))
                try:
                    hub.wait(rest)
                finally:
                    rest.close()
                period_start, spent = time.monotonic(), 0.0
    finally:
        watcher.close()


def _set_winsize(fd, columns, rows, width, height):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, width, height))


def _reaped(pid):
    """True if the child `pid` is gone (reaped now, or already)."""
    try:
        done, _ = _waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped elsewhere (the hub's SIGCHLD handling)
    return done != 0


def _signal_group(pid, sig):
    # The child leads its own session and process group (setsid).
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
