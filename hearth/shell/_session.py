"""A Hibashi session: a namespace that outlives the process evaluating in it.

A session is two processes in the runtime:

- the *session process* (`run_session`), which the front end talks to. It
  owns the `Session` (the namespace, the output not yet shown), monitors
  the front end's capability (the session ends when it closes) and serves
  its requests: ``eval``, ``complete``, ``interrupt``, ``bye``.
- the *shell's process* (`_shell_process`), a Hearth process of its own
  with its own mailbox (``self()`` in the shell is a capability to it), in
  which the source text is compiled and run. The session process hands it
  one evaluation at a time through a control mailbox and waits, so the
  runtime goes on as usual: evaluation is a process like any other, under
  the kernel's rules (no preemption: a loop that never waits holds the
  hub, as any Python process's would).

If the shell's process dies (``vm.exit``, a kill, an interrupt), the
session process starts a new one on the same namespace and says so in the
next output: bindings are kept; capabilities the old process held are
gone with its table.

Requests (the `hearth.otp` request envelope, sent to the session's
capability): ``{"op": "eval", "source": STR}`` -> ``{"output": STR,
"more": BOOL, "exit": BOOL}`` (`more`: the source is an incomplete
statement, send it again with the next line; `exit`: the code asked to
leave the shell); ``{"op": "complete", "text": STR}`` -> a list of
completions; ``{"op": "interrupt"}`` ends the running evaluation (the
eval's answer says so) -> ``True`` if one was running;
``{"op": "bye"}`` ends the session.
"""

import codeop
import logging
import rlcompleter
import traceback

import gevent

from hearth import otp, vm
from hearth.otp import Request, ServiceError, decode, encode
from hearth.vm import SEND, Down, Message

from . import _output

__all__ = ["Session", "run_session", "FILENAME"]

log = logging.getLogger("hearth.shell")

FILENAME = "<hibashi>"
MAX_OUTPUT = _output.Sink.LIMIT + 4096  # characters one answer carries (notices included)


class Session:
    """What outlives the shell's process: the namespace, the compiler (its
    ``from __future__`` flags), output not yet shown, and a notice for the
    next answer (a restart). `helpers` builds the helper functions bound to
    it (`hearth.shell._helpers`)."""

    def __init__(self, settings, helpers):
        self.settings = settings  # the shell service's `Settings`
        self.ns = {"__name__": "__hibashi__", "__builtins__": __builtins__}
        self.compiler = codeop.CommandCompiler()
        self.sink = _output.Sink(self.ns)
        self.notice = None
        self.registry = None  # the current shell process's own registry capability
        self.pid = None
        self.restarts = 0
        self.ns.update(helpers(self))

    def evaluate(self, source):
        """Compile and run `source` in the namespace; the answer. Runs in
        the shell's process; switches whenever the code does."""
        try:
            code = self.compiler(source, FILENAME, "single")
        except (OverflowError, SyntaxError, ValueError) as e:
            self.sink.append("".join(traceback.format_exception_only(type(e), e)))
            return self.answer()
        if code is None:
            return {"output": "", "more": True, "exit": False}
        try:
            exec(code, self.ns)
        except SystemExit:
            return self.answer(exit=True)
        except Exception as e:  # noqa: BLE001 - any error is printed, the shell goes on
            self.sink.append(format_exception(e))
        return self.answer()

    def answer(self, exit=False, extra=""):
        """The output gathered so far (notice first), as an eval's answer;
        the gathered output is dropped."""
        parts = []
        if self.notice:
            parts.append(self.notice)
            self.notice = None
        parts.extend(self.sink.clear())
        if extra:
            parts.append(extra)
        text = "".join(parts)
        if len(text) > MAX_OUTPUT:
            text = text[:MAX_OUTPUT] + f"\n... ({len(text) - MAX_OUTPUT} more characters cut)\n"
        return {"output": text, "more": False, "exit": exit}

    def complete(self, text, limit=200):
        """Names completing `text` in the namespace (``rlcompleter``'s
        rules: globals, builtins, keywords, attributes after a dot).
        Switches: never (attribute lookups of the user's objects aside)."""
        completer = rlcompleter.Completer(self.ns)
        out = []
        for state in range(limit):
            try:
                word = completer.complete(text, state)
            except Exception:  # noqa: BLE001 - a failing __getattr__ ends the list
                break
            if word is None:
                break
            out.append(word)
        return out


def format_exception(e):
    """A traceback without the shell's own frames. Switches: never."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb or e.__traceback__))


def _shell_process(session, to_session, registry):
    """The shell's process: evaluates what the session process sends to its
    control mailbox, one source text at a time, and answers there. Its own
    mailbox (mailbox 0) is the user's. Switches: always."""
    vm.set_metadata(description="a Hibashi shell: evaluates the operator's Python")
    control = vm.create_mailbox()
    session.registry = registry
    session.pid = vm.self_pid()
    _output.capture(gevent.getcurrent(), session.sink)
    reply = control.make_capability(SEND)
    to_session.send(*encode(["ready", reply]))
    reply.release()
    while True:
        sig = control.recv()
        if type(sig) is not Message:
            sig.cap.release()
            continue
        try:
            term = decode(sig.data, sig.caps)
        except otp.DecodeError:
            continue
        if type(term) is tuple and len(term) == 3 and term[0] == "eval":
            answer = session.evaluate(term[2])
            to_session.send(*encode(["done", term[1], answer]))


def _start_shell(session, to_session, worker_box, registry):
    """Spawn the shell's process on `session`, monitored into `worker_box`
    (where its messages come too, so its last answer always arrives before
    its Down); ``(cap, ref)``."""
    return vm.spawn_monitor(_shell_process, session, to_session, registry, mailbox=worker_box,
                            name="hibashi")


def run_session(session, owner, registry):
    """The session process (see the module docstring): serves the front end
    until `owner` (the front end's capability) closes or it says ``bye``;
    the shell's processes get `registry`. Switches: always."""
    vm.set_metadata(description="a Hibashi session")
    ref_owner = owner.monitor()
    inbox = vm.parent_mailbox()
    worker_box = vm.create_mailbox()
    to_session = worker_box.make_capability(SEND)
    worker, ref_worker = _start_shell(session, to_session, worker_box, registry)
    control = None  # the shell's process's control mailbox, once it is ready
    pending = None  # the deferred eval request
    seq = 0  # the number of the pending eval: an answer to another is stale
    queued = None  # an eval sent before the shell's process was ready
    try:
        while True:
            box, sig = vm.select([inbox, worker_box])
            if type(sig) is Down:
                sig.cap.release()
                if sig.ref == ref_owner:
                    return  # the front end is gone: so is the session
                if sig.ref == ref_worker:
                    old = session.pid
                    if control is not None:
                        control.release()
                        control = None
                    worker.release()
                    session.restarts += 1
                    worker, ref_worker = _start_shell(session, to_session, worker_box, registry)
                    why = vm.format_reason(sig.reason)
                    text = (f"*** the shell's process (pid {old}) exited: {why}\n"
                            f"*** started it again (restart {session.restarts});"
                            " bindings kept\n")
                    if pending is not None:
                        pending.reply(session.answer(extra=text))
                        pending = None
                    else:
                        session.notice = text
                continue
            if type(sig) is not Message:
                sig.cap.release()
                continue
            if box is worker_box:
                term = decode(sig.data, sig.caps)
                if term[0] == "ready":
                    control = term[1]
                    if queued is not None:
                        control.send(*encode(["eval", seq, queued]))
                        queued = None
                elif term[0] == "done" and pending is not None and term[1] == seq:
                    pending.reply(term[2])
                    pending = None
                continue
            req = _request(sig)
            if req is None:
                continue
            try:
                name, fields = otp.parse_op(req.term, {"eval": ("source",),
                                                       "complete": ("text",),
                                                       "interrupt": (), "bye": ()})
                if name == "eval":
                    source = fields["source"]
                    if type(source) is not str:
                        raise ServiceError("invalid_request", "source must be a str")
                    if pending is not None:
                        raise ServiceError("busy", "an evaluation is running: interrupt it"
                                                   " first")
                    pending = req.defer()
                    seq += 1
                    if control is None:
                        queued = source
                    else:
                        control.send(*encode(["eval", seq, source]))
                elif name == "complete":
                    text = fields["text"]
                    if type(text) is not str:
                        raise ServiceError("invalid_request", "text must be a str")
                    req.reply(session.complete(text))
                elif name == "interrupt":
                    running = pending is not None
                    if running:
                        session.sink.append("KeyboardInterrupt\n")
                        worker.kill()
                    req.reply(running)
                elif name == "bye":
                    req.reply(True)
                    return
            except ServiceError as e:
                if not req.answered:
                    req.fail(e.kind, e.message)
    finally:
        worker.kill()


def _request(sig):
    """The `Request` of a front end's message, or None (and its
    capabilities released) if it has no reply capability or no term."""
    caps = sig.caps
    if not caps or not caps[0].permissions & SEND:
        for cap in caps:
            cap.release()
        return None
    req = Request(caps[0], caps[1:])
    try:
        req.term = decode(sig.data, caps)
    except otp.DecodeError as e:
        req.fail("invalid_request", str(e))
        return None
    return req
