# The compiled build of _table.py (setup.py; docs/design.md, section 4.1):
# its classes' fields as C struct members and its hot paths' local types.
# The .py file stays the source; a field added there must be added here.

cimport cython
from ._mailbox cimport Mailbox
from ._process cimport Process
from ._signals cimport Message

cdef class Table

cdef class Cap:
    cdef public Table _table
    cdef public object handle
    # Every route is a Mailbox (a network stand-in is its subclass).
    cdef public Mailbox _route
    cdef public long _perms
    cdef public long _refs

    @cython.locals(table=Table, proc=Process, msg=Message)
    cpdef send(self, data, caps=*)

    @cython.locals(table=Table)
    cpdef release(self)

cdef class Table:
    cdef public Process _proc
    cdef public object _greenlet
    cdef public list _entries
    cdef public list _free
    cdef public long _nfree
    cdef public dict _index

    @cython.locals(cap=Cap, routes=dict, handle=Py_ssize_t, n=long)
    cpdef _import(self, route, perms)

    @cython.locals(handle=Py_ssize_t, n=long, free=list, routes=dict)
    cpdef _drop(self, Cap cap)
