"""The GPU side of the scene: uploads and one frame's draw calls.

`GLRenderer` owns every OpenGL object of the client. Only the frame loop
calls it, with the window's context current. GPU meshes and textures are
cached by lump key, so a thousand objects of one mesh cost one upload; the
cache drops what nothing in the scene uses any more after a removal.
Objects are drawn batch by batch (one mesh and texture bind per batch,
then a model matrix, an albedo and a draw call per object); canvases are
updated by sub-image uploads of their dirty rectangles only. Text grids
(`hearth.gfx.text.TextGrid`, a terminal's cells) are canvases drawn by
the text program: their cells texture gets the rows that changed, the
glyph atlas the slots added since its last upload. A big grid that did not
change since it was last drawn is copied from the picture of it kept in a
texture (`_grid_cache`), pixel for pixel what the text program would draw.
"""

import ctypes

import numpy as np

from .._math import perspective_infinite
from .._scene import MAX_LIGHTS
from ..text._grid import TextGrid
from . import GL
from ._fast import FastGL
from ._grid_cache import COPY, GridCaches, band_rect
from ._shaders import CANVAS, LINES, MESH, SKYBOX, TEXT, Program

__all__ = ["GLRenderer"]

_F = 4  # bytes in a float32
_TEXTURE_2D, _RGBA, _UNSIGNED_BYTE = (int(GL.GL_TEXTURE_2D), int(GL.GL_RGBA),
                                      int(GL.GL_UNSIGNED_BYTE))
_RGB, _RGBA_INTEGER, _UNSIGNED_INT = (int(GL.GL_RGB), int(GL.GL_RGBA_INTEGER),
                                      int(GL.GL_UNSIGNED_INT))

_QUAD = np.array([-1, -1, 1, -1, 1, 1, -1, 1], dtype=np.float32)
_QUAD_INDICES = np.array([0, 1, 2, 0, 2, 3], dtype=np.uint32)
_CUBE = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)],
                 dtype=np.float32)
_CUBE_INDICES = np.array([
    0, 1, 3, 0, 3, 2, 4, 6, 7, 4, 7, 5, 0, 4, 5, 0, 5, 1,
    2, 3, 7, 2, 7, 6, 0, 2, 6, 0, 6, 4, 1, 5, 7, 1, 7, 3], dtype=np.uint32)


def _vao(vertices, indices, layout):
    """A VAO over new buffers; `layout` is ``[(location, floats), ...]``."""
    vao = GL.glGenVertexArrays(1)
    GL.glBindVertexArray(vao)
    vbo, ebo = GL.glGenBuffers(2)
    GL.glBindBuffer(GL.GL_ARRAY_BUFFER, vbo)
    GL.glBufferData(GL.GL_ARRAY_BUFFER, vertices.nbytes, vertices, GL.GL_STATIC_DRAW)
    GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, ebo)
    GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices, GL.GL_STATIC_DRAW)
    stride = sum(n for _, n in layout) * _F
    offset = 0
    for loc, n in layout:
        GL.glEnableVertexAttribArray(loc)
        GL.glVertexAttribPointer(loc, n, GL.GL_FLOAT, GL.GL_FALSE, stride,
                                 ctypes.c_void_p(offset))
        offset += n * _F
    GL.glBindVertexArray(0)
    return (vao, int(vbo), int(ebo), len(indices))


def _delete_vao(entry):
    vao, vbo, ebo, _ = entry
    GL.glDeleteVertexArrays(1, [vao])
    GL.glDeleteBuffers(2, [vbo, ebo])


def _texture_2d(width, height, pixels, linear):
    tex = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, width, height, 0, GL.GL_RGBA,
                    GL.GL_UNSIGNED_BYTE, pixels)
    filt = GL.GL_LINEAR if linear else GL.GL_NEAREST
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, filt)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, filt)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
    return int(tex)


def _texture_cells(grid):
    """An integer texture of `grid`'s cells (one RGBA32UI texel a cell)."""
    tex = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    rows, columns = grid.cells.shape[:2]
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA32UI, columns, rows, 0, GL.GL_RGBA_INTEGER,
                    GL.GL_UNSIGNED_INT, np.ascontiguousarray(grid.cells))
    for param in (GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_MAG_FILTER):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, param, GL.GL_NEAREST)  # integer: never filtered
    for param in (GL.GL_TEXTURE_WRAP_S, GL.GL_TEXTURE_WRAP_T):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, param, GL.GL_CLAMP_TO_EDGE)
    return int(tex)


def _texture_atlas(atlas):
    """An RGB8 texture the size of `atlas`'s image, nothing uploaded yet."""
    tex = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
    h, w = atlas.pixels.shape[:2]
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGB8, w, h, 0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE,
                    None)
    for param in (GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_MAG_FILTER):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, param, GL.GL_LINEAR)
    for param in (GL.GL_TEXTURE_WRAP_S, GL.GL_TEXTURE_WRAP_T):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, param, GL.GL_CLAMP_TO_EDGE)
    return int(tex)


def _texture_cube(data):
    tex = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_CUBE_MAP, tex)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    for i, face in enumerate(data.faces):
        GL.glTexImage2D(GL.GL_TEXTURE_CUBE_MAP_POSITIVE_X + i, 0, GL.GL_RGBA8, data.width,
                        data.height, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, face)
    for p in (GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_MAG_FILTER):
        GL.glTexParameteri(GL.GL_TEXTURE_CUBE_MAP, p, GL.GL_LINEAR)
    for p in (GL.GL_TEXTURE_WRAP_S, GL.GL_TEXTURE_WRAP_T, GL.GL_TEXTURE_WRAP_R):
        GL.glTexParameteri(GL.GL_TEXTURE_CUBE_MAP, p, GL.GL_CLAMP_TO_EDGE)
    return int(tex)


class GLRenderer:
    """Draws a `Scene`. Make it, and call it, with the context current."""

    def __init__(self):
        self.mesh_program = Program(MESH)
        self.canvas_program = Program(CANVAS)
        self.text_program = Program(TEXT)
        self.atlases = {}  # atlas -> [texture id, slots uploaded]
        self.grid_caches = GridCaches(Program(COPY))
        self._plans = {}  # grid -> how it is drawn this frame (`GridCaches.plan`)
        self._viewport = (1, 1)
        # Opaque grids drawn with blending off (the same pixels, cheaper on
        # a software rasterizer); False: blended like any canvas.
        self.opaque_unblended = True
        self._atlas_bound = None  # (text program, the atlas its uniforms describe)
        self.lines_program = Program(LINES)
        self.sky_program = Program(SKYBOX)
        self.meshes = {}    # mesh key -> vao entry
        self.textures = {}  # texture key -> texture id
        self.canvas_textures = {}  # canvas -> (texture id, width, height)
        self.debug_vaos = {}  # debug draw -> (version, vao entry)
        self.skybox = None  # (key, texture id)
        self.white = _texture_2d(1, 1, b"\xff\xff\xff\xff", False)
        self.quad = _vao(_QUAD, _QUAD_INDICES, [(0, 2)])
        self.cube = _vao(_CUBE, _CUBE_INDICES, [(0, 3)])
        self._swept = 0
        self.fast = FastGL()
        GL.glEnable(GL.GL_DEPTH_TEST)  # no face culling: a mesh's winding is not checked
        GL.glUseProgram(self.mesh_program.id)
        GL.glUniform1i(self.mesh_program.u_texture, 0)
        GL.glUseProgram(self.canvas_program.id)
        GL.glUniform1i(self.canvas_program.u_texture, 0)
        GL.glUseProgram(self.text_program.id)
        GL.glUniform1i(self.text_program.u_atlas, 0)
        GL.glUniform1i(self.text_program.u_cells, 1)
        GL.glUseProgram(self.grid_caches.program.id)
        GL.glUniform1i(self.grid_caches.program.u_texture, 2)
        GL.glUseProgram(self.sky_program.id)
        GL.glUniform1i(self.sky_program.u_cube, 0)
        GL.glActiveTexture(GL.GL_TEXTURE0)

    # -- caches ------------------------------------------------------------------------------

    def _mesh(self, mesh):
        entry = self.meshes.get(mesh.key)
        if entry is None:
            entry = self.meshes[mesh.key] = _vao(mesh.vertices, mesh.indices,
                                                 [(0, 3), (1, 3), (2, 2), (3, 4)])
        return entry

    def _texture(self, tex):
        if tex is None:
            return self.white
        tid = self.textures.get(tex.key)
        if tid is None:
            tid = self.textures[tex.key] = _texture_2d(tex.width, tex.height, tex.faces[0], True)
        return tid

    def _sweep(self, scene):
        """Free GPU resources nothing in the scene uses any more."""
        used_meshes = {k[0] for k in scene.batches}
        used_textures = {k[1] for k in scene.batches}
        for key in [k for k in self.meshes if k not in used_meshes]:
            _delete_vao(self.meshes.pop(key))
        for key in [k for k in self.textures if k not in used_textures]:
            GL.glDeleteTextures(1, [self.textures.pop(key)])
        live = set(scene.canvases.values())
        for canvas in [c for c in self.canvas_textures if c not in live]:
            GL.glDeleteTextures(1, [self.canvas_textures.pop(canvas)[0]])
        self.grid_caches.sweep(live)
        live = set(scene.debug_draws.values())
        for dd in [d for d in self.debug_vaos if d not in live]:
            _delete_vao(self.debug_vaos.pop(dd)[1])

    # -- a frame -----------------------------------------------------------------------------

    def draw(self, scene, width, height):
        """Draw one frame of `scene` into the current framebuffer."""
        if self._swept != scene.removed:
            self._swept = scene.removed
            self._sweep(scene)
        cam = scene.camera
        proj = perspective_infinite(cam.vfov, width / max(height, 1), cam.near)
        view_proj = (proj.reshape(4, 4).T @ cam.view.reshape(4, 4).T).T.reshape(16)
        view_proj = np.ascontiguousarray(view_proj, dtype=np.float32)
        grids = [c for c in scene.canvases.values() if type(c) is TextGrid]
        if grids:
            self._prepare_grids(grids, view_proj, (width, height))
        self._viewport = (width, height)
        GL.glViewport(0, 0, width, height)
        GL.glClearColor(*scene.clear_color)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        self._draw_objects(scene, view_proj)
        self._draw_canvases(scene, view_proj)
        self._draw_debug(scene, view_proj)
        self._draw_skybox(scene, proj, cam.view)

    def _draw_objects(self, scene, view_proj):
        if not scene.batches:
            return
        p = self.mesh_program
        GL.glUseProgram(p.id)
        GL.glUniformMatrix4fv(p.u_view_proj, 1, GL.GL_FALSE, view_proj)
        GL.glUniform3fv(p.u_ambient, 1, scene.ambient)
        lights = list(scene.lights.values())[:MAX_LIGHTS]
        GL.glUniform1i(p.u_light_count, len(lights))
        if lights:
            dirs = np.array([li.direction for li in lights], dtype=np.float32)
            colors = np.array([li.color * li.intensity for li in lights], dtype=np.float32)
            GL.glUniform3fv(p.u_light_dir, len(lights), dirs)
            GL.glUniform3fv(p.u_light_color, len(lights), colors)
        u_model, u_albedo = p.u_model, p.u_albedo
        fast = self.fast
        uniform_matrix, uniform4, draw = (fast.glUniformMatrix4fv, fast.glUniform4fv,
                                          fast.glDrawElements)
        triangles, uint = int(GL.GL_TRIANGLES), int(GL.GL_UNSIGNED_INT)
        for batch in scene.batches.values():
            first = next(iter(batch.values()))
            vao, _, _, count = self._mesh(first.mesh)
            fast.glBindVertexArray(vao)
            fast.glBindTexture(GL.GL_TEXTURE_2D, self._texture(first.material.texture))
            for obj in batch.values():
                uniform_matrix(u_model, 1, 0, obj.transform_ptr)
                uniform4(u_albedo, 1, obj.albedo_ptr)
                draw(triangles, count, uint, None)
        fast.glBindVertexArray(0)

    def _draw_canvases(self, scene, view_proj):
        if not scene.canvases:
            return
        GL.glBindVertexArray(self.quad[0])
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        # Canvases blend by their pixels' alpha (a terminal's opacity, a
        # canvas's transparent pixels), after every opaque object.
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
        grids = []
        p = self.canvas_program
        GL.glUseProgram(p.id)
        GL.glUniformMatrix4fv(p.u_view_proj, 1, GL.GL_FALSE, view_proj)
        fast, u_model = self.fast, p.u_model
        triangles, uint = int(GL.GL_TRIANGLES), int(GL.GL_UNSIGNED_INT)
        for canvas in scene.canvases.values():
            if type(canvas) is TextGrid:
                grids.append(canvas)
                continue
            self._upload_canvas(canvas)
            fast.glUniformMatrix4fv(u_model, 1, 0, canvas.transform_ptr)
            fast.glDrawElements(triangles, 6, uint, None)
        if grids:
            self._draw_grids(grids, view_proj)
        GL.glDisable(GL.GL_BLEND)
        GL.glBindVertexArray(0)

    def _prepare_grids(self, grids, view_proj, viewport):
        """Upload the grids' cells and atlases, choose how each is drawn
        this frame (`GridCaches.plan`) and draw those that need it into
        their pictures: before anything is drawn into the window, so that
        a software rasterizer renders the window's frame in one pass."""
        p, caches = self.text_program, self.grid_caches
        caches.begin_frame()
        GL.glUseProgram(p.id)
        GL.glUniformMatrix4fv(p.u_view_proj, 1, GL.GL_FALSE, view_proj)
        GL.glUniform2f(p.u_viewport, *viewport)
        GL.glUniform1f(p.u_flip_y, 1.0)
        camera = view_proj.tobytes()
        plans = self._plans
        plans.clear()
        filling = False
        for grid in grids:
            atlas = grid.atlas
            self._bind_atlas(atlas)
            GL.glActiveTexture(GL.GL_TEXTURE1)
            rows = None if grid.reallocate else list(grid.dirty)
            changed = self._upload_grid(grid)
            key = (grid.transform.tobytes(), camera, viewport, grid.size, grid.pad, grid.cell,
                   grid.background.tobytes(), grid.opacity, grid.background_opacity,
                   id(atlas), atlas.count)
            how = plans[grid] = caches.plan(grid, key, changed, view_proj, viewport, rows)
            rect = None
            if how == "patch":
                height, (_, cell_h) = grid.size[1], grid.cell
                rect = band_rect(view_proj, grid.transform,
                                 (grid.pad + min(a for a, _ in rows) * cell_h) / height,
                                 (grid.pad + max(b for _, b in rows) * cell_h) / height,
                                 *viewport)
            if how in ("fill", "patch"):
                if not filling:
                    filling = True
                    target = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
                    GL.glViewport(0, 0, *viewport)
                    GL.glDisable(GL.GL_DEPTH_TEST)  # blending is off outside canvases
                    GL.glBindVertexArray(self.quad[0])
                caches.fill_begin(grid, viewport, rect)
                GL.glUniform1f(p.u_flip_y, -1.0)
                self._draw_grid(grid)
                GL.glUniform1f(p.u_flip_y, 1.0)
                caches.fill_end(grid)
        if filling:
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target)  # what the frame is drawn into
            GL.glEnable(GL.GL_DEPTH_TEST)
            GL.glBindVertexArray(0)
        GL.glActiveTexture(GL.GL_TEXTURE0)

    def _bind_atlas(self, atlas):
        """Bind `atlas` to unit 0 and set the text program's uniforms of
        it, unless it is bound already (the text program in use)."""
        GL.glActiveTexture(GL.GL_TEXTURE0)
        self._upload_atlas(atlas)
        p = self.text_program
        if self._atlas_bound == (p, atlas):
            return
        h, w = atlas.pixels.shape[:2]
        GL.glUniform2f(p.u_glyph, *atlas.glyph_px)
        GL.glUniform2f(p.u_inv_atlas, 1 / w, 1 / h)
        # sd (0.5 = +-margin atlas pixels) to screen pixels: 2 x margin
        # over the atlas pixels a screen pixel spans, on each axis, halved.
        GL.glUniform2f(p.u_range_px, atlas.margin / atlas.glyph_px[0],
                       atlas.margin / atlas.glyph_px[1])
        GL.glUniform4f(p.u_lines, *(v / atlas.cell_em[1] for v in atlas.underline + atlas.strike))
        self._atlas_bound = (p, atlas)

    def _draw_grid(self, grid):
        """Draw `grid` with the text program (in use, its atlas and cells
        bound) into the current framebuffer."""
        p = self.text_program
        GL.glUniform2f(p.u_size, *grid.size)
        GL.glUniform1f(p.u_pad, grid.pad)
        GL.glUniform2f(p.u_cell, *grid.cell)
        GL.glUniform2f(p.u_grid, grid.columns, grid.rows)
        GL.glUniform3f(p.u_background, *grid.background)
        GL.glUniform1f(p.u_opacity, grid.opacity)
        GL.glUniform1f(p.u_bg_opacity, grid.opacity if grid.background_opacity is None
                       else grid.background_opacity)
        self.fast.glUniformMatrix4fv(p.u_model, 1, 0, grid.transform_ptr)
        self.fast.glDrawElements(int(GL.GL_TRIANGLES), 6, int(GL.GL_UNSIGNED_INT), None)

    def _draw_grids(self, grids, view_proj):
        """Draw the grids into the window, each as `_prepare_grids` chose:
        copied from its picture, or drawn directly."""
        copy, p = self.grid_caches.program, self.text_program
        fast, plans = self.fast, self._plans
        triangles, uint = int(GL.GL_TRIANGLES), int(GL.GL_UNSIGNED_INT)
        using = None
        blending = True
        for grid in grids:
            # An opaque grid's alpha is 1 everywhere: blending would give
            # its colors unchanged, at the cost of reading every pixel back.
            opaque = self.opaque_unblended and grid.opacity >= 1.0 and (
                grid.background_opacity is None or grid.background_opacity >= 1.0)
            if opaque == blending:
                blending = not opaque
                (GL.glDisable if opaque else GL.glEnable)(GL.GL_BLEND)
            if plans.get(grid, "direct") == "direct":
                if using is not p:
                    GL.glUseProgram(p.id)
                    using = p
                self._bind_atlas(grid.atlas)
                GL.glActiveTexture(GL.GL_TEXTURE1)
                self._upload_grid(grid)
                self._draw_grid(grid)
                continue
            if using is not copy:
                GL.glUseProgram(copy.id)
                GL.glUniformMatrix4fv(copy.u_view_proj, 1, GL.GL_FALSE, view_proj)
                GL.glUniform1i(copy.u_top, self._viewport[1] - 1)
                GL.glActiveTexture(GL.GL_TEXTURE2)
                using = copy
            fast.glBindTexture(_TEXTURE_2D, self.grid_caches.texture(grid))
            fast.glUniformMatrix4fv(copy.u_model, 1, 0, grid.transform_ptr)
            fast.glDrawElements(triangles, 6, uint, None)
        if not blending:
            GL.glEnable(GL.GL_BLEND)
        GL.glActiveTexture(GL.GL_TEXTURE0)

    def _upload_atlas(self, atlas):
        """Bind `atlas`'s texture, uploading the slots added since the last
        time (whole rows of slots: one call)."""
        entry = self.atlases.get(atlas)
        if entry is None:
            entry = self.atlases[atlas] = [_texture_atlas(atlas), 0]
        fast = self.fast
        fast.glBindTexture(_TEXTURE_2D, entry[0])
        if entry[1] != atlas.count:
            first = 0 if atlas.count < entry[1] else entry[1]
            sh = atlas.slot_size[1]
            y0 = (first // atlas.per_row) * sh
            y1 = -(-atlas.count // atlas.per_row) * sh
            sub = np.ascontiguousarray(atlas.pixels[y0:y1])
            fast.glTexSubImage2D(_TEXTURE_2D, 0, 0, y0, sub.shape[1], y1 - y0, _RGB,
                                 _UNSIGNED_BYTE, sub.ctypes.data)
            entry[1] = atlas.count

    def _upload_grid(self, grid):
        """Bind `grid`'s cells texture, uploading its dirty rows; True if
        anything was uploaded."""
        entry = self.canvas_textures.get(grid)
        cells = grid.cells
        if grid.reallocate or entry is None:
            if entry is not None:
                GL.glDeleteTextures(1, [entry[0]])
            rows, columns = cells.shape[:2]
            self.canvas_textures[grid] = (_texture_cells(grid), columns, rows)
            grid.reallocate = False
            grid.dirty.clear()
            return True
        fast = self.fast
        fast.glBindTexture(_TEXTURE_2D, entry[0])
        if not grid.dirty:
            return False
        columns = cells.shape[1]
        for start, stop in grid.dirty:
            sub = np.ascontiguousarray(cells[start:stop])
            fast.glTexSubImage2D(_TEXTURE_2D, 0, 0, start, columns, stop - start,
                                 _RGBA_INTEGER, _UNSIGNED_INT, sub.ctypes.data)
        grid.dirty.clear()
        return True

    def _upload_canvas(self, canvas):
        entry = self.canvas_textures.get(canvas)
        h, w = canvas.pixels.shape[:2]
        if canvas.reallocate or entry is None:
            if entry is not None:
                GL.glDeleteTextures(1, [entry[0]])
            tid = _texture_2d(w, h, canvas.pixels, canvas.linear)
            self.canvas_textures[canvas] = (tid, w, h)
            canvas.reallocate = False
            canvas.dirty.clear()
            return
        fast = self.fast
        fast.glBindTexture(_TEXTURE_2D, entry[0])
        if canvas.dirty:
            pixels = canvas.pixels
            for x, y, rw, rh in canvas.dirty:
                sub = np.ascontiguousarray(pixels[y:y + rh, x:x + rw])
                fast.glTexSubImage2D(_TEXTURE_2D, 0, x, y, rw, rh, _RGBA, _UNSIGNED_BYTE,
                                     sub.ctypes.data)
            canvas.dirty.clear()

    def _draw_debug(self, scene, view_proj):
        shown = [d for d in scene.debug_draws.values() if not d.hidden and len(d.indices)]
        if not shown:
            return
        p = self.lines_program
        GL.glUseProgram(p.id)
        GL.glUniformMatrix4fv(p.u_view_proj, 1, GL.GL_FALSE, view_proj)
        for dd in shown:
            entry = self.debug_vaos.get(dd)
            if entry is None or entry[0] != dd.version:
                if entry is not None:
                    _delete_vao(entry[1])
                entry = self.debug_vaos[dd] = (dd.version,
                                               _vao(dd.vertices, dd.indices, [(0, 3), (1, 4)]))
            GL.glBindVertexArray(entry[1][0])
            GL.glDrawElements(GL.GL_LINES, entry[1][3], GL.GL_UNSIGNED_INT, None)
        GL.glBindVertexArray(0)

    def _draw_skybox(self, scene, proj, view):
        sky = scene.skybox
        if sky is None:
            if self.skybox is not None:
                GL.glDeleteTextures(1, [self.skybox[1]])
                self.skybox = None
            return
        if self.skybox is None or self.skybox[0] is not sky:
            if self.skybox is not None:
                GL.glDeleteTextures(1, [self.skybox[1]])
            self.skybox = (sky, _texture_cube(sky))
        p = self.sky_program
        GL.glUseProgram(p.id)
        GL.glUniformMatrix4fv(p.u_proj, 1, GL.GL_FALSE, proj)
        GL.glUniformMatrix4fv(p.u_view, 1, GL.GL_FALSE, view)
        GL.glDepthFunc(GL.GL_LEQUAL)
        GL.glDepthMask(GL.GL_FALSE)
        GL.glBindTexture(GL.GL_TEXTURE_CUBE_MAP, self.skybox[1])
        GL.glBindVertexArray(self.cube[0])
        GL.glDrawElements(GL.GL_TRIANGLES, self.cube[3], GL.GL_UNSIGNED_INT, None)
        GL.glBindVertexArray(0)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDepthFunc(GL.GL_LESS)
