"""hearth.gfx.terminal — ``hearth.terminal.TerminalFactory``: a program in a
pty, shown on a textured quad in the world (docs/protocols.md).

By concern: `_pty` runs the program in a pseudo-terminal (spawn, input,
hang-up and reaping), `_screen` is the VT screen its output goes through
(pyte) and the colors of its cells, `_draw` paints the screen's lines into
the canvas's pixels, and `_factory` is the service: the factory, each
terminal's process and reader, the checks of a state map.
"""

from ._factory import TERMINAL_FACTORY, TerminalFactory
from ._screen import DEFAULT_PALETTE

__all__ = ["TERMINAL_FACTORY", "TerminalFactory", "DEFAULT_PALETTE"]
