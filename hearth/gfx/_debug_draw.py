"""``hearth.DebugDrawFactory``: line lists with per-vertex colors
(docs/protocols.md).

Requests to the factory (the envelope of `hearth.native._service`): ``"new"`` (owner in
caps[1], else the reply capability, which needs MONITOR). ok: a debug draw
capability (SEND, MONITOR, KILL), empty and shown.

Updates to a debug draw (requests, ok nil, or sinks; see `_resource`):

``["contents", positions, colors, indices]``
    ``{"op": "contents", ...}``: `positions` a bin of float32 × 3 per
    vertex, `colors` a bin of RGBA8 (4 bytes) per vertex, `indices` a bin
    of uint32, two per line, each < the vertex count. Replaces the lines.
``["hide", bool]``
    hide (true) or show (false).
``"destroy"``
    ends the debug draw (as killing its capability does).

Lines are unlit and depth-tested, one pixel wide. Bad contents are
``invalid_request``; the old lines stay.
"""

import numpy as np

from hearth import vm
from hearth.native._service import INVALID_REQUEST, ServiceError

from ._resource import ResourceFactory, SceneResource, owner_of
from ._scene import DebugDraw

__all__ = ["DEBUG_DRAW_FACTORY", "DebugDrawFactory", "encode_lines"]

DEBUG_DRAW_FACTORY = "hearth.DebugDrawFactory"
MAX_VERTICES = 1 << 20


def _bad(message):
    return ServiceError(INVALID_REQUEST, message)


def _packed(value, what, dtype, width):
    if type(value) is not bytes:
        raise _bad(f"{what} is a bin, not {type(value).__name__}")
    size = np.dtype(dtype).itemsize * width
    if len(value) % size:
        raise _bad(f"{what} is {len(value)} bytes, not a multiple of {size}")
    return np.frombuffer(value, dtype=dtype).reshape(-1, width)


def check_contents(positions, colors, indices):
    """``(vertices (n, 7) float32, indices uint32)`` of checked contents."""
    pos = _packed(positions, "positions", "<f4", 3)
    col = _packed(colors, "colors", np.uint8, 4)
    idx = _packed(indices, "indices", "<u4", 2).reshape(-1)
    n = len(pos)
    if n > MAX_VERTICES:
        raise _bad(f"at most {MAX_VERTICES} vertices")
    if len(col) != n:
        raise _bad(f"{len(col)} colors for {n} positions")
    if not np.isfinite(pos).all():
        raise _bad("positions hold a NaN or an infinity")
    if len(idx) and int(idx.max()) >= n:
        raise _bad(f"index {int(idx.max())} is out of range ({n} vertices)")
    vertices = np.empty((n, 7), dtype=np.float32)
    vertices[:, :3] = pos
    vertices[:, 3:] = col / np.float32(255.0)
    return vertices, np.ascontiguousarray(idx, dtype=np.uint32)


def encode_lines(positions, colors, indices):
    """``["contents", ...]`` fields as bins, from array-likes (for Python clients)."""
    return ["contents", np.asarray(positions, dtype="<f4").tobytes(),
            np.asarray(colors, dtype=np.uint8).tobytes(),
            np.asarray(indices, dtype="<u4").tobytes()]


class _DebugDraw(SceneResource):
    name = schema = "hearth.DebugDraw"
    OPS = {"contents": ("positions", "colors", "indices"), "hide": ("hidden",),
           "destroy": ()}

    def handle_request(self, request):
        op, fields = self.parse(request)
        dd = self.scene.debug_draws.get(self.rid)
        if op == "destroy":
            if request.reply_to is not None:
                request.reply(None)
            vm.exit(vm.NORMAL)
        if dd is None:
            return
        if op == "hide":
            if type(fields["hidden"]) is not bool:
                raise _bad("hide takes a bool")
            dd.hidden = fields["hidden"]
            return
        dd.vertices, dd.indices = check_contents(fields["positions"], fields["colors"],
                                                 fields["indices"])
        dd.version += 1

    def remove(self):
        self.scene.remove_debug_draw(self.rid)


class DebugDrawFactory(ResourceFactory):
    """``hearth.DebugDrawFactory`` over `scene`."""

    name = schema = DEBUG_DRAW_FACTORY

    def handle_request(self, request):
        self.parse(request)
        owner = owner_of(request)
        scene = self.scene
        rid = scene.new_id()
        scene.debug_draws[rid] = DebugDraw(np.zeros((0, 7), np.float32),
                                           np.zeros(0, np.uint32))
        self.give(request, _DebugDraw, owner, scene, rid, lambda: scene.remove_debug_draw(rid))
