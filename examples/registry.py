"""A registry, a service registered in it, a client, and a death (R1, R2).

Run it: ``python examples/registry.py``. It prints what happens and exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp._registry import start_registry  # noqa: E402
from hearth.otp._registry_client import lookup, register, registered, registry_view  # noqa: E402


def echo_service():
    """Answer each message with the same bytes, through caps[0]."""
    while True:
        msg = vm.recv()
        if type(msg) is vm.Message and msg.caps:
            msg.caps[0].send(b"echo: " + msg.data)
        for cap in getattr(msg, "caps", ()):
            cap.release()


def client(registry, report):
    """Find the echo service by name and use it."""
    echo = lookup(registry, "echo")
    reply_box = vm.create_mailbox()
    echo.send(b"hello", [reply_box.make_capability(vm.SEND)])
    report.send(reply_box.recv(timeout=5).data)


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        registry = start_registry()
        service = vm.spawn(echo_service, name="echo")
        register(registry, "echo", service.demote(vm.SEND))
        print("registered:", registered(registry))

        # Clients get a read-only view: they can look names up, never take them.
        read_only = registry_view(registry, read_only=True)
        _, ref = vm.spawn_monitor(client, read_only, vm.make_capability(vm.SEND))
        print("client got:", vm.recv(timeout=5).data.decode())
        assert vm.recv(timeout=5).ref == ref  # the client finished

        watch = service.monitor()
        service.kill()
        down = vm.recv(timeout=5)
        assert down.ref == watch
        # R2: by the time anyone sees the Down, the name is gone.
        print("service died:", down.reason, "| lookup now:", lookup(registry, "echo"))
        print("registered:", registered(registry))
        assert lookup(registry, "echo") is None
    runtime.shutdown()


if __name__ == "__main__":
    main()
