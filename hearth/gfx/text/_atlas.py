"""The glyph atlas: multi-channel distance fields of a monospace font's
glyphs, one fixed-size slot each, in one RGB image the GPU samples.

Every slot holds one glyph of one style (regular, bold, italic, bold
italic) drawn in its cell: the cell's box (the font's advance by its
ascender-to-descender height) at `PPEM` pixels per em, with a margin of
`RANGE` pixels all round so that bilinear sampling inside the cell never
reads a neighbour. A texel stores the distance to the glyph's edge as
``0.5 + d / (2 * RANGE)`` per channel (``d`` in atlas pixels, positive
inside), so the edge is where the median of the three is 0.5.

Glyphs are generated on first use (`slot`); slot 0 is blank (a space, an
empty cell). When the atlas is full a new character gets the slot of
``?``. The styles come from the font's own faces where they exist
(DejaVu Sans Mono Bold, Oblique, Bold Oblique): the designer's bold and
oblique are better than any synthetic one, and cost only their slots.
Where a face is missing, bold is the regular face's field dilated by
`_DILATE` em and italic is the regular outline sheared by `_SHEAR`.

Nothing here needs a window or GL, and nothing switches greenlets. A
glyph costs a few milliseconds of CPU (`_msdf`).
"""

import math
import os
import zlib

import blake3
import freetype
import msgpack
import numpy as np

from . import _msdf

__all__ = ["Atlas", "STYLES", "REGULAR", "BOLD", "ITALIC", "BOLD_ITALIC", "find_faces",
           "PPEM", "RANGE", "FORMAT"]

REGULAR, BOLD, ITALIC, BOLD_ITALIC = 0, 1, 2, 3
STYLES = ("regular", "bold", "italic", "bold_italic")
PPEM = 32  # atlas pixels per em
RANGE = 4  # the field covers +-RANGE atlas pixels around the edge
WIDTH, HEIGHT = 1024, 2048  # the atlas image
FORMAT = 1  # bump when the generator's output changes: cached atlases are then remade
_DILATE = 0.04  # em added to a synthetic bold's distances
_SHEAR = 0.2  # x per y of a synthetic italic

_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF",
         "/usr/share/fonts/dejavu", "/usr/local/share/fonts")
_FILES = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
          "DejaVuSansMono-BoldOblique.ttf")


def find_faces():
    """The font files of the four styles: a list of 4 paths, None for a
    style the system lacks (the regular one never is None).

    DejaVu Sans Mono where it is installed (Debian's fonts-dejavu-core);
    else whatever monospace face fontconfig offers for the regular style.

    Raises:
        FileNotFoundError: no monospace font at all.
    """
    for d in _DIRS:
        paths = [os.path.join(d, f) for f in _FILES]
        if os.path.exists(paths[0]):
            return [p if os.path.exists(p) else None for p in paths]
    import pygame.font  # fontconfig's answer, as the bitmap path uses
    path = pygame.font.match_font("dejavusansmono,liberationmono,notosansmono,monospace")
    if not path or not path.lower().endswith((".ttf", ".otf")):
        raise FileNotFoundError("no monospace TrueType font found: install fonts-dejavu-core")
    return [path, None, None, None]


class Atlas:
    """The atlas of one font's four styles.

    Attributes:
        key: 32 bytes naming the font files' contents and the parameters:
            what a cached atlas is looked up by.
        pixels: ``(HEIGHT, WIDTH, 3)`` uint8, the image.
        count: slots in use (slot 0, the blank one, included).
        cell_em: ``(w, h)`` a cell in ems.
        glyph_px: ``(w, h)`` a cell in atlas pixels (floats).
        slot_size: ``(w, h)`` a slot in atlas pixels, margins included.
        margin: a slot's margin in atlas pixels: also the field's range
            (``RANGE``).
        per_row: slots in a row of the image.
        texels: ``(capacity,)`` uint32: per slot, the texel of its cell's
            top-left corner as ``x | y << 16`` (0 for slot 0).
        underline, strike: ``(top, bottom)`` of those lines in ems from the
            cell's top.
        added: glyphs generated since the atlas was made or loaded.
    """

    def __init__(self, paths=None):
        paths = list(paths) if paths is not None else find_faces()
        self.paths = paths
        self._faces = [freetype.Face(p) if p else None for p in paths]
        face = self._faces[REGULAR]
        upm = face.units_per_EM
        self.upm = upm
        self.ascender = face.ascender / upm
        descender = face.descender / upm
        face.load_char("M", freetype.FT_LOAD_NO_SCALE)
        self.cell_em = (face.glyph.advance.x / upm, self.ascender - descender)
        self.glyph_px = (self.cell_em[0] * PPEM, self.cell_em[1] * PPEM)
        self.margin = RANGE
        self.slot_size = (math.ceil(self.glyph_px[0]) + 2 * RANGE,
                          math.ceil(self.glyph_px[1]) + 2 * RANGE)
        self.per_row = WIDTH // self.slot_size[0]
        self.capacity = self.per_row * (HEIGHT // self.slot_size[1])
        # Per slot: the atlas texel of its cell's top-left corner, x | y << 16
        # (what a `TextGrid` cell holds); slot 0's is 0, an empty corner.
        s = np.arange(self.capacity, dtype=np.uint32)
        self.texels = (((s % self.per_row) * self.slot_size[0] + RANGE)
                       | (((s // self.per_row) * self.slot_size[1] + RANGE) << 16))
        self.texels[0] = 0
        thick = max(face.underline_thickness / upm, 0.05)
        top = self.ascender - face.underline_position / upm - thick / 2
        self.underline = (top, top + thick)
        mid = self.ascender - 0.3  # about half an x-height above the baseline
        self.strike = (mid - thick / 2, mid + thick / 2)
        h = blake3.blake3(b"hearth msdf atlas %d %d %d %d\0" % (FORMAT, PPEM, RANGE, WIDTH))
        for p in paths:
            if p is None:
                h.update(b"none\0")
            else:
                with open(p, "rb") as f:
                    h.update(blake3.blake3(f.read()).digest())
        self.key = h.digest()
        self.pixels = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        self._slots = {}  # (char, style) -> slot
        self.count = 1  # slot 0: blank
        self.added = 0

    # -- slots ---------------------------------------------------------------------------------

    def slot(self, char, style=REGULAR, add=True):
        """The slot of `char` (a str; only its first character counts) in
        `style`, generated now if it is new, unless `add` is false (then a
        new character gets the slot of ``?``, as when the atlas is full).
        Blank and unprintable characters are slot 0. Switches: never."""
        key = (char, style)
        s = self._slots.get(key)
        if s is not None:
            return s
        if not char or char[0].isspace() or not char[0].isprintable():
            s = 0
        elif not add:
            return self.slot("?", style) if char != "?" else 0
        elif self.count >= self.capacity:
            s = self.slot("?", style) if char != "?" else 0
        else:
            s = self.count
            self.count += 1
            self._draw(s, char[0], style)
            self.added += 1
        self._slots[key] = s
        return s

    def has(self, char, style=REGULAR):
        """Whether `char` in `style` needs no new glyph (it has its slot,
        or is blank)."""
        return ((char, style) in self._slots or not char or char[0].isspace()
                or not char[0].isprintable())

    def rect(self, s):
        """``(x, y, w, h)`` of slot `s` in the image."""
        sw, sh = self.slot_size
        return (s % self.per_row) * sw, (s // self.per_row) * sh, sw, sh

    def prefill(self, chars, style=REGULAR):
        """Generate the slots of `chars` now."""
        for c in chars:
            self.slot(c, style)

    def _draw(self, s, char, style):
        face = self._faces[style]
        shear = dilate = 0.0
        if face is None:
            face = self._faces[style & ITALIC] or self._faces[REGULAR]
            if style & ITALIC and self._faces[style & ITALIC] is None:
                shear = _SHEAR
            if style & BOLD:
                dilate = _DILATE * PPEM
        contours = _msdf.color_edges(_msdf.outline(face, char, shear=shear))
        x, y, sw, sh = self.rect(s)
        ys, xs = np.mgrid[0:sh, 0:sw]
        scale = self.upm / PPEM  # font units per atlas pixel
        # Pixel centres in font units: x from the pen position, y up from
        # the baseline; the cell's top is the ascender.
        fx = (xs.ravel() + 0.5 - RANGE) * scale
        fy = (self.ascender * PPEM - (ys.ravel() + 0.5 - RANGE)) * scale
        d = _msdf.field(contours, np.stack([fx, fy], 1)) / scale + dilate
        v = np.clip(0.5 + d / (2 * RANGE), 0.0, 1.0)
        self.pixels[y:y + sh, x:x + sw] = np.round(v * 255).reshape(sh, sw, 3).astype(np.uint8)

    # -- as a lump -----------------------------------------------------------------------------

    def to_bytes(self):
        """The atlas as bytes: its key, its slots and the used part of its
        image (zlib), msgpack."""
        rows = -(-self.count // self.per_row) * self.slot_size[1]
        return msgpack.packb({
            "format": FORMAT, "key": self.key, "count": self.count, "height": rows,
            "slots": [[c, st, s] for (c, st), s in self._slots.items()],
            "pixels": zlib.compress(self.pixels[:rows].tobytes(), 1)}, use_bin_type=True)

    def load_bytes(self, data):
        """Take the slots and image of `data` (`to_bytes`) if they were made
        from the same fonts and parameters; return whether they were.
        A damaged blob is refused (False), never half taken."""
        try:
            blob = msgpack.unpackb(data, raw=False)
            if type(blob) is not dict or blob.get("key") != self.key:
                return False
            if blob.get("format") != FORMAT:
                return False
            rows, count = blob["height"], blob["count"]
            pixels = np.frombuffer(zlib.decompress(blob["pixels"]), np.uint8)
            pixels = pixels.reshape(rows, WIDTH, 3)
            slots = {(c, st): s for c, st, s in blob["slots"]}
            if not 1 <= count <= self.capacity or rows > HEIGHT or any(
                    type(s) is not int or not 0 <= s < count for s in slots.values()):
                return False
        except (ValueError, TypeError, KeyError, zlib.error, msgpack.UnpackException):
            return False
        self.pixels[:] = 0
        self.pixels[:rows] = pixels
        self._slots = slots
        self.count = count
        self.added = 0
        return True
