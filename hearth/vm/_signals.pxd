# The compiled build of _signals.py (setup.py; docs/design.md, section 4.1):
# its classes' fields as C struct members and its hot paths' local types.
# The .py file stays the source; a field added there must be added here.

cimport cython
from ._table cimport Table

cdef class Signal:
    cpdef _import(self, Table table)

cdef class Message(Signal):
    cdef public object data
    cdef public object caps
    cdef public object account

cdef class Down(Signal):
    cdef public object ref
    cdef public object cap
    cdef public object reason

cdef class Exit(Signal):
    cdef public object cap
    cdef public object reason
