"""Measure resident memory per idle process, in a fresh interpreter.

``python -m benchmarks._probe_memory {hearth,gevent} N`` parks N processes (or
greenlets) and prints one JSON object with the bytes of RSS each one costs.
The `memory` benchmark runs it in a subprocess: in the parent, memory freed
by an earlier benchmark would be reused and shrink the figure.
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.queue import Queue  # noqa: E402

from hearth import vm  # noqa: E402

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """Resident set size of this OS process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _idle():
    vm.recv()


def hearth(n):
    """N processes spawned by an attached process (which keeps their
    capabilities), each blocked in `vm.recv()`."""
    rt = vm.Runtime()
    with rt.open_process():
        gc.collect()
        before = rss_bytes()
        caps = [vm.spawn(_idle) for _ in range(n)]
        rt.wait_all_blocked(timeout=300)
        gc.collect()
        after = rss_bytes()
        assert len(rt) == n + 1, len(rt)
        del caps
    rt.shutdown(timeout=300)
    return before, after, None


def _parked(q, started):
    started[0] += 1
    q.get()


def raw_gevent(n):
    """N gevent greenlets, each blocked on its own `Queue.get()` (a queue
    apiece, as each Hearth process has its own mailbox)."""
    started = [0]
    gc.collect()
    before = rss_bytes()
    queues = [Queue() for _ in range(n)]
    greenlets = [gevent.spawn(_parked, q, started) for q in queues]
    while started[0] < n:
        gevent.sleep(0.01)
    gc.collect()
    after = rss_bytes()
    # Killing 100,000 greenlets takes seconds and measures nothing: main()
    # keeps them parked and leaves with os._exit.
    return before, after, greenlets


def main(argv):
    kind, n = argv[0], int(argv[1])
    before, after, _parked_greenlets = {"hearth": hearth, "gevent": raw_gevent}[kind](n)
    print(json.dumps({"kind": kind, "n": n, "rss_before": before, "rss_after": after,
                      "bytes_per_process": (after - before) / n}), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
