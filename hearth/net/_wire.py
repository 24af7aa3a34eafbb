"""The wire format of a connection: frames of msgpack, checked on arrival.

After the handshake (`_auth`), every frame is one msgpack array of
operations, so one frame can carry many (a busy connection batches
whatever queued up while the last frame was being written). Each operation
is an array whose first item is its code:

=================  ==============================================  ==========================
op                 fields                                          meaning
=================  ==============================================  ==========================
``ROOT``           desc or nil                                     the sender's root capability
``MSG``            target, data (bin), [desc, ...]                 a message to an export
``KILL``           target                                          `Cap.kill`
``EXIT``           target, sender desc, reason                     `Cap.exit`
``LINK``           target, sender desc                             sender linked itself to target
``UNLINK``         target, sender desc                             the link is removed
``LINK_EXIT``      target, sender desc, reason                     linked sender died
``CLOSED``         export id, reason, died (bool)                  an export's route closed
``RELEASE``        export id, count                                the importer dropped it
``LUMP_WANT``      request id, lump id (32-byte bin)               send me this lump
``LUMP``           request id, lump id, data (bin) or nil          here it is (nil: I lack it)
``ERROR``          message (str)                                   why the sender hangs up
=================  ==============================================  ==========================

``target`` is always an id of the *receiver's* export table: the sender's
import id for it. A ``desc`` names a capability: ``[id, perms]`` with a
positive id naming the *sender's* export ``id`` (the receiver imports it,
one reference per occurrence), or a negative id naming the receiver's own
export ``-id`` (a capability going home). ``perms`` are the permission
bits (SEND=1, MONITOR=2, KILL=4, LINK=8). Reasons are plain data
(`hearth.vm.check_reason`).

Anything else — not msgpack, not an array of arrays, an unknown code, a
field of the wrong type, a frame over `MAX_FRAME` bytes, over
`MAX_FRAME_ITEMS` msgpack objects or (if it is that many bytes long)
nested deeper than `MAX_FRAME_DEPTH`,
a message with more than `MAX_CAPS` capabilities — is a `ProtocolError`,
and the connection is dropped. A frame's shape is measured from its bytes
before it is unpacked, so no frame unpacks into more than a bounded number
of Python objects; error messages show a bounded prefix of the offending
term (`hearth.vm._terms.brief`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgpack

from hearth.vm import ALL, BadReason, check_reason
from hearth.vm._terms import TermTooBig, brief, measure

__all__ = [
    "ROOT", "MSG", "KILL", "EXIT", "LINK", "UNLINK", "LINK_EXIT", "CLOSED",
    "RELEASE", "LUMP_WANT", "LUMP", "ERROR", "MAX_FRAME", "MAX_FRAME_ITEMS",
    "MAX_FRAME_DEPTH", "MAX_CAPS", "FRAME_OPS", "ProtocolError", "pack", "unpack", "weight",
]

ROOT, MSG, KILL, EXIT, LINK, UNLINK, LINK_EXIT, CLOSED, RELEASE, LUMP_WANT, LUMP, ERROR = range(12)

_NAMES = ["ROOT", "MSG", "KILL", "EXIT", "LINK", "UNLINK", "LINK_EXIT", "CLOSED",
          "RELEASE", "LUMP_WANT", "LUMP", "ERROR"]

#: The largest frame either side accepts (64 MiB): room for big lumps.
MAX_FRAME = 64 * 1024 * 1024

#: msgpack objects one frame may hold (each array, map, key, value and
#: scalar counts one): at most a few dozen MB of Python objects, and about
#: 50 ms to measure. Writers split their batches to stay under half of it.
MAX_FRAME_ITEMS = 1 << 18

#: Nesting depth of a frame: the frame, an operation, and a reason (which
#: `hearth.vm.check_reason` limits to 33 levels).
MAX_FRAME_DEPTH = 40

#: Capabilities one message may carry across a connection.
MAX_CAPS = 4096

#: Operations per frame at most (a bigger batch goes out as several frames).
FRAME_OPS = 2048


class ProtocolError(Exception):
    """The peer broke the protocol; the connection must be dropped."""


def pack(ops: Sequence[Any]) -> bytes:
    """One frame holding `ops`. Switches: never."""
    return msgpack.packb(ops, use_bin_type=True)


def weight(op: Any) -> int:
    """About how many msgpack objects `op` packs into (for splitting
    batches under `MAX_FRAME_ITEMS`). Switches: never."""
    n = 1
    for field in op:
        n += _weight(field, 0)
    return n


def _weight(term: Any, depth: int) -> int:
    t = type(term)
    if t is tuple or t is list:
        return 1 + sum(_weight(x, depth + 1) for x in term) if depth < 40 else 1
    if t is dict:
        return 1 + sum(_weight(k, depth + 1) + _weight(v, depth + 1)
                       for k, v in term.items()) if depth < 40 else 1
    return 1


def _int(v: Any, what: str) -> int:
    if type(v) is not int:
        raise ProtocolError(f"{what} must be an integer, not {type(v).__name__}")
    return v


def _desc(d: Any) -> Any:
    if type(d) is not tuple or len(d) != 2:
        raise ProtocolError(f"a capability descriptor is [id, perms], not {brief(d)}")
    cid, perms = _int(d[0], "a capability id"), _int(d[1], "permissions")
    if cid == 0 or perms < 0 or perms > ALL:
        raise ProtocolError(f"bad capability descriptor {brief(d)}")
    return d


def _reason(r: Any) -> Any:
    try:
        return check_reason(r)
    except BadReason as e:
        raise ProtocolError(f"bad exit reason: {e}") from None


def _check(op: Any) -> Any:
    if type(op) is not tuple or not op or type(op[0]) is not int:
        raise ProtocolError(f"an operation is an array starting with its code, not {brief(op)}")
    code, n = op[0], len(op)
    if code == MSG:
        if n != 4 or type(op[2]) is not bytes or type(op[3]) is not tuple:
            raise ProtocolError("MSG is [MSG, target, data (bin), [desc...]]")
        _int(op[1], "a target")
        if len(op[3]) > MAX_CAPS:
            raise ProtocolError(f"a message with {len(op[3])} capabilities (at most {MAX_CAPS})")
        for d in op[3]:
            _desc(d)
    elif code == KILL:
        if n != 2:
            raise ProtocolError("KILL is [KILL, target]")
        _int(op[1], "a target")
    elif code in (EXIT, LINK_EXIT):
        if n != 4:
            raise ProtocolError(f"{_NAMES[code]} is [op, target, sender desc, reason]")
        _int(op[1], "a target")
        _desc(op[2])
        _reason(op[3])
    elif code in (LINK, UNLINK):
        if n != 3:
            raise ProtocolError(f"{_NAMES[code]} is [op, target, sender desc]")
        _int(op[1], "a target")
        _desc(op[2])
    elif code == CLOSED:
        if n != 4 or type(op[3]) is not bool:
            raise ProtocolError("CLOSED is [CLOSED, export id, reason, died]")
        _int(op[1], "an export id")
        _reason(op[2])
    elif code == RELEASE:
        if n != 3 or _int(op[2], "a count") <= 0:
            raise ProtocolError("RELEASE is [RELEASE, export id, count > 0]")
        _int(op[1], "an export id")
    elif code == LUMP_WANT:
        if n != 3 or type(op[2]) is not bytes or len(op[2]) != 32:
            raise ProtocolError("LUMP_WANT is [LUMP_WANT, request id, 32-byte lump id]")
        _int(op[1], "a request id")
    elif code == LUMP:
        if n != 4 or type(op[2]) is not bytes or len(op[2]) != 32 or (
                op[3] is not None and type(op[3]) is not bytes):
            raise ProtocolError("LUMP is [LUMP, request id, lump id, data or nil]")
        _int(op[1], "a request id")
    elif code == ROOT:
        if n != 2 or (op[1] is not None and _desc(op[1]) and op[1][0] < 0):
            raise ProtocolError("ROOT is [ROOT, desc of the sender's export, or nil]")
    elif code == ERROR:
        if n != 2 or type(op[1]) is not str:
            raise ProtocolError("ERROR is [ERROR, message]")
    else:
        raise ProtocolError(f"unknown operation code {brief(code)}")
    return op


def unpack(frame: bytes) -> Sequence[Any]:
    """The checked operations of `frame`. Switches: never.

    Raises:
        ProtocolError: anything malformed (see the module docstring).
    """
    if type(frame) is not bytes:
        raise ProtocolError("frames must be binary")
    if len(frame) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(frame)} bytes is over the limit of {MAX_FRAME}")
    # A frame of at most MAX_FRAME_ITEMS bytes can't hold more objects than
    # that (each takes a byte), and nothing here walks a term without a depth
    # guard (msgpack itself stops at 1,024 levels): only bigger frames are
    # measured, which spares busy connections the cost (~0.15 µs an object).
    if len(frame) > MAX_FRAME_ITEMS:
        try:
            measure(frame, MAX_FRAME_ITEMS, MAX_FRAME_DEPTH)
        except TermTooBig as e:
            raise ProtocolError(f"frame refused: {e}") from None
    try:
        ops = msgpack.unpackb(frame, use_list=False, raw=False, strict_map_key=True)
    except Exception as e:  # msgpack raises several unrelated types
        raise ProtocolError(f"frame is not msgpack: {e}") from None
    if type(ops) is not tuple:
        raise ProtocolError("a frame is an array of operations")
    for op in ops:
        _check(op)
    return ops
