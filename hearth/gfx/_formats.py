"""Lump formats of the client: meshes, textures and materials.

Each lump is one msgpack map (lumps are immutable blobs named by their
BLAKE3 digest, `hearth.vm.LumpStore`). Packed arrays are msgpack bin of
little-endian numbers; unknown keys are ignored, so a lump can carry more
than the client reads.

Mesh
    ``positions``: float32 × 3 per vertex (required);
    ``normals``: float32 × 3 per vertex (default ``(0, 1, 0)``);
    ``uv0``: float32 × 2 per vertex (default ``(0, 0)``);
    ``colors``: float32 × 4 per vertex, RGBA (default white);
    ``indices``: uint32 × 3 per triangle (required), each < the vertex count.
    ``tangents``, ``uv1``, ``joints`` and ``weights`` are accepted and
    not used yet.
Texture (2D)
    ``label``: str (optional); ``size``: ``[width, height]``;
    ``rgba``: bin of width × height × 4 bytes (RGBA8, rows top to bottom;
    uv ``(0, 0)`` is the image's top-left corner, as in glTF).
Texture (cube)
    ``label``, ``size`` (of one square face) and ``faces``: an array of six
    RGBA8 bins, in the order +X, -X, +Y, -Y, +Z, -Z (OpenGL's cube map
    faces, each seen from inside the cube).
Material
    ``albedo``: ``[r, g, b, a]`` floats in [0, 1] (default white);
    ``albedo_texture``: a texture lump id (32 bytes of bin) or nil.

A missing lump is ``not_found``; anything else wrong with one (not msgpack,
a missing key, a bin whose length is not a multiple of its element, an
index out of range, a NaN position) is ``invalid_lump``. Nothing here
switches greenlets or touches OpenGL.
"""

from typing import NamedTuple

import msgpack
import numpy as np

from hearth.native._service import INVALID_REQUEST, NOT_FOUND
from hearth.otp import ServiceError
from hearth.vm import LumpCorrupt, LumpId, LumpNotFound
from hearth.vm._terms import brief

__all__ = [
    "INVALID_LUMP",
    "MAX_TEXTURE_SIZE",
    "MeshData",
    "TextureData",
    "MaterialData",
    "WHITE_MATERIAL",
    "check_lump_id",
    "read_lump",
    "decode_mesh",
    "decode_texture",
    "decode_material",
    "encode_mesh",
    "encode_texture",
    "encode_material",
    "check_rgba",
]

INVALID_LUMP = "invalid_lump"
MAX_TEXTURE_SIZE = 4096
MAX_VERTICES = 1 << 22
VERTEX_FLOATS = 12  # position 3, normal 3, uv 2, color 4


def _bad(message):
    return ServiceError(INVALID_LUMP, message)


class MeshData(NamedTuple):
    """A checked mesh: interleaved float32 vertices (`VERTEX_FLOATS` each)
    and uint32 indices; `key` names it in the GPU cache."""

    key: bytes
    vertices: np.ndarray
    indices: np.ndarray


class TextureData(NamedTuple):
    """A checked RGBA8 texture; `faces` holds one bytes (2D) or six (cube)."""

    key: bytes
    label: str
    width: int
    height: int
    faces: tuple


class MaterialData(NamedTuple):
    """A checked material: `albedo` RGBA float32s, `texture` a TextureData or None."""

    albedo: tuple
    texture: object


WHITE_MATERIAL = MaterialData(np.ones(4, dtype=np.float32), None)


def check_lump_id(value, what="lump"):
    """A lump id field: 32 bytes of msgpack bin."""
    if not isinstance(value, bytes) or len(value) != 32:
        raise ServiceError(INVALID_REQUEST, f"{what} must be a lump id (32 bytes of bin),"
                           f" not {type(value).__name__}"
                           f"{f' of {len(value)} bytes' if type(value) is bytes else ''}")
    return value if type(value) is LumpId else LumpId(value)


class LumpMissing(ServiceError):
    """A ``not_found`` error for a lump this runtime's store lacks; a
    service may fetch it from a peer (`Runtime.fetch_lump`) and try again.

    Attributes:
        lump_id: the missing lump's id.
    """

    def __init__(self, lump_id, what):
        super().__init__(NOT_FOUND, f"no {what} lump {lump_id.hex()[:16]}…")
        self.lump_id = lump_id


def read_lump(store, value, what="lump"):
    """The bytes of the lump named by `value`. Switches: never (a lump on
    disk is read in place; the store's cache keeps hot ones in memory).

    Raises:
        LumpMissing: the store has no such lump.
    """
    lid = check_lump_id(value, what)
    try:
        return store.get(lid)
    except LumpNotFound:
        raise LumpMissing(lid, what) from None
    except LumpCorrupt as e:
        raise _bad(f"{what} lump {lid.hex()[:16]}… is corrupt: {e}") from None


def _map(data, what):
    try:
        term = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as e:  # noqa: BLE001 - msgpack raises several unrelated types
        raise _bad(f"{what} lump is not msgpack: {e}"[:200]) from None
    if type(term) is not dict:
        raise _bad(f"a {what} lump is a msgpack map, not a {type(term).__name__}")
    return term


def _array(term, key, dtype, width, what, required=False):
    value = term.get(key)
    if value is None:
        if required:
            raise _bad(f"{what} lump has no {brief(key)}")
        return None
    if type(value) is not bytes:
        raise _bad(f"{what} {brief(key)} must be a bin of packed numbers,"
                   f" not {type(value).__name__}")
    size = np.dtype(dtype).itemsize * width
    if len(value) % size:
        raise _bad(f"{what} {brief(key)} is {len(value)} bytes, not a multiple of {size}")
    return np.frombuffer(value, dtype=dtype).reshape(-1, width)


def decode_mesh(data, key=b""):
    """Check and decode a mesh lump. Raises `ServiceError` ``invalid_lump``."""
    term = _map(data, "mesh")
    pos = _array(term, "positions", "<f4", 3, "mesh", True)
    n = len(pos)
    if n == 0 or n > MAX_VERTICES:
        raise _bad(f"a mesh has 1 to {MAX_VERTICES} vertices, not {n}")
    out = np.empty((n, VERTEX_FLOATS), dtype=np.float32)
    out[:, 0:3] = pos
    defaults = (("normals", 3, 3, (0.0, 1.0, 0.0)), ("uv0", 6, 2, (0.0, 0.0)),
                ("colors", 8, 4, (1.0, 1.0, 1.0, 1.0)))
    for name, at, width, default in defaults:
        arr = _array(term, name, "<f4", width, "mesh")
        if arr is None:
            out[:, at:at + width] = default
        elif len(arr) != n:
            raise _bad(f"mesh {brief(name)} has {len(arr)} entries for {n} positions")
        else:
            out[:, at:at + width] = arr
    if not np.isfinite(out).all():
        raise _bad("a mesh holds a NaN or an infinity")
    idx = _array(term, "indices", "<u4", 3, "mesh", True)
    if len(idx) == 0:
        raise _bad("a mesh needs at least one triangle")
    if int(idx.max()) >= n:
        raise _bad(f"mesh index {int(idx.max())} is out of range ({n} vertices)")
    return MeshData(bytes(key), out, np.ascontiguousarray(idx.reshape(-1), dtype=np.uint32))


def check_rgba(value, width, height, what="pixels"):
    """RGBA8 bytes of exactly width × height pixels (ServiceError ``invalid_request``)."""
    if type(value) is not bytes:
        raise ServiceError(INVALID_REQUEST, f"{what} must be a bin of RGBA8 bytes,"
                           f" not {type(value).__name__}")
    if len(value) != width * height * 4:
        raise ServiceError(INVALID_REQUEST, f"{what} is {len(value)} bytes; {width}x{height}"
                           f" RGBA8 is {width * height * 4}")
    return value


def _size(value, what, error=_bad):
    if (type(value) not in (tuple, list) or len(value) != 2
            or not all(type(v) is int and 1 <= v <= MAX_TEXTURE_SIZE for v in value)):
        raise error(f"{what} size must be [width, height], each 1..{MAX_TEXTURE_SIZE},"
                    f" not {brief(value)}"[:200])
    return value[0], value[1]


def decode_texture(data, key=b"", cube=False):
    """Check and decode a texture lump (2D, or cube with `cube`)."""
    term = _map(data, "texture")
    label = term.get("label", "")
    if type(label) is not str:
        raise _bad("texture label must be a str")
    w, h = _size(term.get("size"), "texture")
    if cube:
        faces = term.get("faces")
        if type(faces) not in (tuple, list) or len(faces) != 6:
            raise _bad("a cube texture has 'faces': an array of six RGBA8 bins")
        if w != h:
            raise _bad("cube faces must be square")
    else:
        if "rgba" not in term:
            raise _bad("a 2D texture has 'rgba' (a cube texture is wanted elsewhere)")
        faces = (term["rgba"],)
    for face in faces:
        if type(face) is not bytes or len(face) != w * h * 4:
            raise _bad(f"each texture image must be {w * h * 4} bytes of RGBA8 ({w}x{h})")
    return TextureData(bytes(key), label, w, h, tuple(faces))


def decode_material(data, texture_loader):
    """Check and decode a material lump; `texture_loader(lump id)` gives its
    albedo texture (or raises)."""
    term = _map(data, "material")
    albedo = term.get("albedo", (1.0, 1.0, 1.0, 1.0))
    if (type(albedo) not in (tuple, list) or len(albedo) != 4
            or not all(type(c) in (int, float) and 0.0 <= c <= 1.0 for c in albedo)):
        raise _bad(f"material albedo must be four numbers in [0, 1], not {brief(albedo)}"[:200])
    tex = term.get("albedo_texture")
    texture = None if tex is None else texture_loader(tex)
    return MaterialData(np.array(albedo, dtype=np.float32), texture)


# -- writers, for clients written in Python ------------------------------------------------------


def _bin(arr, dtype):
    return np.ascontiguousarray(np.asarray(arr, dtype=dtype)).tobytes()


def encode_mesh(positions, indices, normals=None, uv0=None, colors=None):
    """The bytes of a mesh lump (arrays of any shape that flatten right)."""
    term = {"positions": _bin(positions, "<f4"), "indices": _bin(indices, "<u4")}
    for name, arr in (("normals", normals), ("uv0", uv0), ("colors", colors)):
        if arr is not None:
            term[name] = _bin(arr, "<f4")
    return msgpack.packb(term, use_bin_type=True)


def encode_texture(width, height, rgba=None, faces=None, label=""):
    """The bytes of a texture lump: 2D with `rgba`, cube with six `faces`."""
    term = {"label": label, "size": [width, height]}
    if faces is not None:
        term["faces"] = [bytes(f) for f in faces]
    else:
        term["rgba"] = bytes(rgba)
    return msgpack.packb(term, use_bin_type=True)


def cube_mesh(half=1.0):
    """A mesh lump of the cube [-half, half]³ with one normal per face (24
    vertices, 36 indices): a ready-made shape for scenes, tests and demos."""
    positions, normals, indices = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = [0.0, 0.0, 0.0]
            n[axis] = sign
            u, v = [a for a in range(3) if a != axis]
            base = len(positions)
            for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = [0.0, 0.0, 0.0]
                p[axis], p[u], p[v] = sign * half, a * half, b * half
                positions.append(p)
                normals.append(n)
            indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return encode_mesh(positions, indices, normals=normals)


def encode_material(albedo=(1.0, 1.0, 1.0, 1.0), albedo_texture=None):
    """The bytes of a material lump."""
    term = {"albedo": [float(c) for c in albedo]}
    if albedo_texture is not None:
        term["albedo_texture"] = bytes(albedo_texture)
    return msgpack.packb(term, use_bin_type=True)
