"""Looking at terms from outside without trusting them.

Two helpers, each the one place its job is done:

- `brief(term)`: a bounded ``repr`` for error messages and logs. It never
  formats more than a bounded prefix of a term, whatever its size or
  nesting (a plain ``f"{term!r:.60}"`` formats the whole term first, then
  cuts: gigabytes and a `RecursionError` for a hostile one).
- `measure(data)`: the shape of msgpack `data` (how many objects, how deep)
  read from its bytes *before* it is unpacked, so that a small input that
  would unpack into millions of Python objects (an array of empty maps:
  one byte each, 64 bytes of dict each) is refused unread.

Both never switch greenlets.
"""

import struct

__all__ = ["brief", "measure", "TermTooBig", "MAX_ITEMS", "MAX_DEPTH", "MAX_COMPOUND_KEYS"]

#: Objects (every array, map, key, value and scalar counts one) a term
#: from outside may hold.
MAX_ITEMS = 1 << 20

#: Nesting depth a term from outside may have (msgpack's own ceiling is
#: 1,024, past Python's recursion limit for code that walks the term).
MAX_DEPTH = 64

#: Map keys that are arrays, maps or ext values a term from outside may hold
#: in all. Such keys unpack to tuples (or ExtType, Timestamp) whose hash is
#: the same in every process, so a peer can send thousands of keys with one
#: hash, and building that dict takes time that grows with their square, on
#: the hub (20,000 keys in 287 KB froze a server for 3.4 s). Strings, bytes
#: and numbers as keys are not limited: str and bytes hashes are salted, and
#: at most a handful of numbers share a hash.
MAX_COMPOUND_KEYS = 256

_BRIEF = 60


class TermTooBig(ValueError):
    """msgpack data over `measure`'s limits (or truncated)."""


def brief(term, limit=_BRIEF):
    """At most about `limit` characters of ``repr(term)``, with ``...`` when
    cut. Containers are walked only as far as the budget reaches, and at
    most 8 levels deep; a long str or bytes is cut before its repr is made.
    """
    out = []
    _brief(term, out, [limit], 0)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit] + "..."


def _brief(term, out, budget, depth):
    if budget[0] <= 0:
        return
    t = type(term)
    if t is str or t is bytes or t is bytearray:
        cut = len(term) > budget[0]
        text = repr(term[:budget[0]] if cut else term)
        if cut:
            text += "..."
    elif t is tuple or t is list or t is dict:
        opening, closing = {tuple: "()", list: "[]", dict: "{}"}[t]
        if depth >= 8:
            text = opening + "..." + closing
        else:
            out.append(opening)
            budget[0] -= 1
            items = term.items() if t is dict else term
            for i, item in enumerate(items):
                if budget[0] <= 0:
                    out.append("...")
                    return
                if i:
                    out.append(", ")
                    budget[0] -= 2
                if t is dict:
                    _brief(item[0], out, budget, depth + 1)
                    out.append(": ")
                    budget[0] -= 2
                    _brief(item[1], out, budget, depth + 1)
                else:
                    _brief(item, out, budget, depth + 1)
            out.append(closing)
            budget[0] -= 1
            return
    elif t is int and term.bit_length() > 256:
        text = f"<int of {term.bit_length()} bits>"
    elif t in (int, float, bool) or term is None:
        text = repr(term)
    else:
        text = f"<{t.__name__}>"
    out.append(text)
    budget[0] -= len(text)


# msgpack's first byte -> (fixed payload bytes, length bytes of a sized
# payload, or of a container count; kind). Built once.
_SCALAR, _SIZED, _ARRAY, _MAP, _BAD = range(5)


def _table():
    t = [(_SCALAR, 0, 0)] * 256
    for b in range(0x80, 0x90):
        t[b] = (_MAP, 0, b & 0x0F)
    for b in range(0x90, 0xA0):
        t[b] = (_ARRAY, 0, b & 0x0F)
    for b in range(0xA0, 0xC0):
        t[b] = (_SCALAR, b & 0x1F, 0)  # fixstr: its bytes follow
    t[0xC1] = (_BAD, 0, 0)
    for b, n in ((0xC4, 1), (0xC5, 2), (0xC6, 4), (0xD9, 1), (0xDA, 2), (0xDB, 4)):
        t[b] = (_SIZED, n, 0)  # bin, str
    for b, n in ((0xC7, 1), (0xC8, 2), (0xC9, 4)):
        t[b] = (_SIZED, n, 1)  # ext: one more byte, its type
    for b, n in ((0xCA, 4), (0xCB, 8), (0xCC, 1), (0xCD, 2), (0xCE, 4), (0xCF, 8),
                 (0xD0, 1), (0xD1, 2), (0xD2, 4), (0xD3, 8),
                 (0xD4, 2), (0xD5, 3), (0xD6, 5), (0xD7, 9), (0xD8, 17)):
        t[b] = (_SCALAR, n, 0)
    t[0xDC], t[0xDD] = (_ARRAY, 2, -1), (_ARRAY, 4, -1)
    t[0xDE], t[0xDF] = (_MAP, 2, -1), (_MAP, 4, -1)
    return t


_KINDS = _table()

# First bytes of values that unpack to something hashable whose hash is not
# salted per process: arrays (tuples), maps, and ext values (ExtType, and
# Timestamp). As map keys, many of them with one hash make building the
# dict quadratic.
_COMPOUND = [False] * 256
for _b in [*range(0x80, 0xA0), 0xDC, 0xDD, 0xDE, 0xDF, 0xC7, 0xC8, 0xC9,
           *range(0xD4, 0xD9)]:
    _COMPOUND[_b] = True
del _b
_U = {1: struct.Struct(">B").unpack_from, 2: struct.Struct(">H").unpack_from,
      4: struct.Struct(">I").unpack_from}


def measure(data, max_items=MAX_ITEMS, max_depth=MAX_DEPTH,
            max_compound_keys=MAX_COMPOUND_KEYS):
    """``(items, depth)`` of the msgpack objects in `data`, read from the
    bytes without unpacking. Stops at the first limit passed.

    Cost: about 0.2 µs an object, so at most ``max_items`` of them; a big
    str or bin is one object whatever its size.

    Raises:
        TermTooBig: more than `max_items` objects, nested deeper than
            `max_depth`, more than `max_compound_keys` map keys that are
            arrays, maps or ext values (see `MAX_COMPOUND_KEYS`), or the
            data is cut short.
    """
    n = len(data)
    if n <= max_depth and n <= max_items:
        return None  # too short to pass either limit
    kinds, u, compound = _KINDS, _U, _COMPOUND
    pos = items = ckeys = 0
    stack = []  # (objects still to read, is a map) of each open container
    left = 1
    in_map = False
    deepest = 0
    while True:
        while left == 0:
            if not stack:
                return items, deepest
            left, in_map = stack.pop()
        if pos >= n:
            raise TermTooBig("msgpack data is cut short")
        # In a map, keys and values alternate and a map holds an even
        # number of objects: while an even number is left, a key is next.
        if in_map and not left & 1 and compound[data[pos]]:
            ckeys += 1
            if ckeys > max_compound_keys:
                raise TermTooBig(f"more than {max_compound_keys} map keys that are arrays,"
                                 " maps or ext values")
        left -= 1
        items += 1
        if items > max_items:
            raise TermTooBig(f"more than {max_items} objects")
        kind, a, b = kinds[data[pos]]
        pos += 1
        if kind == _SCALAR:
            pos += a
        elif kind == _SIZED:
            if pos + a > n:
                raise TermTooBig("msgpack data is cut short")
            (size,) = u[a](data, pos)
            pos += a + b + size
        elif kind == _BAD:
            raise TermTooBig("not msgpack (byte 0xc1)")
        else:
            if b < 0:
                if pos + a > n:
                    raise TermTooBig("msgpack data is cut short")
                (count,) = u[a](data, pos)
                pos += a
            else:
                count = b
            if kind == _MAP:
                count *= 2
            if count:
                if count > n - pos:  # every object takes a byte at least
                    raise TermTooBig("msgpack data is cut short")
                stack.append((left, in_map))
                left = count
                in_map = kind == _MAP
                if len(stack) > deepest:
                    deepest = len(stack)
                    if deepest > max_depth:
                        raise TermTooBig(f"nested more than {max_depth} deep")
