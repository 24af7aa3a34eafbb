"""Build the C guests of this directory with the SDK and run them.

Run it: ``.venv/bin/python examples/guests/run.py``. It needs the guest toolchain
(``.venv/bin/pip install -e '.[sdk]'`` in a clone), prints what happens and exits 0.

- ``ping_pong.c``: a guest answering pings; Python sends a few.
- ``counter.c``: a counter service that registers itself in a registry;
  Python finds it there and sends it requests (docs/protocols.md's convention).
- ``workers.c``: a guest that spawns linked children by index, traps their
  exits, and reports their results and exit reasons.
"""

import pathlib
import sys
import tempfile

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp import decode, lookup, request, start_registry  # noqa: E402
from hearth.vm._wasm import load_module, spawn_guest  # noqa: E402
from kindling.sdk import ToolchainMissing, build  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def ping_pong(module):
    pinger, ref = spawn_guest(module, monitor=True)
    replies = vm.create_mailbox()
    reply_to = replies.make_capability(vm.SEND)
    for i in range(3):
        pinger.send(b"ping %d" % i, [reply_to])
        print("ping-pong:", f"ping {i} ->", replies.recv(timeout=10).data.decode())
    pinger.send(b"")  # an empty message ends it
    assert vm.recv(timeout=10).reason == vm.NORMAL


def counter(module):
    registry = start_registry()
    service, ref = spawn_guest(module, registry, monitor=True)
    # It registers itself when it starts: once every process is blocked
    # (the guest in its receive loop), the name is there.
    vm.current_runtime().wait_all_blocked()
    counter = lookup(registry, "counter")
    for n in (5, 10, -3):
        print("counter: add", n, "->", request(counter, {"op": "add", "n": n}))
    print("counter: get ->", request(counter, {"op": "get"}))
    try:
        request(counter, {"op": "divide"})
    except Exception as e:  # the service answers a bad request with an error
        print("counter: divide ->", type(e).__name__, e)
    request(counter, {"op": "stop"})
    assert vm.recv(timeout=10).reason == vm.NORMAL
    print("counter: stopped; registered now:", lookup(registry, "counter"))


def workers(module):
    reports = vm.create_mailbox()
    boss, ref = spawn_guest(module, reports.make_capability(vm.SEND), monitor=True)
    report = decode(reports.recv(timeout=10).data)
    for n, square in sorted(report["squares"]):
        print(f"workers: {n} squared is {square}")
    for reason in report["exits"]:
        print("workers: a worker exited:", reason[2] if vm.is_error(reason) else reason)
    assert vm.recv(timeout=10).reason == vm.NORMAL


def main():
    with tempfile.TemporaryDirectory() as out:
        try:
            wasm = {name: build(HERE / f"{name}.c", pathlib.Path(out) / f"{name}.wasm")
                    for name in ("ping_pong", "counter", "workers")}
        except ToolchainMissing as e:
            print(e, file=sys.stderr)
            return 2
        runtime = vm.Runtime()
        with runtime.open_process(name="main"):
            for name, run in (("ping_pong", ping_pong), ("counter", counter),
                              ("workers", workers)):
                run(load_module(wasm[name].read_bytes()))
        runtime.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
