"""``hearth.Renderer``: lit objects, directional lights, ambient light and
a skybox (docs/protocols.md).

Requests (the envelope of `hearth.native._service`; checked against the
schema in `hearth/otp/protocols/client.toml`):

``["add_object", mesh, material, transform]``
    ``{"op": "add_object", "mesh": id, "material": id?, "transform": m?}``.
    `mesh` and `material` are lump ids (32 bytes of bin; formats in
    `_formats`); material nil is plain white. `transform` is 16 numbers,
    column-major (default identity), or 64 bytes of little-endian float32.
    ``skeleton`` is accepted and not used yet. ok: an object capability.
``["add_directional_light", color, intensity, direction]``
    color ``[r, g, b]``, intensity >= 0, direction ``[x, y, z]`` (non-zero:
    where the light travels). ok: a light capability.
``["set_ambient_lighting", color]``
    ``[r, g, b, a]``; the light is rgb × a. ok: nil.
``["set_skybox", texture]``
    a cube texture lump id, or nil to remove the skybox. ok: nil.

An object or light capability has SEND, MONITOR and KILL. Killing it
removes the object or light (from the next frame once its process has
ended). Updates, as requests or sinks (`_resource`):

object: ``["set_transform", m]``.
light: ``["set_color", [r, g, b]]``, ``["set_intensity", x]``,
``["set_direction", [x, y, z]]``, ``["set_distance", d]`` (accepted; a
directional light has none).

Ownership: an object or light belongs to the route of caps[1] of its
request or, without caps[1], of the reply capability; that capability needs
MONITOR. It is removed when that route closes. Errors: ``invalid_request``,
``not_found`` (a missing lump), ``invalid_lump`` (a malformed one). Decoded
lumps are cached by id, so a thousand objects of one mesh decode it once.
"""

import logging
from collections import OrderedDict

import numpy as np

from hearth import vm

from hearth.native._service import (
    _DEFERRED,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    ServiceError,
)

from ._formats import (
    WHITE_MATERIAL,
    LumpMissing,
    check_lump_id,
    decode_material,
    decode_mesh,
    decode_texture,
    read_lump,
)
from ._math import IDENTITY, check_matrix, check_number, check_vector
from ._resource import ResourceFactory, SceneResource, owner_of
from ._scene import Light, SceneObject

__all__ = ["RENDERER", "Renderer"]

log = logging.getLogger("hearth.gfx")

RENDERER = "hearth.Renderer"
_CACHE = 256  # decoded lumps kept per kind
_FETCH_TRIES = 4  # lumps one request may wait for (mesh, material, its texture, ...)

OPS = {
    "add_object": ("mesh", "material", "transform"),
    "add_directional_light": ("color", "intensity", "direction"),
    "set_ambient_lighting": ("color",),
    "set_skybox": ("texture",),
}
DEFAULTS = {"material": None, "transform": None, "texture": None}


def _direction(value):
    d = check_vector(value, 3, "direction")
    n = float(np.linalg.norm(d))
    if n < 1e-9:
        raise ServiceError(INVALID_REQUEST, "direction must not be zero")
    return (d / n).astype(np.float32)


class _Object(SceneResource):
    name = schema = "hearth.Renderer.object"

    def handle_request(self, request):
        _, fields = self.parse(request)
        obj = self.scene.object(self.rid)
        if obj is not None:
            obj.transform = check_matrix(fields["transform"])

    def remove(self):
        self.scene.remove_object(self.rid)


class _Light(SceneResource):
    name = schema = "hearth.Renderer.light"
    OPS = {"set_color": ("color",), "set_intensity": ("intensity",),
           "set_direction": ("direction",), "set_distance": ("distance",)}

    def handle_request(self, request):
        op, fields = self.parse(request)
        light = self.scene.lights.get(self.rid)
        if light is None:
            return
        if op == "set_color":
            light.color = check_vector(fields["color"], 3, "color")
        elif op == "set_intensity":
            light.intensity = check_number(fields["intensity"], "intensity", low=0.0)
        elif op == "set_direction":
            light.direction = _direction(fields["direction"])
        else:
            check_number(fields["distance"], "distance", low=0.0)

    def remove(self):
        self.scene.lights.pop(self.rid, None)


class _LumpCache:
    """Decoded lumps by id, least recently used dropped first."""

    def __init__(self, size=_CACHE):
        self._items = OrderedDict()
        self._size = size

    def get(self, key, make):
        item = self._items.get(key)
        if item is None:
            item = make()
            self._items[key] = item
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return item


class Renderer(ResourceFactory):
    """``hearth.Renderer`` over `scene` (see the module docstring)."""

    name = schema = RENDERER

    def __init__(self, scene):
        super().__init__(scene)
        self.store = self.proc.runtime.lumps
        self.meshes = _LumpCache()
        self.textures = _LumpCache()
        self.cubes = _LumpCache()
        self.materials = _LumpCache()
        self._fetching = {}  # monitor ref of a fetch -> (deferred request, tries, lump id)

    # -- lumps -------------------------------------------------------------------------------

    def mesh(self, value):
        lid = check_lump_id(value, "mesh")
        return self.meshes.get(lid, lambda: decode_mesh(read_lump(self.store, lid, "mesh"), lid))

    def texture(self, value, cube=False):
        lid = check_lump_id(value, "texture")
        cache = self.cubes if cube else self.textures
        return cache.get(lid, lambda: decode_texture(read_lump(self.store, lid, "texture"),
                                                     lid, cube=cube))

    def material(self, value):
        if value is None:
            return WHITE_MATERIAL
        lid = check_lump_id(value, "material")
        return self.materials.get(lid, lambda: decode_material(
            read_lump(self.store, lid, "material"), self.texture))

    # -- lumps from peers ----------------------------------------------------------------------

    def _fetch(self, request, lid, tries):
        """Park `request` while a helper process fetches lump `lid` from the
        runtime's peers (rule N6); `handle_info` tries it again."""
        if request._state is not _DEFERRED:
            request.defer()
            for cap in request.args:
                request.keep(cap)
        cap, ref = vm.spawn(_fetch_lump, lid, monitor=True, name="hearth.Renderer.fetch")
        cap.release()
        self._fetching[ref] = (request, tries, lid)

    def _retry(self, request, tries, fetched, lid):
        try:
            if not fetched:
                request.fail(NOT_FOUND, f"no lump {lid.hex()[:16]}… here nor on a peer")
                return
            try:
                value = self._handle(request)
            except LumpMissing as e:
                if tries < _FETCH_TRIES:
                    self._fetch(request, e.lump_id, tries + 1)
                    return
                raise
            if not request.answered:
                request.reply(value)
        except ServiceError as e:
            if not request.answered:
                request.fail(e.kind, e.message, e.details)
        except Exception as e:  # noqa: BLE001 - a bug must not stop the service
            log.exception("hearth.Renderer failed on a request after fetching a lump")
            if not request.answered:
                request.fail(INTERNAL_ERROR, f"{type(e).__name__}: {e}")
        for cap in request.args:
            cap.release()

    # -- requests ----------------------------------------------------------------------------

    def handle_request(self, request):
        """Handle a request; one naming a lump this runtime lacks waits
        while the lump is fetched from a peer, when there are peers."""
        try:
            return self._handle(request)
        except LumpMissing as e:
            if not self.proc.runtime.lump_fetchers:
                raise
            self._fetch(request, e.lump_id, 1)
            return None

    def _handle(self, request):
        op, fields = self.parse(request)
        scene = self.scene
        if op == "add_object":
            mesh = self.mesh(fields["mesh"])
            material = self.material(fields["material"])
            transform = (IDENTITY.reshape(16).copy() if fields["transform"] is None
                         else check_matrix(fields["transform"]))
            owner = owner_of(request)
            rid = scene.new_id()
            scene.add_object(rid, SceneObject(mesh, material, transform))
            return self.give(request, _Object, owner, scene, rid,
                             lambda: scene.remove_object(rid))
        if op == "add_directional_light":
            color = check_vector(fields["color"], 3, "color")
            intensity = check_number(fields["intensity"], "intensity", low=0.0)
            direction = _direction(fields["direction"])
            owner = owner_of(request)
            rid = scene.new_id()
            scene.lights[rid] = Light(color, intensity, direction)
            return self.give(request, _Light, owner, scene, rid,
                             lambda: scene.lights.pop(rid, None))
        if op == "set_ambient_lighting":
            rgba = check_vector(fields["color"], 4, "color")
            scene.ambient = (rgba[:3] * rgba[3]).astype(np.float32)
            return None
        texture = fields["texture"]
        scene.skybox = None if texture is None else self.texture(texture, cube=True)
        return None

    def handle_info(self, sig):
        if type(sig) is vm.Down and sig.ref in self._fetching:
            request, tries, lid = self._fetching.pop(sig.ref)
            sig.cap.release()
            self._retry(request, tries, sig.reason == vm.NORMAL, lid)
            return
        super().handle_info(sig)


def _fetch_lump(lid):
    """Ends ``normal`` once the store holds lump `lid` (fetched from a
    peer), ``("shutdown", "no such lump")`` if no peer had it."""
    if not vm.current_runtime().fetch_lump(lid):
        vm.exit(("shutdown", "no such lump"))
