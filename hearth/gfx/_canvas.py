"""``hearth.canvas.CanvasFactory``: textured quads in the world whose
pixels are replaced or blitted (docs/protocols.md).

Requests to the factory (the envelope of `hearth.native._service`):

``["create", position, pixels, sampling]``
    ``{"op": "create", "position": p, "pixels": px, "sampling": s}``.
    `position`: ``{"origin": [x, y, z], "orientation": [x, y, z, w],
    "half_size": [w, h]}`` (a quaternion; the quad spans ±half_size along
    its local x and y and faces +z). `pixels`: ``{"width", "height",
    "rgba"}``, rgba exactly width × height × 4 bytes, rows top to bottom.
    `sampling`: ``"nearest"`` (default) or ``"linear"``. ok: a canvas
    capability (SEND, MONITOR, KILL).

Updates to a canvas (requests, ok nil, or sinks; see `_resource`):

``["relocate", position]``; ``["resize", pixels]`` (replace every pixel,
at any size); ``["blit", x, y, pixels]``: draw `pixels` with its top-left
corner at column x, row y (from the top-left; may be negative), clipped to
the canvas. Only the blitted rectangle is uploaded at the next frame, so a
small blit costs a small upload.

A canvas is unlit: it shows exactly the pixels sent (with ``"nearest"``).
It belongs to caps[1] of "create" or else the reply capability (which
needs MONITOR), and goes when that route closes or its capability is
killed. Bad input (a wrong-sized pixel buffer, a NaN origin) is
``invalid_request``; the canvas keeps its pixels.
"""

import numpy as np

from hearth.native._service import INVALID_REQUEST, ServiceError
from hearth.vm._terms import brief

from ._formats import MAX_TEXTURE_SIZE, check_rgba
from ._math import check_quaternion, check_vector, placement_matrix
from ._resource import ResourceFactory, SceneResource, owner_of
from ._scene import Canvas

__all__ = ["CANVAS_FACTORY", "CanvasFactory"]

CANVAS_FACTORY = "hearth.canvas.CanvasFactory"


def _bad(message):
    return ServiceError(INVALID_REQUEST, message)


def _transform(position):
    if type(position) is not dict:
        raise _bad("position is a map of origin, orientation and half_size")
    try:
        origin = check_vector(position["origin"], 3, "origin")
        orientation = check_quaternion(position.get("orientation", (0, 0, 0, 1)))
        half = check_vector(position["half_size"], 2, "half_size")
    except KeyError as e:
        raise _bad(f"position needs {brief(e.args[0])}") from None
    return placement_matrix(origin, orientation, (half[0], half[1], 1.0))


def _pixels(value):
    """``(height, width, 4)`` uint8 array of a pixels map (a copy)."""
    if type(value) is not dict:
        raise _bad("pixels is a map of width, height and rgba")
    w, h = value.get("width"), value.get("height")
    if not (type(w) is int and type(h) is int and 1 <= w <= MAX_TEXTURE_SIZE
            and 1 <= h <= MAX_TEXTURE_SIZE):
        raise _bad(f"pixels width and height must be ints in 1..{MAX_TEXTURE_SIZE}")
    rgba = check_rgba(value.get("rgba"), w, h)
    return np.frombuffer(rgba, dtype=np.uint8).reshape(h, w, 4)


def _sampling(value):
    if value not in ("nearest", "linear"):
        raise _bad(f"sampling is nearest or linear, not {brief(value)}"[:200])
    return value == "linear"


class _Canvas(SceneResource):
    name = schema = "hearth.canvas"
    OPS = {"relocate": ("position",), "resize": ("pixels",), "blit": ("x", "y", "pixels")}

    def handle_request(self, request):
        op, fields = self.parse(request)
        canvas = self.scene.canvases.get(self.rid)
        if canvas is None:
            return
        if op == "relocate":
            canvas.transform = _transform(fields["position"])
        elif op == "resize":
            canvas.pixels = _pixels(fields["pixels"]).copy()
            canvas.dirty.clear()
            canvas.reallocate = True
        else:
            self._blit(canvas, fields["x"], fields["y"], _pixels(fields["pixels"]))

    @staticmethod
    def _blit(canvas, x, y, src):
        if type(x) is not int or type(y) is not int:
            raise _bad("blit x and y are ints")
        ch, cw = canvas.pixels.shape[:2]
        sh, sw = src.shape[:2]
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + sw, cw), min(y + sh, ch)
        if x0 >= x1 or y0 >= y1:
            return  # wholly outside
        canvas.pixels[y0:y1, x0:x1] = src[y0 - y:y1 - y, x0 - x:x1 - x]
        if not canvas.reallocate:
            canvas.dirty.append((x0, y0, x1 - x0, y1 - y0))

    def remove(self):
        self.scene.remove_canvas(self.rid)


class CanvasFactory(ResourceFactory):
    """``hearth.canvas.CanvasFactory`` over `scene`."""

    name = schema = CANVAS_FACTORY

    def handle_request(self, request):
        _, fields = self.parse(request)
        transform = _transform(fields["position"])
        pixels = _pixels(fields["pixels"]).copy()
        linear = _sampling(fields["sampling"])
        owner = owner_of(request)
        scene = self.scene
        rid = scene.new_id()
        scene.canvases[rid] = Canvas(transform, pixels, linear)
        self.give(request, _Canvas, owner, scene, rid, lambda: scene.remove_canvas(rid))
