"""hearth.gfx.terminal — ``hearth.terminal.TerminalFactory``: a program in a
pty, shown on a textured quad in the world (docs/protocols.md)."""

from ._terminal import DEFAULT_PALETTE, TERMINAL_FACTORY, TerminalFactory

__all__ = ["TERMINAL_FACTORY", "TerminalFactory", "DEFAULT_PALETTE"]
