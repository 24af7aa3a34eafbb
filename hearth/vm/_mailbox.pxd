# The compiled build of _mailbox.py (setup.py; docs/design.md, section 4.1):
# its classes' fields as C struct members and its hot paths' local types.
# The .py file stays the source; a field added there must be added here.

cimport cython
from ._process cimport Process
from ._scheduler cimport Scheduler
from ._signals cimport Signal

cdef class Mailbox:
    cdef public Process _proc
    cdef public object route_id
    cdef public object handle
    cdef public object _queue
    cdef public Process _waiter
    cdef public object _thread_waiter
    cdef public bint _closed
    cdef public object _monitors

    @cython.locals(proc=Process, waiter=Process, sched=Scheduler)
    cpdef _deliver(self, sig)

    @cython.locals(proc=Process)
    cpdef recv(self, timeout=*)

    @cython.locals(sig=Signal, sched=Scheduler)
    cpdef _recv(self, Process proc, timeout)
