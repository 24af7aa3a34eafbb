"""Permission bits of a capability.

LINK is its own bit (Flue defined it as SEND|MONITOR, which let a holder of
SEND|MONITOR kill through a link); a link is a power to kill.
"""

import enum

__all__ = ["Perm", "NONE", "SEND", "MONITOR", "KILL", "LINK", "ALL"]


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
