# The compiled build of _exit.py (setup.py; docs/design.md, section 4.1):
# its classes' fields as C struct members and its hot paths' local types.
# The .py file stays the source; a field added there must be added here.

cimport cython
from ._mailbox cimport Mailbox
from ._process cimport Process
from ._scheduler cimport Scheduler
from ._signals cimport Down

@cython.locals(own=Process)
cdef _mailboxes(proc)

@cython.locals(p=Process, mb=Mailbox, waiter=Process, peer=Process, sched=Scheduler,
               down=Down, local=Mailbox, owned=dict, observed=bint, told=bint)
cpdef terminate(rt, Process proc, reason, linked=*)

cpdef link_exit(Process sender, Process peer, reason, work)

@cython.locals(mb=Mailbox, sched=Scheduler)
cpdef reap(rt, Process proc)
