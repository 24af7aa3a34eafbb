"""The exit path: a process dies, its routes close, its links carry the news.

`Runtime._terminate`, `Runtime._link_exit` and `Runtime._reap` are these
functions (rules V15, V19, V21). They live in a module of their own so that
they run compiled with the rest of the kernel's hot path (`_compiled.py`):
every crash of a crash storm takes them. None of them switches greenlets.
"""

from __future__ import annotations

import logging

from greenlet import getcurrent

from ._deques import append as _append
from ._mailbox import Mailbox
from ._reasons import KILL, KILLED, NORMAL, is_normal_exit
from ._scheduler import WAITING
from ._signals import Down, Exit

__all__ = ["terminate", "link_exit", "reap"]

log = logging.getLogger("hearth.vm")


def _mailboxes(proc):
    """`proc.mailboxes`. A foreign stand-in (`_foreign.ForeignProcess`,
    the one kind of process without a greenlet) computes it with a
    property, which a compiled read of the field would miss, so a stand-in's
    is read as a Python attribute. (Compiled, `own` is typed: a process's
    own fields are read in C.)"""
    own = proc
    if own.greenlet is not None:
        return own.mailboxes
    return proc.mailboxes


def _is_crash(reason):
    return not is_normal_exit(reason) and reason != KILLED


def terminate(rt, proc, reason, linked=False):
    """Kill `proc` with `reason` now, and everything its links take down.

    Names and hooks go first, then routes close (monitors fire), then
    links are signalled (rule V15). Iterative, so chains of any length
    work (V21). A victim that is not the caller is unwound when next
    resumed; the caller checks its own `reason` and raises. `linked`
    says the death itself came along a link (it is then never reported
    as a crash of its own). Switches: never.
    """
    if proc.reason is not None:
        return
    current = getcurrent()
    # The deaths links bring, made on first need: most exits take no
    # one else down, and then no work list is built.
    work = None
    # Was anyone told of this cascade: a monitor got a Down, or a peer
    # trapping exits got an Exit? If not, the death that started it is
    # an unobserved crash; deaths brought by links are never reported
    # on their own (the one that caused them is).
    told = False
    sched = proc._sched
    exits = sched.exits
    now = sched.now
    p, r = proc, reason
    while True:
        p.reason = r
        observed = False
        hooks = p.at_exit
        if hooks:
            p.at_exit = None
            for hook in hooks:
                try:
                    hook(p, r)
                except Exception:
                    log.exception("exit hook %r of pid %s failed", hook, p.pid)
        for mb in _mailboxes(p):
            if mb is not None and not mb._closed:
                # `Process._close_mailbox`, inlined: the one route most
                # processes have is closed here once per exit.
                mb._closed = True
                if mb._queue:  # (most are empty: no method call then)
                    mb._queue.clear()
                monitors = mb._monitors
                if monitors:
                    observed = True
                    mb._monitors = None
                    for ref, watcher in monitors.items():
                        # `Down(ref, mb, r)` without a call of its __init__.
                        down = Down.__new__(Down)
                        down.ref = ref
                        down.cap = mb
                        down.reason = r
                        if type(watcher) is Mailbox:
                            # The usual watcher, a process's own mailbox
                            # (compiled, `local` is typed: C calls).
                            local = watcher
                            owned = local._proc.monitors
                            if owned:
                                owned.pop(ref, None)
                            local._deliver(down)
                        else:  # a foreign route, or `_foreign.watch`'s callback
                            owned = watcher._proc.monitors
                            if owned:
                                owned.pop(ref, None)
                            watcher._deliver(down)
                if p.monitors:
                    p._drop_monitors_from(mb)
                waiter = mb._waiter
                if waiter is not None and waiter.state is WAITING:
                    sched.wake(waiter)
        links = p.links
        if links:
            p.links = None
            if work is None:
                work = []
            for peer in links:
                if peer.links:
                    peer.links.discard(p)
                if link_exit(p, peer, r, work):
                    observed = True
        if observed:
            told = True
        if p.greenlet is not None:  # a foreign stand-in has no greenlet, no history
            # Kept as a plain tuple: `exits()` makes the records (a
            # frozen dataclass costs about a microsecond to build, for
            # every death).
            meta = p.metadata
            _append(exits, (p.pid, (meta.get("name") if meta else None) or "", r,
                            now(), observed))
            if p.greenlet is not current:
                sched.interrupt(p)
        while work:
            p, r = work.pop()
            if p.reason is None:
                break
        else:
            break
    if not told and not linked and _is_crash(reason):
        rt._report_crash(proc, reason)


def link_exit(sender, peer, reason, work):
    """An exit signal travelling along a link (rule V19).

    Returns True if the peer traps exits and so was told.
    """
    if peer.reason is not None:
        return False
    if peer.foreign:
        peer._carry_link_exit(sender, reason)
        return False
    if reason == KILL:
        reason = KILLED
    if peer.trap_exit_flag:
        peer.mailboxes[0]._deliver(Exit(_mailboxes(sender)[0], reason))
        return True
    if reason != NORMAL:
        work.append((peer, reason))
    return False


def reap(rt, proc):
    """The process's greenlet has finished (or its attach block ended)."""
    table = proc.table
    if table._entries:  # most crashers held no capability
        table._clear()
    # Capabilities to the dead routes (in Down signals, say) keep the
    # mailboxes and so the process reachable: keep those small.
    for mb in proc.mailboxes:
        if mb is not None:
            mb._queue = ()
    proc.dictionary = None
    sched = proc._sched
    sched.reaped(proc)

