"""skybox: paints a sky cube map and sets it as the renderer's skybox.

The cube map is made here (a gradient from a pale horizon to a deep zenith,
a dark ground below), put in the lump store as a cube texture lump
(``{"label", "size", "faces"}``, docs/client.md) and handed to
``hearth.Renderer``'s ``set_skybox``. Then the service waits; it has no
requests of its own.
"""

import msgpack
import numpy as np

from hearth import vm
from hearth.native import request
from hearth.otp import lookup

SIZE = 64
ZENITH = np.array([40, 80, 170])
HORIZON = np.array([190, 210, 235])
GROUND = np.array([60, 58, 55])


def face_directions(face, n=SIZE):
    """Unit directions of each texel of OpenGL cube face `face` (+X, -X,
    +Y, -Y, +Z, -Z), rows from the top."""
    c = (np.arange(n) + 0.5) / n * 2 - 1
    s, t = np.meshgrid(c, c)  # s across, t down
    one = np.ones_like(s)
    d = [(one, -t, -s), (-one, -t, s), (s, one, t), (s, -one, -t), (s, -t, one),
         (-s, -t, -one)][face]
    v = np.stack(d, axis=-1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def sky_faces(n=SIZE):
    faces = []
    for face in range(6):
        up = face_directions(face, n)[..., 1:2]
        sky = HORIZON + (ZENITH - HORIZON) * np.sqrt(np.clip(up, 0, 1))
        ground = HORIZON * 0.5 + (GROUND - HORIZON * 0.5) * np.sqrt(np.clip(-up, 0, 1) * 4).clip(0, 1)
        rgb = np.where(up >= 0, sky, ground)
        rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255)], axis=-1)
        faces.append(rgba.astype(np.uint8).tobytes())
    return faces


def main(registry):
    renderer = lookup(registry, "hearth.Renderer")
    lump = msgpack.packb({"label": "sky", "size": [SIZE, SIZE], "faces": sky_faces()})
    lump_id = vm.current_runtime().lumps.put(lump)
    request(renderer, ["set_skybox", bytes(lump_id)])
    while True:
        sig = vm.recv()
        for cap in getattr(sig, "caps", ()) or ([sig.cap] if getattr(sig, "cap", None) else []):
            cap.release()
