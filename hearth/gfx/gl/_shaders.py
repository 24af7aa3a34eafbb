"""GLSL 3.30 core programs of the client, and compiling them.

Call only from the frame loop, with the window's context current.
"""

from . import GL

from .._scene import MAX_LIGHTS

__all__ = ["Program", "MESH", "CANVAS", "LINES", "SKYBOX", "compile_program"]

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
