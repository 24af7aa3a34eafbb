"""PyOpenGL, configured once for the client: import ``GL`` from here.

PyOpenGL calls glGetError after every call unless `OpenGL.ERROR_CHECKING`
is off before `OpenGL.GL` is first imported; the check about doubles the
cost of each call, and a frame makes thousands. The client's calls are
checked by its tests (pixels read back) instead. The flag is global to
the process: a program that imports `OpenGL.GL` before the client keeps
its own setting.
"""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import OpenGL  # noqa: E402

OpenGL.ERROR_CHECKING = False

from OpenGL import GL  # noqa: E402

__all__ = ["GL"]
