"""Drawing a terminal's screen: the layout (cells inside a padding) and
the lines that changed, written and marked for upload. No pty here, and
no GL: the frame loop uploads what changed. Nothing here switches
greenlets (but a glyph new to the atlas is generated on the spot, a few
milliseconds of CPU).

Two paths, chosen by the layout's font:

- MSDF (the default; `GridFonts`): the scene holds a
  `hearth.gfx.text.TextGrid`, one texel a cell (glyph, colors,
  attributes); a shader draws the glyphs from the atlas of distance
  fields, sharp at any magnification. A changed line costs one row of
  cells (16 bytes a cell) to write and upload.
- bitmap (`hearth.gfx._text.FontCache`): a plain canvas whose pixels are
  painted with pygame.font coverage masks at the layout's pixels per em;
  kept for comparison (benchmarks/bench_text.py) and as a fallback.

`new_canvas`, `reset`, `paint` and `canvas_size` take either.
"""

import numpy as np

from hearth.native._service import INVALID_REQUEST, ServiceError

from .._formats import MAX_TEXTURE_SIZE
from .._scene import Canvas
from ..text import keep_new_glyphs, shared_atlas
from ..text._grid import TextGrid, pack_rgb
from ._screen import BG

__all__ = ["Layout", "GridFont", "GridFonts", "check_layout", "blank", "new_canvas", "reset",
           "paint", "canvas_size"]


class GridFont:
    """The atlas's cells at `size` texture pixels per em: `cell_w` x
    `cell_h` (the MSDF path's stand-in for a `CellFont`)."""

    def __init__(self, atlas, size):
        self.atlas = atlas
        self.cell_w = max(1, round(atlas.cell_em[0] * size))
        self.cell_h = max(1, round(atlas.cell_em[1] * size))


class GridFonts:
    """`GridFont`s by size over one atlas (`hearth.gfx.text.shared_atlas`
    of `store`, loaded at the first `get`). Switches: never."""

    def __init__(self, store=None):
        self._store = store
        self._fonts = {}

    def get(self, size):
        font = self._fonts.get(size)
        if font is None:
            font = self._fonts[size] = GridFont(shared_atlas(self._store), size)
        return font


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


def new_canvas(layout, screen, transform):
    """What the scene shows `screen` with at `layout`: a `TextGrid` (MSDF)
    or a `Canvas` (bitmap), blank, every line of `screen` marked to be
    painted."""
    if isinstance(layout.font, GridFont):
        grid = TextGrid(transform, layout.font.atlas, screen.columns, screen.rows, (0, 0), 0)
        reset(grid, layout, screen)
        return grid
    return Canvas(transform, blank(layout, screen), linear=True)


def reset(canvas, layout, screen):
    """Remake `canvas` for a new layout, grid size, opacity or palette:
    blank, reallocated at the next frame, every line to be painted."""
    if type(canvas) is TextGrid:
        canvas.cell = (layout.font.cell_w, layout.font.cell_h)
        canvas.pad = layout.pad
        canvas.opacity = layout.opacity
        canvas.background = layout.palette[BG].astype(np.float32) / 255
        canvas.resize(screen.columns, screen.rows)
        screen.touch_all()
        return
    canvas.pixels = blank(layout, screen)
    canvas.dirty.clear()
    canvas.reallocate = True


def canvas_size(canvas):
    """``(width, height)`` of `canvas` in texture pixels."""
    if type(canvas) is TextGrid:
        return canvas.size
    h, w = canvas.pixels.shape[:2]
    return w, h


def paint(canvas, layout, screen):
    """Write the lines of `screen` that need it into `canvas` (cells or
    pixels) and add them to what the next frame uploads (unless the whole
    texture is uploaded anyway)."""
    if type(canvas) is TextGrid:
        _paint_grid(canvas, screen, layout.palette)
        return
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


def _paint_grid(grid, screen, palette):
    rows = screen.take_dirty()
    if not rows:
        return
    atlas = grid.atlas
    slot, texels = atlas.slot, atlas.texels
    cells = grid.cells
    for r in rows:
        chars, styles, fg, bg, attrs = screen.cells(r, palette)
        out = cells[r]
        out[:, 0] = texels[[slot(c, st) for c, st in zip(chars, styles)]]
        out[:, 1] = pack_rgb(fg)
        out[:, 2] = pack_rgb(bg)
        out[:, 3] = attrs
    grid.mark(rows)
    if atlas.added:
        keep_new_glyphs(atlas)


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
