"""A resource of the client's scene as a process of its own.

Objects, lights, canvases and debug draws are each a `SceneResource`: a
process that belongs to an owner and takes updates by message. It ends,
and its entry leaves the scene, when its capability is killed, when its
owner's route closes (the owner dies) or when it is destroyed. The factory
that made it puts the entry in the scene before it replies (so the next
frame shows it) and monitors the process too, because a process killed
before it ever ran never runs its own clean-up.

Updates are sinks or requests: a message whose caps[0] has SEND is a
request answered there (``{"ok": nil}`` or an error); a message without
capabilities is a sink, applied silently, its errors logged. The ops are
those of `_service.parse_op`.
"""

import logging

from hearth import vm
from hearth.native._service import INVALID_REQUEST, Service, spawn_service
from hearth.otp import ServiceError, decode
from hearth.vm import KILL, MONITOR, SEND, Down

__all__ = ["SceneResource", "RESOURCE_PERMS", "OWNER_GONE", "owner_of", "ResourceWatch",
           "ResourceFactory"]

log = logging.getLogger("hearth.gfx")

RESOURCE_PERMS = SEND | MONITOR | KILL
OWNER_GONE = ("shutdown", "owner_gone")


def owner_of(request):
    """The owner of what `request` makes: caps[1], else the reply capability;
    it needs MONITOR (the resource lives as long as its route)."""
    owner = request.args[0] if request.args else request.reply_to
    if not owner.permissions & MONITOR:
        where = "caps[1]" if request.args else "the reply capability (no caps[1])"
        raise ServiceError(INVALID_REQUEST, f"the owner, {where}, needs MONITOR: the resource"
                           " lives as long as its route")
    return owner


class SceneResource(Service):
    """Base of the resource processes. Subclasses set `name` and implement
    `handle_request` (return None) and `remove` (take the entry out of the
    scene; called once, never switches)."""

    def __init__(self, owner, scene, rid):
        super().__init__()
        self.scene = scene
        self.rid = rid
        self._owner_ref = owner.monitor()  # a route already closed: Down at once
        owner.release()

    def remove(self):
        raise NotImplementedError

    def serve(self):
        try:
            super().serve()
        finally:
            self.remove()

    def handle_info(self, sig):
        if type(sig) is Down and sig.ref == self._owner_ref:
            sig.cap.release()
            vm.exit(OWNER_GONE)
        super().handle_info(sig)

    def _handle_message(self, sig):
        if sig.caps and sig.caps[0].permissions & SEND:
            return super()._handle_message(sig)
        # A sink update: no one to answer.
        for cap in sig.caps:
            cap.release()
        req = _SinkRequest()
        try:
            req.term = decode(sig.data, ())
            self.handle_request(req)
        except ServiceError as e:
            log.warning("%s (pid %s) dropped an update: %s: %s", self.name, self.proc.pid,
                        e.kind, e.message)
        except Exception:  # noqa: BLE001 - a bad update must not end the resource
            log.exception("%s (pid %s) failed on an update", self.name, self.proc.pid)


class _SinkRequest:
    reply_to = None
    args = ()
    term = None

    def defer(self):
        raise ServiceError(INVALID_REQUEST, "this op needs a reply capability")

    def keep(self, cap):
        pass


class ResourceWatch:
    """A factory's monitors of the resources it made: `spawn` one, and
    `handle_down` removes the entry of one that ended. Switches: never."""

    def __init__(self):
        self._refs = {}  # monitor ref -> remove callable

    def spawn(self, cls, owner, scene, rid, remove):
        cap = spawn_service(cls, owner, scene, rid)
        self._refs[cap.monitor()] = remove
        given = cap.demote(RESOURCE_PERMS)
        cap.release()
        return given

    def handle_down(self, sig):
        """True if `sig` was the Down of one of ours (its entry is removed)."""
        remove = self._refs.pop(sig.ref, None) if type(sig) is Down else None
        if remove is None:
            return False
        sig.cap.release()
        remove()
        return True


class ResourceFactory(Service):
    """Base of the services that make scene resources (the renderer and
    the canvas, debug-draw and terminal factories): it watches what it made
    and removes a resource's scene entry when its process ends."""

    def __init__(self, scene):
        super().__init__()
        self.scene = scene
        self.watch = ResourceWatch()

    def give(self, request, cls, owner, state, rid, remove):
        """Spawn resource `cls` (owned by `owner`, over `state`) and answer
        `request` with its capability; `remove()` runs when it ends.
        Switches: never."""
        cap = self.watch.spawn(cls, owner, state, rid, remove)
        try:
            request.reply(cap)
        finally:
            cap.release()

    def handle_info(self, sig):
        if not self.watch.handle_down(sig):
            super().handle_info(sig)

