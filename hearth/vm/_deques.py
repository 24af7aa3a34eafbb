"""A deque's two hot methods, unbound, for the kernel's queues.

``append(queue, sig)`` is ``queue.append(sig)``; compiled (docs/design.md,
section 4.1), calling the method unbound skips looking it up on the queue
and binding it first, about two thirds of a deque call's cost. The
mailboxes' queues, the run queue and the exit history use them. A module
of its own, importing nothing of the kernel: the compiled modules import
each other in a cycle at start-up, and a name one of them defines may not
exist yet when another imports it. Switches greenlets: never.
"""

from collections import deque

__all__ = ["append", "popleft"]

append = deque.append
popleft = deque.popleft
