# The compiled build of _scheduler.py (setup.py; docs/design.md, section 4.1):
# its classes' fields as C struct members and its hot paths' local types.
# The .py file stays the source; a field added there must be added here.

cimport cython
from ._process cimport Process

cdef class Scheduler:
    cdef public object hub
    cdef public object _loop
    cdef public object _clock
    cdef public object now
    cdef public object exits
    cdef public dict processes
    cdef public object _seed
    cdef public object _rng
    cdef public object _ready
    cdef public bint _scheduled
    cdef public long n_live
    cdef public long n_waiting
    cdef public long n_parked
    cdef public list _idle_watchers
    cdef public object _autojump
    cdef public object _resume
    cdef public bint _draining
    cdef public bint _defer_timers
    cdef public list _unarmed
    cdef public long _count
    cdef public double _started
    cdef public object _jump

    @cython.locals(proc=Process)
    cpdef _pick(self)
    cdef _push(self, Process proc)
    cpdef wake(self, Process proc)
    cpdef interrupt(self, Process proc)
    cpdef reaped(self, Process proc)

    @cython.locals(nxt=Process, seq=long)
    cpdef block(self, Process proc, deadline)
