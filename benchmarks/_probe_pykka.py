"""Time pykka's `ask` with real OS threads, in a fresh interpreter.

``python -m benchmarks._probe_pykka N`` prints one JSON object with the
seconds N round trips took. Pykka's actors are threads; the benchmark entry
point monkey-patches threads into greenlets, so pykka as its users run it
can only be measured in an interpreter that is not patched: this one must
never import gevent's monkey.
"""

import json
import sys
import time

import pykka


class Echo(pykka.ThreadingActor):
    def on_receive(self, message):
        return message


def time_asks(actor_class, n, timeout=None):
    """Seconds that `n` asks of a fresh `actor_class` took (after up to 1,000
    to warm up), each waiting at most `timeout` seconds (None: for ever,
    pykka's default); the actor is stopped after. Shared with
    `_probe_pykka_gevent`, which runs it on pykka 2's gevent actor."""
    ref = actor_class.start()
    try:
        ask = ref.ask
        for _ in range(min(n, 1000)):  # warm up
            ask(b"x", timeout=timeout)
        t0 = time.perf_counter()
        for _ in range(n):
            ask(b"x", timeout=timeout)
        return time.perf_counter() - t0
    finally:
        ref.stop()


def main(argv):
    n = int(argv[0])
    print(json.dumps({"n": n, "seconds": time_asks(Echo, n)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
