# The compiled build of _process.py (setup.py; docs/design.md, section 4.1):
# its classes' fields as C struct members and its hot paths' local types.
# The .py file stays the source; a field added there must be added here.

from ._table cimport Table

cdef class Process:
    cdef public object runtime
    cdef public object pid
    cdef public object greenlet
    cdef public Table table
    # (A foreign stand-in's is a property: code that may meet one reads it
    # as a Python attribute, as `_exit._mailboxes` does.)
    cdef public list mailboxes
    cdef public object free_mailboxes
    cdef public object state
    cdef public bint throw_pending
    cdef public long wseq
    cdef public object reason
    cdef public bint trap_exit_flag
    cdef public object links
    cdef public object monitors
    cdef public object metadata
    cdef public long n_in
    cdef public long n_out
    cdef public object at_exit
    cdef public object started_at
    cdef public object initial_call
    cdef public object dictionary
    cdef public object timer
    cdef public object guest
    cdef public object account
    cdef public object _start
    # The Scheduler (untyped here: typing it would make this module import
    # _scheduler at its start, a cycle; readers assign it to a typed local).
    cdef public object _sched
    cdef object __weakref__

cpdef Process current_process()
