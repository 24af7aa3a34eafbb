"""The load check of docs/security.md: a legitimate client's round trips
while an authenticated attacker does its worst (``python -m benchmarks
attacks``).

For each attack of `benchmarks._attacks`, a fresh ``hearth-server``
subprocess serves a temporary copy of the bundled world root on loopback.
This process is the legitimate client: a peer that knows the secret and asks
``hearth.UnixTime`` for the time, one request after another, for
`IDLE_SECONDS` with nobody else connected (the baseline: the same client and
the same server, unattacked, in the same run), then for `ATTACK_SECONDS`
while the attack runs in a process of its own (so the attacker's CPU work
never shares a turn with the client's). A request that fails or times out
counts with the time it took, and the client reconnects; nothing is left
out of the percentiles. The server's resident memory is sampled every
`RSS_EVERY` seconds from ``/proc``. Meanwhile a new user connects every
second (a fresh peer, its time to a first answer): reported beside the
figure, with no goal, since a wrong-secret storm from the client's own
address delays it by design (the failure throttle is per address).

Figure ``attacks.NAME``: the client's p99 round trip under the attack, in
milliseconds, beside its p99 unattacked. The goal for every attack: p99
under `P99_GOAL_MS`, the server's peak RSS under `RSS_GOAL_MB`, and not one
of the client's requests failed. A server
that grows past `RSS_KILL_MB` is killed, to spare the machine, and the
figure says so.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import gevent

from hearth import otp, vm
from hearth._entry import bundled_root
from hearth.net import connect

from ._attacks import ATTACKS
from ._harness import Figure, benchmark, median, percentile

SECRET = "load-check secret"
IDLE_SECONDS = 3.0
ATTACK_SECONDS = 10.0
RSS_EVERY = 0.02
REQUEST_TIMEOUT = 5.0
P99_GOAL_MS = 50.0
RSS_GOAL_MB = 500.0
RSS_KILL_MB = 3000.0
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _Server:
    """A hearth-server subprocess on a copy of the bundled root."""

    def __init__(self, tmp):
        root = os.path.join(tmp, "root")
        shutil.copytree(bundled_root(), root, ignore=shutil.ignore_patterns("__pycache__"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hearth.server", "--root", root, "--bind", "127.0.0.1:0",
             "--ipc", os.path.join(tmp, "h.sock"), "--data-dir", os.path.join(tmp, "data"),
             "--status-every", "3600"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=_ROOT,
            env=dict(os.environ, HEARTH_SECRET=SECRET, PYTHONUNBUFFERED="1"))
        self.url = None
        with gevent.Timeout(60, RuntimeError("hearth-server did not start")):
            for line in self.proc.stdout:
                if "peers connect at" in line:
                    self.url = line.split("peers connect at ")[1].strip()
                    break
        if self.url is None:
            raise RuntimeError("hearth-server ended before it listened")
        gevent.spawn(self._drain)
        self.peak = 0.0
        self.killed = False

    def _drain(self):
        for _ in self.proc.stdout:
            pass

    def watch(self, stop):
        """Sample the server's RSS until `stop` is set; kill it past RSS_KILL_MB."""
        while not stop.is_set():
            rss = _rss_mb(self.proc.pid)
            self.peak = max(self.peak, rss)
            if rss > RSS_KILL_MB and not self.killed:
                self.killed = True
                self.proc.kill()
            stop.wait(RSS_EVERY)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class _Client:
    """The legitimate peer: round trips to hearth.UnixTime, reconnecting."""

    def __init__(self, url):
        self.url = url
        self.peer = self.clock = None
        self.failures = 0
        self.newcomer_errors = []

    def _connect(self):
        self.close()
        self.peer = connect(self.url, secret=SECRET, timeout=REQUEST_TIMEOUT)
        self.clock = otp.lookup(self.peer.root, "hearth.UnixTime", timeout=REQUEST_TIMEOUT)

    def close(self):
        if self.peer is not None:
            self.peer.close()
        self.peer = self.clock = None

    def run(self, seconds):
        """Round-trip times (ms) for `seconds`, failures counted with their time."""
        samples = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            try:
                if self.clock is None:
                    self._connect()
                otp.request(self.clock, "now", timeout=REQUEST_TIMEOUT)
            except Exception:
                self.failures += 1
                self.clock = None
                gevent.sleep(0.01)
            samples.append((time.perf_counter() - t0) * 1000)
        return samples

    def newcomers(self, stop, out, every=1.0):
        """Until `stop`: a fresh peer connects every `every` seconds, as a new
        user would; `out` gets each one's time to a first answer (ms), or
        None when it failed."""
        while not stop.wait(every):
            t0 = time.perf_counter()
            try:
                with connect(self.url, secret=SECRET, timeout=REQUEST_TIMEOUT) as peer:
                    otp.lookup(peer.root, "hearth.UnixTime", timeout=REQUEST_TIMEOUT)
                out.append((time.perf_counter() - t0) * 1000)
            except Exception as e:
                out.append(None)
                self.newcomer_errors.append(f"{type(e).__name__}: {e}"[:200])


def _attack_once(name):
    """(idle samples, attack samples, server) for one attack on a fresh server."""
    with tempfile.TemporaryDirectory(prefix="hearth-attack-") as tmp:
        server = _Server(tmp)
        stop = gevent.event.Event()
        rt = vm.Runtime()
        try:
            with rt.open_process():
                client = _Client(server.url)
                client.run(0.5)  # warm up
                watcher = gevent.spawn(server.watch, stop)
                idle = client.run(IDLE_SECONDS)
                idle_peak, server.peak = server.peak, 0.0
                failures_before = client.failures
                attacker = subprocess.Popen(
                    [sys.executable, "-m", "benchmarks._attacks", name, server.url,
                     str(ATTACK_SECONDS)], cwd=_ROOT, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True,
                    env=dict(os.environ, HEARTH_SECRET=SECRET))
                joins, joined = gevent.event.Event(), []
                newcomer = vm.spawn(client.newcomers, joins, joined)
                attacked = client.run(ATTACK_SECONDS)
                joins.set()
                vm.monitor(newcomer)
                vm.recv(timeout=REQUEST_TIMEOUT + 5)
                try:
                    said, _ = attacker.communicate(timeout=ATTACK_SECONDS + 60)
                except subprocess.TimeoutExpired:
                    attacker.kill()
                    said, _ = attacker.communicate()
                stop.set()
                watcher.join()
                client.close()
            return {
                "idle_p50": percentile(sorted(idle), 50), "idle_p99": percentile(sorted(idle), 99),
                "p50": percentile(sorted(attacked), 50), "p99": percentile(sorted(attacked), 99),
                "idle_rss": idle_peak, "rss": server.peak, "killed": server.killed,
                "failures": client.failures - failures_before, "requests": len(attacked),
                "alive": server.proc.poll() is None,
                "join_ms": max((j for j in joined if j is not None), default=None),
                "join_failed": sum(j is None for j in joined),
                "join_errors": client.newcomer_errors[:3],
                "attacker": (said or "").strip().splitlines()[-1:] or [""],
            }
        finally:
            stop.set()
            server.stop()
            rt.shutdown(timeout=5)


def _figure(name, runs):
    p99 = median([r["p99"] for r in runs])
    rss = median([r["rss"] for r in runs])
    fig = Figure(
        f"attacks.{name}", p99, "ms p99", "same client, unattacked",
        median([r["idle_p99"] for r in runs]), "lower",
        goal=f"p99 < {P99_GOAL_MS:.0f} ms, peak RSS < {RSS_GOAL_MB:.0f} MB",
        p50=median([r["p50"] for r in runs]), p99=p99,
        baseline_p50=median([r["idle_p50"] for r in runs]),
        baseline_p99=median([r["idle_p99"] for r in runs]), latency_unit="ms",
        round_ratio=median([r["p99"] / r["idle_p99"] for r in runs]),
        extra={
            "peak_rss_mb": rss,
            "idle_rss_mb": median([r["idle_rss"] for r in runs]),
            "failed_requests": sum(r["failures"] for r in runs),
            "requests": sum(r["requests"] for r in runs),
            "server_killed_for_memory": any(r["killed"] for r in runs),
            "server_alive": all(r["alive"] for r in runs),
            "attacker": [r["attacker"][0] for r in runs],
            "newcomer_slowest_ms": max((r["join_ms"] or 0) for r in runs),
            "newcomers_failed": sum(r["join_failed"] for r in runs),
            "newcomer_errors": [e for r in runs for e in r["join_errors"]],
        },
    )
    fig.ok = (p99 < P99_GOAL_MS and rss < RSS_GOAL_MB and fig.extra["server_alive"]
              and not fig.extra["server_killed_for_memory"]
              and fig.extra["failed_requests"] == 0)
    return fig


@benchmark("attacks", repeat=1)
def bench_attacks(repeat):
    """A legitimate client's p99 and the server's peak RSS under each attack."""
    only = [a for a in os.environ.get("HEARTH_ATTACKS", "").split(",") if a]
    figures = []
    for name in only or ATTACKS:
        runs = [_attack_once(name) for _ in range(repeat)]
        fig = _figure(name, runs)
        print(f"  attacks.{name}: p99 {fig.value:.1f} ms (idle {fig.baseline_value:.1f}),"
              f" peak RSS {fig.extra['peak_rss_mb']:.0f} MB,"
              f" {fig.extra['failed_requests']} failed; newcomers: slowest"
              f" {fig.extra['newcomer_slowest_ms']:.0f} ms, {fig.extra['newcomers_failed']}"
              f" failed; {fig.extra['attacker']}",
              file=sys.stderr, flush=True)
        figures.append(fig)
    return figures
