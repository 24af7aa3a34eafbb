"""GLSL 3.30 core programs of the client, and compiling them.

Call only from the frame loop, with the window's context current.
"""

from . import GL

from .._scene import MAX_LIGHTS

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
# Positions are in "texture pixels" (the size the grid would have as a
# bitmap); the edge is where the median of the three channels is 0.5, and
# it is anti-aliased over one screen pixel: the field's range in screen
# pixels comes from the screen-space derivatives of the position.
TEXT = (CANVAS[0], """
#version 330 core
in vec2 v_uv;
uniform usampler2D u_cells;
uniform sampler2D u_atlas;
uniform vec2 u_size;        // the grid in texture pixels, margins included
uniform float u_pad;        // the margin
uniform vec2 u_cell;        // a cell in texture pixels
uniform ivec2 u_grid;       // columns, rows
uniform vec2 u_slot;        // a slot of the atlas in atlas pixels
uniform float u_per_row;    // slots in a row of the atlas
uniform vec2 u_glyph;       // a cell in atlas pixels
uniform float u_margin;     // a slot's margin in atlas pixels
uniform vec2 u_atlas_size;
uniform float u_range;      // the field spans +-u_range atlas pixels
uniform vec4 u_lines;       // underline top, bottom; strike top, bottom (cell fractions)
uniform vec3 u_background;  // the margin's color
uniform float u_opacity;     // alpha of the glyphs (and lines)
uniform float u_bg_opacity;  // alpha of the cells' background and the margin
out vec4 frag;

float median(vec3 v) { return max(min(v.r, v.g), min(max(v.r, v.g), v.b)); }
vec3 unpack(uint c) {
    return vec3(float(c & 255u), float((c >> 8) & 255u), float((c >> 16) & 255u)) / 255.0;
}
// Coverage of the band [top, bottom] (texture pixels) at y, at least a
// screen pixel thick, anti-aliased over one.
float band(float y, float top, float bottom, float px) {
    float half_ = max(0.5 * (bottom - top), 0.5 * px);
    float d = abs(y - 0.5 * (top + bottom)) - half_;
    return clamp(0.5 - d / px, 0.0, 1.0);
}

void main() {
    vec2 p = v_uv * u_size - vec2(u_pad);
    vec2 fw = max(fwidth(p), vec2(1e-6));  // texture pixels per screen pixel
    vec2 grid = vec2(u_grid) * u_cell;
    if (p.x < 0.0 || p.y < 0.0 || p.x >= grid.x || p.y >= grid.y) {
        frag = vec4(u_background, u_bg_opacity);
        return;
    }
    ivec2 at = min(ivec2(p / u_cell), u_grid - 1);
    vec2 f = p / u_cell - vec2(at);
    uvec4 c = texelFetch(u_cells, at, 0);
    vec3 fg = unpack(c.y), bg = unpack(c.z);
    float cover = 0.0;
    if (c.x != 0u) {
        float s = float(c.x);
        vec2 origin = vec2(mod(s, u_per_row), floor(s / u_per_row)) * u_slot;
        vec2 texel = origin + vec2(u_margin) + f * u_glyph;
        float sd = median(textureLod(u_atlas, texel / u_atlas_size, 0.0).rgb) - 0.5;
        // Atlas pixels per screen pixel, then the field's range on screen.
        vec2 scale = fw * (u_glyph / u_cell);
        float screen_range = max(0.5 * dot(vec2(2.0 * u_range), 1.0 / scale), 1.0);
        cover = clamp(sd * screen_range + 0.5, 0.0, 1.0);
    }
    float y = f.y * u_cell.y;
    if ((c.w & 1u) != 0u)
        cover = max(cover, band(y, u_lines.x * u_cell.y, u_lines.y * u_cell.y, fw.y));
    if ((c.w & 2u) != 0u)
        cover = max(cover, band(y, u_lines.z * u_cell.y, u_lines.w * u_cell.y, fw.y));
    frag = vec4(mix(bg, fg, cover), mix(u_bg_opacity, u_opacity, cover));
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
