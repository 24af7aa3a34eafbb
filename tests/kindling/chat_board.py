"""What the chat guest's board must look like, computed here in Python
from `hearth.world._font` (the layout the Python room drew before the room
became a guest): `board_image`, `panel_mesh` and `board_transform`. The
guest's pixels, mesh and placement are checked against these."""

import msgpack
import numpy as np

from hearth.world._font import CELL_W, text_mask

BOARD_LINES = 8
BOARD_COLS = 44


def board_image(lines, scale=2):
    """``(width, height, rgba)`` of the board showing `lines` (``{"from",
    "text"}`` maps, oldest first): a title row, then one row a line,
    ``name: text`` (whitespace runs made one space) cut to `BOARD_COLS`
    characters, characters the font lacks drawn as ``?``."""
    bg = np.array((16, 24, 48), np.float32)
    rows = [("chat", (255, 200, 80), "")]
    for line in lines[-BOARD_LINES:]:
        name = line.get("from") or "?"
        rows.append((f"{name}: ", (120, 220, 255), line.get("text") or ""))
    while len(rows) < BOARD_LINES + 1:
        rows.append(("", (0, 0, 0), ""))
    painted = []
    for head, color, text in rows:
        s = (head + " ".join(text.split()))[:BOARD_COLS].ljust(BOARD_COLS)
        mask = text_mask(s, scale).astype(np.float32)[..., None] / 255.0
        fg = np.empty(mask.shape[:2] + (3,), np.float32)
        fg[:] = (235, 235, 235)
        fg[:, :min(len(head), BOARD_COLS) * CELL_W * scale] = color
        painted.append(bg + (fg - bg) * mask)
    pad = 8
    body = np.concatenate(painted, axis=0).astype(np.uint8)
    h, w = body.shape[0] + 2 * pad, body.shape[1] + 2 * pad
    img = np.empty((h, w, 4), np.uint8)
    img[:, :, :3] = bg.astype(np.uint8)
    img[:, :, 3] = 255
    img[pad:pad + body.shape[0], pad:pad + body.shape[1], :3] = body
    return w, h, img.tobytes()


def panel_mesh():
    """The mesh lump's bytes: the square [-1, 1]² at z = ±0.01, both faces
    textured the right way round."""
    positions, normals, uvs = [], [], []
    for z, flip in ((0.01, False), (-0.01, True)):
        for x, y in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            positions.append((x, y, z))
            normals.append((0, 0, 1 if z > 0 else -1))
            u = (x + 1) / 2
            uvs.append((1 - u if flip else u, (1 - y) / 2))
    indices = [0, 1, 2, 0, 2, 3, 4, 6, 5, 4, 7, 6]

    def packed(values, dtype):
        return np.asarray(values, dtype=dtype).tobytes()

    return msgpack.packb({"positions": packed(positions, "<f4"),
                          "normals": packed(normals, "<f4"), "uv0": packed(uvs, "<f4"),
                          "indices": packed(indices, "<u4")}, use_bin_type=True)


def board_transform(width, height):
    """Centred 3.5 above the origin, facing +z, 3.2 units tall, as wide as
    its pixels say (column-major)."""
    half_h = 1.6
    half_w = half_h * width / height
    return (half_w, 0, 0, 0, 0, half_h, 0, 0, 0, 0, 1, 0, 0, 3.5, 0, 1)
