"""Benchmarks of the network layer (hearth.net) against raw WebSocket.

Two runtimes in this one OS process talk over real loopback sockets: a
server runtime that `listen`s and a client runtime that `connect`s, as two
peers would. The baselines are a bare gevent-websocket server (the
``WSGIServer`` + ``WebSocketHandler`` pair `hearth.net` listens with) and a
bare ``websocket-client`` connection (what `connect` uses), in the same
process and the same run, with payloads of the same size:

- one way (``net.oneway``): a client process sends `ONEWAY_MESSAGES`
  messages of `PAYLOAD` bytes to the server's root capability, where a
  process counts them; messages a second, from the first send until the
  counter's "done" is back. The sender loops without switching, so the
  connection's writer batches the whole burst (``ops_per_frame`` says how
  many operations a frame carried). Beside it, the fair baseline: the same
  payloads sent raw, batched `RAW_BATCH` to a binary WebSocket frame (Hearth
  batches, so its peer does too), counted by the server; as references, the
  raw side sending one frame per message (``net.oneway.vs_unbatched``), and
  Hearth again with a sender that yields to the hub after every send
  (``net.oneway.yielding``, against the one-frame-a-message raw side: nothing
  to batch on either);
- call (``net.call``): `otp.call` round trips to an echo gen_server that is
  the listener's root, p50 / p99 over `CALL_TRIPS` calls timed one by one,
  beside a WebSocket echo round trip (send a frame, wait for it to come
  back) of the same payload.

As in `bench_kernel`, each trial runs the project and its baselines back to
back, in an order reversed on every other repeat, each on fresh runtimes
and a fresh connection; the figures are medians over the repeats.
"""

import gc
import time

import gevent
import msgpack
import websocket
from gevent.event import AsyncResult, Event
from gevent.pywsgi import WSGIServer
from geventwebsocket.handler import WebSocketHandler

from hearth import otp, vm
from hearth.net import connect, listen

from ._harness import Stopwatch, benchmark, figure, median, trials
from .bench_kernel import _alternate, _latency_us

_perf = time.perf_counter

PAYLOAD = 64  # bytes per message
ONEWAY_MESSAGES = 50_000  # per repeat
ONEWAY_WARMUP = 2_000
RAW_BATCH = 1_000  # payloads per frame in the batched raw reference
CALL_TRIPS = 5_000  # per repeat, timed one by one
CALL_WARMUP = 300
SECRET = b"bench-net-secret"

_DATA = bytes(range(PAYLOAD))


# -- hearth: two runtimes, one connection -----------------------------------------------


class _Pair:
    """A server runtime listening on loopback with `make_root()`'s
    capability as its root, and a client runtime connected to it; the
    calling greenlet is attached to the client runtime as a process.

    ``with _Pair(make_root) as peer: ...`` gives the client's `Peer`.
    """

    def __init__(self, make_root):
        self._make_root = make_root

    def _serve(self):
        root = self._make_root()
        lst = listen("127.0.0.1:0", secret=SECRET, root=root)
        try:
            self._url.set(lst.url)
            self._stop.wait()
        finally:
            lst.close()

    def __enter__(self):
        self._url, self._stop = AsyncResult(), Event()
        self.server_rt, self.client_rt = vm.Runtime(), vm.Runtime()
        self.server_rt.spawn(self._serve)
        self._proc_cm = self.client_rt.open_process()
        self._proc_cm.__enter__()
        self.peer = connect(self._url.get(timeout=10), secret=SECRET)
        return self.peer

    def __exit__(self, *exc):
        try:
            self.peer.close()
            self._stop.set()
        finally:
            self._proc_cm.__exit__(*exc)
            self.client_rt.shutdown()
            self.server_rt.shutdown()
        return False


def _counter():
    """Counts messages: ``n`` with a capability starts a count of `n`
    messages, after which "done" goes to that capability."""
    recv = vm.recv
    while True:
        m = recv()
        report = m.caps[0]
        n = int(m.data)
        for _ in range(n):
            recv()
        report.send(b"done")
        report.release()


def _hearth_oneway(n, key="hearth", yielding=False):
    """Messages a second: `n` one-way messages to a remote counter; with
    `yielding`, the sender lets the hub run after every send (so the
    writer has nothing to batch), as a process that waits for something
    between sends would.

    Also returns how the writer batched them (operations per frame)."""
    with _Pair(lambda: vm.spawn(_counter)) as peer:
        conn, root = peer.connection, peer.root
        me = vm.make_capability(vm.SEND)
        send, recv, data, pause = root.send, vm.recv, _DATA, gevent.sleep
        for count in (ONEWAY_WARMUP, n):
            frames, ops = conn.frames_out, conn.ops_out
            gc.collect()
            with Stopwatch() as sw:
                send(str(count).encode(), [me])
                if yielding:
                    for _ in range(count):
                        send(data)
                        pause(0)
                else:
                    for _ in range(count):
                        send(data)
                m = recv(timeout=60)
            assert m is not None and m.data == b"done", m
        frames, ops = conn.frames_out - frames, conn.ops_out - ops
        return {key: n / sw.seconds, key + "_ops_per_frame": ops / max(frames, 1)}


class _GenEcho(otp.GenServer):
    def handle_call(self, request, from_, state):
        return ("reply", request, state)


def _hearth_call(n):
    """The seconds of each of `n` remote `otp.call` round trips."""
    with _Pair(lambda: otp.start_server(_GenEcho)) as peer:
        server, call, data = peer.root, otp.call, _DATA
        for _ in range(CALL_WARMUP):
            call(server, data)
        gc.collect()
        lat = []
        for _ in range(n):
            t = _perf()
            call(server, data)
            lat.append(_perf() - t)
        return lat


# -- raw WebSocket ----------------------------------------------------------------------


def _raw_count_app(ws):
    """A frame "n" (text) starts a count of `n` payloads (one per binary
    frame, or many in one msgpack array per frame), then "done" goes back."""
    receive = ws.receive
    while True:
        head = receive()
        if head is None:
            return
        n, batched = int(head[:-1]), head.endswith("b")
        seen = 0
        while seen < n:
            frame = receive()
            seen += len(msgpack.unpackb(frame)) if batched else 1
        ws.send(b"done", binary=True)


def _raw_echo_app(ws):
    receive, send = ws.receive, ws.send
    while True:
        frame = receive()
        if frame is None:
            return
        send(frame, binary=True)


class _RawPair:
    """A gevent-websocket server running `app(ws)` for each connection on
    loopback, and a websocket-client connection to it.

    ``with _RawPair(app) as ws: ...`` gives the client's `WebSocket`.
    """

    def __init__(self, app):
        self._app = app

    def _wsgi(self, environ, start_response):
        ws = environ.get("wsgi.websocket")
        if ws is None:
            start_response("400 Bad Request", [])
            return [b""]
        self._app(ws)
        return []

    def __enter__(self):
        self._server = WSGIServer(("127.0.0.1", 0), self._wsgi,
                                  handler_class=WebSocketHandler, log=None, error_log=None)
        self._server.start()
        port = self._server.address[1]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/",
                                              enable_multithread=False)
        return self.ws

    def __exit__(self, *exc):
        try:
            self.ws.close(timeout=1)
        finally:
            self._server.stop(timeout=2)
        return False


def _raw_oneway(n, batch):
    """Messages a second: `n` payloads, one per binary frame (`batch` is
    None) or `batch` to a frame (a msgpack array), counted by the server."""
    with _RawPair(_raw_count_app) as ws:
        send_binary, data = ws.send_binary, _DATA
        for count in (ONEWAY_WARMUP, n):
            gc.collect()
            with Stopwatch() as sw:
                ws.send(f"{count}{'b' if batch else 'f'}")
                if batch:
                    packb = msgpack.packb
                    for i in range(0, count, batch):
                        send_binary(packb([data] * min(batch, count - i)))
                else:
                    for _ in range(count):
                        send_binary(data)
                assert ws.recv() == b"done"
        return n / sw.seconds


def _raw_echo(n):
    """The seconds of each of `n` WebSocket echo round trips."""
    with _RawPair(_raw_echo_app) as ws:
        send_binary, recv, data = ws.send_binary, ws.recv, _DATA
        for _ in range(CALL_WARMUP):
            send_binary(data)
            recv()
        gc.collect()
        lat = []
        for _ in range(n):
            t = _perf()
            send_binary(data)
            recv()
            lat.append(_perf() - t)
        return lat


# -- the benchmarks -----------------------------------------------------------------------


@benchmark("net", repeat=5)
def net(repeat):
    """Remote one-way msg/s and otp.call round trip over loopback, vs raw WebSocket."""

    def trial(i):
        def side(key, fn):
            p50, p99 = _latency_us(fn(CALL_TRIPS))
            return {key: p50, key + "_p99": p99}

        n = ONEWAY_MESSAGES
        out = _alternate(
            i,
            lambda: _hearth_oneway(n),
            lambda: _hearth_oneway(n, "hearth_yielding", yielding=True),
            lambda: {"raw": _raw_oneway(n, None)},
            lambda: {"raw_batched": _raw_oneway(n, RAW_BATCH)},
        )
        out.update(_alternate(
            i,
            lambda: side("hearth_call", _hearth_call),
            lambda: side("raw_echo", _raw_echo),
        ))
        return out

    s = trials(repeat, trial)
    one = {"messages": ONEWAY_MESSAGES, "payload_bytes": PAYLOAD,
           "ops_per_frame": round(median(s["hearth_ops_per_frame"]), 1)}
    one_y = dict(one, ops_per_frame=round(median(s["hearth_yielding_ops_per_frame"]), 2))
    rt = {"calls": CALL_TRIPS, "payload_bytes": PAYLOAD}
    echo = f"raw WebSocket echo of {PAYLOAD} B"
    return [
        # Hearth batches a burst into frames, so the fair baseline batches too;
        # the raw side's one frame a message stays as a second reference.
        figure("net.oneway", s, "hearth", "raw_batched", unit="msg/s",
               baseline=f"raw WebSocket, {RAW_BATCH} payloads a frame", better="higher",
               goal=">= 50,000 msg/s", check=lambda f: f.value >= 50_000, extra=one),
        figure("net.oneway.vs_unbatched", s, "hearth", "raw", unit="msg/s",
               baseline=f"raw WebSocket, a {PAYLOAD} B frame a message", better="higher",
               goal="reference", extra=one),
        figure("net.oneway.yielding", s, "hearth_yielding", "raw", unit="msg/s",
               baseline=f"raw WebSocket, a {PAYLOAD} B frame a message", better="higher",
               goal="reference: sender yields after each send", extra=one_y),
        figure("net.call", s, "hearth_call", "raw_echo", unit="us (p50)", baseline=echo,
               better="lower", goal="ratio <= 3", check=lambda f: f.ratio <= 3,
               p50=median(s["hearth_call"]), p99=median(s["hearth_call_p99"]),
               baseline_p50=median(s["raw_echo"]), baseline_p99=median(s["raw_echo_p99"]),
               latency_unit="us", extra=rt),
        figure("net.call.p99", s, "hearth_call_p99", "raw_echo_p99", unit="us (p99)",
               baseline=echo, better="lower", goal="reference", extra=rt),
    ]


# -- scaling: many peers at once ----------------------------------------------------------

SCALING_PEERS = (1, 50)
SCALING_MESSAGES = 50_000  # in all, shared out between the peers


def _total_counter():
    """Counts every message without capabilities, from any peer; the one
    with a capability says how many to expect and where "done" goes."""
    recv = vm.recv
    expected = report = None
    seen = 0
    while True:
        m = recv()
        if m.caps:
            expected, report = int(m.data), m.caps[0]
        else:
            seen += 1
        if report is not None and seen >= expected:
            report.send(b"done")
            report.release()
            expected = report = None
            seen = 0


def _hearth_many(peers, n):
    """Messages a second: `peers` connections (each from a process of its
    own in one client runtime) send `n` messages in all to one counting
    process of the server, all at once, without yielding between sends."""
    url, stop = AsyncResult(), Event()
    server_rt, client_rt = vm.Runtime(), vm.Runtime()

    def serve():
        lst = listen("127.0.0.1:0", secret=SECRET, root=vm.spawn(_total_counter))
        try:
            url.set(lst.url)
            stop.wait()
        finally:
            lst.close()

    ready, go = [], Event()
    share = n // peers

    def sender():
        with client_rt.open_process():
            peer = connect(url.get(timeout=10), secret=SECRET)
            try:
                send, data = peer.root.send, _DATA
                ready.append(peer)
                go.wait()
                for _ in range(share):
                    send(data)
                stop.wait()
            finally:
                peer.close()

    server_rt.spawn(serve)
    try:
        with client_rt.open_process():
            control = connect(url.get(timeout=10), secret=SECRET)
            senders = [gevent.spawn(sender) for _ in range(peers)]
            while len(ready) < peers:
                gevent.sleep(0.01)
            gc.collect()
            with Stopwatch() as sw:
                control.root.send(str(share * peers).encode(), [vm.make_capability(vm.SEND)])
                go.set()
                m = vm.recv(timeout=120)
            assert m is not None and m.data == b"done", m
            stop.set()
            gevent.joinall(senders, timeout=30)
            control.close()
        return share * peers / sw.seconds
    finally:
        stop.set()
        client_rt.shutdown()
        server_rt.shutdown()


class _RawTotal:
    """The raw server's side: counts payloads from every connection (one
    msgpack array a frame); a text frame "n" says how many to expect and
    that "done" goes back on its connection."""

    def __init__(self):
        self.expected = self.report = None
        self.seen = 0

    def app(self, ws):
        receive = ws.receive
        while True:
            frame = receive()
            if frame is None:
                return
            if isinstance(frame, str):
                self.expected, self.report = int(frame), ws
            else:
                self.seen += len(msgpack.unpackb(frame))
            if self.report is not None and self.seen >= self.expected:
                self.report.send(b"done", binary=True)
                self.expected = self.report = None
                self.seen = 0


def _raw_many(peers, n):
    """The same with `peers` raw WebSocket connections, each batching
    `RAW_BATCH` payloads to a frame (as Hearth's writer batches a burst)."""
    total = _RawTotal()
    share = n // peers
    with _RawPair(total.app) as control:
        port = control.sock.getpeername()[1]
        conns = [websocket.create_connection(f"ws://127.0.0.1:{port}/",
                                             enable_multithread=False) for _ in range(peers)]
        go = Event()

        def sender(ws):
            go.wait()
            packb, send_binary, data = msgpack.packb, ws.send_binary, _DATA
            for i in range(0, share, RAW_BATCH):
                send_binary(packb([data] * min(RAW_BATCH, share - i)))

        try:
            senders = [gevent.spawn(sender, ws) for ws in conns]
            gevent.sleep(0)
            gc.collect()
            with Stopwatch() as sw:
                control.send(str(share * peers))
                go.set()
                assert control.recv() == b"done"
            gevent.joinall(senders, timeout=30)
        finally:
            for ws in conns:
                ws.close(timeout=1)
    return share * peers / sw.seconds


@benchmark("net_scaling", repeat=3)
def net_scaling(repeat):
    """Remote one-way msg/s from 1 and from 50 peers at once, vs raw WebSocket connections."""

    def trial(i):
        out = {}
        for peers in SCALING_PEERS:
            out.update(_alternate(
                i,
                lambda: {f"hearth_{peers}": _hearth_many(peers, SCALING_MESSAGES)},
                lambda: {f"raw_{peers}": _raw_many(peers, SCALING_MESSAGES)}))
        return out

    s = trials(repeat, trial)
    return [
        figure(f"net_scaling.oneway.{peers}", s, f"hearth_{peers}", f"raw_{peers}",
               unit="msg/s",
               baseline=f"{peers} raw WebSocket connection(s), {RAW_BATCH} payloads a frame",
               better="higher",
               goal=f"reference: {SCALING_MESSAGES:,} messages from {peers} peer(s) at once",
               extra={"peers": peers, "messages": SCALING_MESSAGES, "payload_bytes": PAYLOAD})
        for peers in SCALING_PEERS
    ]
