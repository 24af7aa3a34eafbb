"""Driving a real terminal program in tmux: start it in a detached
session of a fixed size, send keys, read the screen, and wait for text.

Waiting polls the captured pane until the text shows or a deadline
passes: what is on the screen is the thing the test looks at, and no
event tells when a program has drawn it, so a bounded poll of the screen
itself is the synchronisation (never a fixed sleep).
"""

import os
import shlex
import shutil
import subprocess
import time
import uuid

import gevent

__all__ = ["Tmux", "have_tmux"]


def have_tmux():
    return shutil.which("tmux") is not None


class Tmux:
    """One detached tmux session running one command.

    Args:
        argv: the program and its arguments.
        cols, rows: the terminal's size.
        env: extra environment variables.
        cwd: the working directory.

    The command runs under ``sh -c``; when it ends, the session keeps the
    pane open and shows ``[exited N]`` so a test can read the exit status.
    """

    def __init__(self, argv, cols=120, rows=40, env=None, cwd=None):
        self.name = f"hearth-test-{uuid.uuid4().hex[:10]}"
        self.cols, self.rows = cols, rows
        command = " ".join(shlex.quote(a) for a in argv)
        script = f"{command}; echo \"[exited $?]\"; exec sleep 3600"
        env_args = []
        for k, v in (env or {}).items():
            env_args += ["-e", f"{k}={v}"]
        self._tmux("new-session", "-d", "-s", self.name, "-x", str(cols), "-y", str(rows),
                   *env_args, *(["-c", cwd] if cwd else []), "sh", "-c", script)

    def _tmux(self, *args, check=True):
        return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check,
                              timeout=30, env=dict(os.environ, TERM="xterm-256color"))

    def send(self, *keys, literal=False):
        """Send keys (tmux key names: "Enter", "Escape", "Down", "q"), or
        with `literal` the text as typed."""
        self._tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self):
        """The visible screen as text (lines joined by newlines)."""
        return self._tmux("capture-pane", "-p", "-t", self.name).stdout

    def wait_for(self, text, timeout=20.0, absent=False):
        """Wait until `text` (a str, or a predicate on the screen) is on
        the screen (with `absent`: is gone); return the screen.

        Raises:
            AssertionError: the deadline passed; the message shows the
                last screen.
        """
        check = text if callable(text) else (lambda s: text in s)
        deadline = time.monotonic() + timeout
        interval = 0.02
        while True:
            screen = self.screen()
            if bool(check(screen)) != absent:
                return screen
            if time.monotonic() >= deadline:
                what = "gone" if absent else "shown"
                raise AssertionError(f"{text!r} not {what} within {timeout}s; the screen:\n"
                                     f"{screen}")
            gevent.sleep(interval)  # between two looks at the screen, not to synchronise
            interval = min(0.2, interval * 2)

    def close(self):
        self._tmux("kill-session", "-t", self.name, check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
