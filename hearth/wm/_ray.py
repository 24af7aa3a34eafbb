"""The geometry of the window manager: the camera's pose from its view
matrix, the ray from the cursor through the camera into the world, where
it meets a terminal's quad, and the placement of a quad in front of the
camera, facing it.

Conventions are the renderer's (docs/protocols.md): view matrices are 16
numbers, column-major, world to camera; the camera looks down its -z with
+y up; a quad spans [-1, 1] x [-1, 1] of its local xy plane, scaled by
its ``half_size``, rotated by its ``orientation`` quaternion ``[x, y, z,
w]`` and moved to its ``origin``. Window pixels count from the top-left.
Pure numpy: nothing here switches greenlets.
"""

import math

import numpy as np

__all__ = ["rotation", "quaternion", "camera_pose", "cursor_ray", "hit_quad", "pick", "facing"]


def rotation(q):
    """The 3x3 rotation matrix of quaternion `q` ``[x, y, z, w]`` (normalized here)."""
    x, y, z, w = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def quaternion(m):
    """The unit quaternion ``[x, y, z, w]`` of rotation matrix `m` (3x3)."""
    m = np.asarray(m, dtype=np.float64)
    t = m[0, 0] + m[1, 1] + m[2, 2]
    if t > 0:
        s = math.sqrt(t + 1.0) * 2
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2
        q = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2
        q = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    q = np.array(q)
    return q / np.linalg.norm(q)


def camera_pose(view):
    """``(position, rotation)`` of the camera whose view matrix is `view`
    (16 numbers, column-major, world to camera): its place in the world
    and its camera-to-world 3x3 rotation."""
    v = np.asarray(view, dtype=np.float64).reshape(4, 4).T
    inv = np.linalg.inv(v)
    return inv[:3, 3].copy(), inv[:3, :3].copy()


def cursor_ray(view, vfov, width, height, x, y):
    """``(origin, direction)``: the ray from the camera through window
    pixel (`x`, `y`) of a `width` x `height` window, with vertical field
    of view `vfov` degrees; direction a unit vector."""
    position, rot = camera_pose(view)
    t = math.tan(math.radians(vfov) / 2)
    nx = 2.0 * x / width - 1.0
    ny = 1.0 - 2.0 * y / height
    d = rot @ np.array([nx * t * width / height, ny * t, -1.0])
    return position, d / np.linalg.norm(d)


def hit_quad(origin, direction, position):
    """The distance along the ray (`origin`, unit `direction`) where it
    meets the quad at `position` (``{"origin", "orientation",
    "half_size"}``), or None if it misses it or the quad is behind."""
    r = rotation(position["orientation"])
    center = np.asarray(position["origin"], dtype=np.float64)
    hw, hh = position["half_size"]
    normal = r[:, 2]
    denom = float(normal @ direction)
    if abs(denom) < 1e-9:
        return None  # the ray runs along the quad's plane
    t = float(normal @ (center - origin)) / denom
    if t <= 0:
        return None
    local = origin + t * direction - center
    if abs(float(r[:, 0] @ local)) <= hw and abs(float(r[:, 1] @ local)) <= hh:
        return t
    return None


def pick(origin, direction, positions):
    """The key of the nearest quad of `positions` (a map key ->
    position) that the ray meets, or None."""
    best, best_t = None, math.inf
    for key, position in positions.items():
        t = hit_quad(origin, direction, position)
        if t is not None and t < best_t:
            best, best_t = key, t
    return best


def facing(view, distance, half_size, offset=(0.0, 0.0)):
    """The position of a quad `distance` in front of the camera, facing
    it, centered on the view (moved by `offset`, in units along the
    camera's right and up)."""
    cam, rot = camera_pose(view)
    center = cam + rot @ np.array([offset[0], offset[1], -distance])
    return {"origin": [float(c) for c in center],
            "orientation": [float(c) for c in quaternion(rot)],
            "half_size": [float(half_size[0]), float(half_size[1])]}
