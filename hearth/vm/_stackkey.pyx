# cython: language_level=3
"""The stack key of a crash, read in C: `_reasons._crash_key`'s compiled twin.

`error_reason` looks a crash's traceback text up by the stack it was raised
from: every frame's code object and instruction offset. Read through Python
attributes (the traceback's ``tb_frame``, ``tb_lasti``, ``tb_next``; the
frame's ``f_code``; the exception's ``__cause__``, ``__context__``,
``__suppress_context__``), that walk was about a microsecond of every crash
of a crash storm, most of the cost of its exit reason. Here it reads the
same fields of the C structures and packs the key into one `bytes`.

This is the one kernel function with two implementations: the Python one
(`_reasons._crash_key`) runs from source and wherever this module is not
built; `tests/vm/test_reasons.py` checks that the two tell the same stacks
apart. The key's form differs (a tuple of ints there, bytes here), and only
one of the two ever runs in a process, so the cache never mixes them.
This one reads the fields themselves: an exception class that overrides
``__cause__``, ``__context__``, ``__suppress_context__`` or
``__traceback__`` with a property of its own is keyed by what it stores,
where the Python twin asks the property (no class of the project does).
Switches greenlets: never.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.ref cimport Py_DECREF, PyObject
from libc.stdint cimport int64_t

cdef extern from "Python.h":
    ctypedef struct PyFrameObject:
        pass

    ctypedef struct PyTracebackObject:
        PyTracebackObject *tb_next
        PyFrameObject *tb_frame
        int tb_lasti

    ctypedef struct PyBaseExceptionObject:
        PyObject *traceback
        PyObject *context
        PyObject *cause
        char suppress_context

    PyObject *PyFrame_GetCode(PyFrameObject *frame)
    bint PyExceptionInstance_Check(object o)


cdef inline bint _is_set(PyObject *field) noexcept:
    return field != NULL and field != <PyObject *>None


def crash_key(exc):
    """The key of the stack `exc` was raised from, as bytes (each frame's
    code object's id and instruction offset, innermost last); ``b""`` if it
    has no traceback; None if its text shows a chain (a cause, or a context
    not suppressed), which the key does not cover.

    Raises:
        TypeError: `exc` is not an exception.
    """
    if not PyExceptionInstance_Check(exc):
        raise TypeError(f"crash_key() needs an exception, not {type(exc).__name__}")
    cdef PyBaseExceptionObject *e = <PyBaseExceptionObject *>exc
    # Each of the three fields is NULL or None when unset (assigning
    # ``__traceback__ = None`` stores None).
    if _is_set(e.cause) or (_is_set(e.context) and not e.suppress_context):
        return None
    cdef PyTracebackObject *tb = NULL
    if _is_set(e.traceback):
        tb = <PyTracebackObject *>e.traceback
    cdef PyTracebackObject *first = tb
    cdef Py_ssize_t n = 0
    while tb != NULL:
        n += 1
        tb = tb.tb_next
    key = PyBytes_FromStringAndSize(NULL, n * 16)
    cdef int64_t *out = <int64_t *>PyBytes_AS_STRING(key)
    cdef PyObject *code
    cdef Py_ssize_t i = 0
    tb = first
    while tb != NULL and i < n:  # (bounded by the first walk's count)
        code = PyFrame_GetCode(tb.tb_frame)  # a new reference
        out[0] = <int64_t><Py_ssize_t>code
        out[1] = tb.tb_lasti
        Py_DECREF(<object>code)
        out += 2
        i += 1
        tb = tb.tb_next
    return key
