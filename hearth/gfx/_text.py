"""Monospace text as pixels: the cells of a terminal, for `hearth.gfx.terminal`.

A `CellFont` is one font at one size cut into equal cells. Each glyph is
rendered once by pygame.font into a coverage mask of one cell (cached), and
a row of cells is painted in one numpy step: background + (foreground -
background) x coverage, per cell. No window or GL is needed, only
pygame.font.

The font is the first of a few common monospace families fontconfig knows
(DejaVu Sans Mono on Debian); where none is installed it is pygame's own
bundled font, which is proportional: each glyph is then centred in its
cell, which keeps the grid but looks uneven.
"""

import numpy as np
import pygame

__all__ = ["CellFont", "FontCache"]

_MONO_FAMILIES = ("dejavusansmono,liberationmono,notosansmono,ubuntumono,freemono,"
                  "couriernew,monospace")
_MAX_GLYPHS = 4096  # cached masks per font; past it the cache starts again


class CellFont:
    """One font at `size` pixels per em, cut into cells of `cell_w` x
    `cell_h` pixels. Switches: never."""

    def __init__(self, size):
        if not pygame.font.get_init():
            pygame.font.init()
        path = pygame.font.match_font(_MONO_FAMILIES)
        bold_path = pygame.font.match_font(_MONO_FAMILIES, bold=True)
        self.font = pygame.font.Font(path, size)
        self.bold_font = pygame.font.Font(bold_path or path, size)
        if bold_path is None or bold_path == path:
            self.bold_font.bold = True  # synthetic bold
        self.cell_w = max(1, self.font.size("M")[0])
        self.cell_h = max(1, self.font.get_linesize())
        self._underline_row = min(self.cell_h - 1, self.font.get_ascent() + 1)
        self._glyphs = {}

    def glyph(self, text, bold=False, underline=False):
        """The (cell_h, cell_w) uint8 coverage mask of `text` (one cell's
        characters: a character and any combining marks)."""
        key = (text, bold, underline)
        mask = self._glyphs.get(key)
        if mask is None:
            if len(self._glyphs) >= _MAX_GLYPHS:
                self._glyphs.clear()
            mask = self._glyphs[key] = self._render(text, bold, underline)
        return mask

    def _render(self, text, bold, underline):
        h, w = self.cell_h, self.cell_w
        mask = np.zeros((h, w), np.uint8)
        if text and not text.isspace() and text.isprintable():
            font = self.bold_font if bold else self.font
            try:
                surf = font.render(text, True, (255, 255, 255), (0, 0, 0))
            except (pygame.error, ValueError):  # a character the font can't take
                surf = None
            if surf is not None and surf.get_width() and surf.get_height():
                sw, sh = surf.get_size()
                cover = np.frombuffer(pygame.image.tobytes(surf, "RGB"), np.uint8)
                cover = cover.reshape(sh, sw, 3)[:, :, 0]
                dx = (w - sw) // 2  # 0 for a monospace font; centres a proportional one
                x0, x1 = max(dx, 0), min(dx + sw, w)
                y1 = min(sh, h)
                mask[:y1, x0:x1] = cover[:y1, x0 - dx:x1 - dx]
        if underline:
            mask[self._underline_row] = 255
        return mask

    def paint_row(self, masks, fg, bg):
        """One row of cells as an (cell_h, n * cell_w, 3) uint8 array.

        Args:
            masks: n coverage masks (`glyph`).
            fg, bg: (n, 3) uint8 arrays: each cell's colors.
        """
        m = np.stack(masks).astype(np.uint32)[..., None]  # (n, h, w, 1)
        fg = fg.astype(np.uint32)[:, None, None, :]
        bg = bg.astype(np.uint32)[:, None, None, :]
        out = ((bg * (255 - m) + fg * m + 127) // 255).astype(np.uint8)  # (n, h, w, 3)
        n = out.shape[0]
        return out.transpose(1, 0, 2, 3).reshape(self.cell_h, n * self.cell_w, 3)


class FontCache:
    """`CellFont`s by size, shared by the terminals of one factory.
    Switches: never."""

    def __init__(self):
        self._fonts = {}

    def get(self, size):
        font = self._fonts.get(size)
        if font is None:
            font = self._fonts[size] = CellFont(size)
        return font
