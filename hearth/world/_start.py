"""Starting ``hearth.World``: a start function for a supervisor, and
`start_world`, which `hearth-server` calls beside the other native
services."""

import os

from hearth import otp, vm
from hearth.vm import SEND, Down

from ._limits import Limits
from ._world import WORLD, World

__all__ = ["start_link_world", "start_world"]


def _run(registry, ack, data_dir, limits):
    world = World(registry, data_dir, limits)
    registry.release()
    ack.send(b"")
    ack.release()
    try:
        world.serve()
    finally:
        world.close()


def start_link_world(registry, data_dir, limits):
    """Supervisor start function: spawn the world linked to the caller and
    return once it has read its log and registered its names.

    Raises:
        StartError: the world died while starting (its reason).

    Switches: always.
    """
    proc = vm.current_process()
    mb = proc.create_mailbox()
    try:
        ack = mb.make_capability(SEND)
        cap = vm.spawn_link(_run, registry, ack, data_dir, limits, name=WORLD)
        ack.release()
        ref = cap.monitor(mb)
        sig = mb.recv()
        if type(sig) is Down:
            sig.cap.release()
            raise otp.StartError(f"{WORLD} could not start: {vm.format_reason(sig.reason)}",
                                 sig.reason)
        proc.demonitor(ref, flush=True)
        return cap
    finally:
        mb.destroy()


def start_world(registry, data_dir=None, limits=None):
    """Start ``hearth.World`` under a supervisor linked to the caller and
    register it (``hearth.World`` and ``hearth.World.Admin``).

    Args:
        registry: a registry capability that may register both names.
        data_dir: the runtime's data directory: the world keeps its log in
            ``data_dir/world``. None: the runtime's (`Runtime.data_dir`);
            a runtime without one keeps its world in memory only.
        limits: a `Limits` (default `Limits()`).

    Returns:
        the supervisor's capability.

    Raises:
        StartError: the world could not start (a name taken, say).

    Switches: always.
    """
    if data_dir is None:
        data_dir = vm.current_runtime().data_dir
    world_dir = None if data_dir is None else os.path.join(data_dir, "world")
    spec = otp.ChildSpec(WORLD, start_link_world, args=(registry, world_dir, limits or Limits()),
                         shutdown="brutal_kill")
    return otp.start_link_supervisor([spec], strategy="one_for_one", intensity=3, period=5,
                                     name=f"{WORLD}.sup")
