# The compiled build of _api.py (setup.py; docs/design.md, section 4.1):
# the hot functions' local types, so that they call the kernel's methods
# in C. The .py file stays the source.

cimport cython
from ._mailbox cimport Mailbox
from ._process cimport Process
from ._table cimport Cap
from ._process cimport current_process

cdef Cap _cap(object cap)

cpdef send(cap, data, caps=*)

@cython.locals(proc=Process, mb=Mailbox)
cpdef recv(timeout=*, mailbox=*)
