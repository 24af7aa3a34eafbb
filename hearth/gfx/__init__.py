"""hearth.gfx — the graphical client's native services (hearth-client only).

Layer 2, beside `hearth.native` and `hearth.net`: imports `hearth.vm`,
`hearth.otp` and `hearth.native`'s service helper; nothing below it imports
this package, so the headless server never loads pygame, PyOpenGL or pyte.
Importing it loads all three (and numpy). Every service's messages are in
docs/protocols.md; docs/client.md tours the modules.

Here: the window and its frame loop (`open_display`, `Window`), the
renderer (`Renderer`), canvases (`CanvasFactory`), debug draws
(`DebugDrawFactory`), terminals (`TerminalFactory`, from `hearth.gfx.terminal`),
strings in the world (`TextFactory`, `Label`, from `hearth.gfx.text`, which
also draws the terminals' glyphs), `start_client_services` (all six under
one supervisor) and the lump formats' writers (`encode_mesh`, `encode_texture`, `encode_material`, `cube_mesh`,
`encode_lines`), and `RendererView` (the world's mirror drawn by the
renderer). `hearth.gfx.gl` holds the OpenGL side: PyOpenGL configured
once, the shaders and one frame's draw calls.
"""

from . import gl  # noqa: F401, I001 - first: configures PyOpenGL, hides pygame's banner

from ._canvas import CANVAS_FACTORY, CanvasFactory
from ._debug_draw import DEBUG_DRAW_FACTORY, DebugDrawFactory, encode_lines
from ._formats import INVALID_LUMP, cube_mesh, encode_material, encode_mesh, encode_texture
from ._renderer import RENDERER, Renderer
from ._services import CLIENT_SERVICES, ClientServices, start_client_services
from ._world_view import RendererView
from ._window import CLOSED, WINDOW, Display, Window, open_display
from .terminal import DEFAULT_PALETTE, TERMINAL_FACTORY, TerminalFactory
from .text import Label
from .text._service import TEXT_FACTORY, TextFactory

__all__ = [
    "WINDOW",
    "CLOSED",
    "Display",
    "Window",
    "open_display",
    "RENDERER",
    "Renderer",
    "CANVAS_FACTORY",
    "CanvasFactory",
    "DEBUG_DRAW_FACTORY",
    "DebugDrawFactory",
    "encode_lines",
    "INVALID_LUMP",
    "encode_mesh",
    "encode_texture",
    "encode_material",
    "cube_mesh",
    "TERMINAL_FACTORY",
    "TerminalFactory",
    "DEFAULT_PALETTE",
    "TEXT_FACTORY",
    "TextFactory",
    "Label",
    "RendererView",
    "CLIENT_SERVICES",
    "ClientServices",
    "start_client_services",
]
