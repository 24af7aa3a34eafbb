"""Meshes, matrices and pixel helpers for the client's tests."""

import numpy as np

from hearth.gfx._formats import cube_mesh, encode_material, encode_mesh

__all__ = ["cube_mesh", "quad_mesh", "material", "translate", "wire", "encode_mesh"]
from hearth.gfx._math import perspective_infinite

BACKGROUND = np.array([0, 0, 0], dtype=np.uint8)


def quad_mesh():
    """A square -1..1 in the xy plane facing +z."""
    return encode_mesh([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], [0, 1, 2, 0, 2, 3],
                       normals=[[0, 0, 1]] * 4)


def material(rgba):
    return encode_material(rgba)


def translate(x, y, z):
    m = np.identity(4)
    m[:3, 3] = (x, y, z)
    return m


def rotate_y(degrees):
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    m = np.identity(4)
    m[0, 0], m[0, 2], m[2, 0], m[2, 2] = c, s, -s, c
    return m


def wire(m):
    """A 4x4 (math order) matrix as the wire's 16 column-major floats."""
    return [float(x) for x in np.asarray(m).T.reshape(16)]


def project(points, model, view, vfov, size, near=0.1):
    """Screen (x, y) of model-space points, y from the top, pixel centers at +0.5."""
    w, h = size
    proj = perspective_infinite(vfov, w / h, near).reshape(4, 4).T
    pts = np.c_[np.asarray(points, dtype=np.float64), np.ones(len(points))]
    clip = (proj @ view @ model @ pts.T).T
    ndc = clip[:, :2] / clip[:, 3:4]
    return np.c_[(ndc[:, 0] + 1) * w / 2, (1 - ndc[:, 1]) * h / 2]


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def convex_hull(points):
    pts = sorted(map(tuple, points))

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and _cross(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(reversed(pts))
    return np.array(lower[:-1] + upper[:-1])


def distance_inside(hull, x, y):
    """Signed distance of (x, y) from a counter-clockwise hull's edges:
    positive inside (the smallest margin to any edge)."""
    best = np.inf
    for i in range(len(hull)):
        a, b = hull[i], hull[(i + 1) % len(hull)]
        edge = b - a
        normal = np.array([-edge[1], edge[0]]) / np.linalg.norm(edge)
        best = min(best, float(np.dot(np.array([x, y]) - a, normal)))
    return best
