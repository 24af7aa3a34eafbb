"""Pub-Sub: window events fanned out to subscribers; a dead one is dropped.

Two subscriber processes and this one subscribe to an event service (as
they would to ``hearth.Window``). Each published event reaches all of
them. One subscriber crashes; the service notices (it monitors every
subscriber) and drops it. Another unsubscribes. A duplicate subscription is
a no-op.

Run it: ``python examples/pubsub.py``. It prints what happens and exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp import decode, encode  # noqa: E402
from hearth.otp._pubsub import (  # noqa: E402
    publish,
    start_pubsub,
    subscribe,
    subscriber_count,
    unsubscribe,
)


def viewer(name, events, done):
    """Subscribe, then print each event; ("crash", name) makes it raise."""
    subscribe(events)
    done.send(*encode(("subscribed", name)))
    while True:
        sig = vm.recv()
        event = decode(sig.data, sig.caps)
        print(f"  {name} got {event}")
        if event == ("crash", name):
            raise RuntimeError(f"{name} crashed on purpose")
        done.send(*encode(("seen", name)))


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        events = start_pubsub()
        done_box = vm.create_mailbox()
        done = done_box.make_capability(vm.SEND)
        viewers = {}
        for name in ("left", "right"):
            cap, ref = vm.spawn_monitor(viewer, name, events, done, name=name)
            viewers[name] = ref
            done_box.recv(timeout=5)
        print("subscribing this process twice:", subscribe(events), subscribe(events))
        print("subscribers:", subscriber_count(events))

        publish(events, ("resized", 800, 600))
        for _ in range(2):
            done_box.recv(timeout=5)
        print("  main got", decode(vm.recv(timeout=5).data))

        print("the left viewer crashes on the next event...")
        publish(events, ("crash", "left"))
        while True:
            sig = vm.recv(timeout=5)
            if type(sig) is vm.Down:
                print(f"  left died: {vm.format_reason(sig.reason)}")
                break
        runtime.wait_all_blocked()
        print("subscribers after its death:", subscriber_count(events))

        print("this process unsubscribes:", unsubscribe(events))
        print("subscribers:", subscriber_count(events))
        publish(events, ("focused", True))
        done_box.recv(timeout=5)
        runtime.wait_all_blocked()
        assert vm.try_recv() is None  # nothing for us any more
        assert subscriber_count(events) == 1
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
