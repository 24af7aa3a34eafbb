"""`DropLog`: a warning about dropped messages, at a bounded rate."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["DropLog"]


class DropLog:
    """A warning about dropped messages, at a bounded rate, on `log`: the
    first one is logged, then at most one line every `every` seconds of
    the clock, saying how many were dropped since. Anyone who can send a service a
    message can make it drop one, so one line each would let them fill
    the operator's log (and disk) as fast as their link carries.

    Attributes:
        dropped: messages dropped in all.
    """

    __slots__ = ("dropped", "_unlogged", "_next_at", "every", "_log")

    def __init__(self, log: logging.Logger, every: float = 10.0) -> None:
        self._log = log
        self.dropped = 0
        self._unlogged = 0
        self._next_at = float("-inf")
        self.every = every

    def note(self, now: float, what: str, *args: Any) -> None:
        """Count one dropped message; log `what % args` if it is time to
        (with how many more went unlogged before it). Switches: never."""
        self.dropped += 1
        if now < self._next_at:
            self._unlogged += 1
            return
        more, self._unlogged = self._unlogged, 0
        self._next_at = now + self.every
        if more:
            self._log.warning(what + " (and %d more since the last line like it)", *args, more)
        else:
            self._log.warning(what, *args)
