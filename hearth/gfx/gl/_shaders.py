"""GLSL 3.30 core programs of the client, and compiling them.

Call only from the frame loop, with the window's context current.
"""

from .._scene import MAX_LIGHTS
from . import GL

__all__ = ["Program", "MESH", "CANVAS", "TEXT", "LINES", "SKYBOX", "compile_program"]

MESH = ("""
#version 330 core
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec2 a_uv;
layout(location = 3) in vec4 a_color;
uniform mat4 u_view_proj;
uniform mat4 u_model;
out vec3 v_normal;
out vec2 v_uv;
out vec4 v_color;
void main() {
    // mat3(model) is right for rotations and uniform scales, the
    // transforms the protocol's objects take; it saves an inverse a vertex.
    v_normal = mat3(u_model) * a_normal;
    v_uv = a_uv;
    v_color = a_color;
    gl_Position = u_view_proj * (u_model * vec4(a_pos, 1.0));
}
""", """
#version 330 core
in vec3 v_normal;
in vec2 v_uv;
in vec4 v_color;
uniform vec4 u_albedo;
uniform sampler2D u_texture;
uniform vec3 u_ambient;
uniform int u_light_count;
uniform vec3 u_light_dir[%d];
uniform vec3 u_light_color[%d];
out vec4 frag;
void main() {
    vec4 base = u_albedo * v_color * texture(u_texture, v_uv);
    vec3 light = u_ambient;
    float len = length(v_normal);
    if (len > 1e-6) {
        vec3 n = v_normal / len;
        for (int i = 0; i < u_light_count; i++)
            light += u_light_color[i] * max(dot(n, -u_light_dir[i]), 0.0);
    }
    frag = vec4(base.rgb * light, base.a);
}
""" % (MAX_LIGHTS, MAX_LIGHTS))

CANVAS = ("""
#version 330 core
layout(location = 0) in vec2 a_corner;
uniform mat4 u_view_proj;
uniform mat4 u_model;
out vec2 v_uv;
void main() {
    v_uv = vec2(a_corner.x * 0.5 + 0.5, 0.5 - a_corner.y * 0.5);  // row 0 on top
    gl_Position = u_view_proj * (u_model * vec4(a_corner, 0.0, 1.0));
}
""", """
#version 330 core
in vec2 v_uv;
uniform sampler2D u_texture;
out vec4 frag;
void main() { frag = texture(u_texture, v_uv); }  // alpha blends (opacity)
""")

# A grid of text cells (`hearth.gfx.text.TextGrid`): the cell under the
# fragment from an integer texture of cells, its glyph from the MSDF atlas.
# The vertex shader gives the position in cells (margins excluded), which
# is affine over the quad, so the fragment shader's work is a floor, two
# fetches and a little arithmetic (it runs for every pixel the grid
# covers: on a software rasterizer that is most of a terminal's cost).
# The edge is where the median of the three channels is 0.5, anti-aliased
# over one screen pixel: the field's range in screen pixels comes from the
# screen-space derivatives of that position, which the vertex shader works
# out from the projection (fwidth would do, at twice the shader's cost on
# Mesa's llvmpipe), and hands on with its inverse, so that no fragment
# divides. The colors are rounded to 8 bits, what the framebuffer keeps
# anyway: a picture of the grid kept in a texture (`_grid_cache`, drawn
# upside down) then blends to the same pixels as the grid drawn directly.
TEXT = ("""
#version 330 core
layout(location = 0) in vec2 a_corner;
uniform mat4 u_view_proj;
uniform mat4 u_model;
uniform vec2 u_viewport;  // the framebuffer in pixels
uniform vec2 u_size;      // the grid in texture pixels, margins included
uniform float u_pad;      // the margin
uniform vec2 u_cell;      // a cell in texture pixels
uniform vec2 u_range_px;  // the field's range (+-) over u_glyph: per cell
uniform float u_flip_y;  // -1: upside down (a grid's picture, `_grid_cache`)
out vec2 v_q;             // the position in cells from the grid's top-left
// x: the field's distance (0.5 = the range) to screen pixels, at least 1;
// y: rows per screen pixel (as fwidth would say); z: its inverse.
out vec3 v_px;
invariant gl_Position;    // the cache's copy program places it the same
void main() {
    vec2 uv = vec2(a_corner.x * 0.5 + 0.5, 0.5 - a_corner.y * 0.5);  // row 0 on top
    v_q = (uv * u_size - vec2(u_pad)) / u_cell;
    mat4 m = u_view_proj * u_model;
    vec4 clip = m * vec4(a_corner, 0.0, 1.0);
    gl_Position = vec4(clip.x, clip.y * u_flip_y, clip.zw);
    // The screen-space derivatives of v_q, worked out here rather than by
    // fwidth in the fragment shader (which costs a software rasterizer
    // more than the rest of the shader): the screen position's derivatives
    // along the quad's two axes, inverted.
    float w = max(clip.w, 1e-6);
    vec2 ndc = clip.xy / w;
    vec2 ds_da = 0.5 * u_viewport * (m[0].xy - ndc * m[0].w) / w;
    vec2 ds_db = 0.5 * u_viewport * (m[1].xy - ndc * m[1].w) / w;
    float det = ds_da.x * ds_db.y - ds_db.x * ds_da.y;
    mat2 k = mat2(ds_db.y, -ds_da.y, -ds_db.x, ds_da.x) / (abs(det) > 1e-12 ? det : 1e-12);
    vec2 dq = 0.5 * u_size / u_cell;  // cells along the quad's axes a, b per unit
    vec2 fw = dq * vec2(abs(k[0][0]) + abs(k[1][0]), abs(k[0][1]) + abs(k[1][1]));
    fw = max(fw, vec2(1e-7));  // cells per screen pixel
    v_px = vec3(max(dot(u_range_px, 1.0 / fw), 1.0), fw.y, 1.0 / fw.y);
}
""", """
#version 330 core
in vec2 v_q;
in vec3 v_px;
uniform usampler2D u_cells;
uniform sampler2D u_atlas;
uniform vec2 u_grid;          // columns, rows
uniform vec2 u_glyph;         // a cell in atlas pixels
uniform vec2 u_inv_atlas;     // 1 / the atlas's size
uniform vec4 u_lines;         // underline top, bottom; strike top, bottom (cell fractions)
uniform vec3 u_background;    // the margin's color
uniform float u_opacity;      // alpha of the glyphs (and lines)
uniform float u_bg_opacity;   // alpha of the cells' background and the margin
out vec4 frag;

vec3 unpack(uint c) {
    return vec3(uvec3(c, c >> 8, c >> 16) & 255u) * (1.0 / 255.0);
}
// Coverage of the band [top, bottom] (cell fractions) at y, at least a
// screen pixel thick, anti-aliased over one.
float band(float y, float top, float bottom) {
    float d = abs(y - 0.5 * (top + bottom)) - max(0.5 * (bottom - top), 0.5 * v_px.y);
    return clamp(0.5 - d * v_px.z, 0.0, 1.0);
}

void main() {
    vec2 at = floor(v_q);
    // No early return: every fragment runs the same code (a software
    // rasterizer runs pixels in lockstep), the margin is chosen at the end.
    bool inside = at.x >= 0.0 && at.y >= 0.0 && at.x < u_grid.x && at.y < u_grid.y;
    vec2 f = v_q - at;
    uvec4 c = texelFetch(u_cells, clamp(ivec2(at), ivec2(0), ivec2(u_grid) - 1), 0);
    // c.x: the texel of the glyph's cell corner in the atlas (x | y << 16);
    // the blank slot is all zeros: no ink.
    vec2 texel = vec2(c.x & 65535u, c.x >> 16) + f * u_glyph;
    vec3 m = textureLod(u_atlas, texel * u_inv_atlas, 0.0).rgb;
    float sd = max(min(m.r, m.g), min(max(m.r, m.g), m.b)) - 0.5;
    float cover = clamp(sd * v_px.x + 0.5, 0.0, 1.0);
    vec2 lines = vec2(uvec2(c.w, c.w >> 1) & 1u);  // underline, strikethrough
    cover = max(cover, lines.x * band(f.y, u_lines.x, u_lines.y));
    cover = max(cover, lines.y * band(f.y, u_lines.z, u_lines.w));
    vec4 cellc = vec4(mix(unpack(c.z), unpack(c.y), cover), mix(u_bg_opacity, u_opacity, cover));
    vec4 color = inside ? cellc : vec4(u_background, u_bg_opacity);
    frag = floor(color * 255.0 + 0.5) * (1.0 / 255.0);
}
""")

LINES = ("""
#version 330 core
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec4 a_color;
uniform mat4 u_view_proj;
out vec4 v_color;
void main() { v_color = a_color; gl_Position = u_view_proj * vec4(a_pos, 1.0); }
""", """
#version 330 core
in vec4 v_color;
out vec4 frag;
void main() { frag = v_color; }
""")

SKYBOX = ("""
#version 330 core
layout(location = 0) in vec3 a_pos;
uniform mat4 u_proj;
uniform mat4 u_view;
out vec3 v_dir;
void main() {
    v_dir = a_pos;
    vec4 p = u_proj * vec4(mat3(u_view) * a_pos, 1.0);
    gl_Position = p.xyww;  // depth 1: behind everything, drawn last
}
""", """
#version 330 core
in vec3 v_dir;
uniform samplerCube u_cube;
out vec4 frag;
void main() { frag = vec4(texture(u_cube, v_dir).rgb, 1.0); }
""")


class ShaderError(RuntimeError):
    """A program did not compile or link: a bug in this module."""


def _shader(kind, source):
    sh = GL.glCreateShader(kind)
    GL.glShaderSource(sh, source)
    GL.glCompileShader(sh)
    if not GL.glGetShaderiv(sh, GL.GL_COMPILE_STATUS):
        raise ShaderError(GL.glGetShaderInfoLog(sh).decode(errors="replace"))
    return sh


class Program:
    """A linked program and its uniform locations (``program.u_model``)."""

    def __init__(self, sources):
        vs = _shader(GL.GL_VERTEX_SHADER, sources[0])
        fs = _shader(GL.GL_FRAGMENT_SHADER, sources[1])
        self.id = GL.glCreateProgram()
        GL.glAttachShader(self.id, vs)
        GL.glAttachShader(self.id, fs)
        GL.glLinkProgram(self.id)
        GL.glDeleteShader(vs)
        GL.glDeleteShader(fs)
        if not GL.glGetProgramiv(self.id, GL.GL_LINK_STATUS):
            raise ShaderError(GL.glGetProgramInfoLog(self.id).decode(errors="replace"))

    def __getattr__(self, name):
        if not name.startswith("u_"):
            raise AttributeError(name)
        loc = GL.glGetUniformLocation(self.id, name)
        setattr(self, name, loc)
        return loc


def compile_program(sources):
    return Program(sources)
