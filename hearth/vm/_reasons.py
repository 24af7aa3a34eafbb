"""Exit reasons: plain data that can cross the network and the guest ABI.

A reason is an atom (a `str` such as ``"normal"``), ``("shutdown", term)``,
``("error", type_name, message, traceback_text)`` for a process that raised,
or any other plain-data term a process chose with `exit(reason)`.
"""

import traceback

from ._errors import BadReason

__all__ = [
    "NORMAL",
    "SHUTDOWN",
    "KILLED",
    "KILL",
    "NOPROC",
    "NOCONNECTION",
    "CLOSED",
    "error_reason",
    "check_reason",
    "is_error",
    "is_normal_exit",
    "format_reason",
]

NORMAL = "normal"
SHUTDOWN = "shutdown"
KILLED = "killed"
KILL = "kill"
NOPROC = "noproc"
NOCONNECTION = "noconnection"
CLOSED = "closed"

_ATOMS = (str, int, float, bytes, bool, type(None))


def error_reason(exc):
    """Return the exit reason of a process that raised `exc`.

    The reason is ``("error", type name, message, formatted traceback)``: it
    names the exception but holds no live object.
    """
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ("error", type(exc).__qualname__, str(exc), tb)


def check_reason(reason, _depth=0):
    """Return `reason` if it is plain data, else raise `BadReason`.

    Lists become tuples so that reasons compare equal after a round trip
    through msgpack.

    Raises:
        BadReason: the reason holds something that is not plain data, or is
            nested more than 32 levels deep.
    """
    if isinstance(reason, _ATOMS):
        return reason
    if _depth > 32:
        raise BadReason("exit reason nested too deeply")
    if isinstance(reason, (tuple, list)):
        return tuple(check_reason(r, _depth + 1) for r in reason)
    if isinstance(reason, dict):
        out = {}
        for key, value in reason.items():
            if not isinstance(key, str):
                raise BadReason(f"exit reason dict key {key!r} is not a str")
            out[key] = check_reason(value, _depth + 1)
        return out
    raise BadReason(
        f"exit reason must be plain data, not {type(reason).__name__}: {reason!r}"
    )


def is_error(reason):
    """True if `reason` is the reason of a process that raised an exception."""
    return type(reason) is tuple and len(reason) == 4 and reason[0] == "error"


def is_normal_exit(reason):
    """True for ``normal``, ``shutdown`` and ``("shutdown", term)``.

    These are the reasons OTP treats as an orderly stop (no crash report, and
    a `transient` child is not restarted).
    """
    if reason == NORMAL or reason == SHUTDOWN:
        return True
    return type(reason) is tuple and len(reason) == 2 and reason[0] == SHUTDOWN


def format_reason(reason, *, traceback=False):
    """Return a one-line (or, with `traceback`, full) human text for a reason."""
    if is_error(reason):
        _, name, message, tb = reason
        if traceback:
            return tb.rstrip()
        return f"{name}: {message}" if message else name
    return repr(reason) if not isinstance(reason, str) else reason
