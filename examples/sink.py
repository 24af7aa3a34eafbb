"""Sink: a fire-and-forget log service that survives bad input.

Clients cast terms to the sink or send raw msgpack (as a guest would); the
sink hands each one to its handler. Malformed messages, and terms the
handler chokes on, are logged and dropped; the sink keeps going. A `call`
waits until the sink has caught up.

Run it: ``python examples/sink.py``. It prints what happens and exits 0.
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import sys  # noqa: E402

from hearth import vm  # noqa: E402
from hearth.otp import call, cast, encode  # noqa: E402
from hearth.otp._sink import start_sink  # noqa: E402


def log_line(term):
    """The handler: print a log entry; entries must be maps with a level."""
    print(f"  [{term['level']}] {term.get('text', '')}")


def main():
    # The sink logs what it drops; show it in line with the rest.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stdout, format="  (log) %(name)s: %(message)s"
    )
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        sink = start_sink(log_line, timeout=5)
        print("casting two entries:")
        cast(sink, {"level": "info", "text": "the world started"})
        cast(sink, {"level": "warn", "text": "a lamp flickers"})
        print("sending raw msgpack, as a guest would:")
        sink.send(*encode({"level": "info", "text": "hello from a guest"}))
        print("sending bytes that are not msgpack, and an entry without a level:")
        sink.send(b"\xc1\xc1")
        cast(sink, {"text": "no level"})
        print("a call waits until the sink has caught up:")
        print("  ->", call(sink, {"level": "info", "text": "all caught up"}))
        watch = sink.monitor()
        runtime.wait_all_blocked()
        assert vm.try_recv() is None, "the sink should be alive"
        print("the sink is still running")
        sink.kill()
        assert vm.recv(timeout=5).ref == watch
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
