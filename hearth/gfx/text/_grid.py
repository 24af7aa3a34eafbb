"""A grid of text cells on a quad, drawn from the glyph atlas by a shader.

A `TextGrid` is what the scene holds for a terminal (or a label): the unit
quad placed by its transform, showing `columns` x `rows` cells inside a
margin of `pad`. Its cells are one ``(rows, columns, 4)`` uint32 array
the GPU reads as an integer texture, one texel a cell:

- 0: where the cell's glyph is in the atlas: the texel of the top-left
  corner of its slot's cell, ``x | y << 16`` (`Atlas.texels`; 0: blank),
- 1: the foreground color, ``r | g << 8 | b << 16``,
- 2: the background color, likewise,
- 3: attribute bits: `UNDERLINE`, `STRIKE`.

Bold and italics are in the slot (the atlas holds each style's glyphs);
reverse video, the cursor and a selection are in the colors (swapped
before they are written). The frame loop uploads only the rows in
`dirty` (``(start, stop)`` runs), or everything when `reallocate` is set,
and the atlas's slots added since its last upload.

The quad's size in "texture pixels" (`size`) is what the grid would be
as a bitmap at `cell` pixels a cell: the fragment shader works in those
units, so a grid looks the same as the bitmap path's canvas of that size.
Nothing here switches greenlets or touches GL.
"""

import numpy as np

from .._scene import Canvas

__all__ = ["TextGrid", "UNDERLINE", "STRIKE", "pack_rgb"]

UNDERLINE, STRIKE = 1, 2


def pack_rgb(colors):
    """``(n, 3)`` uint8 colors as ``(n,)`` uint32 ``r | g << 8 | b << 16``."""
    c = np.asarray(colors, np.uint32)
    return c[..., 0] | (c[..., 1] << 8) | (c[..., 2] << 16)


class TextGrid(Canvas):
    """A grid of cells drawn from `atlas` (an `Atlas`).

    Attributes:
        cells: ``(rows, columns, 4)`` uint32 (see the module docstring).
        cell: ``(w, h)`` a cell in texture pixels.
        pad: the margin in texture pixels.
        opacity: 0..1, the alpha of the glyphs (and of everything, unless
            `background_opacity` is set).
        background_opacity: 0..1, the alpha of the background and the
            margin, or None (`opacity`): a label's background is see-through.
        background: ``(3,)`` float32 0..1, the margin's color.
        dirty: ``(start, stop)`` runs of rows to upload.
    """

    __slots__ = ("atlas", "cells", "cell", "pad", "opacity", "background", "background_opacity")

    def __init__(self, transform, atlas, columns, rows, cell, pad, opacity=1.0,
                 background=(0, 0, 0)):
        super().__init__(transform, None, linear=True)
        self.atlas = atlas
        self.cells = np.zeros((rows, columns, 4), np.uint32)
        self.cell = cell
        self.pad = pad
        self.opacity = opacity
        self.background = np.asarray(background, np.float32) / 255
        self.background_opacity = None

    @property
    def columns(self):
        return self.cells.shape[1]

    @property
    def rows(self):
        return self.cells.shape[0]

    @property
    def size(self):
        """``(width, height)`` in texture pixels, margins included."""
        return (self.columns * self.cell[0] + 2 * self.pad,
                self.rows * self.cell[1] + 2 * self.pad)

    def resize(self, columns, rows):
        """A new, blank grid of cells; uploaded whole at the next frame."""
        self.cells = np.zeros((rows, columns, 4), np.uint32)
        self.dirty.clear()
        self.reallocate = True

    def mark(self, rows):
        """Rows (sorted ints) were written: upload them at the next frame."""
        if self.reallocate:
            return
        start = prev = None
        for r in rows:
            if start is None:
                start = prev = r
            elif r == prev + 1:
                prev = r
            else:
                self.dirty.append((start, prev + 1))
                start = prev = r
        if start is not None:
            self.dirty.append((start, prev + 1))
