"""Text labels in the world: a line of text on a small quad, for the names
above the world's entities (docs/world.md, "Labels").

`make_label(canvases, text)` is the one entry point: text in, a `Label`
out, which the world's mirror view places above its entity and kills when
the entity leaves. The text is painted by `hearth.gfx._text`'s `CellFont`
(light on a dark band) onto two canvases of ``hearth.canvas.CanvasFactory``
back to back, so it reads right from in front and from behind (the quads
face world +z and -z: a fixed facing, not turned towards the camera).
Another way to draw text can take this module's place behind the same
function.
"""

import math

import numpy as np

from hearth import otp, vm

from ._text import CellFont

__all__ = ["make_label", "Label", "LABEL_HEIGHT", "MAX_CHARS"]

LABEL_HEIGHT = 0.35  # world units, the height of the label's quad
MAX_CHARS = 48  # characters drawn; a longer label ends in "…"
FONT_SIZE = 16
PAD = 2  # pixels of band around the text
FG = (240, 240, 240)
BG = (30, 30, 40)
TIMEOUT = 10.0
# Quaternions (x, y, z, w): facing +z; turned half a turn about y, facing -z.
_FRONT = (0.0, 0.0, 0.0, 1.0)
_BACK = (0.0, 1.0, 0.0, 0.0)
_GAP = 0.004  # the two quads' distance from the label's plane, each side

_font = None


def _cell_font():
    global _font
    if _font is None:
        _font = CellFont(FONT_SIZE)
    return _font


def text_pixels(text):
    """The label's image: ``(width, height, rgba bytes)``, rows top to
    bottom. Switches: never."""
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS - 1] + "…"
    font = _cell_font()
    chars = list(text) or [" "]
    masks = [font.glyph(c) for c in chars]
    n = len(masks)
    row = font.paint_row(masks, np.tile(np.array(FG, np.uint8), (n, 1)),
                         np.tile(np.array(BG, np.uint8), (n, 1)))
    h, w = row.shape[0] + 2 * PAD, row.shape[1] + 2 * PAD
    img = np.empty((h, w, 4), np.uint8)
    img[:, :, :3] = BG
    img[:, :, 3] = 255
    img[PAD:PAD + row.shape[0], PAD:PAD + row.shape[1], :3] = row
    return w, h, img.tobytes()


class Label:
    """A label's quads. `place` and `kill` may switch (they send, never
    wait). Attributes: `text`, `width`/`height` (its pixels),
    `half_size` (world units)."""

    def __init__(self, text, canvases, width, height):
        self.text = text
        self.canvases = canvases  # [front, back] canvas capabilities
        self.width = width
        self.height = height
        self.half_size = (LABEL_HEIGHT * width / height / 2.0, LABEL_HEIGHT / 2.0)

    def place(self, origin):
        """Centre the label at `origin` ([x, y, z], world units)."""
        x, y, z = (float(v) for v in origin)
        for cap, q, dz in zip(self.canvases, (_FRONT, _BACK), (_GAP, -_GAP)):
            data, caps = otp.encode(["relocate", _position((x, y, z + dz), q, self.half_size)])
            cap.send(data, caps)

    def kill(self):
        """Take the label out of the world."""
        for cap in self.canvases:
            cap.kill()
            cap.release()
        self.canvases = []


def _position(origin, quaternion, half_size):
    return {"origin": list(origin), "orientation": list(quaternion),
            "half_size": list(half_size)}


def make_label(canvases, text, origin=(0.0, 0.0, 0.0)):
    """A label showing `text`, centred at `origin`, made through `canvases`
    (a ``hearth.canvas.CanvasFactory`` capability). The quads belong to
    the calling process (its mailbox 0): they go with it.

    Raises:
        CallError / ServiceError: the canvas factory refused or is gone.

    Switches: always (two requests).
    """
    w, h, rgba = text_pixels(text)
    label = Label(text, [], w, h)
    pixels = {"width": w, "height": h, "rgba": rgba}
    try:
        for q, dz in ((_FRONT, _GAP), (_BACK, -_GAP)):
            x, y, z = (float(v) for v in origin)
            pos = _position((x, y, z + dz), q, label.half_size)
            label.canvases.append(otp.request(canvases, ["create", pos, pixels, "linear"],
                                              [vm.make_capability(vm.MONITOR)],
                                              timeout=TIMEOUT))
    except Exception:
        label.kill()
        raise
    return label


def above(transform, lift=0.5):
    """Where a label goes for an entity with `transform` (16 numbers,
    column-major): above the entity's unit cube, `lift` world units higher
    than its local y = 1. Switches: never."""
    m = [float(v) for v in transform]
    up = math.sqrt(m[4] ** 2 + m[5] ** 2 + m[6] ** 2)  # the length of local y
    return (m[12], m[13] + up + lift, m[14])
