"""Drawing a terminal's screen into the pixels of its canvas: the layout
(cells of a `CellFont` inside a padding), a blank buffer, and the lines
that changed painted and marked for upload (the canvas path of
`hearth.gfx._scene`). No pty here, and no GL: the frame loop uploads the
pixels. Nothing here switches greenlets.
"""

import numpy as np

from hearth.native._service import INVALID_REQUEST, ServiceError

from .._formats import MAX_TEXTURE_SIZE
from ._screen import BG

__all__ = ["Layout", "check_layout", "blank", "paint"]


class Layout:
    """How cells map to pixels: `font` (a `CellFont`), `pad` pixels of
    margin, `opacity` (0..1) and `palette` (an ``(18, 3)`` uint8 array)."""

    def __init__(self, font, pad, opacity, palette):
        self.font = font
        self.pad = pad
        self.opacity = opacity
        self.palette = palette

    def size(self, columns, rows):
        """``(width, height)`` in pixels of a `columns` x `rows` grid."""
        return (columns * self.font.cell_w + 2 * self.pad,
                rows * self.font.cell_h + 2 * self.pad)


def check_layout(fonts, units_per_em, columns, rows, padding):
    """Raise ServiceError (``invalid_request``) if the grid at this size
    would make a texture larger than `MAX_TEXTURE_SIZE` a side."""
    font = fonts.get(units_per_em)
    pad = round(padding * units_per_em)
    w, h = columns * font.cell_w + 2 * pad, rows * font.cell_h + 2 * pad
    if w > MAX_TEXTURE_SIZE or h > MAX_TEXTURE_SIZE:
        raise ServiceError(INVALID_REQUEST, f"{columns}x{rows} cells make a {w}x{h} texture;"
                           f" at most {MAX_TEXTURE_SIZE} pixels a side")


def blank(layout, screen):
    """A new pixel buffer for `screen` at `layout`, all background, and
    every line of `screen` marked to be painted."""
    w, h = layout.size(screen.columns, screen.rows)
    pixels = np.empty((h, w, 4), np.uint8)
    pixels[:, :, :3] = layout.palette[BG]
    pixels[:, :, 3] = round(layout.opacity * 255)
    screen.touch_all()
    return pixels


def paint(canvas, layout, screen):
    """Paint the lines of `screen` that need it into `canvas`'s pixels,
    and add their rectangles to what the next frame uploads (unless the
    whole texture is uploaded anyway)."""
    rows = screen.take_dirty()
    if not rows:
        return
    font, pad = layout.font, layout.pad
    ch, width = font.cell_h, screen.columns * font.cell_w
    alpha = round(layout.opacity * 255)
    for r in rows:
        cells, fg, bg = screen.row(r, layout.palette)
        masks = [font.glyph(text, bold, underscore) for text, bold, underscore in cells]
        y = pad + r * ch
        canvas.pixels[y:y + ch, pad:pad + width, :3] = font.paint_row(masks, fg, bg)
        canvas.pixels[y:y + ch, pad:pad + width, 3] = alpha
    if not canvas.reallocate:
        for start, stop in _runs(rows):
            canvas.dirty.append((pad, pad + start * ch, width, (stop - start) * ch))


def _runs(rows):
    """Sorted ints as (start, stop) runs of consecutive ones."""
    start = prev = None
    for r in rows:
        if start is None:
            start = prev = r
        elif r == prev + 1:
            prev = r
        else:
            yield start, prev + 1
            start = prev = r
    if start is not None:
        yield start, prev + 1
