"""Permission bits of a capability.

LINK is its own bit (Flue defined it as SEND|MONITOR, which let a holder of
SEND|MONITOR kill through a link); a link is a power to kill.
"""

import enum

from ._errors import Misuse

__all__ = ["Perm", "NONE", "SEND", "MONITOR", "KILL", "LINK", "ALL", "as_int", "known"]


class Perm(enum.IntFlag):
    """Permission flags: SEND=1, MONITOR=2, KILL=4, LINK=8."""

    NONE = 0
    SEND = 1
    MONITOR = 2
    KILL = 4
    LINK = 8
    ALL = 15


# Plain ints for the hot paths (IntFlag arithmetic is slow).
NONE = 0
SEND = 1
MONITOR = 2
KILL = 4
LINK = 8
ALL = 15


def as_int(perms: object) -> int:
    """`perms` as a plain int (a `Perm` is one). Switches: never.

    Raises:
        Misuse: it is not an int.
    """
    if not isinstance(perms, int):
        raise Misuse("permissions must be an int (SEND, MONITOR, ...),"
                     f" not {type(perms).__name__}")
    return int(perms)


def known(perms: object) -> int:
    """`perms` as a plain int, if it is an int made of the four bits above
    (a `Perm`, or ``SEND | MONITOR``, say). Switches: never.

    Raises:
        Misuse: it is not an int, or has other bits (a negative one has
            them all).
    """
    perms = as_int(perms)
    if perms & ~ALL:
        raise Misuse(f"unknown permission bits {perms:#x}")
    return perms
