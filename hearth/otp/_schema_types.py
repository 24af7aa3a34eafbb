"""The type language of protocol schemas (`_schema`): parse a type
expression such as ``list(num, 16) | nil`` into a `Type` that checks a
decoded msgpack term, describes itself for people and makes example values
for the conformance tests.

Grammar (whitespace is free)::

    type   := atom ("|" atom)*                  one of them
    atom   := "any" | "nil" | "bool" | "float" | "cap"
            | "int" | "int(" range ")"          range: lo..hi, either end optional
            | "num" | "num(" range ")"          an int or a finite float
            | "str" | "str(" size ")"           size: N, ..N or lo..hi (characters)
            | "bin" | "bin(" size ")"           (bytes)
            | "cap(" PERM ("+" PERM)* ")"       permissions it needs
            | "list(" type ["," size] ")"       an array
            | "map" | "map{" key ("," key)* ["," "..."] "}"
                                                known keys; "...": others pass too
            | '"' text '"'                      that exact str
            | "(" type ")"
            | ALIAS                             a name from the file's [types]
    key    := NAME ["?"] ":" type               "?": the key may be absent

A float must be finite where a range is given (NaN compares with nothing).
A bool is never an int here, as in msgpack. Everything is pure: nothing
switches greenlets.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from hearth.vm import Cap
from hearth.vm._terms import brief

__all__ = ["Type", "SchemaSyntaxError", "parse_type", "parse_literal", "Mismatch"]

_PERMS = {"SEND": 1, "MONITOR": 2, "KILL": 4, "LINK": 8}


class SchemaSyntaxError(ValueError):
    """A schema file says something the type language can't read (the
    schema author's fault; raised when the schema is loaded)."""


class Mismatch(Exception):
    """A value does not have the type it should (`Type.check`).

    Attributes:
        path: where the value is, e.g. ``entity.transform[3]``.
        expected: what was expected, for people.
        value: the value found.
    """

    def __init__(self, path: str, expected: str, value: Any, text: str | None = None) -> None:
        super().__init__(path, expected)
        self.path = path
        self.expected = expected
        self.value = value
        self.text = text

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        return f"{self.path} must be {self.expected}, not {_what(self.value)}"


def _what(value: Any) -> str:
    if type(value) is bytes:
        return f"{len(value)} bytes" if len(value) > 16 else brief(value)
    if type(value) is Cap:
        return "a capability" + (f" with permissions {_perm_names(value.permissions)}")
    return brief(value, 80)


def _perm_names(bits: int) -> str:
    names = [n for n, b in _PERMS.items() if bits & b]
    return "+".join(names) if names else "none"


class Type:
    """One type of the language.

    Attributes:
        text: the expression as written (normalized), for docs.
        expected: what a value must be, for people ("an int >= 0").
        shape: its structure, for generators (`_schema_c`): a tuple whose
            first item is the kind: ``("int"|"num"|"float", lo, hi)``,
            ``("str"|"bin", lo, hi)``, ``("cap", perms)``, ``("list",
            item, lo, hi)``, ``("map", keys, closed)`` (keys: name ->
            ``(Type, required)``, or None for any map), ``("literal",
            text)``, ``("union", options)``, ``("any",)``, ``("nil",)``,
            ``("bool",)``.
    """

    def __init__(self, text: str, expected: str, check: Callable[[Any, str], Any],
                 example: Callable[[], Any], invalid: Any = None) -> None:
        self.text = text
        self.expected = expected
        self._check = check
        self._example = example
        self._invalid = invalid
        self.perms = 0  # for a capability: the permissions it needs
        self.ok: Callable[[Any], bool] | None = None  # a quick test, for simple types
        self.shape: tuple[Any, ...] = (text,)

    def check(self, value: Any, path: str) -> Any:
        """Return `value` (as stored: an array stays a tuple) or raise
        `Mismatch`. Switches: never."""
        return self._check(value, path)

    def example(self) -> Any:
        """A value of this type (capabilities: None, filled in by callers)."""
        return self._example()

    def invalid(self) -> Any:
        """A value that is not of this type, or `NO_INVALID` for ``any``."""
        return self._invalid

    def __repr__(self) -> str:
        return f"Type({self.text!r})"


NO_INVALID = object()


# -- the atoms ------------------------------------------------------------------------------


def _simple(text, expected, ok, example, invalid):
    def check(value, path):
        if not ok(value):
            raise Mismatch(path, expected, value)
        return value
    t = Type(text, expected, check, lambda: example, invalid)
    t.ok = ok
    return t


def _range_text(lo, hi):
    if lo is not None and hi is not None:
        return f"{lo}..{hi}"
    if lo is not None:
        return f">= {lo}"
    if hi is not None:
        return f"<= {hi}"
    return ""


def _number(kind, lo, hi):
    base = {"int": "an int", "num": "an int or a float", "float": "a float"}[kind]
    finite = kind != "int"  # NaN and infinities mean nothing to any service
    extra = _range_text(lo, hi)
    expected = base + (" " + extra if extra else "") + (", finite" if finite else "")
    # `v - v == 0` is false for NaN and the infinities only: a cheap isfinite.
    if kind == "int":
        def base_ok(v):
            return type(v) is int
    elif kind == "float":
        def base_ok(v):
            return type(v) is float and v - v == 0
    else:
        def base_ok(v):
            return type(v) is int or (type(v) is float and v - v == 0)
    if lo is None and hi is None:
        ok = base_ok
    else:
        def ok(v):
            return base_ok(v) and (lo is None or v >= lo) and (hi is None or v <= hi)
    example = lo if lo is not None else (hi if hi is not None and hi < 0 else 0)
    if kind == "float":
        example = float(example)
    text = kind + (f"({lo if lo is not None else ''}..{hi if hi is not None else ''})"
                   if lo is not None or hi is not None else "")
    t = _simple(text, expected, ok, example, "x" if kind != "num" or lo is None else lo - 1)
    t.shape = (kind, lo, hi)
    return t


def _sized(kind, lo, hi):
    pytype, noun = (str, "characters") if kind == "str" else (bytes, "bytes")
    base = "a str" if kind == "str" else "msgpack bin"
    if lo is not None and lo == hi:
        expected = f"{lo} {noun} of {base}" if kind == "bin" else f"a str of {lo} {noun}"
    elif hi is not None:
        expected = (f"{base} of {lo}..{hi} {noun}" if lo else f"{base} of at most {hi} {noun}")
    elif lo:
        expected = f"{base} of at least {lo} {noun}"
    else:
        expected = base

    def ok(v):
        return type(v) is pytype and (lo is None or len(v) >= lo) and (hi is None or len(v) <= hi)

    def check(value, path):
        if not ok(value):
            hint = " (raw bytes, not hex or text)" if kind == "bin" and type(value) is str else ""
            raise Mismatch(path, expected, value,
                           f"{path} must be {expected}{hint}, not {_what(value)}")
        return value
    n = lo or 0
    example = "x" * max(n, 1 if kind == "str" and hi != 0 else 0) if kind == "str" else b"\x00" * n
    if hi is not None and len(example) > hi:
        example = example[:hi]
    text = kind + (f"({_size_text(lo, hi)})" if lo is not None or hi is not None else "")
    t = Type(text, expected, check, lambda: example, 1 if kind == "str" else "x")
    t.shape = (kind, lo, hi)
    return t


def _size_text(lo, hi):
    if lo is not None and lo == hi:
        return str(lo)
    return f"{lo if lo else ''}..{hi if hi is not None else ''}"


def _cap(perms):
    names = "+".join(n for n, b in _PERMS.items() if perms & b)
    need = " and ".join(n for n, b in _PERMS.items() if perms & b)
    expected = "a capability" + (f" with {need}" if perms else "")

    def check(value, path):
        if type(value) is not Cap:
            raise Mismatch(path, expected, value)
        if value.permissions & perms != perms:
            raise Mismatch(path, expected, value, f"{path} needs {need}; it has"
                           f" {_perm_names(value.permissions)}")
        return value
    t = Type(f"cap({names})" if perms else "cap", expected, check, lambda: None, 1)
    t.perms = perms
    t.shape = ("cap", perms)
    return t


_NOUNS = {"num": "numbers (ints or finite floats)", "int": "ints", "float": "finite floats",
          "str": "strs", "bin": "bins", "bool": "bools", "cap": "capabilities", "any": "values",
          "map": "maps"}


def _list(item, lo, hi):
    size = "" if lo is None and hi is None else f", {_size_text(lo, hi)}"
    if lo is not None and lo == hi:
        count = f"{lo} "
    elif hi is not None:
        count = f"at most {hi} " if not lo else f"{lo}..{hi} "
    else:
        count = ""
    noun = _NOUNS.get(item.text)
    expected = (f"an array of {count}{noun}" if noun
                else f"an array of {count}items, each {item.expected}")

    plain_numbers = item.text == "num"

    def check(value, path):
        if type(value) is not tuple:
            raise Mismatch(path, expected, value)
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise Mismatch(path, expected, value,
                           f"{path} must be {expected}, not an array of {len(value)}")
        if plain_numbers:  # transforms, colors: the hot case, with no call per item
            for v in value:
                t = type(v)
                if not (t is int or (t is float and v - v == 0)):
                    break
            else:
                return value
        elif item.ok is not None and all(map(item.ok, value)):
            return value  # the common case, quickly
        check_item = item._check
        try:
            for v in value:
                check_item(v, path)
        except Mismatch:  # again, naming the item (a path per item costs on the good path)
            for i, v in enumerate(value):
                check_item(v, f"{path}[{i}]")
        return value
    example = lambda: tuple(item.example() for _ in range(lo or 0))  # noqa: E731
    t = Type(f"list({item.text}{size})", expected, check, example, "x")
    t.shape = ("list", item, lo, hi)
    return t


def _map(keys, closed=True):
    if keys is None:
        def check_any(value, path):
            if type(value) is not dict:
                raise Mismatch(path, "a map", value)
            return value
        t = Type("map", "a map", check_any, dict, "x")
        t.shape = ("map", None, False)
        return t
    inner = ", ".join(f"{k}{'' if req else '?'}: {t.text}" for k, (t, req) in keys.items())
    inner += "" if closed else ", ..."
    expected = "a map with " + ", ".join(
        f"{k!r}" + ("" if req else " (optional)") for k, (t, req) in keys.items())

    def check(value, path):
        if type(value) is not dict:
            raise Mismatch(path, expected, value)
        if closed:
            extra = [k for k in value if k not in keys]
            if extra:
                raise Mismatch(path, expected, value, f"unknown field(s) {brief(extra, 80)} in"
                               f" {path}; allowed: {list(keys)}")
        for k, (t, req) in keys.items():
            if k in value:
                try:
                    t._check(value[k], path)
                except Mismatch:
                    t._check(value[k], f"{path}.{k}")  # again, naming the key
            elif req:
                raise Mismatch(f"{path}.{k}", t.expected, None,
                               f"{path} needs a {k!r} ({t.expected})")
        return value
    example = lambda: {k: t.example() for k, (t, req) in keys.items() if req}  # noqa: E731
    t = Type(f"map{{{inner}}}", expected, check, example, "x")
    t.shape = ("map", dict(keys), closed)
    return t


def _literal(text):
    def check(value, path):
        if value != text or type(value) is not str:
            raise Mismatch(path, repr(text), value)
        return value
    t = Type(f'"{text}"', repr(text), check, lambda: text, text + "?")
    t.shape = ("literal", text)
    return t


def _union(options):
    text = " | ".join(t.text for t in options)
    if len(options) == 2 and options[1].text == "nil":
        expected = f"{options[0].expected} or nil"
    else:
        expected = ", ".join(t.expected for t in options[:-1]) + " or " + options[-1].expected

    def check(value, path):
        for t in options:
            try:
                return t.check(value, path)
            except Mismatch as e:
                if e.path != path and _matches_shape(t, value):
                    raise  # the right shape, wrong inside: say where
        raise Mismatch(path, expected, value)
    invalid = next((t.invalid() for t in options if t.invalid() is not NO_INVALID
                    and not _accepts(options, t.invalid())), NO_INVALID)
    t = Type(text, expected, check, options[0].example, invalid)
    t.shape = ("union", tuple(options))
    return t


def _matches_shape(t, value):
    head = t.text.split("(")[0].split("{")[0]
    return (head == "list" and type(value) is tuple) or (head == "map" and type(value) is dict)


def _accepts(options, value):
    for t in options:
        try:
            t.check(value, "")
            return True
        except Mismatch:
            pass
    return False


_ANY = Type("any", "any value", lambda v, p: v, lambda: None, NO_INVALID)
_NIL = _simple("nil", "nil", lambda v: v is None, None, 0)
_BOOL = _simple("bool", "a bool", lambda v: type(v) is bool, True, 1)


# -- the parser ------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(\.\.)|("[^"]*")|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)'
                    r'|([A-Za-z_][A-Za-z0-9_]*)|([|(){},:?+=.]))')


def _tokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SchemaSyntaxError(f"can't read {text[pos:]!r} in {text!r}")
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, aliases: dict[str, Type]) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.aliases = aliases

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want=None):
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise SchemaSyntaxError(f"expected {want or 'more'} at token {self.i} of"
                                    f" {self.text!r}")
        self.i += 1
        return tok

    def union(self):
        options = [self.atom()]
        while self.peek() == "|":
            self.take()
            options.append(self.atom())
        return options[0] if len(options) == 1 else _union(options)

    def number(self):
        tok = self.take()
        try:
            return int(tok)
        except ValueError:
            try:
                return float(tok)
            except ValueError:
                raise SchemaSyntaxError(f"{tok!r} is not a number in {self.text!r}") from None

    def bounds(self):
        """``N``, ``..N``, ``lo..``, ``lo..hi`` -> (lo, hi, exact)."""
        lo = hi = None
        if self.peek() != "..":
            lo = self.number()
            if self.peek() != "..":
                return lo, lo
        self.take("..")
        if self.peek() not in (")", None):
            hi = self.number()
        return lo, hi

    def atom(self):
        tok = self.take()
        if tok.startswith('"'):
            return _literal(tok[1:-1])
        if tok == "(":
            t = self.union()
            self.take(")")
            return t
        if tok in ("int", "num", "float"):
            lo = hi = None
            if self.peek() == "(":
                self.take()
                lo, hi = self.bounds()
                self.take(")")
            return _number(tok, lo, hi)
        if tok in ("str", "bin"):
            lo = hi = None
            if self.peek() == "(":
                self.take()
                lo, hi = self.bounds()
                self.take(")")
            return _sized(tok, lo, hi)
        if tok == "cap":
            perms = 0
            if self.peek() == "(":
                self.take()
                while True:
                    name = self.take()
                    if name not in _PERMS:
                        raise SchemaSyntaxError(f"unknown permission {name!r} in {self.text!r}")
                    perms |= _PERMS[name]
                    if self.peek() != "+":
                        break
                    self.take()
                self.take(")")
            return _cap(perms)
        if tok == "list":
            self.take("(")
            item = self.union()
            lo = hi = None
            if self.peek() == ",":
                self.take()
                lo, hi = self.bounds()
            self.take(")")
            return _list(item, lo, hi)
        if tok == "map":
            if self.peek() != "{":
                return _map(None)
            self.take("{")
            keys = {}
            closed = True
            while self.peek() != "}":
                if self.peek() == "..":
                    self.take()
                    if self.peek() == ".":
                        self.take()
                    closed = False
                    continue
                name = self.take()
                required = True
                if self.peek() == "?":
                    self.take()
                    required = False
                self.take(":")
                keys[name] = (self.union(), required)
                if self.peek() == ",":
                    self.take()
            self.take("}")
            return _map(keys, closed)
        simple = {"any": _ANY, "nil": _NIL, "bool": _BOOL}
        if tok in simple:
            return simple[tok]
        if tok in self.aliases:
            return self.aliases[tok]
        raise SchemaSyntaxError(f"unknown type {tok!r} in {self.text!r}")


def parse_type(text: str, aliases: dict[str, Type] | None = None) -> Type:
    """The `Type` that `text` writes (see the module docstring).

    Raises:
        SchemaSyntaxError: `text` is not in the language.
    """
    p = _Parser(text, aliases or {})
    t = p.union()
    if p.peek() is not None:
        raise SchemaSyntaxError(f"unexpected {p.peek()!r} in {text!r}")
    return t


def parse_literal(text: str) -> Any:
    """A default value as written in a field: ``nil``, ``true``, ``false``,
    a number or a ``"str"``."""
    text = text.strip()
    fixed = {"nil": None, "true": True, "false": False}
    if text in fixed:
        return fixed[text]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise SchemaSyntaxError(f"can't read the default {text!r}") from None
