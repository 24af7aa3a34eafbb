"""A small supervision tree, a crash, and the restart (rule O5).

    top (one_for_one)
    ├── db            a worker
    └── workers (rest_for_one)
        ├── parser    a worker
        └── writer    a worker

The parser crashes on bad input; its supervisor restarts it and, because
the strategy is rest_for_one, the writer started after it too. The db is
untouched. Run it: ``python examples/supervisor_tree.py``. It prints what
happens and exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp._supervisor import (  # noqa: E402
    ChildSpec,
    count_children,
    start_link,
    supervisor_spec,
    which_children,
)


def worker(name):
    """Wait for work; a message that does not decode as UTF-8 is a crash."""
    vm.set_metadata(name=name)
    while True:
        sig = vm.recv()
        if type(sig) is vm.Message:
            print(f"  {name} got {sig.data.decode()!r}")


def show(sup, indent=""):
    for child in which_children(sup):
        state = f"route {child.child.route_id}" if type(child.child) is vm.Cap else child.child
        print(f"{indent}{child.id:<8} {child.type:<10} {state}, restarts: {child.restarts}")
        if child.type == "supervisor":
            show(child.child, indent + "    ")


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main", trap_exit=True):
        top = start_link(
            [
                ChildSpec("db", (worker, ("db",))),
                supervisor_spec(
                    "workers",
                    [
                        ChildSpec("parser", (worker, ("parser",))),
                        ChildSpec("writer", (worker, ("writer",))),
                    ],
                    strategy="rest_for_one",
                    intensity=3,
                    period=5,
                ),
            ],
            strategy="one_for_one",
            name="top",
        )
        print("the tree:")
        show(top)

        workers = which_children(top)[1].child
        parser = which_children(workers)[0].child
        parser.send(b"hello")
        runtime.wait_all_blocked()
        ref = parser.monitor()
        print("sending the parser bytes that are not UTF-8...")
        parser.send(b"\xff\xfe")
        down = vm.recv(timeout=5)
        assert type(down) is vm.Down and down.ref == ref
        print(f"the parser died: {vm.format_reason(down.reason)}")
        runtime.wait_all_blocked()

        print("after the restart:")
        show(top)
        counts = count_children(workers)
        print(f"workers' supervisor: {counts}")
        assert counts["restarts"] == 1 and counts["active"] == 2

        vm.exit(top, "shutdown")  # from its parent: stop the whole tree, in reverse order
        sig = vm.recv(timeout=5)
        print(f"the tree stopped: {sig.reason}")
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
