# The compiled build of _reasons.py (setup.py; docs/design.md, section 4.1):
# its hot paths' C calls and local types. The .py file stays the source.

cimport cython

cdef _safe_str(exc)

@cython.locals(stacks=dict)
cpdef error_reason(exc)
