"""One authenticated connection: the export and import tables, and the
greenlets that read and write its frames.

In the spirit of CapTP, each side keeps an *export table* (ids it gave the
peer for its own routes, each with a reference count) and an *import
table* (the peer's ids, each behind one `ForeignRoute` proxy). A capability
in a message is exported on the fly (rule N3); the receiver imports it
(`hearth.vm.foreign`), and when the last local reference to the proxy is
gone it sends ``RELEASE`` with the number of times it received the id, so
a release that crosses a new export in flight never frees it too early.
Ids are never reused; a peer can only name ids it was given (rule N2).

Every export that allows MONITOR or LINK is watched: when its route closes,
the peer hears ``CLOSED`` with the reason and fires its own monitors and
links. When the connection is lost, every import closes with
``noconnection`` (rules N5, V25), every export is dropped, and nothing
else changes.

Back-pressure: writes are batched (everything queued while the last frame
was being written goes out next, in frames of at most `FRAME_OPS`
operations and half of `MAX_FRAME_ITEMS` msgpack objects). If more than
`max_outbox` bytes wait while the writer is stuck on a peer that does not
read, the connection is dropped, as if lost: memory stays bounded, and the
processes that used it see ``noconnection``. What the peer itself asks for
(lumps) counts against the same limit whether or not the writer is stuck:
a peer that asks for more than it reads is dropped. Senders never block; a
message over `MAX_MESSAGE` bytes or with more than `MAX_CAPS` capabilities
is refused with `PayloadError` before anything in it is exported (a failed
send has no effect).

The peer is authenticated, not trusted: it names only ids it was given
(rule N2), a link or exit it sends comes from one of *its* processes (a
sender descriptor naming one of our own exports is refused), and what it
can make this side remember is bounded per connection: `MAX_IMPORTS` of
its capabilities held here, `MAX_EXPORTS` of ours held there, and
`MAX_CLOSED_IMPORTS` closed ids remembered.

Keepalive: on a WebSocket, each side pings the other every
`ping_interval` seconds (`PING_INTERVAL` by default), so a quiet
connection is never idle for a proxy or a load balancer that cuts idle
ones; a peer from which nothing at all (not even a pong) arrives within
`ping_timeout` seconds of a ping (`PING_TIMEOUT`, checked at each ping) is
dropped as dead, with that reason in the log.

Which greenlet runs what: the reader is a plain gevent greenlet that acts
on local routes directly (delivering never switches); the writer is
another; `forward` and the other carrier calls run inside the kernel
operations of whatever process acted, and never switch.
"""

from __future__ import annotations

import itertools
import logging
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import gevent
from gevent.event import AsyncResult, Event

from hearth.vm import (
    KILL as P_KILL,
    LINK as P_LINK,
    MONITOR as P_MONITOR,
    NOCONNECTION,
    NOPROC,
    SEND as P_SEND,
    LumpCorrupt,
    LumpNotFound,
    Message,
    PayloadError,
    foreign,
)

from ._wire import (
    CLOSED,
    ERROR,
    EXIT,
    FRAME_OPS,
    KILL,
    LINK,
    LINK_EXIT,
    LUMP,
    LUMP_WANT,
    MAX_CAPS,
    MAX_FRAME,
    MAX_FRAME_ITEMS,
    MSG,
    RELEASE,
    ROOT,
    UNLINK,
    ProtocolError,
    pack,
    unpack,
    weight,
)

if TYPE_CHECKING:
    from hearth.vm import Process, Runtime

    from ._transport import PingingTransport, Transport

__all__ = ["Connection", "MAX_OUTBOX", "PING_INTERVAL", "PING_TIMEOUT", "MAX_IMPORTS",
           "MAX_EXPORTS", "MAX_CLOSED_IMPORTS"]

log = logging.getLogger("hearth.net")

#: Seconds a writer caught inside a frame by `close` has to finish it and
#: send the ERROR before the socket is closed under it.
CLOSE_GRACE = 2.0

#: Seconds the reader waits for a peer to take half an outbox of answers
#: before it drops the peer as not reading.
DRAIN_TIMEOUT = 5.0

#: Seconds between two WebSocket pings on a connection (well under the 60 s
#: idle timeout of nginx's default ``proxy_read_timeout``).
PING_INTERVAL = 20.0

#: Seconds a peer has to be heard from (any frame, a pong included) after a
#: ping before it is dropped as dead.
PING_TIMEOUT = 60.0

#: Operations the reader acts on (in one frame or across several) before
#: it yields to the hub.
YIELD_OPS = 256

#: Bytes queued for a peer that does not read before it is dropped.
MAX_OUTBOX = 32 * 1024 * 1024

#: The peer's capabilities this side holds at once (live imports).
MAX_IMPORTS = 1 << 16

#: Our capabilities the peer holds at once (live exports); beyond it the
#: peer, which does not release what it gets, is dropped.
MAX_EXPORTS = 1 << 16

#: Ids of the peer's capabilities remembered as closed (oldest forgotten).
MAX_CLOSED_IMPORTS = 1 << 12

#: The biggest message data that can cross (room left for the frame's framing).
MAX_MESSAGE = MAX_FRAME - 64 * 1024

_ids = itertools.count(1)


class _Export:
    __slots__ = ("route", "perms", "count", "watch")

    route: Any  # a route of this runtime (a Mailbox, or a ForeignRoute of another carrier)
    perms: int
    count: int
    watch: Any  # foreign.watch's handle, or None

    def __init__(self, route: Any, perms: int) -> None:
        self.route = route
        self.perms = perms
        self.count = 0
        self.watch = None


class _Import:
    __slots__ = ("ref", "count")

    ref: weakref.ref[Any]
    count: int

    def __init__(self, ref: weakref.ref[Any]) -> None:
        self.ref = ref
        self.count = 1


class Connection:
    """A live connection to one peer (after the handshake).

    Attributes:
        name: for logs: the peer's address and a serial number.
        remote_root: the peer's root capability as a `ForeignRoute`, or None.
        closed: True once lost or closed; `reason` says why.
    """

    def __init__(self, runtime: Runtime, transport: Transport,
                 root: tuple[Any, int] | None = None, max_outbox: int = MAX_OUTBOX,
                 log_level: int = logging.INFO, ping_interval: float | None = None,
                 ping_timeout: float | None = None) -> None:
        self.runtime = runtime
        # None: the module's defaults when the connection is made; 0: no pings.
        self.ping_interval = PING_INTERVAL if ping_interval is None else ping_interval
        self.ping_timeout = PING_TIMEOUT if ping_timeout is None else ping_timeout
        self._keeper: Any = None  # the keepalive greenlet
        self.transport = transport
        self.name = f"{transport.address}#{next(_ids)}"
        self.max_outbox = max_outbox
        self.log_level = log_level  # of the connection's normal comings and goings
        self._root = root  # (route, perms) we hand the peer, or None
        self.exports: dict[int, _Export] = {}
        self._export_index: dict[tuple[Any, int], int] = {}
        self._next_export = 1
        self.imports: dict[int, _Import] = {}
        self._closed_imports: dict[int, None] = {}  # id -> None, oldest first
        self._out: list[tuple[Any, ...]] = []
        self._out_bytes = 0
        self._wake = Event()
        self._woken = False
        self._sending = False
        self.closed = False
        self.reason: str | None = None
        self.remote_root: Any = None  # a ForeignRoute, or None
        self.got_root = Event()
        self.done = Event()
        self._lump_requests: dict[int, Any] = {}  # request id -> AsyncResult
        self._next_request = 1
        self._on_close: list[Callable[[Connection], object]] = []
        self.frames_in = self.frames_out = self.ops_in = self.ops_out = 0
        self._reader: Any = None  # greenlets
        self._writer: Any = None
        self._grace: Any = None  # the timer that closes the socket under a stuck writer
        self._drained = Event()  # set whenever the writer takes the queue

    def __repr__(self) -> str:
        state = f" closed ({self.reason})" if self.closed else ""
        return f"<Connection {self.name}{state}>"

    # -- life ------------------------------------------------------------------------

    def start(self, read_here: bool = False) -> None:
        """Send our root, start the writer, and read: in a new greenlet, or
        in the calling one (then this returns when the connection ends).

        Switches: only with `read_here`.
        """
        root = self._root
        self._push((ROOT, self._desc(*root) if root is not None else None), 0)
        self.runtime.lump_fetchers.append(self.fetch_lump)
        self._writer = gevent.spawn(self._write_loop)
        if self.ping_interval and hasattr(self.transport, "ping"):
            self._keeper = gevent.spawn(self._keepalive, self.ping_interval, self.ping_timeout)
        if read_here:
            self._read_loop()
        else:
            self._reader = gevent.spawn(self._read_loop)

    def on_close(self, callback: Callable[[Connection], object]) -> None:
        """Call ``callback(connection)`` once the connection ends."""
        if self.closed:
            callback(self)
        else:
            self._on_close.append(callback)

    def close(self, message: str | None = None, notify: bool = True) -> None:
        """End the connection: imports close with ``noconnection``, exports
        are freed, and with `notify` the peer is told `message` before the
        socket closes. Idempotent. Switches: never.
        """
        if self.closed:
            return
        self.closed = True
        self.reason = message or "closed"
        try:
            self.runtime.lump_fetchers.remove(self.fetch_lump)
        except ValueError:
            pass
        imports = [imp.ref() for imp in self.imports.values()]
        self.imports.clear()
        self.remote_root = None
        for route in imports:
            if route is not None:
                foreign.close_foreign(route, NOCONNECTION, True)
        for exp in self.exports.values():
            if exp.watch is not None:
                foreign.unwatch(exp.route, exp.watch)
        self.exports.clear()
        self._export_index.clear()
        for result in self._lump_requests.values():
            result.set(None)
        self._lump_requests.clear()
        if message and notify:
            self._out.append((ERROR, message))
        if self._writer is None:
            self.transport.close(message or "")
        elif self._sending:
            # The writer is inside a frame (WebSocket frames can't be
            # interleaved): it gets `CLOSE_GRACE` seconds to finish it and
            # send the ERROR, then the socket is closed under it.
            self._grace = gevent.get_hub().loop.timer(CLOSE_GRACE)
            self._grace.start(self._force_close)
        self._wake.set()
        self.got_root.set()
        self.done.set()
        callbacks, self._on_close = self._on_close, []
        for cb in callbacks:
            try:
                cb(self)
            except Exception:
                log.exception("close callback of %s failed", self.name)

    def _force_close(self) -> None:
        self.transport.close(self._goodbye())

    def _goodbye(self) -> str:
        """What closing the transport tells the peer: the reason (set by
        then), but nothing for a plain close."""
        reason = self.reason
        return reason if reason is not None and reason != "closed" else ""

    def _keepalive(self, interval: float, timeout: float) -> None:
        """Ping the peer every `interval` seconds; drop it if nothing was
        heard from it within `timeout` seconds of the oldest unanswered
        ping. Switches: always."""
        transport = cast("PingingTransport", self.transport)
        pending: float | None = None  # when the oldest ping not answered yet went out
        while not self.done.wait(interval):
            now = time.monotonic()
            if pending is not None and transport.heard >= pending:
                pending = None
            if pending is not None and now - pending >= timeout:
                why = (f"the peer is gone: nothing heard from it for {now - pending:.0f} s"
                       f" after a ping (the limit is {timeout:g} s)")
                log.warning("dropping %s: %s", self.name, why)
                self.close(why, notify=False)
                self.transport.close()
                return
            if pending is None:
                pending = now
            try:
                transport.ping()
            except Exception as e:
                self._lost(f"a ping failed: {e or type(e).__name__}")
                return

    def _lost(self, why: str) -> None:
        if not self.closed:
            log.log(self.log_level, "connection %s lost: %s", self.name, why)
            self.close(why, notify=False)

    # -- the writer ------------------------------------------------------------------

    def _push(self, op: tuple[Any, ...], size: int, asked: bool = False) -> None:
        """Queue `op` (about `size` bytes). `asked`: the peer asked for it
        (a lump), so the outbox limit holds even while the writer is idle."""
        if self.closed:
            return
        self._out.append(op)
        self._out_bytes += size + 16
        # While the writer is stuck on the socket the peer is at fault; a
        # local sender that has not yielded yet just gets a bigger batch,
        # but what the peer asked for in one frame is bounded all the same.
        if self._out_bytes > self.max_outbox and (self._sending or asked):
            # What waits is dropped: the peer hears why first, not after it.
            self._out.clear()
            self._out_bytes = 0
            self.close(f"the peer is not reading: over {self.max_outbox} bytes queued")
            return
        if not self._woken:
            self._woken = True
            self._wake.set()

    def _frames(self, ops: Iterable[tuple[Any, ...]]) -> Iterator[tuple[bytes, int]]:
        """`ops` packed into frames: at most `FRAME_OPS` operations and
        half of `MAX_FRAME_ITEMS` objects each, split further while a frame
        would exceed `MAX_FRAME`."""
        chunk: list[tuple[Any, ...]] = []
        items, budget = 1, MAX_FRAME_ITEMS // 2
        for op in ops:
            w = weight(op)
            if chunk and (len(chunk) >= FRAME_OPS or items + w > budget):
                yield from self._sized(chunk)
                chunk, items = [], 1
            chunk.append(op)
            items += w
        if chunk:
            yield from self._sized(chunk)

    def _sized(self, chunk: list[tuple[Any, ...]]) -> Iterator[tuple[bytes, int]]:
        frame = pack(chunk)
        if len(frame) <= MAX_FRAME or len(chunk) == 1:
            yield frame, len(chunk)
        else:
            half = len(chunk) // 2
            yield from self._sized(chunk[:half])
            yield from self._sized(chunk[half:])

    def _write_loop(self) -> None:
        transport = self.transport
        while True:
            self._wake.wait()
            self._wake.clear()
            self._woken = False
            if self._out:
                ops, self._out = self._out, []
                self._out_bytes = 0
                self._drained.set()
                closed_before = self.closed
                for frame, n in self._frames(ops):
                    if self.closed and not closed_before:
                        break  # closed meanwhile: the rest is dropped, the ERROR goes next
                    self._sending = True
                    try:
                        if self.closed:
                            with gevent.Timeout(2, False):
                                transport.send(frame)
                        else:
                            transport.send(frame)
                    except Exception as e:
                        self._sending = False
                        self._lost(f"sending failed: {e or type(e).__name__}")
                        if self._grace is not None:
                            self._grace.close()
                        transport.close()
                        return
                    self._sending = False
                    self.frames_out += 1
                    self.ops_out += n
            if self.closed and not self._out:
                if self._grace is not None:
                    self._grace.close()
                transport.close(self._goodbye())
                return

    # -- the reader ---------------------------------------------------------------------

    def _read_loop(self) -> None:
        recv = self.transport.recv
        dispatch = self._dispatch
        budget = YIELD_OPS
        try:
            while not self.closed:
                frame = recv()
                if frame is None:
                    ended = getattr(self.transport, "ended", None)
                    self._lost(f"closed by the peer: {ended}" if ended else "closed by the peer")
                    return
                ops = unpack(frame)
                self.frames_in += 1
                self.ops_in += len(ops)
                # A peer that sends without pause always has a next frame
                # ready, so recv() would never switch: yield every
                # `YIELD_OPS` operations, counted across frames (not after
                # every frame: a frame a message would pay a switch each),
                # or one busy peer starves every other process.
                for op in ops:
                    dispatch(op)
                    if self.closed:
                        return
                    budget -= 1
                    if not budget:
                        budget = YIELD_OPS
                        self._pause()
                        if self.closed:
                            return
        except ProtocolError as e:
            log.warning("dropping %s: %s", self.name, e)
            self.close(f"protocol error: {e}")
        except Exception as e:  # a bug here must not take the runtime down
            log.exception("reader of %s failed", self.name)
            self.close(f"internal error: {type(e).__name__}")
        finally:
            if self.closed:
                self.done.set()

    def _pause(self) -> None:
        """Between operations of the reader: yield to the hub, and while
        more than half the outbox waits for the peer (answers to what it
        asked, say), read nothing more from it until the writer has taken
        the queue, for at most `DRAIN_TIMEOUT` seconds; a peer that does not
        read for that long is dropped. So what a peer can make the server
        queue stays bounded, and a peer that reads slowly is slowed down,
        not dropped. Switches: always."""
        gevent.sleep(0)
        if self._out_bytes > self.max_outbox // 2 and not self.closed:
            self._drained.clear()
            if not self._drained.wait(DRAIN_TIMEOUT) and not self.closed:
                self._out.clear()
                self._out_bytes = 0
                self.close(f"the peer is not reading: over {self.max_outbox // 2} bytes queued"
                           f" for {DRAIN_TIMEOUT:g} s")

    def join(self, timeout: float | None = 5.0) -> None:
        """Wait until the reader and writer greenlets are gone (after
        `close`). Switches: always."""
        greenlets = [g for g in (self._reader, self._writer, self._keeper) if g is not None]
        if greenlets:
            gevent.joinall(greenlets, timeout=timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the connection ends; True if it did. Switches: always."""
        return self.done.wait(timeout)

    # -- exporting ----------------------------------------------------------------------

    def _desc(self, route: Any, perms: int) -> tuple[int, int]:
        """The wire descriptor of (route, perms), exporting it if needed."""
        if foreign.carrier(route) is self:
            return (-route.ident, perms)
        key = (route, perms)
        eid = self._export_index.get(key)
        if eid is None:
            if len(self.exports) >= MAX_EXPORTS:
                # `forward` refuses such a message before it exports anything;
                # a link or exit signal can't be refused: the peer goes.
                self.close(f"the peer holds {MAX_EXPORTS} capabilities of this side"
                           " (the limit) and releases none")
                return (0, perms)  # never sent: the connection is closed
            eid = self._next_export
            self._next_export += 1
            exp = self.exports[eid] = _Export(route, perms)
            self._export_index[key] = eid
            if perms & (P_MONITOR | P_LINK):
                if foreign.route_closed(route):
                    # Closed already: the peer hears it right after this op.
                    gevent.get_hub().loop.run_callback(
                        self._export_closed, eid, route, NOPROC, foreign.owner_exited(route))
                else:
                    exp.watch = foreign.watch(
                        self.runtime, route, partial(self._export_closed, eid))
        else:
            exp = self.exports[eid]
        exp.count += 1
        return (eid, perms)

    def _export_closed(self, eid: int, route: Any, reason: Any, died: bool) -> None:
        exp = self.exports.pop(eid, None)
        if exp is None:
            return
        del self._export_index[(exp.route, exp.perms)]
        self._push((CLOSED, eid, reason, died), 64)

    def _export(self, eid: int, needed: int) -> _Export | None:
        """The export `eid` for an operation needing `needed`; None if it
        was freed (the operation is then dropped, like a send to a closed
        route)."""
        exp = self.exports.get(eid)
        if exp is None:
            if eid <= 0 or eid >= self._next_export:
                raise ProtocolError(f"capability {eid} was never exported to this peer")
            return None
        if needed & ~exp.perms:
            raise ProtocolError(f"capability {eid} does not allow this operation")
        return exp

    # -- importing ----------------------------------------------------------------------

    def _import(self, desc: Sequence[Any]) -> tuple[Any, int]:
        """(route, perms) for a descriptor received from the peer."""
        cid, perms = desc
        if cid < 0:
            exp = self.exports.get(-cid)
            if exp is None:
                if -cid >= self._next_export:
                    raise ProtocolError(f"capability {-cid} was never exported to this peer")
                return self._dead_route(perms), perms
            if perms & ~exp.perms:
                raise ProtocolError(f"capability {-cid} came back with more permissions")
            return exp.route, perms
        imp = self.imports.get(cid)
        route = imp.ref() if imp is not None else None
        if route is None:
            if cid in self._closed_imports:
                return self._dead_route(perms), perms
            if len(self.imports) >= MAX_IMPORTS:
                raise ProtocolError(f"this side holds {MAX_IMPORTS} capabilities of the peer"
                                    " already (the limit)")
            route = foreign.new_foreign_route(self.runtime, self, cid, perms)
            self.imports[cid] = _Import(weakref.ref(route, partial(self._import_freed, cid)))
            return route, perms
        if route.perms != perms:
            raise ProtocolError(f"capability {cid} arrived with other permissions")
        assert imp is not None  # the route came from it
        imp.count += 1
        return route, perms

    def _dead_route(self, perms: int) -> Any:
        route = foreign.new_foreign_route(self.runtime, self, 0, perms)
        foreign.close_foreign(route, NOPROC, True)
        return route

    def _import_freed(self, cid: int, ref: weakref.ref[Any]) -> None:
        imp = self.imports.get(cid)
        if imp is None or imp.ref is not ref:
            return
        del self.imports[cid]
        self._push((RELEASE, cid, imp.count), 16)

    def _sender(self, desc: Sequence[Any], what: str) -> Any:
        """The route of the sender descriptor of a link or exit operation:
        always one of the peer's own capabilities (a positive id). A
        negative id would name one of *our* exports, making a process of
        this side the sender: refused before anything happens. The caller
        must keep the route in a variable while it uses its stand-in:
        the stand-in holds its route only weakly."""
        if desc[0] < 0:
            raise ProtocolError(f"{what} names a process of this side as its sender"
                                f" (capability {-desc[0]}); a peer acts only for itself")
        route, _ = self._import(desc)
        return route

    # -- the carrier: local processes acting on imports (never switch) --------------------

    def forward(self, route: Any, msg: Message) -> None:
        """Carry `msg` to `route`. Every check comes before the first export,
        so a refused send has no effect (rule V6).

        Raises:
            PayloadError: over `MAX_MESSAGE` bytes, over `MAX_CAPS`
                capabilities, or the peer already holds `MAX_EXPORTS`.
        """
        if self.closed:
            return
        data, caps = msg.data, msg.caps
        if len(data) > MAX_MESSAGE:
            raise PayloadError(f"a message of {len(data)} bytes is too big for the network"
                               f" (at most {MAX_MESSAGE}); send a lump id instead")
        if caps:
            if len(caps) > MAX_CAPS:
                raise PayloadError(f"a message with {len(caps)} capabilities is too many for"
                                   f" the network (at most {MAX_CAPS})")
            if len(self.exports) + len(caps) > MAX_EXPORTS:
                index = self._export_index
                new = sum(1 for r, p in caps if (r, p) not in index)
                if len(self.exports) + new > MAX_EXPORTS:
                    raise PayloadError(f"the peer holds {len(self.exports)} capabilities of"
                                       f" this side (at most {MAX_EXPORTS}) and releases none")
            desc = self._desc
            caps = [desc(r, p) for r, p in caps]
        self._push((MSG, route.ident, data, caps or ()), len(data))

    def kill(self, route: Any) -> None:
        self._push((KILL, route.ident), 8)

    def exit(self, route: Any, sender: Process, reason: Any) -> None:
        self._push((EXIT, route.ident, self._desc(sender.mailboxes[0], 0), reason), 64)

    def link(self, route: Any, proc: Process) -> None:
        self._push((LINK, route.ident, self._desc(proc.mailboxes[0], 0)), 16)

    def unlink(self, route: Any, proc: Process) -> None:
        self._push((UNLINK, route.ident, self._desc(proc.mailboxes[0], 0)), 16)

    def link_exit(self, route: Any, proc: Process, reason: Any) -> None:
        routes = proc.mailboxes
        if routes:
            self._push((LINK_EXIT, route.ident, self._desc(routes[0], 0), reason), 64)

    # -- the peer acting on our exports -------------------------------------------------

    def _dispatch(self, op: Sequence[Any]) -> None:
        code = op[0]
        if code == MSG:
            exp = self._export(op[1], P_SEND)
            routes = [self._import(d) for d in op[3]] if op[3] else ()
            if exp is not None:
                # Stamped with this peer's account: what it asks for is charged to it.
                foreign.deliver(exp.route,
                                Message(op[2], routes, self.runtime.accounts.of_carrier(self)))
        elif code == RELEASE:
            exp = self.exports.get(op[1])
            if exp is None:
                if op[1] <= 0 or op[1] >= self._next_export:
                    raise ProtocolError(f"release of capability {op[1]}, never exported")
                return
            exp.count -= op[2]
            if exp.count < 0:
                raise ProtocolError(f"capability {op[1]} released more often than sent")
            if exp.count == 0:
                del self.exports[op[1]]
                del self._export_index[(exp.route, exp.perms)]
                if exp.watch is not None:
                    foreign.unwatch(exp.route, exp.watch)
        elif code == CLOSED:
            imp = self.imports.pop(op[1], None)
            route = imp.ref() if imp is not None else None
            if route is not None:
                # Remembered (boundedly) in case the peer names it again; an
                # id never imported, or already freed, needs no memory.
                closed = self._closed_imports
                closed[op[1]] = None
                if len(closed) > MAX_CLOSED_IMPORTS:
                    del closed[next(iter(closed))]
                foreign.close_foreign(route, op[2], op[3])
        elif code == KILL:
            exp = self._export(op[1], P_KILL)
            if exp is not None:
                foreign.remote_kill(exp.route)
        elif code == EXIT:
            sender = self._sender(op[2], "EXIT")
            exp = self._export(op[1], P_KILL)
            if exp is not None:
                foreign.remote_exit(foreign.stand_in(sender), exp.route, op[3])
        elif code == LINK:
            sender = self._sender(op[2], "LINK")
            exp = self._export(op[1], P_LINK)
            if exp is not None:
                foreign.remote_link(foreign.stand_in(sender), exp.route)
        elif code == UNLINK:
            sender = self._sender(op[2], "UNLINK")
            exp = self._export(op[1], P_LINK)
            if exp is not None:
                foreign.remote_unlink(foreign.stand_in(sender), exp.route)
        elif code == LINK_EXIT:
            sender = self._sender(op[2], "LINK_EXIT")
            exp = self._export(op[1], 0)
            if exp is not None:
                foreign.remote_link_exit(foreign.stand_in(sender), exp.route, op[3])
        elif code == LUMP_WANT:
            self._send_lump(op[1], op[2])
        elif code == LUMP:
            result = self._lump_requests.pop(op[1], None)
            if result is not None:
                result.set((op[2], op[3]))
        elif code == ROOT:
            if self.remote_root is not None or self.got_root.is_set():
                raise ProtocolError("a second ROOT")
            if op[1] is not None:
                self.remote_root, _ = self._import(op[1])
            self.got_root.set()
        elif code == ERROR:
            log.info("peer %s hung up: %s", self.name, op[1])
            self.close(f"the peer hung up: {op[1]}", notify=False)

    # -- lumps (rule N6) ------------------------------------------------------------------

    def _send_lump(self, req: int, lid: bytes) -> None:
        data: bytes | None
        try:
            data = self.runtime.lumps.get(lid)
        except (LumpNotFound, LumpCorrupt):
            data = None
        self._push((LUMP, req, lid, data), len(data) if data else 32, asked=True)

    def fetch_lump(self, lid: bytes, timeout: float = 30.0) -> bytes | None:
        """Ask the peer for lump `lid`; its data, or None if the peer lacks
        it, the connection ends or `timeout` passes. The data is *not*
        checked here (`Runtime.fetch_lump` checks it). Switches: always.
        """
        if self.closed:
            return None
        req = self._next_request
        self._next_request += 1
        result = self._lump_requests[req] = AsyncResult()
        self._push((LUMP_WANT, req, bytes(lid)), 48)
        try:
            answer = result.get(timeout=timeout)
        except gevent.Timeout:
            answer = None
        finally:
            self._lump_requests.pop(req, None)
        if answer is None or answer[0] != bytes(lid):
            return None
        return answer[1]
