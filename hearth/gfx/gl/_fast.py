"""Raw entry points for the few OpenGL calls a frame makes per object.

A PyOpenGL call costs 2-4 µs of Python (argument conversion, array
handlers) before it reaches the driver; a frame of 1,000 objects makes
three per object. These are the same GL functions called through ctypes
with plain ints and pointers (about 0.4 µs each): the frame loop passes
pointers it computed once (`pointer`), not arrays. Where the platform
can't give a function's address, PyOpenGL's own function stands in, with
the pointer wrapped for it. Call only with a context current.
"""

import ctypes

from . import GL

__all__ = ["FastGL", "pointer"]

_c = ctypes
_SIGNATURES = {
    "glUniformMatrix4fv": (_c.c_int, _c.c_int, _c.c_ubyte, _c.c_void_p),
    "glUniform4fv": (_c.c_int, _c.c_int, _c.c_void_p),
    "glDrawElements": (_c.c_uint, _c.c_int, _c.c_uint, _c.c_void_p),
    "glBindTexture": (_c.c_uint, _c.c_uint),
    "glBindVertexArray": (_c.c_uint,),
    "glTexSubImage2D": (_c.c_uint, _c.c_int, _c.c_int, _c.c_int, _c.c_int, _c.c_int,
                        _c.c_uint, _c.c_uint, _c.c_void_p),
}


def pointer(array):
    """The address of a contiguous numpy array's data (keep the array alive)."""
    return array.ctypes.data


def _address(name):
    try:
        from OpenGL.platform import PLATFORM
        return PLATFORM.getExtensionProcedure(name.encode()) or None
    except Exception:  # noqa: BLE001 - any platform trouble: use PyOpenGL's function
        return None


class FastGL:
    """The functions of `_SIGNATURES` as attributes, raw where possible.

    Attributes:
        raw: True if every function is a raw entry point.
    """

    def __init__(self):
        self.raw = True
        for name, argtypes in _SIGNATURES.items():
            addr = _address(name)
            if addr:
                fn = _c.CFUNCTYPE(None, *argtypes)(addr)
            else:
                self.raw = False
                fn = _fallback(getattr(GL, name), argtypes)
            setattr(self, name, fn)


def _fallback(fn, argtypes):
    if argtypes[-1] is not _c.c_void_p:
        return fn

    def call(*args):
        *head, ptr = args
        return fn(*head, None if ptr is None else _c.c_void_p(ptr))

    return call
