"""The world's small bitmap font (hearth/world/_font.py), which the chat
board is drawn in on a server that never loads a font renderer."""

import numpy as np

from hearth.world._font import CELL_H, CELL_W, glyph, text_mask


def test_every_printable_ascii_character_has_its_own_glyph():
    shapes = {}
    for code in range(33, 127):
        dots = glyph(chr(code))
        assert dots.shape == (CELL_H, CELL_W) and dots.any(), chr(code)
        assert not dots[:, -1].any() and not dots[0].any()  # the gaps stay clear
        shapes.setdefault(dots.tobytes(), []).append(chr(code))
    assert all(len(chars) == 1 for chars in shapes.values()), \
        [c for c in shapes.values() if len(c) > 1]
    assert not glyph(" ").any()
    assert (glyph("é") == glyph("?")).all()  # not drawn: shown as ?


def test_a_text_mask_is_its_glyphs_side_by_side_scaled():
    mask = text_mask("Hi", scale=3)
    assert mask.shape == (CELL_H * 3, 2 * CELL_W * 3) and mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 255}
    h = np.repeat(np.repeat(glyph("H"), 3, axis=0), 3, axis=1) * 255
    assert (mask[:, :CELL_W * 3] == h).all()
    assert text_mask("").shape == (CELL_H * 2, 0)
