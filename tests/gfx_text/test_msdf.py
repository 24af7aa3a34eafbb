"""The MSDF generator (`hearth.gfx.text._msdf`) and the atlas
(`_atlas`, `_cache`) against brute force: distances to a densely sampled
outline, inside/outside by the winding of that sampled polygon and by
FreeType's own rasterizer, and the corners a bilinearly sampled atlas
reconstructs. Real fonts (DejaVu Sans Mono), no window."""

import time

import numpy as np
import pytest

freetype = pytest.importorskip("freetype")

from hearth.gfx.text import _msdf  # noqa: E402
from hearth.gfx.text._atlas import BOLD, ITALIC, PPEM, RANGE, REGULAR, Atlas, find_faces  # noqa: E402
from hearth.gfx.text._cache import PRINTABLE, load_or_build, save  # noqa: E402
from hearth.vm import LumpStore  # noqa: E402

SAMPLES = 200  # points per edge of the brute-force outline


@pytest.fixture(scope="module")
def face():
    return freetype.Face(find_faces()[REGULAR])


@pytest.fixture(scope="module")
def atlas():
    return Atlas()


def _grid(face, step=44):
    """Points every `step` font units over the glyph's em box and margin."""
    ys, xs = np.mgrid[-600:2100:step, -300:1500:step]
    return np.stack([xs.ravel() + 0.37, ys.ravel() + 0.61], 1).astype(np.float64)


def _dense(contours):
    """Each contour as a dense closed polygon, by plain Bézier evaluation."""
    polys = []
    for edges in contours:
        pts = []
        for e in edges:
            t = np.linspace(0, 1, SAMPLES, endpoint=False)[:, None]
            p = e.points
            if len(p) == 2:
                q = (1 - t) * p[0] + t * p[1]
            elif len(p) == 3:
                q = (1 - t) ** 2 * p[0] + 2 * t * (1 - t) * p[1] + t ** 2 * p[2]
            else:
                q = ((1 - t) ** 3 * p[0] + 3 * t * (1 - t) ** 2 * p[1]
                     + 3 * t ** 2 * (1 - t) * p[2] + t ** 3 * p[3])
            pts.append(q)
        polys.append(np.concatenate(pts))
    return polys


def _brute(contours, points):
    """Unsigned distance to the sampled outline and nonzero-winding inside."""
    polys = _dense(contours)
    allpts = np.concatenate(polys)
    dist = np.full(len(points), np.inf)
    for chunk in np.array_split(np.arange(len(points)), 8):
        d = np.sqrt(((points[chunk, None, :] - allpts[None]) ** 2).sum(-1)).min(1)
        dist[chunk] = d
    winding = np.zeros(len(points), np.int64)
    for poly in polys:
        a, b = poly, np.roll(poly, -1, axis=0)
        px, py = points[:, 0:1], points[:, 1:2]
        c = (b[:, 0] - a[:, 0]) * (py - a[:, 1]) - (b[:, 1] - a[:, 1]) * (px - a[:, 0])
        winding += ((a[:, 1] <= py) & (b[:, 1] > py) & (c > 0)).sum(1)
        winding -= ((b[:, 1] <= py) & (a[:, 1] > py) & (c < 0)).sum(1)
    return dist, winding != 0


@pytest.mark.parametrize("char", list("OoLTB@g&%"))
def test_the_field_against_brute_force_on_the_outline(face, char):
    """The median is inside exactly where the sampled outline's winding
    says so, and the true distance is the sampled outline's."""
    contours = _msdf.color_edges(_msdf.outline(face, char))
    points = _grid(face)
    f = _msdf.field(contours, points)
    med = _msdf.median(f[:, 0], f[:, 1], f[:, 2])
    sd = _msdf.signed_distance(contours, points)
    dist, inside = _brute(contours, points)
    clear = dist > 2.0  # font units: a pixel at 32 px/em is 64
    assert clear.mean() > 0.95
    assert np.array_equal(med[clear] > 0, inside[clear])
    assert np.array_equal(sd[clear] > 0, inside[clear])
    # The generator's chords against the dense samples: within a few
    # font units (a twentieth of a pixel).
    assert np.abs(np.abs(sd) - dist).max() < 3.0


def test_a_glyph_without_corners_is_white_and_every_channel_is_its_distance(face):
    contours = _msdf.color_edges(_msdf.outline(face, "O"))
    assert all(e.color == _msdf.WHITE for c in contours for e in c)
    points = _grid(face, 30)
    f = _msdf.field(contours, points)
    dist, inside = _brute(contours, points)
    signed = np.where(inside, dist, -dist)
    for ch in range(3):
        assert np.abs(f[:, ch] - signed).max() < 3.0


@pytest.mark.parametrize("char", list("LTEkMW4"))
def test_the_edges_meeting_at_a_corner_share_exactly_one_channel(face, char):
    contours = _msdf.color_edges(_msdf.outline(face, char))
    corners = 0
    for edges in contours:
        for prev, nxt in zip(edges[-1:] + edges[:-1], edges):
            if _msdf._is_corner(prev.direction(True), nxt.direction(False)):
                corners += 1
                shared = prev.color & nxt.color
                assert shared and shared & (shared - 1) == 0, (prev, nxt)
            assert bin(nxt.color).count("1") >= 2  # every edge in two channels at least
    assert corners >= 4


def test_the_median_agrees_with_freetypes_own_rasterizer(atlas):
    """Pixel by pixel, inside where FreeType's monochrome rendering of the
    glyph at the atlas's size is set (except pixels the edge crosses)."""
    f = freetype.Face(find_faces()[REGULAR])
    f.set_pixel_sizes(PPEM, PPEM)
    # Shift the outline down by the baseline's fraction of a pixel in the
    # slot, so that FreeType's pixel grid is the slot's.
    base = atlas.ascender * PPEM
    shift = base - np.floor(base)
    f.set_transform(freetype.Matrix(0x10000, 0, 0, 0x10000),
                    freetype.Vector(0, -round(shift * 64)))
    mismatches = total = 0
    for char in "AHLTXaegmw#":
        f.load_char(char, freetype.FT_LOAD_RENDER | freetype.FT_LOAD_TARGET_MONO
                    | freetype.FT_LOAD_NO_HINTING)
        bm = f.glyph.bitmap
        rows, width, pitch = bm.rows, bm.width, bm.pitch
        bits = np.unpackbits(np.array(bm.buffer, np.uint8).reshape(rows, pitch), axis=1)
        mono = bits[:, :width].astype(bool)
        s = atlas.slot(char)
        x, y, sw, sh = atlas.rect(s)
        med = np.median(atlas.pixels[y:y + sh, x:x + sw].astype(int), axis=2)
        # The bitmap's top-left pixel in the slot's pixels.
        left = f.glyph.bitmap_left + RANGE
        top = int(np.floor(base)) - f.glyph.bitmap_top + RANGE
        assert top >= 0 and left >= 0 and top + rows <= sh and left + width <= sw
        ours = med[top:top + rows, left:left + width]
        sure = np.abs(ours - 127.5) > 255 / (2 * RANGE) * 0.75  # not on the edge
        mismatches += int(((ours > 127.5) != mono)[sure].sum())
        total += int(sure.sum())
    assert total > 2000 and mismatches == 0


def _bilinear(img, x, y):
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    return (img[y0, x0] * (1 - fx) * (1 - fy) + img[y0, x0 + 1] * fx * (1 - fy)
            + img[y0 + 1, x0] * (1 - fx) * fy + img[y0 + 1, x0 + 1] * fx * fy)


@pytest.mark.parametrize("char", list("LTEH"))
def test_a_sampled_atlas_keeps_corners_square(atlas, face, char):
    """A fifth of a pixel from every right-angled corner, along its
    bisector on both sides, the bilinearly sampled median is on the right
    side of the edge by the right amount: a fifth of a pixel from both
    edges, as for a square corner (a single-channel field rounds it off and
    reads the outside point as inside, or the inside one short)."""
    edges = [e for c in _msdf.outline(face, char) for e in c]
    contour_of = [e for c in _msdf.outline(face, char) for e in zip(c[-1:] + c[:-1], c)]
    s = atlas.slot(char)
    x, y, sw, sh = atlas.rect(s)
    img = atlas.pixels[y:y + sh, x:x + sw].astype(np.float64) / 255
    scale = atlas.upm / PPEM
    k = 0.2
    checked = 0
    for prev, nxt in contour_of:
        a, b = prev.direction(True), nxt.direction(False)
        if abs(float(a @ b)) > 0.01:
            continue  # not a right angle
        fx, fy = nxt.points[0]
        ox, oy = k * (b - a)  # along the bisector: k from both edges' lines
        # Texel centres are at integer indices in `img`; image y grows down.
        cx = fx / scale + RANGE - 0.5
        cy = atlas.ascender * PPEM - fy / scale + RANGE - 0.5
        one = np.median(_bilinear(img, cx + ox, cy - oy))
        other = np.median(_bilinear(img, cx - ox, cy + oy))
        lo, hi = sorted((one, other))
        assert lo < 0.5 < hi, (char, (fx, fy))
        want = k / (2 * RANGE)
        assert abs(hi - 0.5 - want) < 0.012 and abs(0.5 - lo - want) < 0.012, (char, (fx, fy))
        checked += 1
    assert checked >= min(4, len(edges))


def test_bold_and_italic_are_other_glyphs(atlas):
    slots = {atlas.slot("R", style) for style in (REGULAR, BOLD, ITALIC, BOLD | ITALIC)}
    assert len(slots) == 4
    imgs = [atlas.pixels[y:y + h, x:x + w] for x, y, w, h in map(atlas.rect, slots)]
    assert all(not np.array_equal(imgs[0], im) for im in imgs[1:])
    assert atlas.slot(" ") == 0 and atlas.slot("\x07") == 0


def test_a_missing_face_is_synthesized(tmp_path):
    regular = find_faces()[REGULAR]
    synth = Atlas([regular, None, None, None])
    real = Atlas()
    for style in (BOLD, ITALIC):
        a = synth.pixels[_rows(synth, synth.slot("l", style))]
        b = synth.pixels[_rows(synth, synth.slot("l", REGULAR))]
        assert not np.array_equal(a, b)
    # A synthetic bold is fatter than the regular: more texels inside.
    inside = [np.median(synth.pixels[_rows(synth, synth.slot("l", st))], axis=2) > 127
              for st in (REGULAR, BOLD)]
    assert inside[1].sum() > inside[0].sum()
    assert synth.key != real.key  # another font set, another cache entry


def _rows(atlas, s):
    x, y, w, h = atlas.rect(s)
    return slice(y, y + h), slice(x, x + w)


def test_the_atlas_is_cached_as_a_lump_and_loaded_the_second_time(tmp_path):
    store = LumpStore(str(tmp_path / "lumps"))
    first, cached = load_or_build(store, prefill="AB")
    assert not cached and first.count == 3
    first.slot("Z")
    save(store, first)
    again, cached = load_or_build(LumpStore(str(tmp_path / "lumps")), prefill="AB")
    assert cached and again.count == 4 and again.added == 0
    assert np.array_equal(again.pixels, first.pixels)
    assert again.slot("Z") == first.slot("Z") and again.added == 0  # not generated again


def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path):
    store = LumpStore(None)
    first, _ = load_or_build(store, prefill="A")
    assert not Atlas().load_bytes(b"\x93garbage")
    assert not Atlas().load_bytes(first.to_bytes()[:-40])
    other = Atlas([find_faces()[REGULAR], None, None, None])
    assert not other.load_bytes(first.to_bytes())  # another font set's atlas
    again, cached = load_or_build(store, prefill="A")
    assert cached


def test_the_printable_set_generates_once(tmp_path):
    store = LumpStore(None)
    atlas, cached = load_or_build(store)
    assert not cached and atlas.count == len(PRINTABLE) + 1
    assert all(0 < atlas.slot(c) < atlas.count for c in PRINTABLE)
    assert atlas.added == 0  # saved


def test_glyphs_added_in_a_session_are_kept_for_the_next(tmp_path):
    from hearth.gfx.text import SAVE_EVERY, keep_new_glyphs, shared_atlas
    store = LumpStore(str(tmp_path / "lumps"))
    atlas = shared_atlas(store)
    assert shared_atlas(store) is atlas  # one per store
    assert not keep_new_glyphs(atlas)  # nothing new
    atlas.slot("\u00e9")
    assert not keep_new_glyphs(atlas)  # too soon after the first save
    assert keep_new_glyphs(atlas, now=time.monotonic() + SAVE_EVERY + 1)
    assert atlas.added == 0
    again, cached = load_or_build(LumpStore(str(tmp_path / "lumps")))
    assert cached and again.has("\u00e9")
