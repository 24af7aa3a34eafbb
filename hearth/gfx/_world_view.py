"""The mirror's renderer side: each entity of the world as a
``hearth.Renderer`` object (docs/world.md, "The mirror").

`RendererView` is the `view` that `hearth.world.run_mirror` drives, in the
mirror's process: ``add`` asks the renderer for an object (a mesh the
client lacks is fetched from its peers by the renderer), ``update`` sends
the new transform as a sink (no round trip), ``remove`` kills the object.
The objects belong to the mirror process (its mailbox 0), so they go with it.
"""

import logging

from hearth import otp, vm

__all__ = ["RendererView"]

log = logging.getLogger("hearth.gfx")

ADD_TIMEOUT = 30.0  # seconds for an add_object whose lumps may come from a peer


class RendererView:
    """Entities shown as renderer objects; `hidden` ids are never shown.
    Every method runs in the mirror's process and may switch."""

    def __init__(self, renderer):
        self.renderer = renderer
        self.objects = {}  # entity id -> object capability
        self.hidden = set()

    def add(self, entity):
        eid = entity["id"]
        if eid in self.hidden or eid in self.objects:
            return
        material = entity.get("material")
        if not isinstance(material, (bytes, bytearray)):
            material = None  # a canvas material is shown white (not drawn on yet)
        try:
            obj = otp.request(self.renderer,
                              ["add_object", entity["mesh"], material, entity["transform"]],
                              [vm.make_capability(vm.MONITOR)], timeout=ADD_TIMEOUT)
        except (otp.CallError, otp.ServiceError) as e:
            log.warning("mirror: entity %d (%r) not shown: %s", eid, entity.get("label"), e)
            return
        if eid in self.hidden:  # hidden while the renderer was answering
            obj.kill()
            obj.release()
            return
        self.objects[eid] = obj

    def update(self, entity):
        obj = self.objects.get(entity["id"])
        if obj is None:
            self.add(entity)
            return
        data, caps = otp.encode(["set_transform", entity["transform"]])
        obj.send(data, caps)

    def remove(self, entity):
        self._drop(entity["id"])

    def hide(self, eid):
        self.hidden.add(eid)
        self._drop(eid)

    def _drop(self, eid):
        obj = self.objects.pop(eid, None)
        if obj is not None:
            obj.kill()
            obj.release()
