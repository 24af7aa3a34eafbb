"""Exit reasons: plain data that can cross the network and the guest ABI.

A reason is an atom (a `str` such as ``"normal"``), ``("shutdown", term)``,
``("error", type_name, message, traceback_text)`` for a process that raised,
or any other plain-data term a process chose with `exit(reason)`.
"""

from __future__ import annotations

import linecache
from types import CodeType, TracebackType
from typing import Any

from ._compiled import COMPILED
from ._errors import BadReason, Misuse
from ._terms import brief

__all__ = [
    "NORMAL",
    "SHUTDOWN",
    "KILLED",
    "KILL",
    "NOPROC",
    "NOCONNECTION",
    "CLOSED",
    "error_reason",
    "format_traceback",
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


def error_reason(exc: BaseException) -> tuple[str, str, str, str]:
    """Return the exit reason of a process that raised `exc`.

    The reason is ``("error", type_name, message, formatted traceback)``: it
    names the exception but holds no live object. Switches: never.

    Raises:
        Misuse: `exc` is not an exception.
    """
    if not issubclass(type(exc), BaseException):  # (its real type, compiled or not)
        raise Misuse(f"error_reason() needs an exception, not {type(exc).__name__}")
    name = type(exc).__qualname__
    text = _safe_str(exc)
    key = crash_key(exc)
    if key is None:  # a chain to show
        return ("error", name, text, format_traceback(exc))
    # One exception, no chain (a crash, usually): `format_traceback`'s text
    # without its chain walk, and with the message formatted once. The
    # stack's part of it is looked up by the stack's code objects and
    # instruction offsets before it is formatted.
    if not key:  # no traceback
        return ("error", name, text, f"{name}: {text}\n" if text else f"{name}\n")
    stacks = _STACKS
    hit = stacks.get(key)
    if hit is None:
        hit = _stack_text(exc.__traceback__, key)
    else:
        # The same crash again (a storm of them): the reason built last
        # time from this stack, if its type and message match, is this
        # one too (a tuple of strings: sharing it shares nothing mutable).
        last = hit[2]
        if last is not None and last[1] == name and last[2] == text:
            return last
    reason = ("error", name, text, hit[1] + (f"{name}: {text}\n" if text else f"{name}\n"))
    if len(text) <= _LAST_TEXT_MAX:
        hit[2] = reason
    return reason


def _crash_key(exc: BaseException) -> tuple[int, ...] | bytes | None:
    """The key of the stack `exc` was raised from: each frame's code
    object's id and instruction offset (cheaper to read than its line),
    innermost last; empty if it has no traceback; None if its text shows a
    chain (a cause, or a context not suppressed), which the key does not
    cover. Compiled, `_stackkey.crash_key` reads the same fields in C.
    Switches: never."""
    if exc.__cause__ is not None or (exc.__context__ is not None
                                     and not exc.__suppress_context__):
        return None
    tb = exc.__traceback__
    key: list[int] = []
    while tb is not None:
        key.append(id(tb.tb_frame.f_code))
        key.append(tb.tb_lasti)
        tb = tb.tb_next
    return tuple(key)


if COMPILED:
    from ._stackkey import crash_key
else:
    crash_key = _crash_key


def _stack_text(tb: TracebackType | None, key: tuple[int, ...] | bytes) -> list[Any]:
    """The entry of `_STACKS` for the stack `tb` walks: its code objects,
    its traceback text (the header and its frames), and the last reason
    made with it (None yet). Remembered by `key` when the stack is not too
    deep."""
    held: list[CodeType] = []
    parts = ["Traceback (most recent call last):\n"]
    while tb is not None:
        code = tb.tb_frame.f_code
        held.append(code)
        parts.append(_frame_text(code, tb.tb_lineno))
        tb = tb.tb_next
    entry = [held, "".join(parts), None]
    if len(held) <= _STACK_DEPTH_MAX:
        if len(_STACKS) >= _STACKS_MAX:
            _STACKS.clear()
        _STACKS[key] = entry
    return entry


# The text of a stack, by the id of each frame's code object and its
# instruction offset: a crash storm raises from the same place thousands of
# times (with the same message or not), and looking its text up by the
# stack costs less than assembling it frame by frame. An entry holds the
# code objects its key names, so none of those ids can be reused by another
# object while the entry lives; it holds no frame and no exception, so
# nothing a process held stays alive through it (the last reason it keeps
# is strings). Deep stacks are not remembered.
_STACKS: dict[tuple[int, ...] | bytes, list[Any]] = {}
_STACKS_MAX = 1024
_STACK_DEPTH_MAX = 64
# The last reason an entry keeps has a message of at most this many
# characters: an exception's message can hold what a peer sent, and the
# entries (up to `_STACKS_MAX`) must not keep large ones alive.
_LAST_TEXT_MAX = 256


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_traceback(exc: BaseException | None) -> str:
    """Format `exc` and its chain like the interpreter does, minus the
    column carets.

    Python 3.11's `traceback` module parses source to place carets, which
    made formatting the reason of a crash cost about 18 µs; this costs about
    4 µs (less for frames it has formatted before: their text is cached),
    which matters when thousands of processes crash at once.
    """
    chain: list[tuple[BaseException, str]] = []
    seen = set()
    while exc is not None and id(exc) not in seen and len(chain) < 16:
        seen.add(id(exc))
        if exc.__cause__ is not None:
            chain.append((exc, _CAUSE))
            exc = exc.__cause__
        elif exc.__context__ is not None and not exc.__suppress_context__:
            chain.append((exc, _CONTEXT))
            exc = exc.__context__
        else:
            chain.append((exc, ""))
            exc = None
    parts = []
    for exc, link in reversed(chain):
        if link:
            parts.append(link)
        if exc.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            tb: TracebackType | None = exc.__traceback__
            while tb is not None:
                parts.append(_frame_text(tb.tb_frame.f_code, tb.tb_lineno))
                tb = tb.tb_next
        text = _safe_str(exc)
        name = type(exc).__qualname__
        parts.append(f"{name}: {text}\n" if text else f"{name}\n")
    return "".join(parts)


# The text of one traceback entry, by (code object, line): a crash storm
# formats the same few frames thousands of times, and the source line
# lookup was most of the cost. Keyed by the code object's identity (the
# entry holds the object, so its id can't be reused while cached): a
# reloaded module has new code objects, and so gets its new source lines.
_FRAME_TEXTS: dict[tuple[int, int], tuple[CodeType, str]] = {}
_FRAME_TEXTS_MAX = 4096


def _frame_text(code: CodeType, lineno: int) -> str:
    key = (id(code), lineno)
    hit = _FRAME_TEXTS.get(key)
    if hit is not None and hit[0] is code:
        return hit[1]
    text = f'  File "{code.co_filename}", line {lineno}, in {code.co_name}\n'
    line = linecache.getline(code.co_filename, lineno).strip()
    if line:
        text += f"    {line}\n"
    if len(_FRAME_TEXTS) >= _FRAME_TEXTS_MAX:
        _FRAME_TEXTS.clear()
    _FRAME_TEXTS[key] = (code, text)
    return text


def check_reason(reason: Any, _depth: int = 0) -> Any:
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
    # Exact types: a tuple subclass such as msgpack's ExtType is not data.
    if type(reason) is tuple or type(reason) is list:
        return tuple(check_reason(r, _depth + 1) for r in reason)
    if type(reason) is dict:
        out = {}
        for key, value in reason.items():
            if not isinstance(key, str):
                raise BadReason(f"exit reason dict key {brief(key)} is not a str")
            out[key] = check_reason(value, _depth + 1)
        return out
    raise BadReason(
        f"exit reason must be plain data, not {type(reason).__name__}: {brief(reason)}"
    )


def is_error(reason: Any) -> bool:
    """True if `reason` is the reason of a process that raised an exception."""
    return type(reason) is tuple and len(reason) == 4 and reason[0] == "error"


def is_normal_exit(reason: Any) -> bool:
    """True for ``normal``, ``shutdown`` and ``("shutdown", term)``.

    These are the reasons OTP treats as an orderly stop (no crash report, and
    a `transient` child is not restarted).
    """
    if reason == NORMAL or reason == SHUTDOWN:
        return True
    return type(reason) is tuple and len(reason) == 2 and reason[0] == SHUTDOWN


def format_reason(reason: Any, *, traceback: bool = False) -> str:
    """Return a one-line (or, with `traceback`, full) human text for a reason."""
    if is_error(reason):
        _, name, message, tb = reason
        if traceback:
            return tb.rstrip()
        return f"{name}: {message}" if message else name
    return repr(reason) if not isinstance(reason, str) else reason
