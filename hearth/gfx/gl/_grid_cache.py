"""A picture of a text grid, kept for the frames in which nothing about
the grid changed.

A terminal being flooded changes its cells about once every 1/60 s
(`hearth.gfx.terminal` paints a flood at most that often), while the frame
loop may draw several frames in that time; the MSDF shader that draws a
grid (a cell fetch, an atlas sample, the median, the coverage, the line
bands) costs a software rasterizer about twice a plain texture read over
the same pixels. So a big grid is drawn by that shader into a texture the
size of the framebuffer (an FBO, the same viewport), before anything is
drawn into the window, and the window gets the grid's quad drawn by a
program that only copies its pixels from that texture (`texelFetch` at
``gl_FragCoord``), blended and depth-tested as the grid itself would be;
the frames after that, while nothing changes, draw only the copy.

What the window shows is the same either way, to the bit, on Mesa (where
the frame loop's cost matters most: llvmpipe): the text program rounds its
colors to 8 bits, what the texture keeps, and the picture is drawn upside
down (the text program's ``u_flip_y``) because Mesa rasterizes a window's
framebuffer with y going down and an FBO's with y going up: mirrored, the
two cover the same pixels with the same values. (Elsewhere the two may
differ by a unit in a few pixels along edges; the picture is cleared to
transparent first, so a pixel the copy covers and the picture did not
shows nothing rather than an old frame.)

A grid's picture is redrawn when anything it was drawn from changes: its
cells (a reallocation), its atlas's glyphs, its transform, the camera,
the viewport, its colors, opacity or layout. When only rows of cells
changed (a line typed, a flood painted), only their band of the picture
is drawn again (`band_rect`, scissored): a pixel's value depends on the
cell under it alone. When a grid changed in the frame before too (a
camera moving, a flood painted every frame), it is drawn directly
instead, unless at most half its rows changed: a picture the next frame
drops again would only add the copy. Only grids covering at least `MIN_SHARE` of the
framebuffer get a picture (a label's few pixels cost the shader little),
at most `MAX_CACHED` of them (each holds a framebuffer's worth of RGBA8).

Call only from the frame loop, with the window's context current.
Nothing here switches greenlets.
"""

import numpy as np

from . import GL

__all__ = ["GridCaches", "MIN_SHARE", "MAX_CACHED", "COPY", "screen_share", "band_rect"]

MIN_SHARE = 1 / 16  # of the framebuffer's pixels, under the grid's bounding box
MAX_CACHED = 4

# The grid's quad, placed exactly as the text program places it (the same
# expression, `invariant`), so it covers the same pixels; each takes what
# the text program wrote there, the picture's rows upside down.
COPY = ("""
#version 330 core
layout(location = 0) in vec2 a_corner;
uniform mat4 u_view_proj;
uniform mat4 u_model;
invariant gl_Position;
void main() {
    mat4 m = u_view_proj * u_model;
    gl_Position = m * vec4(a_corner, 0.0, 1.0);
}
""", """
#version 330 core
uniform sampler2D u_texture;
uniform int u_top;  // the framebuffer's height - 1
out vec4 frag;
void main() {
    ivec2 at = ivec2(gl_FragCoord.xy);
    frag = texelFetch(u_texture, ivec2(at.x, u_top - at.y), 0);
}
""")

_CORNERS = np.array([[-1, -1, 0, 1], [1, -1, 0, 1], [1, 1, 0, 1], [-1, 1, 0, 1]],
                    dtype=np.float64).T


def screen_share(view_proj, transform, width, height):
    """The share (0..1) of a `width` x `height` framebuffer under the
    bounding box of the unit quad placed by `transform` and seen through
    `view_proj` (both (16,) column-major); 1 when the quad reaches behind
    the camera."""
    m = (np.asarray(view_proj, np.float64).reshape(4, 4).T
         @ np.asarray(transform, np.float64).reshape(4, 4).T)
    clip = m @ _CORNERS
    w = clip[3]
    if (w <= 1e-6).any():
        return 1.0
    x = np.clip((clip[0] / w + 1) * 0.5, 0.0, 1.0)
    y = np.clip((clip[1] / w + 1) * 0.5, 0.0, 1.0)
    return float((x.max() - x.min()) * (y.max() - y.min()))


def band_rect(view_proj, transform, top, bottom, width, height):
    """The pixels of a `width` x `height` framebuffer, counted from its
    top, that the band of the placed unit quad from `top` to `bottom`
    (fractions of its height from its top edge) may cover: ``(x, y, w,
    h)``, a pixel wider all round; None when the band reaches behind the
    camera. Row y from the top is row y of a picture (drawn upside down)."""
    m = (np.asarray(view_proj, np.float64).reshape(4, 4).T
         @ np.asarray(transform, np.float64).reshape(4, 4).T)
    corners = np.array([[-1, 1, 1, -1], [1 - 2 * top, 1 - 2 * top, 1 - 2 * bottom,
                                         1 - 2 * bottom], [0] * 4, [1] * 4], np.float64)
    clip = m @ corners
    w = clip[3]
    if (w <= 1e-6).any():
        return None
    x = (clip[0] / w + 1) * 0.5 * width
    y = (1 - clip[1] / w) * 0.5 * height
    x0, x1 = max(int(np.floor(x.min())) - 1, 0), min(int(np.ceil(x.max())) + 1, width)
    y0, y1 = max(int(np.floor(y.min())) - 1, 0), min(int(np.ceil(y.max())) + 1, height)
    return (x0, y0, max(x1 - x0, 0), max(y1 - y0, 0))


class _Entry:
    __slots__ = ("key", "share", "fbo", "texture", "size", "valid", "changed_at")

    def __init__(self):
        self.key = None
        self.share = 0.0
        self.fbo = self.texture = None
        self.size = None
        self.valid = False
        self.changed_at = -2  # the frame in which the key last changed


class GridCaches:
    """The cached pictures of the scene's grids (see the module docstring)."""

    def __init__(self, program):
        self.program = program  # a linked COPY
        self.entries = {}  # grid -> _Entry
        self.frame = 0

    def begin_frame(self):
        self.frame += 1

    def plan(self, grid, key, changed, view_proj, viewport, rows=None):
        """How to draw `grid` this frame: "copy" (the picture is good),
        "fill" (draw the picture, then copy it), "patch" (draw the rows
        that changed into the picture, then copy it) or "direct". `key`
        names everything the picture depends on but the cells; `changed`:
        cells uploaded this frame; `rows`: the ``(start, stop)`` runs of
        them, when that is all that changed (not a reallocation)."""
        e = self.entries.get(grid)
        if e is None:
            e = self.entries[grid] = _Entry()
        patch = bool(rows) and e.valid
        if key != e.key:
            if e.key is None or key[:3] != e.key[:3]:  # placement, camera, viewport
                e.share = screen_share(view_proj, grid.transform, *viewport)
            e.key = key
            changed, patch = True, False
        if changed:
            e.valid = False
            recent = e.changed_at == self.frame - 1
            e.changed_at = self.frame
            # A few rows are worth patching even frame after frame (typing);
            # a picture the next frame redraws whole is not worth drawing.
            if patch and (not recent or 2 * sum(b - a for a, b in rows) <= grid.rows):
                return "patch"
            if recent:
                return "direct"  # the texture is kept for when it stands still
        if e.valid:
            return "copy"
        if e.share < MIN_SHARE:
            self._release(e)
            return "direct"
        return "fill" if self._room(e) else "direct"

    def _room(self, entry):
        if entry.texture is not None:
            return True
        return sum(1 for e in self.entries.values() if e.texture is not None) < MAX_CACHED

    def fill_begin(self, grid, viewport, rect=None):
        """Bind `grid`'s picture as the draw framebuffer (made or remade at
        the viewport's size), cleared; only within `rect` (``(x, y, w,
        h)``, `band_rect`), scissored, for a patch. The caller sets the
        viewport, turns blending and the depth test off (the picture keeps
        what the text program writes) and flips y (``u_flip_y``)."""
        e = self.entries[grid]
        # Unit 2 is the copy program's: nothing the text program samples,
        # and the picture is not left bound to any unit while drawn into.
        GL.glActiveTexture(GL.GL_TEXTURE2)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        if e.size != viewport:
            self._release(e)
            e.texture = int(GL.glGenTextures(1))
            GL.glBindTexture(GL.GL_TEXTURE_2D, e.texture)
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, viewport[0], viewport[1], 0,
                            GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, None)
            for param in (GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_MAG_FILTER):
                GL.glTexParameteri(GL.GL_TEXTURE_2D, param, GL.GL_NEAREST)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            e.fbo = int(GL.glGenFramebuffers(1))
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, e.fbo)
            GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0,
                                      GL.GL_TEXTURE_2D, e.texture, 0)
            e.size = viewport
        else:
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, e.fbo)
        if rect is not None:
            GL.glEnable(GL.GL_SCISSOR_TEST)
            GL.glScissor(*rect)
        GL.glClearColor(0.0, 0.0, 0.0, 0.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)

    def fill_end(self, grid):
        """The picture is drawn: good until the grid's key changes. (The
        caller binds the window's framebuffer again.)"""
        GL.glDisable(GL.GL_SCISSOR_TEST)
        self.entries[grid].valid = True

    def texture(self, grid):
        return self.entries[grid].texture

    def _release(self, e):
        if e.texture is not None:
            GL.glDeleteFramebuffers(1, [e.fbo])
            GL.glDeleteTextures(1, [e.texture])
            e.fbo = e.texture = e.size = None
        e.valid = False

    def sweep(self, live):
        """Drop the caches of grids not in `live` (a set)."""
        for grid in [g for g in self.entries if g not in live]:
            self._release(self.entries.pop(grid))
