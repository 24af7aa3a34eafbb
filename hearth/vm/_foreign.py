"""Foreign routes: stand-ins for routes that live in another runtime.

The kernel knows nothing of sockets. A *carrier* (a network connection, in
`hearth.net`) owns a set of foreign routes and carries across the wire what
local processes do to them; this module gives the kernel's side of that
bargain, so that a capability to a route of another peer is an ordinary
`Cap`: `send`, `kill`, `exit`, `link`, `unlink` and `monitor` work on it
with the usual local permission checks (rule N1).

- A `ForeignRoute` is a `Mailbox` whose `_deliver` hands the message to its
  carrier instead of queueing it. It has no owner on this side: nobody
  receives from it.
- Its `_proc` is a `ForeignProcess`: a stand-in that takes part in links and
  in the exit path like a process, but has no greenlet. Killing, exiting,
  linking or unlinking it calls the carrier instead of acting locally.
- Monitors on a foreign route are kept locally, like any monitor, and fire
  when the carrier reports the route closed (`close_foreign`), with the
  remote reason, or ``noconnection`` when the connection is lost (V25).

The other direction: a carrier acts on local routes on behalf of its peer
with `remote_kill`, `remote_exit`, `remote_link`, `remote_unlink` and
`remote_link_exit`, and learns when an exported route closes with `watch`.
A route given to these may itself be foreign (a capability passed on to a
third peer): the call is then carried on.

A carrier implements::

    forward(route, message)          # a Message sent to `route`
    kill(route)                      # Cap.kill
    exit(route, sender, reason)      # Cap.exit; sender is a (local) Process
    link(route, proc)                # proc linked itself to route's process
    unlink(route, proc)
    link_exit(route, proc, reason)   # linked proc died with reason

None of them may switch greenlets: they are called inside kernel
operations. Every function here is safe from any greenlet of the runtime's
thread (a process or a plain gevent greenlet) and switches never.
"""

import weakref

from ._mailbox import Mailbox
from ._perms import known
from ._process import Process
from ._reasons import KILLED, NOPROC

__all__ = [
    "carrier",
    "deliver",
    "route_closed",
    "owner_exited",
    "stand_in",
    "ForeignRoute",
    "ForeignProcess",
    "new_foreign_route",
    "close_foreign",
    "route_of",
    "import_route",
    "is_foreign",
    "remote_kill",
    "remote_exit",
    "remote_link",
    "remote_unlink",
    "remote_link_exit",
    "watch",
    "unwatch",
]


class ForeignRoute(Mailbox):
    """A route of another runtime, reached through `carrier`.

    Attributes:
        carrier: the connection that carries signals to it.
        ident: the carrier's name for it (an import id).
        perms: the permissions the other side granted for it.
    """

    __slots__ = ("carrier", "ident", "perms", "__weakref__")

    def _deliver(self, sig):
        if not self._closed:
            self.carrier.forward(self, sig)

    def __repr__(self):
        state = " closed" if self._closed else ""
        return f"<ForeignRoute {self.ident} via {self.carrier!r} route={self.route_id}{state}>"


class ForeignProcess(Process):
    """The stand-in for the process behind one foreign route.

    It holds its route weakly, so that a route nobody references any more
    is freed (and its carrier can release the import) even though the route
    points to it; while something is linked to it, it pins the route.
    """

    __slots__ = ("_route_ref", "_pin")
    foreign = True

    def __init__(self, runtime, route):
        # Only what the exit path and the link code read: no table, no
        # greenlet, no mailboxes of its own.
        self.runtime = runtime
        self.pid = -route.route_id
        self.greenlet = None
        self.table = None
        self.free_mailboxes = None
        self.state = None
        self.throw_pending = False
        self.wseq = 0
        self.reason = None
        self.trap_exit_flag = False
        self.links = None
        self.monitors = None
        self.metadata = {"name": f"foreign:{route.ident}"}
        self.n_in = 0
        self.n_out = 0
        self.at_exit = None
        self.started_at = 0.0
        self.initial_call = None
        self.dictionary = None
        self.timer = None
        self.guest = None
        self.account = None
        self._start = None
        self._sched = runtime._sched
        self._route_ref = weakref.ref(route)
        self._pin = None

    @property
    def mailboxes(self):
        route = self._route_ref()
        return [route] if route is not None else []

    @property
    def route(self):
        """The foreign route, or None once it was freed."""
        return self._route_ref()

    def __repr__(self):
        return f"<ForeignProcess of {self._route_ref()!r}>"

    # -- links: pinned while linked --------------------------------------------

    def _pin_if_linked(self):
        self._pin = self._route_ref() if self.links else None

    # -- what local processes do to it (called by Process) --------------------

    def _carry_kill(self):
        route = self._route_ref()
        if route is not None and self.reason is None:
            route.carrier.kill(route)

    def _carry_exit(self, sender, reason):
        route = self._route_ref()
        if route is not None and self.reason is None:
            route.carrier.exit(route, sender, reason)

    def _carry_link(self, proc):
        route = self._route_ref()
        self._pin_if_linked()
        if route is not None:
            route.carrier.link(route, proc)

    def _carry_unlink(self, proc):
        route = self._route_ref()
        self._pin_if_linked()
        if route is not None and self.reason is None:
            route.carrier.unlink(route, proc)

    def _carry_link_exit(self, proc, reason):
        """`proc`, linked to this, died with `reason` (links already cut)."""
        route = self._route_ref()
        self._pin_if_linked()
        if route is not None and self.reason is None:
            route.carrier.link_exit(route, proc, reason)



def new_foreign_route(runtime, carrier, ident, perms):
    """A new `ForeignRoute` (with its stand-in process) carried by `carrier`."""
    route = ForeignRoute.__new__(ForeignRoute)
    route.route_id = runtime._new_route_id()
    route.handle = 0
    route._queue = []  # never used: nothing queues on a foreign route
    route._waiter = None
    route._thread_waiter = None
    route._closed = False
    route._monitors = None
    route.carrier = carrier
    route.ident = ident
    route.perms = int(perms)
    route._proc = ForeignProcess(runtime, route)
    return route


def close_foreign(route, reason, process_died=True):
    """The route's far end closed with `reason`: fire its monitors and, if
    its process died (or the connection is lost), its links too."""
    fp = route._proc
    if route._closed and fp.reason is not None:
        return
    if process_died:
        fp.runtime._terminate(fp, reason, linked=True)
        fp._pin = None
        return
    fp._close_mailbox(route, reason)
    links = fp.links
    if links:
        fp.links = None
        for peer in links:
            if peer.links:
                peer.links.discard(fp)
    fp._pin = None


def is_foreign(route):
    """True if `route` is a `ForeignRoute`."""
    return type(route) is ForeignRoute


def route_of(cap):
    """``(route, perms)`` of a `Cap`, checked like a capability passed in a
    message (it must belong to the caller and be live)."""
    (pair,) = cap._table._routes_of((cap,))
    return pair


def import_route(route, perms):
    """A `Cap` to `route` with `perms` in the calling process's table (one
    reference). Must be called in a process. Switches: never."""
    from ._process import current_process

    return current_process().table._import(route, known(perms))


def carrier(route):
    """The carrier (connection) of a foreign `route`; None for a route of
    this runtime. Switches: never."""
    return route.carrier if type(route) is ForeignRoute else None


def route_closed(route):
    """True if `route` (a mailbox, or a foreign route) is closed.
    Switches: never."""
    return route._closed


def owner_exited(route):
    """True if the process owning `route` has exited (for a closed route:
    it died, rather than only this mailbox going). Switches: never."""
    return route._proc.reason is not None


def stand_in(route):
    """The `ForeignProcess` standing in for the remote process behind the
    foreign `route`: the sender a peer's link or exit signal acts as. The
    caller keeps `route` referenced while it uses it (the stand-in holds
    its route only weakly). Switches: never."""
    if type(route) is not ForeignRoute:
        raise TypeError(f"not a foreign route: {route!r}")
    return route._proc


# -- acting on local routes for a peer -----------------------------------------


def deliver(route, message):
    """Queue `message` (a `Message` whose caps are (route, perms) pairs) on
    the local `route` on behalf of a peer that holds SEND to it (rule V8:
    a closed route drops it). Switches: never."""
    route._deliver(message)



def remote_kill(route):
    """The peer killed the process behind `route` (it holds KILL)."""
    target = route._proc
    if target.reason is not None:
        return
    if target.foreign:
        target._carry_kill()
    else:
        target.runtime._terminate(target, KILLED)


def remote_exit(sender, route, reason):
    """The peer's process `sender` (a `ForeignProcess`) sent an exit signal."""
    target = route._proc
    if target.reason is not None:
        return
    if target.foreign:
        target._carry_exit(sender, reason)
    else:
        target.runtime._exit_signal(sender, target, reason, link=False)


def remote_link(sender, route):
    """The peer's process `sender` linked itself to the process behind `route`.

    A target that is already dead needs no answer here: its route's closing
    reaches the peer through `watch`, which fires the peer's side of the link.
    """
    target = route._proc
    if target.reason is not None or sender.reason is not None:
        return
    if sender.links and target in sender.links:
        return
    target._add_link(sender)
    sender._pin_if_linked()
    if target.foreign:
        target._carry_link(sender)


def remote_unlink(sender, route):
    """The peer's process `sender` removed its link with `route`'s process."""
    target = route._proc
    if sender.links and target in sender.links:
        sender.links.discard(target)
        target.links.discard(sender)
        sender._pin_if_linked()
        if target.foreign:
            target._carry_unlink(sender)


def remote_link_exit(sender, route, reason):
    """`sender`, linked to `route`'s process, died on the peer with `reason`."""
    target = route._proc
    if not (sender.links and target in sender.links):
        return
    sender.links.discard(target)
    target.links.discard(sender)
    sender._pin_if_linked()
    if target.foreign:
        target._carry_link_exit(sender, reason)
    elif target.reason is None:
        target.runtime._exit_signal(sender, target, reason, link=True)


# -- watching exported routes ---------------------------------------------------------


class _NoOwner:
    __slots__ = ()
    monitors = None


_NO_OWNER = _NoOwner()


class _Watcher:
    """Takes the place of a monitoring mailbox: calls back on the Down."""

    __slots__ = ("_callback", "_proc")

    def __init__(self, callback):
        self._callback = callback
        self._proc = _NO_OWNER

    def _deliver(self, down):
        route = down.cap
        self._callback(route, down.reason, route._proc.reason is not None)


def watch(runtime, route, callback):
    """Call ``callback(route, reason, process_died)`` once when `route`
    closes (at once, with ``noproc``, if it is closed already). Returns a
    reference for `unwatch`. The callback runs inside the exit path of
    whoever closed the route: it must not switch greenlets."""
    ref = runtime._new_ref()
    if route._closed:
        callback(route, NOPROC, route._proc.reason is not None)
        return ref
    if route._monitors is None:
        route._monitors = {}
    route._monitors[ref] = _Watcher(callback)
    return ref


def unwatch(route, ref):
    """Stop a `watch`. Returns True if it was still active."""
    if route._monitors:
        return route._monitors.pop(ref, None) is not None
    return False

