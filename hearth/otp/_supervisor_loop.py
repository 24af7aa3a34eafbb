"""The supervisor's process: its state and its receive loop (rule O5).

This is Erlang's ``supervisor.erl`` as a plain process loop on the kernel:
it traps exits, answers the admin calls of `_call`'s protocol (handlers in
`_supervisor_calls`), and turns each child's `Exit` into a restart, a
removal, or its own shutdown. The public functions that talk to it are in
`_supervisor`.

It waits on two mailboxes:

- mailbox 0 gets everything from outside: calls, `Exit` signals of the
  children and of the parent, and the supervisor's own "try again" casts;
- a private mailbox gets the `Down` of each child being shut down, so the
  supervisor can wait for one child's end (up to its shutdown timeout)
  while calls and other children's exits wait their turn in mailbox 0 —
  the selective receive Erlang's ``shutdown/2`` does.

A child is unlinked *before* its exit signal is sent, so a child stopped by
the supervisor never produces an `Exit`; one that died just before (its
`Exit` already queued) is recognised later as no longer running, because
children are found by route and routes are never reused.
"""

import collections
import dataclasses
import itertools
import logging

from hearth import vm
from hearth.vm import (
    KILL,
    LINK,
    MONITOR,
    SEND,
    SHUTDOWN,
    BadReason,
    Cap,
    Down,
    Exit,
    HearthError,
    Message,
    ProcessExit,
    check_reason,
    error_reason,
    format_reason,
    is_normal_exit,
)

from ._call import cast, classify
from ._codec import encode
from ._supervisor_calls import CHILD_PERMS, AdminCalls, release_all
from ._supervisor_spec import ChildRecord, replace_caps

__all__ = ["supervisor_main", "CHILD_PERMS"]

log = logging.getLogger("hearth.otp.supervisor")

_TRY_AGAIN = "$supervisor.try_again_restart"


def _plain(reason):
    """A reason that can travel: `reason` itself if it is plain data."""
    try:
        return check_reason(reason)
    except BadReason:
        return repr(reason)


def _reason_of(exc):
    reason = getattr(exc, "reason", None)
    if isinstance(exc, HearthError) and reason is not None:
        return _plain(reason)
    return error_reason(exc)


def _named(spec, allowed):
    """`spec` with a start function named by a str replaced by the
    callable `allowed` gives that name (checked by the caller)."""
    fn = spec.function
    if type(fn) is not str:
        return spec
    if spec.kind == "spawn":
        return dataclasses.replace(spec, start=(allowed[fn],) + tuple(spec.start[1:]))
    return dataclasses.replace(spec, start=allowed[fn])


class _Supervisor(AdminCalls):
    def __init__(self, parent, strategy, intensity, period, auto_shutdown, allowed=None):
        self.parent = parent
        self.allowed = allowed or {}  # allowed_starts: name -> callable
        self.strategy = strategy
        self.intensity = intensity
        self.period = period
        self.auto_shutdown = auto_shutdown
        self.proc = vm.current_process()
        self.clock = vm.current_runtime().clock
        self.children = {}  # key -> _Child, in start order
        self.by_route = {}  # route id of a running child -> _Child
        self.template = None  # simple_one_for_one's child
        self.restart_times = collections.deque()  # the intensity window, oldest first
        self.n_restarts = 0
        self.serial = itertools.count(1)
        self.down_box = vm.create_mailbox()
        self.self_cap = vm.make_capability(SEND)

    # -- starting ---------------------------------------------------------------------

    def adopt(self, specs):
        if self.strategy == "simple_one_for_one":
            self.template = ChildRecord(specs[0], None, specs[0].arguments)
        else:
            for spec in specs:
                self.children[spec.id] = ChildRecord(spec, spec.id, spec.arguments)

    def start_children(self):
        """Start every child in order; on a failure stop the started ones
        (in reverse) and return ``(id, reason)``."""
        for child in list(self.children.values()):
            status, value = self._start(child)
            if status == "error":
                self._report("start_error", child, value)
                self._terminate_children(list(self.children.values()))
                return child.spec.id, value
            if status == "ignore" and child.spec.restart == "temporary":
                self._remove(child)
        return None

    def _start(self, child, restart=False):
        """Start one child. Returns ``("ok", cap)``, ``("ignore", None)`` or
        ``("error", reason)``."""
        n = child.restarts + 1 if restart else child.restarts
        spec = child.spec
        try:
            if spec.kind == "spawn":
                cap = vm.spawn_link(spec.function, *child.args, restarts=n, **spec.spawn_options)
            else:
                cap = self._started(spec.function(*child.args))
                if type(cap) is not Cap:
                    return cap
        except ProcessExit as e:
            if self.proc.reason is not None:
                raise  # this supervisor is the one dying
            return ("error", _plain(e.reason))  # the start function called exit()
        except Exception as e:  # noqa: BLE001 - a start function may fail any way
            return ("error", _reason_of(e))
        child.cap = cap
        child.restarting = False
        child.restarts = n
        self.by_route[cap.route_id] = child
        return ("ok", cap)

    def _started(self, result):
        if type(result) is tuple and len(result) == 2 and result[0] == "ok":
            result = result[1]
        if type(result) is Cap:
            perms = int(result.permissions)
            if perms & (KILL | MONITOR) != KILL | MONITOR:
                result.release()
                return ("error", ("bad_return", "the child's capability lacks KILL or MONITOR"))
            if perms & LINK:
                result.link()  # no-op if the start function linked it already
            return result
        if type(result) is str and result == "ignore":
            return ("ignore", None)
        if type(result) is tuple and len(result) == 2 and result[0] == "error":
            return ("error", _plain(result[1]))
        return ("error", ("bad_return", repr(result)[:200]))

    # -- stopping ---------------------------------------------------------------------

    def _shutdown(self, child):
        """Stop one running child as its spec says; wait for its end."""
        cap = child.cap
        child.cap = None
        self.by_route.pop(cap.route_id, None)
        how = child.spec.shutdown_value
        ref = cap.monitor(self.down_box)
        if cap.permissions & LINK:
            cap.unlink()
        if how == "brutal_kill":
            cap.kill()
        else:
            cap.exit(SHUTDOWN)
        timeout = None if how in ("brutal_kill", "infinity") else how
        reason = self._wait_down(ref, timeout)
        if reason is _TIMED_OUT:
            cap.kill()
            reason = self._wait_down(ref, None)
        cap.release()
        self._check_shutdown(child, reason)
        return reason

    def _wait_down(self, ref, timeout):
        deadline = None if timeout is None else self.clock.now() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - self.clock.now())
            sig = self.down_box.recv(remaining)
            if sig is None:
                return _TIMED_OUT
            sig.cap.release()
            if sig.ref == ref:
                return sig.reason

    def _check_shutdown(self, child, reason):
        how = child.spec.shutdown_value
        expected = "killed" if how == "brutal_kill" else SHUTDOWN
        if reason == expected:
            return
        if child.spec.restart != "permanent" and is_normal_exit(reason):
            return
        self._report("shutdown_error", child, reason)

    def _terminate_children(self, group):
        """Stop the running children of `group` (in start order) in reverse;
        temporary ones are removed, the others kept as not running."""
        for child in reversed(group):
            if child.cap is not None:
                self._shutdown(child)
            child.restarting = False
            if child.spec.restart == "temporary":
                self._remove(child)

    def _terminate_dynamic(self):
        """simple_one_for_one: signal every child (newest first), then wait
        for them all against one deadline, as Erlang does."""
        how = self.template.spec.shutdown_value
        pending = {}
        for child in reversed(list(self.children.values())):
            cap = child.cap
            if cap is None:
                continue
            child.cap = None
            self.by_route.pop(cap.route_id, None)
            ref = cap.monitor(self.down_box)
            if cap.permissions & LINK:
                cap.unlink()
            if how == "brutal_kill":
                cap.kill()
            else:
                cap.exit(SHUTDOWN)
            pending[ref] = (child, cap)
        timeout = None if how in ("brutal_kill", "infinity") else how
        deadline = None if timeout is None else self.clock.now() + timeout
        while pending:
            remaining = None if deadline is None else max(0.0, deadline - self.clock.now())
            sig = self.down_box.recv(remaining)
            if sig is None:
                for _, cap in list(pending.values()):
                    cap.kill()
                deadline = None
                continue
            sig.cap.release()
            entry = pending.pop(sig.ref, None)
            if entry is not None:
                entry[1].release()
                self._check_shutdown(entry[0], sig.reason)
        for child in list(self.children.values()):
            self._remove(child)

    def terminate_all(self):
        if self.template is not None:
            self._terminate_dynamic()
        else:
            self._terminate_children(list(self.children.values()))

    def _stop(self, reason):
        self.terminate_all()
        vm.exit(reason)

    def _remove(self, child):
        if self.children.get(child.key) is child:
            del self.children[child.key]
        child.drop()

    # -- a child ended ------------------------------------------------------------------

    def _handle_exit(self, sig):
        cap, reason = sig.cap, sig.reason
        if cap.same_route(self.parent):
            # Like any OTP process: the parent's exit is ours, children first.
            cap.release()
            self._stop(reason)
        child = self.by_route.pop(cap.route_id, None)
        cap.release()
        if child is None:
            return  # not (or no longer) a child: stopped by us, or a stranger
        child.cap.release()
        child.cap = None
        if self._child_exited(child, reason):
            self._stop(SHUTDOWN)

    def _child_exited(self, child, reason):
        """Apply the restart type; True if the supervisor must shut down."""
        restart = child.spec.restart
        if restart == "permanent" or (restart == "transient" and not is_normal_exit(reason)):
            self._report("child_terminated", child, reason)
            return self._restart(child)
        if not is_normal_exit(reason):
            self._report("child_terminated", child, reason)
        self._del_child(child)
        return self._auto_shutdown(child)

    def _del_child(self, child):
        if self.template is not None or child.spec.restart == "temporary":
            self._remove(child)

    def _auto_shutdown(self, child):
        if self.auto_shutdown == "never" or not child.spec.significant:
            return False
        if self.auto_shutdown == "any_significant":
            return True
        if self.template is not None:
            return not self.children
        return not any(
            c.spec.significant and (c.cap is not None or c.restarting)
            for c in self.children.values()
        )

    def _add_restart(self):
        """Record a restart now; False if that makes more than `intensity`
        restarts within the last `period` seconds (both ends included)."""
        now = self.clock.now()
        threshold = now - self.period
        times = self.restart_times
        while times and times[0] < threshold:
            times.popleft()
        times.append(now)
        return len(times) <= self.intensity

    def _restart(self, child):
        """Restart after `child`'s crash by the strategy; True if the
        restart intensity is exceeded."""
        if not self._add_restart():
            self._report("shutdown", child, "reached_max_restart_intensity")
            self._del_child(child)
            return True
        self.n_restarts += 1
        if self.strategy in ("one_for_one", "simple_one_for_one"):
            status, value = self._start(child, restart=True)
            if status == "error":
                self._report("start_error", child, value)
                child.restarting = True
                self._try_again(child.key)
            elif status == "ignore" and (
                self.template is not None or child.spec.restart == "temporary"
            ):
                self._remove(child)
            return False
        children = list(self.children.values())
        if self.strategy == "one_for_all":
            group = children
        else:  # rest_for_one
            group = children[children.index(child):]
        self._terminate_children([c for c in group if c is not child])
        for c in group:
            if self.children.get(c.key) is not c:
                continue  # a temporary sibling, removed when stopped
            status, value = self._start(c, restart=True)
            if status == "error":
                # The rest stay stopped until the retry restarts from here.
                self._report("start_error", c, value)
                c.restarting = True
                self._try_again(c.key)
                break
            if status == "ignore" and c.spec.restart == "temporary":
                self._remove(c)
        return False

    def _try_again(self, key):
        # A message to itself, as Erlang's supervisor does, so that calls and
        # exits queued meanwhile are served between two attempts.
        cast(self.self_cap, (_TRY_AGAIN, key))

    # -- logging ------------------------------------------------------------------------

    def _report(self, context, child, reason):
        normal = context == "child_terminated" and is_normal_exit(reason)
        level = logging.INFO if normal else logging.ERROR
        if log.isEnabledFor(level):
            log.log(
                level,
                "supervisor %s: %s: child %r (%s): %s",
                self.proc.pid,
                context,
                child.spec.id if self.template is None else child.key,
                child.spec.restart,
                format_reason(reason),
            )

    # -- the loop -----------------------------------------------------------------------

    def loop(self):
        while True:
            sig = vm.recv()
            if type(sig) is Exit:
                self._handle_exit(sig)
                continue
            kind = classify(sig)
            if kind[0] == "call":
                self._handle_call(kind[1], kind[2])
                release_all(sig.caps[1:])
            elif kind[0] == "cast":
                self._handle_cast(kind[1])
                release_all(sig.caps)
            elif type(sig) is Message:
                log.warning("supervisor %s: unexpected message %r", self.proc.pid, sig.data[:80])
                release_all(sig.caps)
            elif type(sig) is Down:
                sig.cap.release()

    def _handle_cast(self, request):
        if type(request) is tuple and len(request) == 2 and request[0] == _TRY_AGAIN:
            child = self._find(request[1])
            if child is not None and child.restarting and self._restart(child):
                self._stop(SHUTDOWN)

    def _find(self, key):
        try:
            return self.children.get(key)
        except TypeError:  # an unhashable id can name no child
            return None

_TIMED_OUT = object()

def supervisor_main(parent, ack, flags, specs, *caps):
    """The supervisor process's body (spawned by `start_link`).

    Args:
        parent: a LINK capability to the process that called `start_link`:
            its `Exit` stops the supervisor, and a failed start unlinks it.
        ack: a SEND capability for the start-up answer: ``("ok",)`` or
            ``("error", reason)``.
        flags: ``(strategy, intensity, period, auto_shutdown,
            allowed_starts)``, checked.
        specs: the checked child specs; each `Cap` in them is a placeholder
            for the next of `caps`, this process's own imports of them.
    """
    strategy, intensity, period, auto_shutdown, allowed = flags
    it = iter(caps)
    specs = replace_caps(list(specs), lambda _foreign: next(it))
    specs = [_named(spec, allowed) for spec in specs]
    sup = _Supervisor(parent, strategy, intensity, period, auto_shutdown, allowed)
    sup.adopt(specs)
    release_all(caps)  # the child records hold their own references now
    failed = sup.start_children()
    if failed is not None:
        reason = ("shutdown", ("failed_to_start_child", failed[0], failed[1]))
        # Unlink first, so the caller gets the reason from start_link
        # instead of dying of it (OTP 26's proc_lib does the same).
        parent.unlink()
        ack.send(*encode(("error", reason)))
        vm.exit(reason)
    ack.send(*encode(("ok",)))
    ack.release()
    sup.loop()
