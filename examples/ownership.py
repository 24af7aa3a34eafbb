"""Ownership via links: a resource dies with its owner, unless handed on.

A "lamp" resource is spawned owned by a worker process. When the worker
dies, so does the lamp. A second lamp is handed on to a keeper before its
first owner dies, and survives; it goes when the keeper goes. A third is
disposed of by its owner.

Run it: ``python examples/ownership.py``. It prints what happens and exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp._codec import decode, encode  # noqa: E402
from hearth.otp._ownership import dispose, spawn_owned, transfer  # noqa: E402


def lamp(color):
    """A resource: prints what it is told; lives until its owner goes."""
    while True:
        sig = vm.recv()
        if type(sig) is vm.Message:
            print(f"  the {color} lamp: {decode(sig.data, sig.caps)}")


def worker(report, keeper):
    """Own two lamps; hand the blue one to `keeper`; report both; wait."""
    red, _ = spawn_owned(lamp, "red", name="red lamp")
    blue, blue_deed = spawn_owned(lamp, "blue", name="blue lamp")
    transfer(blue_deed, keeper)  # blue now dies with the keeper, not with us
    report.send(*encode(("lamps", red, blue)))
    vm.recv()  # until killed


def keeper():
    while True:
        vm.recv()


def wait_down(ref):
    while True:
        sig = vm.recv(timeout=5)
        if type(sig) is vm.Down and sig.ref == ref:
            return sig.reason


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        keeper_cap = vm.spawn(keeper, name="keeper")
        box = vm.create_mailbox()
        owner = vm.spawn(worker, box.make_capability(vm.SEND), keeper_cap.demote(vm.LINK))
        sig = box.recv(timeout=5)
        _, red, blue = decode(sig.data, sig.caps)
        red.send(*encode("on"))
        blue.send(*encode("on"))
        runtime.wait_all_blocked()
        red_watch, blue_watch = red.monitor(), blue.monitor()

        print("killing the worker that owns the red lamp...")
        owner.kill()
        print(f"the red lamp went with it: {wait_down(red_watch)}")
        runtime.wait_all_blocked()
        assert vm.try_recv() is None
        blue.send(*encode("still on"))
        runtime.wait_all_blocked()

        print("killing the keeper, who owns the blue lamp now...")
        keeper_cap.kill()
        print(f"the blue lamp went with it: {wait_down(blue_watch)}")

        green, deed = spawn_owned(lamp, "green")
        green_watch = green.monitor()
        print(f"disposing of the green lamp: {dispose(deed)}")
        assert wait_down(green_watch) == "shutdown"
        print("and its owner (this process) is still here")
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
