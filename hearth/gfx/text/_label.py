"""A string drawn in the world from the MSDF atlas: the text path any part
of the client can use (an entity's name above it, a guest's string through
`hearth.text.TextFactory`).

A `Label` is a `TextGrid` in the scene's canvases under an id of its own:
one cell per character, a row per line, the glyphs in one color over a
background that may be see-through. Its quad is sized from the text: a
line is `height` world units tall and the width follows the font's cells.
It is drawn like a terminal (one quad, the same shader and atlas), so it
stays sharp however close the camera comes. Nothing here switches
greenlets; a character new to the atlas costs a few milliseconds the
first time anything draws it.
"""

import numpy as np

from .._math import placement_matrix
from . import keep_new_glyphs, shared_atlas
from ._atlas import REGULAR
from ._grid import TextGrid, pack_rgb

__all__ = ["Label", "PAD_EM", "TEXTURE_PPEM"]

PAD_EM = 0.25  # the margin around the text, in ems
TEXTURE_PPEM = 32  # the grid's texture pixels per em (its units; not a resolution)


class Label:
    """`text` (a str; ``\\n`` starts a line) at `origin` in `scene`.

    Args:
        scene: the `hearth.gfx._scene.Scene`.
        text: the string.
        origin: ``(x, y, z)``, the quad's centre.
        orientation: ``(x, y, z, w)``, a quaternion; the text faces +z.
        height: a line's height in world units.
        color: ``(r, g, b)`` 0..255, the glyphs' color.
        background: ``(r, g, b, a)`` 0..255, or None: see-through.
        atlas: the atlas (default: `shared_atlas` of the current runtime).
        add: whether characters new to the atlas are generated (False:
            they show as ``?``); or a callable taking the number of new
            characters and answering whether they may be.

    Attributes:
        rid: its id in ``scene.canvases``.
        grid: its `TextGrid`.
    """

    def __init__(self, scene, text, origin, *, orientation=(0.0, 0.0, 0.0, 1.0), height=0.1,
                 color=(255, 255, 255), background=None, atlas=None, add=True):
        self.scene = scene
        self.atlas = atlas if atlas is not None else shared_atlas()
        self._add = add
        self.origin, self.orientation, self.height = origin, orientation, height
        self.color = color
        self.background = background
        cell = (max(1, round(self.atlas.cell_em[0] * TEXTURE_PPEM)),
                max(1, round(self.atlas.cell_em[1] * TEXTURE_PPEM)))
        self.grid = TextGrid(IDENTITY, self.atlas, 1, 1, cell, round(PAD_EM * TEXTURE_PPEM))
        self.rid = scene.new_id()
        self.text = None
        self.set_text(text)
        scene.canvases[self.rid] = self.grid

    def set_text(self, text):
        """Show `text` instead (the quad is resized to fit)."""
        lines = text.split("\n")
        columns = max(1, max(len(line) for line in lines))
        grid = self.grid
        if (grid.columns, grid.rows) != (columns, len(lines)):
            grid.resize(columns, len(lines))
        allowed = self._allowed(text)
        cells = grid.cells
        cells[:] = 0
        fg = pack_rgb(np.asarray(self.color, np.uint8)[None])[0]
        bg = self.background if self.background is not None else (0, 0, 0, 0)
        cells[:, :, 1] = fg
        cells[:, :, 2] = pack_rgb(np.asarray(bg[:3], np.uint8)[None])[0]
        slot, texels = self.atlas.slot, self.atlas.texels
        for r, line in enumerate(lines):
            if line:
                cells[r, :len(line), 0] = texels[[slot(c, REGULAR, allowed) for c in line]]
        grid.background = np.asarray(bg[:3], np.float32) / 255
        grid.background_opacity = bg[3] / 255
        grid.mark(range(grid.rows))
        self.text = text
        self._place()
        if self.atlas.added:
            keep_new_glyphs(self.atlas)

    def _allowed(self, text):
        if callable(self._add):
            new = {c for c in text if not self.atlas.has(c)}
            return bool(self._add(len(new))) if new else True
        return bool(self._add)

    def place(self, origin=None, orientation=None, height=None):
        """Move it, turn it or change its line height."""
        if origin is not None:
            self.origin = origin
        if orientation is not None:
            self.orientation = orientation
        if height is not None:
            self.height = height
        self._place()

    def recolor(self, color=None, background=None):
        """New glyph color and/or background (``(r, g, b, a)``; see-through
        with alpha 0)."""
        if color is not None:
            self.color = color
        if background is not None:
            self.background = background
        self.set_text(self.text)

    def _place(self):
        w, h = self.grid.size
        units = self.height / self.grid.cell[1]  # world units per texture pixel
        self.grid.transform = placement_matrix(self.origin, self.orientation,
                                               (w / 2 * units, h / 2 * units, 1.0))

    def remove(self):
        """Take it out of the scene. Idempotent."""
        self.scene.remove_canvas(self.rid)


IDENTITY = np.identity(4, np.float32).reshape(16)
