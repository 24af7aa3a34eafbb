"""hearth.gfx.text — text drawn from multi-channel signed distance fields.

By concern: `_msdf` generates a glyph's field from its FreeType outline
(edge coloring, per-channel pseudo-distances, numpy over pixels), `_atlas`
keeps the fields of a monospace font's four styles in one image, glyphs
added on first use, and `_cache` stores that atlas as a lump so a second
start loads it instead of generating it.
"""
