"""The Hibashi front end: reads lines, sends them to a session in the
runtime, prints what comes back.

`interact` runs inside a Hearth process of the tool's own runtime, given
the root capability the IPC socket handed it (``hibashi`` and
``hearth-ctl shell`` both call it). Line editing and history are
``readline``'s; the history file is the one the runtime names (in its data
directory) or, for a runtime that keeps none, ``hibashi_history`` in
``$XDG_STATE_HOME/hearth`` (default ``~/.local/state/hearth``). Tab
completes against the session's namespace (asked of the session).

Ctrl+C at the prompt drops the line; while code runs it asks the session
to interrupt it (the session's process is ended and started again, the
namespace kept). Ctrl+D, ``exit()`` or ``quit()`` leave.

Reading a line blocks this tool's hub, which is fine: the IPC socket's
connection has no keepalive to answer, and nothing else runs here.
"""

import os
import signal
import sys

from hearth import otp, vm
from hearth.otp import CallError, read_reply, send_request
from hearth.vm import MONITOR, SEND, Down

from ._service import HISTORY_FILE, SHELL

__all__ = ["interact", "default_history", "PROMPT", "MORE"]

PROMPT = "hibashi> "
MORE = "...      "
POLL = 0.1  # seconds between looks at Ctrl+C while an evaluation runs
HISTORY_LENGTH = 5000

OK = 0
ERROR = 1
NO_RUNTIME = 3


def default_history(environ=None):
    """The history file for a runtime that keeps no data directory."""
    env = os.environ if environ is None else environ
    state = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "hearth", HISTORY_FILE)


class _Interrupts:
    """SIGINT for the whole session: at the prompt (`reading`) it raises
    KeyboardInterrupt, as Python's own handler would, so readline drops the
    line; while an evaluation runs it only counts (a Python-level handler,
    run between bytecodes; the waiting loop reads the count)."""

    def __init__(self):
        self.count = 0
        self.reading = False
        self._old = None

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._on_sigint)
        except ValueError:  # not the main thread: no Ctrl+C, then
            self._old = None
        return self

    def _on_sigint(self, signum, frame):
        if self.reading:
            raise KeyboardInterrupt
        self.count += 1

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _evaluate(session, source, ints):
    """Send `source` to `session`; the answer. Ctrl+C meanwhile (counted by
    `ints`) asks the session to interrupt the evaluation. Switches: always."""
    box = vm.create_mailbox()
    try:
        ref = session.monitor(box)
        send_request(session, {"op": "eval", "source": source}, box.make_capability(SEND))
        asked = ints.count
        while True:
            sig = box.recv(POLL)
            if sig is None:
                if ints.count > asked:
                    asked = ints.count
                    otp.request(session, "interrupt", timeout=15)
                continue
            if type(sig) is Down and sig.ref == ref:
                sig.cap.release()
                raise CallError(f"the session ended: {vm.format_reason(sig.reason)}")
            return read_reply(sig)
    finally:
        box.destroy()


def _setup_readline(session, history):
    """Line editing, history and completion, if readline is there;
    returns the function that saves the history."""
    try:
        import readline
    except ImportError:
        return lambda: None
    if history:
        try:
            os.makedirs(os.path.dirname(history), mode=0o700, exist_ok=True)
            readline.read_history_file(history)
        except OSError:
            pass
    readline.set_history_length(HISTORY_LENGTH)
    matches = []

    def complete(text, state):
        if state == 0:
            try:
                matches[:] = otp.request(session, {"op": "complete", "text": text}, timeout=5)
            except Exception:  # noqa: BLE001 - no completion rather than a broken prompt
                matches[:] = []
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" \t\n`~!@#$%^&*()-=+[{]}\\|;:'\",<>/?")
    readline.parse_and_bind("tab: complete")

    def save():
        if history:
            try:
                readline.write_history_file(history)
            except OSError:
                pass

    return save


def interact(root, *, out=None, err=None):
    """Run a Hibashi session against the runtime whose root capability is
    `root` until the operator leaves; the exit code (0, or 1 if the runtime
    has no shell, 3 if it went away). Switches: always."""
    out = out or sys.stdout
    err = err or sys.stderr
    shell = otp.lookup(root, SHELL, timeout=15)
    if shell is None:
        err.write(f"hibashi: this runtime runs no shell service ({SHELL}); it is started by"
                  " hearth-server and hearth-client\n")
        return ERROR
    box = vm.create_mailbox()  # the session lives as long as this mailbox
    owner = box.make_capability(SEND | MONITOR)
    try:
        opened = otp.request(shell, ["open", owner], timeout=15)
    finally:
        owner.release()
        shell.release()
    session = opened["session"]
    save = _setup_readline(session, opened.get("history") or default_history())
    out.write(opened["banner"] + "\n")
    out.flush()
    lines = []
    code = OK
    ints = _Interrupts().__enter__()
    try:
        while True:
            try:
                ints.reading = True
                try:
                    line = input(MORE if lines else PROMPT)
                finally:
                    ints.reading = False
            except EOFError:
                out.write("\n")
                break
            except KeyboardInterrupt:
                out.write("\nKeyboardInterrupt\n")
                lines = []
                continue
            lines.append(line)
            try:
                answer = _evaluate(session, "\n".join(lines), ints)
            except otp.ServiceError as e:
                err.write(f"hibashi: {e.message}\n")
                lines = []
                continue
            except CallError as e:
                err.write(f"hibashi: lost the runtime ({e})\n")
                code = NO_RUNTIME
                break
            if answer["more"]:
                continue
            lines = []
            if answer["output"]:
                out.write(answer["output"])
                out.flush()
            if answer["exit"]:
                break
    finally:
        ints.__exit__()
        save()
        try:
            if code == OK:
                otp.request(session, "bye", timeout=5)
        except CallError:
            pass
        session.release()
        box.destroy()
    return code
