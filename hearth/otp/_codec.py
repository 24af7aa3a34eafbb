"""Terms on the wire: msgpack, with capabilities carried beside the bytes.

A term is msgpack data (None, bool, int, float, str, bytes, arrays, maps)
in which a `Cap` may appear anywhere. Encoding moves each capability into
the message's capability list and leaves in its place a msgpack extension
(type 1, the index as a little-endian u32), so a guest can build the same
messages. Arrays decode as tuples (immutable, like Erlang's), maps as dicts.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import msgpack

from hearth.vm import Cap
from hearth.vm._terms import TermTooBig, measure as measure_term

from ._errors import DecodeError

__all__ = ["encode", "decode", "CAP_EXT"]

CAP_EXT = 1
_INDEX = struct.Struct("<I")


def encode(term: Any, caps: list[Cap] | None = None) -> tuple[bytes, list[Cap]]:
    """Return ``(data, caps)`` for `term`.

    Args:
        term: the term to encode.
        caps: a list of capabilities already in the message (such as a reply
            capability at index 0); embedded ones are appended after them.

    Raises:
        TypeError: the term holds something msgpack can't carry.
    """
    out = [] if caps is None else list(caps)

    def default(obj: object) -> msgpack.ExtType:
        if type(obj) is Cap:
            out.append(obj)
            return msgpack.ExtType(CAP_EXT, _INDEX.pack(len(out) - 1))
        if isinstance(obj, (set, frozenset)):
            return sorted(obj)
        raise TypeError(f"can't put a {type(obj).__name__} in a message: {obj!r}")

    return msgpack.packb(term, default=default, use_bin_type=True), out


def decode(data: bytes, caps: Sequence[Cap] = ()) -> Any:
    """Return the term in `data`, with capability extensions replaced by
    the matching `Cap` of `caps`.

    Data from outside is measured before it is unpacked
    (`hearth.vm._terms.measure`): more than ``MAX_ITEMS`` objects or nesting
    deeper than ``MAX_DEPTH`` is refused, so a small message can't unpack
    into gigabytes of Python objects or a term too deep to walk.

    Raises:
        DecodeError: `data` is not msgpack, has trailing bytes, names a
            capability index out of range, or is over those limits.
    """
    try:
        measure_term(data)
    except TermTooBig as e:
        raise DecodeError(f"message refused: {e}") from None

    def ext_hook(code: int, payload: bytes) -> Any:
        if code != CAP_EXT or len(payload) != 4:
            raise DecodeError(f"unknown msgpack extension {code}")
        (index,) = _INDEX.unpack(payload)
        if index >= len(caps):
            raise DecodeError(f"capability index {index} out of range ({len(caps)} caps)")
        return caps[index]

    try:
        return msgpack.unpackb(
            data, use_list=False, raw=False, strict_map_key=False, ext_hook=ext_hook
        )
    except DecodeError:
        raise
    except Exception as e:  # msgpack raises several unrelated types
        raise DecodeError(f"malformed message: {e}") from None
