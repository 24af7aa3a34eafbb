"""Where a client starts in the world: a place of its own, so clients don't
start inside each other's avatars (docs/world.md, "Avatars").

Each name gets a point on a circle around the origin, picked by a hash of
the name (the same name always starts at the same place), at eye height,
facing the centre, where the chat board stands. The board is a panel
facing +z and -z, so the points are on the two arcs of ±`SPREAD` around
+z and -z, from where it reads. Nothing here switches.
"""

import hashlib
import math

__all__ = ["START_RADIUS", "START_HEIGHT", "start_pose", "start_view"]

START_RADIUS = 10.0
START_HEIGHT = 3.0
START_PITCH = -0.1  # radians: looking a little down, at the centre
SPREAD = math.radians(50)


def _angle(name):
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    h = int.from_bytes(digest, "big")
    side = math.pi if h & 1 else 0.0
    return side + ((h >> 1) / 2.0 ** 63 * 2.0 - 1.0) * SPREAD


def _rotation(yaw, pitch):
    """Rows of yaw (about y) then pitch (about x), as the fly camera turns."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    ry = ((cy, 0.0, sy), (0.0, 1.0, 0.0), (-sy, 0.0, cy))
    rx = ((1.0, 0.0, 0.0), (0.0, cp, -sp), (0.0, sp, cp))
    return tuple(tuple(sum(ry[i][k] * rx[k][j] for k in range(3)) for j in range(3))
                 for i in range(3))


def _place(name, radius, height):
    a = _angle(name)
    position = (radius * math.sin(a), height, radius * math.cos(a))
    # A camera looks down its -z: yaw `a` turns -z towards the origin.
    return position, _rotation(a, START_PITCH)


def start_pose(name, radius=START_RADIUS, height=START_HEIGHT):
    """Camera to world (16 numbers, column-major): the avatar's transform
    and the camera's pose where `name` starts."""
    (x, y, z), r = _place(name, radius, height)
    return (r[0][0], r[1][0], r[2][0], 0.0, r[0][1], r[1][1], r[2][1], 0.0,
            r[0][2], r[1][2], r[2][2], 0.0, x, y, z, 1.0)


def start_view(name, radius=START_RADIUS, height=START_HEIGHT):
    """World to camera (16 numbers, column-major), for the window's
    ``set_camera``: the inverse of `start_pose`."""
    p, r = _place(name, radius, height)
    t = [-sum(r[k][i] * p[k] for k in range(3)) for i in range(3)]  # -R^T p
    return (r[0][0], r[0][1], r[0][2], 0.0, r[1][0], r[1][1], r[1][2], 0.0,
            r[2][0], r[2][1], r[2][2], 0.0, t[0], t[1], t[2], 1.0)
