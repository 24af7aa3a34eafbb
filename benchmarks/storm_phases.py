"""The crash storm phase by phase, Hearth's and the plain monitor's.

``python -m benchmarks.storm_phases [--rounds N] [--crashes N]``

`crash_storm` times the whole storm; this splits it, in CPU µs a crash of
this process (`time.process_time`), into the sends of ``b"crash"``, the
crashes (up to the monitor's first ``Down``, which wakes behind every
crasher already runnable), and the monitor taking every ``Down`` (or, on
the plain side, every ``Queue.get``). Each round runs both sides, in
alternating order; it prints each round and the median ratio of the
totals. Nothing here is a `bench_*` module: ``python -m benchmarks`` never
runs it.
"""

import argparse
import statistics
import time

import gevent

from benchmarks.bench_kernel import hearth_monitored, plain_monitored
from hearth import vm

_cpu = time.process_time


def hearth(n):
    """(sends, crashes, monitor) CPU seconds of a storm of `n` crashes."""
    rt = vm.Runtime()
    try:
        with rt.open_process():
            caps = hearth_monitored(n)
            send, recv, Down, is_error = vm.send, vm.recv, vm.Down, vm.is_error
            t0 = _cpu()
            for cap in caps:
                send(cap, b"crash")
            t1 = _cpu()
            first = None
            downs = errors = 0
            while downs < n:
                sig = recv()
                if first is None:
                    first = _cpu()
                if type(sig) is Down:
                    downs += 1
                    errors += is_error(sig.reason)
                    sig.cap.release()
            t2 = _cpu()
            assert errors == n, (errors, n)
    finally:
        rt.shutdown(timeout=300)
    return t1 - t0, first - t1, t2 - first


def plain(n):
    """The same for `bench_kernel`'s plain try/except monitor."""
    downs, queues, greenlets = plain_monitored(n)
    t0 = _cpu()
    for q in queues:
        q.put(b"crash")
    t1 = _cpu()
    first = None
    errors = 0
    for _ in range(n):
        reason = downs.get()
        if first is None:
            first = _cpu()
        errors += reason[0] == "_Crash"
    t2 = _cpu()
    assert errors == n, (errors, n)
    gevent.joinall(greenlets)
    return t1 - t0, first - t1, t2 - first


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storm_phases")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--crashes", type=int, default=100_000)
    args = parser.parse_args(argv)
    n = args.crashes
    print(f"kernel compiled: {vm.COMPILED}; CPU µs a crash: sends, crashes, monitor")
    ratios = []
    for i in range(args.rounds):
        sides = (hearth, plain) if i % 2 == 0 else (plain, hearth)
        got = {fn.__name__: fn(n) for fn in sides}
        h, p = got["hearth"], got["plain"]
        ratios.append(sum(h) / sum(p))
        print(f"round {i}: hearth {' '.join(f'{x / n * 1e6:.2f}' for x in h)}"
              f" | plain {' '.join(f'{x / n * 1e6:.2f}' for x in p)}"
              f" | ratio {ratios[-1]:.3f}", flush=True)
    print(f"median ratio of the totals: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
