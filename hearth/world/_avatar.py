"""A client's avatar: an entity of its own in the world that follows its
camera (docs/world.md, "Avatars").

`run_avatar` adds the entity (owned by the avatar process's own mailbox 0,
so the entity leaves the world with the process, or with the connection it
was added through) at the name's start place (`_places`) or the camera's
pose, then sends the camera's pose as ``update``s, at most
`rate` a second and only when it changed. When the world goes away (a lost
connection) it finds it again and adds a new avatar there.

Layer 3: imports `hearth.vm` and `hearth.otp`; the pose comes from a
callable the client passes in (the window's camera), never from `hearth.gfx`.
"""

import logging

from hearth import otp, vm

from ._client import add, update
from ._places import start_pose

__all__ = ["MAX_RATE", "run_avatar"]

log = logging.getLogger("hearth.world")

MAX_RATE = 20.0  # pose updates a second, at most
_ERRORS = (otp.CallError, otp.ServiceError, otp.RegistryError)


def run_avatar(find_world, name, mesh, pose=None, mirror=None, rate=MAX_RATE, retry=0.5,
               material=None, start=None):
    """Process body: keep an avatar named `name` (its ``label``) in the world.

    Args:
        find_world: called in this process (may switch): a capability of
            ``hearth.World``, or None while there is none (not connected).
        name: the label (at most 200 characters).
        mesh: the mesh lump id (32 bytes), in this runtime's lump store so
            others can fetch it.
        pose: None (the avatar stays where it was added, at `start`), or
            a callable (may switch) giving the pose as 16 numbers,
            column-major, camera to world; None from it means "unknown".
        mirror: None, or the mirror's capability (SEND): it is told
            ``{"hide": id}`` so the client does not draw its own avatar
            around its camera.
        rate: pose updates a second, at most (capped at `MAX_RATE`).
        retry: seconds between looks for a world that is not there.
        material: the material lump id, or None (white).
        start: the transform until a pose is known (16 numbers); None:
            the name's own start place (`start_pose`), so clients don't
            start inside each other.

    Switches: always; runs until killed.
    """
    vm.set_metadata(description=f"the avatar {name!r}")
    period = 1.0 / min(float(rate), MAX_RATE)
    start = tuple(float(x) for x in (start if start is not None else start_pose(name)))
    while True:
        try:
            world = find_world()
        except _ERRORS as e:
            log.debug("avatar: no world yet: %s", e)
            world = None
        if world is None:
            vm.recv(timeout=retry)
            continue
        ref = world.monitor()
        last = _pose(pose) or start
        try:
            eid, entity = add(world, vm.make_capability(vm.MONITOR), mesh, transform=last,
                              material=material, label=name)
        except _ERRORS as e:
            log.warning("avatar: the world refused %r: %s", name, e)
            vm.demonitor(ref, flush=True)
            world.release()
            vm.recv(timeout=retry * 4)
            continue
        log.info("avatar: %r is entity %d", name, eid)
        if mirror is not None:
            data, caps = otp.encode({"hide": eid})
            mirror.send(data, caps)
        _follow(world, ref, entity, pose, last, period)
        entity.release()
        world.release()


def _pose(pose):
    if pose is None:
        return None
    try:
        value = pose()
    except _ERRORS as e:
        log.debug("avatar: no pose: %s", e)
        return None
    return None if value is None else tuple(float(x) for x in value)


def _follow(world, ref, entity, pose, last, period):
    """Send the pose every `period` seconds while it changes, until the
    world goes away. Switches: always."""
    while True:
        sig = vm.recv(timeout=period if pose is not None else None)
        if sig is None:
            now = _pose(pose)
            if now is not None and now != last:
                try:
                    update(entity, transform=now)
                except _ERRORS as e:
                    log.warning("avatar: the update failed: %s", e)
                    vm.demonitor(ref, flush=True)
                    return
                last = now
            continue
        if type(sig) is vm.Down:
            sig.cap.release()
            if sig.ref == ref:
                log.warning("avatar: the world went away (%s)", vm.format_reason(sig.reason))
                return
            continue
        for cap in getattr(sig, "caps", None) or ():
            cap.release()
