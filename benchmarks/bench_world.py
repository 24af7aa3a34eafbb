"""The shared world's fan-out (docs/world.md) against a bare broadcast relay.

``world_fanout.N``, for N in `CLIENTS`: N clients, each moving its avatar
`RATE` times a second for `SECONDS` seconds; per pose update, the time from
its send to the moment the *last* other client's mirror applied it (for
N = 1, the sender's own mirror: the round trip through the world). p50 and
p99 over every update, beside the same for a bare broadcast in the same run.

- Hearth: a real ``hearth-server`` subprocess (``--bind 127.0.0.1:0``; it
  starts ``hearth.World`` itself). The N clients are in this process, in one
  client runtime, each as ``hearth-client --headless`` is: its own peer
  connection (`hearth.net.connect`), the real mirror
  (`hearth.world.run_mirror`, with a view that notes when each update is
  applied) and an avatar: an entity added with `hearth.world.add`, owned by
  its process, moved with `hearth.world.update` on a fixed schedule of
  `RATE` a second, the send time stamped into the transform (x the
  ``time.monotonic()`` of the send, y the client, z the update's number).
  Each ``update`` waits for its reply, as a client's does, so under load the
  real rate can fall under `RATE` (``updates_per_s`` says it). (The
  client's own `run_avatar` waits 1/`RATE` s *after* each reply, which
  would lower the load as the latency grows; the fixed schedule does not.)
- bare: a plain gevent-websocket server subprocess (``_fanout_relay``)
  relaying each binary frame to every connection, and N plain
  websocket-client connections in this process, each sending a frame of the
  shape of the world's ``updated`` event (msgpack, the whole entity, same
  stamp) every 1/`RATE` s; each receiver decodes every frame, as a mirror
  does.

Both servers are in their own process and both sets of clients in this one,
so the comparison is like for like; the server's CPU (user + system, from
``/proc/PID/stat``, over the run and the drain) is in ``server_cpu_pct``
(percent of one core), this process's (all N clients) in
``clients_cpu_pct``. On a small machine the N clients in one process can be
the bottleneck rather than the server: read the two together.

Updates not applied by every other mirror within `DRAIN` seconds after the
last send are counted in ``lost`` and left out of the percentiles.
"""

import os
import subprocess
import sys
import time

import gevent
import msgpack
import websocket
from gevent.event import Event

from hearth import otp, vm, world
from hearth.net import connect
from hearth.world import WORLD

from ._harness import benchmark, figure, median, percentile, trials

CLIENTS = (1, 10, 50)
RATE = 20.0  # pose updates a second, per client
SECONDS = 3.0  # of moving, per side and client count
DRAIN = 5.0  # seconds to wait after the last send for the last applies
SETTLE = 0.5  # seconds between everyone being in and the first move
GOAL_MS = 100.0
SECRET = "bench-world-secret"
MESH = bytes(range(32))

_now = time.monotonic
_TICK = os.sysconf("SC_CLK_TCK")


# -- measuring ---------------------------------------------------------------------------


class _Record:
    """Every update sent and, per update, how many receivers applied it and
    when the last did."""

    def __init__(self, clients):
        self.clients = clients
        self.want = max(clients - 1, 1)
        self.applied = {}  # (sender, number) -> [stamp, receivers, last apply time]
        self.sent = 0

    def apply(self, receiver, sender, number, stamp):
        if receiver == sender and self.clients > 1:
            return
        now = _now()
        entry = self.applied.get((sender, number))
        if entry is None:
            entry = self.applied[sender, number] = [stamp, 0, now]
        entry[1] += 1
        entry[2] = now

    def complete(self):
        return sum(1 for e in self.applied.values() if e[1] >= self.want)

    def latencies_ms(self):
        return sorted((e[2] - e[0]) * 1000 for e in self.applied.values() if e[1] >= self.want)


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _self_cpu():
    t = os.times()
    return t.user + t.system


class _Child:
    """A subprocess whose output is read by a greenlet (so it never fills
    its pipe); `wait_for` gives the first line containing a text."""

    def __init__(self, args, env=None):
        self.lines = []
        self._line = Event()
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     env=dict(os.environ, **(env or {})))
        self._reader = gevent.spawn(self._read)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            self._line.set()
        self._line.set()

    def wait_for(self, text, timeout=60):
        with gevent.Timeout(timeout, RuntimeError(f"no {text!r} in: {''.join(self.lines)}")):
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                if self._reader.dead:
                    raise RuntimeError(f"ended without {text!r}: {''.join(self.lines)}")
                self._line.clear()
                self._line.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT, as Ctrl+C
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)


def _wait(cond, timeout, what):
    """Poll `cond` (yielding) until true; RuntimeError after `timeout` s."""
    deadline = _now() + timeout
    while not cond():
        if _now() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        gevent.sleep(0.02)


def _run(record, server_pid, moving, sent_count):
    """Let the clients move for `SECONDS`, then drain; the measurements."""
    cpu0, self0, t0 = _cpu_seconds(server_pid), _self_cpu(), _now()
    moving.set()
    gevent.sleep(SECONDS)
    moving.clear()
    deadline = _now() + DRAIN
    while record.complete() < sent_count() and _now() < deadline:
        gevent.sleep(0.02)
    gevent.sleep(0.05)  # the last reply of an update still on its way
    wall = _now() - t0
    cpu = _cpu_seconds(server_pid) - cpu0
    clients_cpu = _self_cpu() - self0
    lat = record.latencies_ms()
    sent = sent_count()
    return {
        "p50": percentile(lat, 50), "p99": percentile(lat, 99),
        "server_cpu": 100 * cpu / wall, "clients_cpu": 100 * clients_cpu / wall,
        "sent": sent, "lost": sent - len(lat),
        "rate": sent / record.clients / SECONDS,
    }


# -- Hearth: hearth-server, N clients of one runtime -------------------------------------


class _View:
    """A mirror's view that notes each pose update applied."""

    def __init__(self, me, record):
        self.me, self.record, self.ids = me, record, set()

    def add(self, e):
        if (e.get("label") or "").startswith("client "):  # not the chat's board
            self.ids.add(e["id"])

    def update(self, e):
        t = e["transform"]
        if e["id"] in self.ids and t[14] >= 1:  # a stamped pose (not the one at add)
            self.record.apply(self.me, int(t[13]), int(t[14]), t[12])

    def remove(self, e):
        self.ids.discard(e["id"])

    def hide(self, eid):
        pass


def _sleep_until(due):
    delay = due - _now()
    if delay > 0:
        gevent.sleep(delay)


def _on_schedule(moving, i, sent, send):
    """Call ``send(number)`` (1, 2, ...) every 1/`RATE` s on a fixed
    schedule while `moving` is set, counting the sends in ``sent[i]``; a
    late send shortens the wait before the next, so the rate holds."""
    number, due = 0, _now()
    while moving.is_set():
        due += 1 / RATE
        number += 1
        sent[i] += 1
        send(number)
        _sleep_until(due)


def _given_root(body, args):
    """Process body: take the server's root from the first message (a
    capability is its holder's process's own), then run `body` with a
    `find_world` of the server's ``hearth.World``, as hearth-client does."""
    root = vm.recv().caps[0]
    body(lambda: otp.lookup(root, WORLD), *args)


def _hearth(n):
    server = _Child([sys.executable, "-m", "hearth.server", "--bind", "127.0.0.1:0",
                     "--no-ipc", "--status-every", "0"], env={"HEARTH_SECRET": SECRET})
    rt = vm.Runtime()
    record, moving, stop = _Record(n), Event(), Event()
    views = [_View(i, record) for i in range(n)]
    sent, ready = [0] * n, [False] * n
    try:
        url = server.wait_for("peers connect at").split("peers connect at ")[1].strip()

        def mover(find, i):
            """The avatar's part: add an entity owned by this process, then
            `update` its transform (the send time stamped in) every
            1/`RATE` s on a fixed schedule while `moving`."""
            _, entity = world.add(find(), vm.make_capability(vm.MONITOR), MESH,
                                  label=f"client {i}")
            ready[i] = True
            moving.wait()
            _on_schedule(moving, i, sent, lambda number: world.update(
                entity, transform=(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, _now(), i, number, 1)))

        def client(i):
            peer = connect(url, secret=SECRET)
            for body, args in ((world.run_mirror, (views[i],)), (mover, (i,))):
                vm.spawn(_given_root, body, args).send(b"root", [peer.root])
            stop.wait()

        for i in range(n):
            rt.spawn(client, i)
        _wait(lambda: all(ready) and all(len(v.ids) == n for v in views), 60 + n,
              f"{n} avatars in {n} mirrors")
        gevent.sleep(SETTLE)
        return _run(record, server.proc.pid, moving, lambda: sum(sent))
    finally:
        stop.set()
        rt.shutdown()
        server.stop()


# -- bare: a gevent-websocket relay, N websocket-client connections ----------------------


def _frame(i, number, seq):
    """The bytes a bare client sends: the shape of the world's ``updated``
    event for its avatar."""
    entity = {"id": i + 1, "owner": f"peer route {i}",
              "transform": [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, _now(), i, number, 1.0],
              "mesh": MESH, "material": None, "label": f"client {i}", "persistent": False}
    return msgpack.packb({"event": "updated", "seq": seq, "entity": entity})


def _bare(n):
    relay = _Child([sys.executable, "-m", "benchmarks._fanout_relay"],
                   env={"PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))})
    record, moving = _Record(n), Event()
    sent = [0] * n
    conns, workers = [], []
    try:
        port = int(relay.wait_for("relays at").split()[-1])
        conns = [websocket.create_connection(f"ws://127.0.0.1:{port}/",
                                             enable_multithread=False) for _ in range(n)]

        def receiver(me, ws):
            recv, unpackb = ws.recv, msgpack.unpackb
            while True:
                try:
                    frame = recv()
                except Exception:  # noqa: BLE001 - closed at the end
                    return
                if not isinstance(frame, bytes) or not frame:
                    return  # the close ('' from websocket-client)
                t = unpackb(frame)["entity"]["transform"]
                record.apply(me, int(t[13]), int(t[14]), t[12])

        def sender(i, ws):
            moving.wait()
            _on_schedule(moving, i, sent, lambda number: ws.send_binary(_frame(i, number, number)))

        for i, ws in enumerate(conns):
            workers.append(gevent.spawn(receiver, i, ws))
            workers.append(gevent.spawn(sender, i, ws))
        gevent.sleep(SETTLE)
        return _run(record, relay.proc.pid, moving, lambda: sum(sent))
    finally:
        for ws in conns:
            try:
                ws.close(timeout=1)
            except Exception:  # noqa: BLE001
                pass
        gevent.killall(workers, timeout=5)
        relay.stop()


# -- the benchmark -----------------------------------------------------------------------


@benchmark("world_fanout", repeat=3)
def world_fanout(repeat):
    """Fan-out of pose updates to 1, 10, 50 world clients (p99 ms) vs a bare websocket relay."""

    def trial(i):
        out = {}
        for n in CLIENTS:
            sides = [("hearth", _hearth), ("bare", _bare)]
            for key, fn in (sides if i % 2 == 0 else reversed(sides)):
                for k, v in fn(n).items():
                    out[f"{key}_{n}_{k}"] = v
        return out

    s = trials(repeat, trial)
    figs = []
    for n in CLIENTS:
        h, b = f"hearth_{n}_", f"bare_{n}_"
        goal, check = "reference", None
        if n == 50:
            goal = (f"p99 < {GOAL_MS:.0f} ms, <= 2x the bare relay's p99, "
                    f"at >= {0.95 * RATE:.0f} updates/s a client")
            check = (lambda f: f.value < GOAL_MS and f.ratio <= 2  # noqa: E731
                     and f.extra["updates_per_s"] >= 0.95 * RATE)
        figs.append(figure(
            f"world_fanout.{n}", s, h + "p99", b + "p99", unit="ms (p99)",
            baseline=f"bare gevent-websocket relay, {n} websocket-client(s)", better="lower",
            goal=goal, check=check,
            p50=median(s[h + "p50"]), p99=median(s[h + "p99"]),
            baseline_p50=median(s[b + "p50"]), baseline_p99=median(s[b + "p99"]),
            latency_unit="ms",
            extra={"clients": n, "seconds": SECONDS,
                   "server_cpu_pct": round(median(s[h + "server_cpu"]), 1),
                   "bare_server_cpu_pct": round(median(s[b + "server_cpu"]), 1),
                   "clients_cpu_pct": round(median(s[h + "clients_cpu"]), 1),
                   "bare_clients_cpu_pct": round(median(s[b + "clients_cpu"]), 1),
                   "updates_per_s": round(median(s[h + "rate"]), 1),
                   "bare_updates_per_s": round(median(s[b + "rate"]), 1),
                   "updates": int(median(s[h + "sent"])),
                   "lost": int(max(s[h + "lost"])), "bare_lost": int(max(s[b + "lost"]))}))
    return figs
