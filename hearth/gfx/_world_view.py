"""The mirror's renderer side: each entity of the world as a
``hearth.Renderer`` object, with its label above it (docs/world.md, "The
mirror").

`RendererView` is the `view` that `hearth.world.run_mirror` drives, in the
mirror's process: ``add`` asks the renderer for an object (a mesh or
material the client lacks is fetched from its peers by the renderer),
``update`` sends the new transform as a sink (no round trip) and, when the
material changed (a canvas painted again), makes a new object before
killing the old one, ``remove`` kills the object. With a canvas factory,
an entity with a label gets one (`hearth.gfx._label.make_label`), kept
above it and redrawn when the label changes. The objects and labels
belong to the mirror process (its mailbox 0), so they go with it.
"""

import logging

from hearth import otp, vm

from ._label import above, make_label

__all__ = ["RendererView"]

log = logging.getLogger("hearth.gfx")

ADD_TIMEOUT = 30.0  # seconds for an add_object whose lumps may come from a peer


class _Shown:
    __slots__ = ("obj", "material", "label", "text")

    def __init__(self, obj, material):
        self.obj = obj
        self.material = material
        self.label = None
        self.text = None


class RendererView:
    """Entities shown as renderer objects; `hidden` ids are never shown.
    Every method runs in the mirror's process and may switch.

    Args:
        renderer: the ``hearth.Renderer`` capability.
        texts: the ``hearth.text.TextFactory`` capability, for the labels;
            None: no labels.
    """

    def __init__(self, renderer, texts=None):
        self.renderer = renderer
        self.texts = texts
        self.shown = {}  # entity id -> _Shown
        self.hidden = set()

    @property
    def objects(self):
        """Entity id -> its object's capability."""
        return {eid: s.obj for eid, s in self.shown.items()}

    def _object(self, entity, material):
        try:
            return otp.request(self.renderer,
                               ["add_object", entity["mesh"], material, entity["transform"]],
                               [vm.make_capability(vm.MONITOR)], timeout=ADD_TIMEOUT)
        except (otp.CallError, otp.ServiceError) as e:
            log.warning("mirror: entity %d (%r) not shown: %s", entity["id"],
                        entity.get("label"), e)
            return None

    def add(self, entity):
        eid = entity["id"]
        if eid in self.hidden or eid in self.shown:
            return
        material = _material(entity)
        obj = self._object(entity, material)
        if obj is None:
            return
        if eid in self.hidden or eid in self.shown:  # hidden or shown while waiting
            obj.kill()
            obj.release()
            return
        self.shown[eid] = _Shown(obj, material)
        self._label(self.shown[eid], entity)

    def update(self, entity):
        shown = self.shown.get(entity["id"])
        if shown is None:
            self.add(entity)
            return
        material = _material(entity)
        if material != shown.material:
            # A new look (a canvas painted again): the new object first, so
            # the entity never blinks out; the old one stays if it fails.
            obj = self._object(entity, material)
            if obj is not None and self.shown.get(entity["id"]) is shown:
                shown.obj.kill()
                shown.obj.release()
                shown.obj, shown.material = obj, material
            elif obj is not None:  # removed while waiting
                obj.kill()
                obj.release()
                return
        data, caps = otp.encode(["set_transform", entity["transform"]])
        shown.obj.send(data, caps)
        self._label(shown, entity)

    def _label(self, shown, entity):
        """Make, redraw, move or take away the entity's label."""
        if self.texts is None:
            return
        text = entity.get("label") or None
        where = above(entity["transform"])
        if text != shown.text:
            if shown.label is not None:
                shown.label.kill()
                shown.label = None
            shown.text = text
            if text is not None:
                try:
                    shown.label = make_label(self.texts, text, where)
                except (otp.CallError, otp.ServiceError) as e:
                    log.warning("mirror: the label of entity %d not shown: %s",
                                entity["id"], e)
                    shown.text = None
                    return
                if self.shown.get(entity["id"]) is not shown:  # removed meanwhile
                    shown.label.kill()
                return
        if shown.label is not None:
            shown.label.place(where)

    def remove(self, entity):
        self._drop(entity["id"])

    def hide(self, eid):
        self.hidden.add(eid)
        self._drop(eid)

    def _drop(self, eid):
        shown = self.shown.pop(eid, None)
        if shown is not None:
            shown.obj.kill()
            shown.obj.release()
            if shown.label is not None:
                shown.label.kill()


def _material(entity):
    material = entity.get("material")
    if not isinstance(material, (bytes, bytearray)):
        return None  # a capability material is shown white: no client can read it
    return bytes(material)
