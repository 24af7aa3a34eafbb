"""The doors of ``hearth.World`` that are not its own mailboxes: one
forwarder process per entity, whose capability is the right to change
that entity; and where a capability came from (this runtime, or a peer
connection), for the bounds per peer.

Nothing here switches except the forwarder's loop.
"""

import msgpack

from hearth import vm
from hearth.vm import Down, Message

__all__ = ["origin", "describe", "Forwarded", "forward"]


def origin(cap):
    """The connection a capability came through (its carrier), or None for
    a route of this runtime.

    Bounds per peer need to know which peer a capability belongs to
    (`hearth.vm.carrier_of`).
    """
    return vm.carrier_of(cap)


class Forwarded:
    """A request an entity's forwarder passed on: the original data and
    caps, as `Service._handle_message` reads a `Message`."""

    __slots__ = ("data", "caps")

    def __init__(self, data, caps):
        self.data = data
        self.caps = caps


def forward(world, entity_id, name):
    """An entity's forwarder: passes every message on to the world's
    internal mailbox as ``[entity_id, data]`` with the same caps; exits when
    the world goes (a monitor on `world`)."""
    vm.set_metadata(description=f"the door of entity {entity_id} of {name}")
    world.monitor()
    while True:
        sig = vm.recv()
        if type(sig) is Message:
            try:
                world.send(msgpack.packb((entity_id, sig.data), use_bin_type=True), sig.caps)
            finally:
                for cap in sig.caps:
                    cap.release()
        else:
            sig.cap.release()
            if type(sig) is Down:
                return  # the world is gone: so is this entity


def describe(owner):
    where = "peer route" if origin(owner) is not None else "route"
    return f"{where} {owner.route_id}"
