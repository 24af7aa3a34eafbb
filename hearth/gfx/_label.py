"""Text labels in the world: a line of text above each of the world's
entities (docs/world.md, "Labels").

`make_label(texts, text)` is the one entry point: text in, a `Label` out,
which the world's mirror view places above its entity and kills when the
entity leaves. The text is drawn on the client's MSDF text path
(``hearth.text.TextFactory``, `hearth.gfx.text`: sharp however close the
camera comes), light on a dark band, twice, back to back, so it reads
right from in front and from behind (the two face world +z and -z: a
fixed facing, not turned towards the camera).
"""

import math

from hearth import otp, vm

__all__ = ["make_label", "Label", "LABEL_HEIGHT", "MAX_CHARS"]

LABEL_HEIGHT = 0.35  # world units, the height of the label's line
MAX_CHARS = 48  # characters drawn; a longer label ends in "…"
FG = [240 / 255, 240 / 255, 240 / 255]
BG = [30 / 255, 30 / 255, 40 / 255, 1.0]
TIMEOUT = 10.0
# Quaternions (x, y, z, w): facing +z; turned half a turn about y, facing -z.
_FRONT = (0.0, 0.0, 0.0, 1.0)
_BACK = (0.0, 1.0, 0.0, 0.0)
_GAP = 0.004  # the two quads' distance from the label's plane, each side


class Label:
    """A label's two texts. `place` and `kill` may switch (they send, never
    wait). Attributes: `text`, `texts` (the two text capabilities)."""

    def __init__(self, text):
        self.text = text
        self.texts = []  # [front, back] capabilities of hearth.text

    def place(self, origin):
        """Centre the label at `origin` ([x, y, z], world units)."""
        x, y, z = (float(v) for v in origin)
        for cap, dz in zip(self.texts, (_GAP, -_GAP)):
            data, caps = otp.encode(["state", {"origin": [x, y, z + dz]}])
            cap.send(data, caps)

    def kill(self):
        """Take the label out of the world."""
        for cap in self.texts:
            cap.kill()
            cap.release()
        self.texts = []


def make_label(texts, text, origin=(0.0, 0.0, 0.0)):
    """A label showing `text`, centred at `origin`, made through `texts`
    (a ``hearth.text.TextFactory`` capability). The texts belong to the
    calling process (its mailbox 0): they go with it.

    Raises:
        CallError / ServiceError: the text factory refused or is gone.

    Switches: always (two requests).
    """
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS - 1] + "…"
    label = Label(text)
    x, y, z = (float(v) for v in origin)
    try:
        for q, dz in ((_FRONT, _GAP), (_BACK, -_GAP)):
            state = {"text": text.replace("\n", " ") or " ", "origin": [x, y, z + dz],
                     "orientation": list(q), "height": LABEL_HEIGHT, "color": FG,
                     "background": BG}
            label.texts.append(otp.request(texts, ["create", state],
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
