"""``hearth::log``: a guest's log lines, under its process's name.

The line is decoded on the guest thread (bad UTF-8 traps there) and handed
to the hub to be logged: `logging`'s locks are gevent's in a monkey-patched
program, and a real thread that blocks on one can hang.
"""

import logging

from ._abi import ANY_PHASE, I32, hostfunc
from ._errors import GuestTrap

__all__ = ["LEVELS", "log"]

logger = logging.getLogger("hearth.guest")

TRACE = 5
LEVELS = (TRACE, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)


@hostfunc("hearth::log", "log", (I32,) * 5, (), phases=ANY_PHASE)
def log(guest, level, module_ptr, module_len, content_ptr, content_len):
    if level >= len(LEVELS):
        raise GuestTrap(f"log level {level} is not 0..4 (trace, debug, info, warning, error)")
    module = guest.memory.read_str(module_ptr, module_len)
    content = guest.memory.read_str(content_ptr, content_len)
    guest.post(_emit, LEVELS[level], module, content)


def _emit(guest, level, module, content):
    proc = guest.proc
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "%s[%s] %s: %s",
            proc.name or "guest",
            proc.pid,
            module,
            content,
            extra={"pid": proc.pid, "guest_module": module},
        )
