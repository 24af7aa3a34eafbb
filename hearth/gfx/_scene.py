"""The scene: what the client's services have asked to be drawn.

The renderer, canvas and debug-draw services are processes of their own;
each resource (an object, a light, a canvas, a debug draw) is a process
too, so killing its capability or the death of its owner ends it. They all
write into one `Scene`, a plain Python structure that the window's frame
loop reads to draw. It is the client's ETS table: shared by the native
services of one OS process, never reached by guests, and only ever touched
between greenlet switches (nothing here switches), so no lock is needed.
OpenGL is touched only by the frame loop (`gl._draw`), which uploads what
changed since the last frame.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np

from ._math import IDENTITY

__all__ = ["Scene", "Camera", "SceneObject", "Light", "Canvas", "DebugDraw", "MAX_LIGHTS"]

MAX_LIGHTS = 8  # directional lights the shader takes; more are kept, the first 8 drawn


@dataclass
class Camera:
    vfov: float = 60.0  # degrees
    near: float = 0.1
    view: np.ndarray = field(default_factory=lambda: IDENTITY.reshape(16).copy())


class _Placed:
    """A `transform` ((16,) float32, column-major) whose data pointer the
    frame loop's raw GL calls use (`transform_ptr`)."""

    __slots__ = ("_transform", "transform_ptr")

    @property
    def transform(self):
        return self._transform

    @transform.setter
    def transform(self, matrix):
        m = np.ascontiguousarray(matrix, dtype=np.float32)
        self._transform, self.transform_ptr = m, m.ctypes.data


class SceneObject(_Placed):
    """A mesh drawn with a material at a transform ((16,) float32,
    column-major). The data pointers of the transform and the albedo are
    kept for the frame loop's raw GL calls (`gl._fast`)."""

    __slots__ = ("mesh", "material", "albedo_ptr")

    def __init__(self, mesh, material, transform):
        self.mesh = mesh
        self.material = material
        self.albedo_ptr = material.albedo.ctypes.data
        self.transform = transform


@dataclass(eq=False)
class Light:
    color: np.ndarray      # (3,) float32
    intensity: float
    direction: np.ndarray  # (3,) float32, normalized: where the light travels


class Canvas(_Placed):
    """A canvas: the unit quad [-1, 1]² placed by `transform`, showing
    `pixels` ((height, width, 4) uint8, row 0 at the top)."""

    __slots__ = ("pixels", "linear", "dirty", "reallocate")

    def __init__(self, transform, pixels, linear=False):
        self.transform = transform
        self.pixels = pixels
        self.linear = linear
        self.dirty = []  # (x, y, w, h) rects not uploaded yet
        self.reallocate = True  # the texture must be (re)made at the current size


@dataclass(eq=False)
class DebugDraw:
    vertices: np.ndarray  # (n, 7) float32: position 3, color 4
    indices: np.ndarray   # uint32, two per line
    hidden: bool = False
    version: int = 0


class Scene:
    """Everything to draw; keyed by ids from `new_id`. Switches: never."""

    def __init__(self):
        self._ids = itertools.count(1)
        # (mesh key, texture key) -> {id: SceneObject}: the frame loop binds
        # each mesh and texture once per batch.
        self.batches = {}
        self._batch_of = {}
        self.lights = {}
        self.ambient = np.array([0.1, 0.1, 0.1], dtype=np.float32)
        self.skybox = None  # TextureData of a cube, or None
        self.canvases = {}
        self.debug_draws = {}
        self.camera = Camera()
        self.clear_color = (0.0, 0.0, 0.0, 1.0)
        self.removed = 0  # bumped when something with GPU resources goes

    def new_id(self):
        return next(self._ids)

    # -- objects -----------------------------------------------------------------------------

    def add_object(self, oid, obj):
        tex = obj.material.texture
        key = (obj.mesh.key, tex.key if tex is not None else None)
        batch = self.batches.get(key)
        if batch is None:
            batch = self.batches[key] = {}
        batch[oid] = obj
        self._batch_of[oid] = key

    def object(self, oid):
        key = self._batch_of.get(oid)
        return None if key is None else self.batches[key][oid]

    def remove_object(self, oid):
        key = self._batch_of.pop(oid, None)
        if key is None:
            return
        batch = self.batches[key]
        del batch[oid]
        if not batch:
            del self.batches[key]
            self.removed += 1

    @property
    def object_count(self):
        return len(self._batch_of)

    # -- the rest ----------------------------------------------------------------------------

    def remove_canvas(self, cid):
        if self.canvases.pop(cid, None) is not None:
            self.removed += 1

    def remove_debug_draw(self, did):
        if self.debug_draws.pop(did, None) is not None:
            self.removed += 1
