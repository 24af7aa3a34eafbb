"""Time pykka 2.0.3's `GeventActor` `ask`, in an interpreter of its own.

``<venv>/bin/python benchmarks/_probe_pykka_gevent.py N [TIMEOUT]`` prints
one JSON object with the seconds N round trips took (each ask waiting at
most TIMEOUT seconds, if given). pykka dropped its gevent actor
after 2.x, and the benchmarks' own environment has pykka 4, so this runs in
a virtualenv made on demand by `benchmarks._pykka_gevent` (pykka 2.0.3 and
gevent only; it never imports Hearth). The interpreter is monkey-patched,
as a gevent program using pykka would be.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402

import os  # noqa: E402

import pykka  # noqa: E402
from pykka.gevent import GeventActor  # noqa: E402

# Run by file path in a virtualenv without Hearth: the sibling probe's
# timing loop is imported from this directory.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _probe_pykka import time_asks  # noqa: E402


class Echo(GeventActor):
    def on_receive(self, message):
        return message


def main(argv):
    n = int(argv[0])
    timeout = float(argv[1]) if len(argv) > 1 else None
    seconds = time_asks(Echo, n, timeout)
    print(json.dumps({"n": n, "seconds": seconds, "pykka": pykka.__version__}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
