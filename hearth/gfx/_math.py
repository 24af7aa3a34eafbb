"""Checked numbers for the client's services: vectors, matrices,
quaternions and the camera's infinite perspective projection.

Matrices travel as 16 numbers in column-major order (the order of glam's
``Mat4::to_cols_array`` and of OpenGL's uniforms). Inside the client they
are numpy float32 arrays in the same column-major layout, so they go to a
uniform as they are (``transpose=False``). Every check raises `ServiceError`
``invalid_request``: a NaN or an infinity never reaches the screen.

Nothing here switches greenlets or touches OpenGL.
"""

import math

import numpy as np

from hearth.native._service import INVALID_REQUEST
from hearth.otp import ServiceError
from hearth.vm._terms import brief

__all__ = [
    "IDENTITY",
    "check_number",
    "check_vector",
    "check_matrix",
    "check_quaternion",
    "placement_matrix",
    "perspective_infinite",
]

IDENTITY = np.identity(4, dtype=np.float32)  # symmetric: the same in either order


def _bad(message):
    return ServiceError(INVALID_REQUEST, message)


def check_number(value, what, *, low=None, high=None, low_open=False):
    """`value` as a finite float within [low, high] (``(low, high]`` with
    `low_open`); a bool is not a number."""
    if type(value) not in (int, float):
        raise _bad(f"{what} must be a number, not {brief(value)}"[:200])
    x = float(value)
    if not math.isfinite(x):
        raise _bad(f"{what} must be finite, not {brief(value)}")
    if low is not None and (x < low or (low_open and x == low)):
        raise _bad(f"{what} must be {'>' if low_open else '>='} {low}, not {brief(value)}")
    if high is not None and x > high:
        raise _bad(f"{what} must be <= {high}, not {brief(value)}")
    return x


def check_vector(value, n, what):
    """`value` (an array of `n` finite numbers) as a float32 numpy vector."""
    if type(value) not in (tuple, list) or len(value) != n:
        raise _bad(f"{what} must be an array of {n} numbers, not {brief(value)}"[:200])
    return np.array([check_number(v, what) for v in value], dtype=np.float32)


def check_matrix(value, what="transform"):
    """16 finite numbers, column-major, as a (16,) float32 array in the same
    order (ready for a uniform)."""
    if type(value) is bytes and len(value) == 64:  # 16 little-endian float32s
        m = np.frombuffer(value, dtype="<f4").astype(np.float32)
        if not np.isfinite(m).all():
            raise _bad(f"{what} holds a NaN or an infinity")
        return m
    if type(value) not in (tuple, list) or len(value) != 16:
        raise _bad(f"{what} must be 16 numbers in column-major order, not {brief(value)}"[:200])
    m = np.array(value, dtype=np.float64) if all(
        type(v) in (int, float) for v in value) else None
    if m is None:
        raise _bad(f"{what} must hold numbers only")
    if not np.isfinite(m).all():
        raise _bad(f"{what} holds a NaN or an infinity")
    return m.astype(np.float32)


def check_quaternion(value, what="orientation"):
    """A rotation quaternion ``[x, y, z, w]`` (normalized here); a zero one
    is refused."""
    q = check_vector(value, 4, what).astype(np.float64)
    norm = float(np.linalg.norm(q))
    if norm < 1e-12:
        raise _bad(f"{what} is a zero quaternion")
    return q / norm


def _rotation(q):
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def placement_matrix(origin, orientation, scale):
    """The column-major (16,) float32 matrix placing a unit shape: scaled
    by `scale` (3 numbers), rotated by quaternion `orientation`, moved to
    `origin`."""
    m = np.identity(4)
    m[:3, :3] = _rotation(orientation) * np.asarray(scale, dtype=np.float64)[None, :]
    m[:3, 3] = origin
    return m.T.astype(np.float32).reshape(16)


def perspective_infinite(vfov_degrees, aspect, near):
    """A right-handed OpenGL projection with no far plane, column-major
    (16,) float32: depth tends to 1 as distance grows."""
    f = 1.0 / math.tan(math.radians(vfov_degrees) / 2.0)
    eps = 1e-6  # keeps points at "infinity" (the skybox) just inside the depth range
    m = np.zeros((4, 4))
    m[0, 0] = f / aspect
    m[1, 1] = f
    m[2, 2] = eps - 1.0
    m[2, 3] = (eps - 2.0) * near
    m[3, 2] = -1.0
    return m.T.astype(np.float32).reshape(16)
