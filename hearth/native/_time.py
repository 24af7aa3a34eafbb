"""Time services: ``hearth.Sleep``, ``hearth.TimerFactory``,
``hearth.StopwatchFactory`` and ``hearth.UnixTime`` (docs/protocols.md).

Each is a process speaking the request/response envelope of `_service`:
caps[0] of a request is the reply capability (SEND), caps[1..] are
arguments, the data is msgpack, and the reply is ``{"ok": value}`` or
``{"err": {"kind": K, "message": M}}``. `start_time_services` starts all
four under a supervisor and registers them under the names below.

Every delay is measured on the runtime's clock (`Runtime.clock`): under a
`VirtualClock` the services' time is virtual too, so tests of a one-hour
sleep run at once. ``hearth.UnixTime`` is the exception: it reads the wall
clock (`time.time_ns`, or the source given to `start_time_services`).

Requests
--------

All numbers of seconds are an int or a float, finite and >= 0 (a bool is
not a number here). Ops are written in any of the forms of `_service`: a
bare str, an array ``[op, fields...]``, or a map ``{"op": op, ...}``.

``hearth.Sleep``
    request: the number of seconds itself, e.g. ``1.5``.
    ok: nil, once that many seconds have passed.
``hearth.TimerFactory``
    request: ``"new"``, ``["new"]`` or ``{"op": "new"}``; the owner in
    caps[1] (see Ownership).
    ok: a timer capability (SEND, MONITOR, KILL).
a timer
    request: ``["tick", seconds]`` or ``{"op": "tick", "seconds": s}``.
    ok: nil, at the timer's next deadline (see below).
``hearth.StopwatchFactory``
    request: ``"new"``, as for timers.
    ok: a stopwatch capability (SEND, MONITOR, KILL).
a stopwatch
    request: ``"lap"``, ``["lap"]`` or ``{"op": "lap"}``.
    ok: a float, the seconds since the last lap, or since the stopwatch
    was made for the first lap.
``hearth.UnixTime``
    request: ``"now"``, ``["now"]`` or ``{"op": "now"}``.
    ok: an int, nanoseconds since 1970-01-01 UTC.

Sleeps run concurrently: ``hearth.Sleep`` is one process holding a heap of
deadlines, each with its deferred reply, and it answers each one when the
clock reaches it. No sleep delays another, and no process is spawned per
sleep (a guest that sends a thousand sleeps costs a thousand heap entries,
not a thousand processes). Sleeps due at the same time are answered in the
order they were asked.

Timers are drift-free: a timer keeps its own schedule, starting at its
creation. ``tick(s)`` asks for the reply at *previous deadline + s* (the
first previous deadline being the creation time), not at *now + s*. So
with a period p the nth tick is answered at creation + n*p (exactly, up
to the rounding of a float sum) however late the client asks for it; a
client more than a period behind gets its ticks at once until it has
caught up (no tick is skipped). Several ticks may be outstanding; each
extends the schedule in the order they arrive.

Ownership
---------

Timers and stopwatches are resources, each a process of its own, and they
belong to an owner: the route of the capability in caps[1] of the "new"
request, or, without caps[1], the route of the reply capability caps[0].
That capability needs MONITOR (else ``invalid_request``). The resource
monitors it and exits with ``("shutdown", "owner_gone")`` when it closes;
so a process that wants its timers gone when it dies passes a MONITOR
capability to its own mailbox 0 (``vm.make_capability(vm.MONITOR)``, or,
for a guest, ``make_capability(0, MONITOR)``), which closes only with the
process. Passing someone else's capability hands ownership on. Killing a
resource's capability (it has KILL) removes it at once. Resources are
linked to nothing: a factory that dies (and is restarted) leaves the ones
it made running, and a resource that ends does not touch its owner.

Errors
------

``invalid_request`` for a malformed request of any kind: not msgpack, an
unknown op, seconds that are negative, NaN, infinite or not a number, a
"new" whose owner lacks MONITOR. ``internal_error`` for a bug (logged). A
request whose caps[0] is missing or lacks SEND is logged and dropped.
Every service keeps serving after any of them.

Bytes
-----

Requests (data; caps[0] is the reply capability):

- sleep 2 s: ``02``; sleep 1.5 s: ``cb 3f f8 00 00 00 00 00 00``
- new: ``a3 6e 65 77``; lap: ``a3 6c 61 70``; now: ``a3 6e 6f 77``
- tick 0.5 s: ``92 a4 74 69 63 6b cb 3f e0 00 00 00 00 00 00``

Replies: ``81 a2 6f 6b c0`` is ``{"ok": nil}``; a new timer or stopwatch
comes as ``81 a2 6f 6b d6 01 00 00 00 00`` (``{"ok": caps[0]}``) with the
resource's capability as the reply's caps[0].
"""

import collections
import heapq
import itertools
import time
from collections import deque
from typing import NamedTuple

from hearth import vm
from hearth.vm import KILL, MONITOR, SEND, Down

from ._service import (
    INVALID_REQUEST,
    Service,
    ServiceError,
    spawn_service,
    start_supervised,
)

__all__ = [
    "SLEEP",
    "TIMER_FACTORY",
    "STOPWATCH_FACTORY",
    "UNIX_TIME",
    "TIME_SERVICES",
    "RESOURCE_PERMS",
    "OWNER_GONE",
    "TimeServices",
    "start_time_services",
    "Sleep",
    "TimerFactory",
    "StopwatchFactory",
    "UnixTime",
]

SLEEP = "hearth.Sleep"
TIMER_FACTORY = "hearth.TimerFactory"
STOPWATCH_FACTORY = "hearth.StopwatchFactory"
UNIX_TIME = "hearth.UnixTime"
TIME_SERVICES = (SLEEP, TIMER_FACTORY, STOPWATCH_FACTORY, UNIX_TIME)

RESOURCE_PERMS = SEND | MONITOR | KILL  # what an owner gets to a timer or stopwatch
OWNER_GONE = ("shutdown", "owner_gone")


def _seconds(fields):
    """The checked ``seconds`` field (the schema's ``num(0..)``: an int or a
    finite float >= 0) as a float; msgpack ints fit in 64 bits, so this
    never overflows."""
    return float(fields["seconds"])


# -- hearth.Sleep --------------------------------------------------------------------------


#: Sleeps one peer may have pending at once (its guests' included).
MAX_SLEEPS_PER_PEER = 1024

#: Timers and stopwatches one peer may have live at once.
MAX_RESOURCES_PER_PEER = 256

#: Ticks a timer holds for a peer before it answers ``quota_exceeded``.
MAX_TICKS_PER_PEER_TIMER = 1024

QUOTA_EXCEEDED = "quota_exceeded"


class Sleep(Service):
    """``hearth.Sleep``: one process, a heap of (deadline, order, request).

    A peer may have `MAX_SLEEPS_PER_PEER` sleeps pending; the sleeps of a
    peer that is gone are dropped, at the latest when the heap has doubled
    since they were last looked for."""

    name = SLEEP
    schema = SLEEP

    def __init__(self):
        super().__init__()
        self._heap = []
        self._order = itertools.count()
        self._per_peer = collections.Counter()  # Account -> pending sleeps
        self._purge_at = 2 * MAX_SLEEPS_PER_PEER

    def handle_request(self, request):
        seconds = _seconds(self.parse(request)[1])
        account = request.account
        if account is not None:
            if self._per_peer[account] >= MAX_SLEEPS_PER_PEER:
                raise ServiceError(QUOTA_EXCEEDED, f"a peer may have {MAX_SLEEPS_PER_PEER}"
                                   " sleeps pending at once")
            self._per_peer[account] += 1
        deadline = self.clock.now() + seconds
        heapq.heappush(self._heap, (deadline, next(self._order), request.defer()))
        if len(self._heap) >= self._purge_at:
            self._purge()

    def _purge(self):
        """Drop the pending sleeps of peers that are gone."""
        kept = []
        for entry in self._heap:
            account = entry[2].account
            if account is not None and account.closed:
                self._done(entry[2])
                entry[2].reply_to.release()
            else:
                kept.append(entry)
        heapq.heapify(kept)
        self._heap = kept
        self._purge_at = max(2 * MAX_SLEEPS_PER_PEER, 2 * len(kept))

    def _done(self, request):
        account = request.account
        if account is not None:
            self._per_peer[account] -= 1
            if not self._per_peer[account]:
                del self._per_peer[account]

    def next_deadline(self):
        return self._heap[0][0] if self._heap else None

    def handle_deadline(self, now):
        heap = self._heap
        while heap and heap[0][0] <= now:
            request = heapq.heappop(heap)[2]
            self._done(request)
            request.reply(None)


# -- resources: timers and stopwatches --------------------------------------------------------


class _Resource(Service):
    """A process that belongs to the route of `owner` and dies with it."""

    def __init__(self, owner, created):
        super().__init__()
        self.created = created
        self._owner_ref = owner.monitor()  # an already-closed route: Down at once
        owner.release()

    def handle_info(self, sig):
        if type(sig) is Down and sig.ref == self._owner_ref:
            sig.cap.release()
            vm.exit(OWNER_GONE)
        super().handle_info(sig)


class _Timer(_Resource):
    """A timer: pending ticks in schedule order (deadlines never decrease)."""

    name = "hearth.Timer"
    schema = "hearth.Timer"

    def __init__(self, owner, created):
        super().__init__(owner, created)
        self._scheduled = created  # the deadline of the last tick asked for
        self._pending = deque()  # (deadline, request)

    def handle_request(self, request):
        seconds = _seconds(self.parse(request)[1])
        if request.account is not None and len(self._pending) >= MAX_TICKS_PER_PEER_TIMER:
            raise ServiceError(QUOTA_EXCEEDED, f"a timer holds {MAX_TICKS_PER_PEER_TIMER}"
                               " ticks for a peer at once")
        self._scheduled += seconds
        self._pending.append((self._scheduled, request.defer()))

    def next_deadline(self):
        return self._pending[0][0] if self._pending else None

    def handle_deadline(self, now):
        pending = self._pending
        while pending and pending[0][0] <= now:
            pending.popleft()[1].reply(None)


class _Stopwatch(_Resource):
    name = "hearth.Stopwatch"
    schema = "hearth.Stopwatch"

    def __init__(self, owner, created):
        super().__init__(owner, created)
        self._last = created

    def handle_request(self, request):
        self.parse(request)
        now = self.clock.now()
        lap, self._last = now - self._last, now
        return float(lap)


class _Factory(Service):
    """Answers "new" with a fresh resource process owned by the requester.

    A peer's resource must be owned by a route of the peer's own, and a
    peer may have `MAX_RESOURCES_PER_PEER` of them live at once."""

    resource = None  # the _Resource subclass

    def __init__(self):
        super().__init__()
        self._held = {}  # monitor ref -> the Account a live resource counts for
        self._per_peer = collections.Counter()

    def handle_request(self, request):
        owner = self.parse(request)[1]["owner"]  # the schema checks its MONITOR
        where = "caps[1]" if owner is not None else "the reply capability (no caps[1])"
        owner = owner or request.reply_to
        if not owner.permissions & MONITOR:
            raise ServiceError(
                INVALID_REQUEST,
                f"the owner, {where}, needs MONITOR: the resource lives as long as its route",
            )
        request.check_own(owner, f"the owner, {where},")
        account = request.account
        if account is not None and self._per_peer[account] >= MAX_RESOURCES_PER_PEER:
            raise ServiceError(QUOTA_EXCEEDED, f"a peer may have {MAX_RESOURCES_PER_PEER}"
                               " timers and stopwatches of each kind live at once")
        cap = spawn_service(self.resource, owner, self.clock.now())
        if account is not None:
            self._held[cap.monitor()] = account
            self._per_peer[account] += 1
        given = cap.demote(RESOURCE_PERMS)
        cap.release()
        try:
            request.reply(given)
        finally:
            given.release()

    def handle_info(self, sig):
        account = self._held.pop(sig.ref, None) if type(sig) is Down else None
        if account is not None:
            self._per_peer[account] -= 1
            if not self._per_peer[account]:
                del self._per_peer[account]
        super().handle_info(sig)


class TimerFactory(_Factory):
    """``hearth.TimerFactory``."""

    name = schema = TIMER_FACTORY
    resource = _Timer


class StopwatchFactory(_Factory):
    """``hearth.StopwatchFactory``."""

    name = schema = STOPWATCH_FACTORY
    resource = _Stopwatch


# -- hearth.UnixTime ---------------------------------------------------------------------------


class UnixTime(Service):
    """``hearth.UnixTime``: the wall clock, not the runtime's clock.

    Args:
        source: a callable returning int nanoseconds since the epoch
            (default `time.time_ns`; tests may pass a fake one).
    """

    name = schema = UNIX_TIME

    def __init__(self, source=time.time_ns):
        super().__init__()
        self._source = source

    def handle_request(self, request):
        self.parse(request)
        return int(self._source())


# -- starting them -----------------------------------------------------------------------------


class TimeServices(NamedTuple):
    """What `start_time_services` returns.

    Attributes:
        supervisor: a capability (all permissions) to their supervisor,
            which is linked to the caller: the caller's exit stops all four
            (so does killing the supervisor, but through the link that
            kills the caller too unless it unlinks or traps exits first).
        caps: registry name -> the registered capability (SEND, MONITOR)
            of each service, in the caller's table.
    """

    supervisor: vm.Cap
    caps: dict


def start_time_services(registry, *, unix_time_source=time.time_ns, intensity=3, period=5.0):
    """Start the four time services under a supervisor linked to the caller
    and register them in `registry` as ``hearth.Sleep``,
    ``hearth.TimerFactory``, ``hearth.StopwatchFactory`` and
    ``hearth.UnixTime``.

    A service that crashes is restarted (``one_for_one``) and registered
    again; more than `intensity` restarts within `period` seconds stop the
    supervisor.

    Args:
        registry: a registry capability that may register those names.
        unix_time_source: what ``hearth.UnixTime`` reads (int nanoseconds).
        intensity, period: the supervisor's restart limit.

    Returns:
        a `TimeServices`.

    Raises:
        StartError: a service could not start, say because its name is
            taken (nothing is left running).

    Switches: always.
    """
    services = [
        (SLEEP, Sleep, ()),
        (TIMER_FACTORY, TimerFactory, ()),
        (STOPWATCH_FACTORY, StopwatchFactory, ()),
        (UNIX_TIME, UnixTime, (unix_time_source,)),
    ]
    sup, caps = start_supervised(registry, services, name="hearth.time",
                                 intensity=intensity, period=period)
    return TimeServices(sup, caps)
