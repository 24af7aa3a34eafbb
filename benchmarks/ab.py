"""A/B: `call` or the kernel ping-pong, an older revision against the work tree.

``python -m benchmarks.ab REV [call|pingpong] [--rounds N] [--trips N] [--pykka]``

On a shared machine the wall clock of one run swings with the other jobs;
this compares two trees in the same run instead. ``git archive REV hearth``
is unpacked into a temporary directory; then, round after round, a fresh
interpreter times the loop on the old tree and another on this one (the
order alternating), each in CPU seconds of its own process
(`time.process_time`), which the machine's other load hardly inflates.
With ``--pykka``, pykka 2.0.3's `GeventActor` `ask` is timed in the same
rounds (its own interpreter, as `benchmarks._pykka_gevent` makes it).

It prints each round and, at the end, the medians and the median of the
per-round ratios (new over old, and pykka's time over each tree's: the
``call.vs_pykka`` ratio in CPU time). Nothing here is a `bench_*` module:
``python -m benchmarks`` never runs it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The timed loop, run as ``python -c`` in a fresh interpreter whose
# PYTHONPATH puts the tree under test first. One JSON line: µs per trip.
_LOOP = r"""
import gc, json, sys, time
import hearth
from hearth import otp, vm
def hearth_file():
    return hearth.__file__
kind, n = sys.argv[1], int(sys.argv[2])

class Echo(otp.GenServer):
    def handle_call(self, request, from_, state):
        return ("reply", request, state)

def echo(reply):
    recv = vm.recv
    while True:
        reply.send(recv().data)

rt = vm.Runtime()
with rt.open_process():
    if kind == "call":
        server, call = otp.start_server(Echo), otp.call
        def trip():
            call(server, b"x")
    else:
        peer, recv = vm.spawn(echo, vm.make_capability(vm.SEND)), vm.recv
        def trip():
            peer.send(b"x")
            recv()
    for _ in range(1000):
        trip()
    gc.collect()
    t0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        trip()
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
rt.shutdown()
print(json.dumps({"cpu_us": cpu / n * 1e6, "wall_us": wall / n * 1e6}))
"""

_PYKKA_LOOP = r"""
from gevent import monkey; monkey.patch_all()
import json, sys, time
from pykka.gevent import GeventActor

class Echo(GeventActor):
    def on_receive(self, message):
        return message

n = int(sys.argv[1])
ref = Echo.start()
ask = ref.ask
for _ in range(1000):
    ask(b"x")
t0, w0 = time.process_time(), time.perf_counter()
for _ in range(n):
    ask(b"x")
cpu, wall = time.process_time() - t0, time.perf_counter() - w0
ref.stop()
print(json.dumps({"cpu_us": cpu / n * 1e6, "wall_us": wall / n * 1e6}))
"""


def _run(argv, env=None, cwd=None):
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=True,
                         timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _tree(path, kind, trips):
    # ``-c`` puts the working directory first on the path: the tree's own.
    env = dict(os.environ, PYTHONPATH=path)
    return _run([sys.executable, "-c", _LOOP + "\nassert hearth_file().startswith(sys.argv[3])",
                 kind, str(trips), path], env, cwd=path)


def _pykka(trips):
    from . import _pykka_gevent

    if not _pykka_gevent._install():
        raise SystemExit(_pykka_gevent.reason())
    return _run([_pykka_gevent._python(), "-c", _PYKKA_LOOP, str(trips)])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("rev", help="the old revision (anything `git archive` takes)")
    parser.add_argument("kind", nargs="?", default="call", choices=("call", "pingpong"))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--trips", type=int, default=40_000)
    parser.add_argument("--pykka", action="store_true", help="time pykka's GeventActor too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hearth-ab-") as old:
        archive = subprocess.run(["git", "archive", args.rev, "hearth"], cwd=_ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        sides = {"old": lambda: _tree(old, args.kind, args.trips),
                 "new": lambda: _tree(_ROOT, args.kind, args.trips)}
        if args.pykka:
            sides["pykka"] = lambda: _pykka(args.trips)
        rows = []
        for r in range(args.rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            row = {name: sides[name]() for name in order}
            rows.append(row)
            print(f"round {r}: " + "  ".join(f"{k} {row[k]['cpu_us']:.2f} us"
                                             for k in sides), flush=True)

    def med(xs):
        return statistics.median(xs)

    for k in sides:
        print(f"{k}: median {med([row[k]['cpu_us'] for row in rows]):.3f} us CPU a trip"
              f" (wall {med([row[k]['wall_us'] for row in rows]):.3f})")
    ratio = med([row["new"]["cpu_us"] / row["old"]["cpu_us"] for row in rows])
    speedup = med([row["old"]["cpu_us"] / row["new"]["cpu_us"] for row in rows])
    print(f"new / old, CPU: {ratio:.3f} (x{speedup:.3f} faster)")
    if args.pykka:
        for k in ("old", "new"):
            ratio = med([row["pykka"]["cpu_us"] / row[k]["cpu_us"] for row in rows])
            wall = med([row["pykka"]["wall_us"] / row[k]["wall_us"] for row in rows])
            print(f"pykka / {k} (vs_pykka): CPU {ratio:.3f}, wall {wall:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
