"""Protocol schemas: every request/response protocol Hearth ships, written
once in TOML files under ``hearth/otp/protocols/`` and read here.

One schema per service (by its registered name, or a name like
``hearth.Timer`` for resources that are not registered). The Python
services validate requests with `Schema.parse`; the protocol tables of
docs/protocols.md and docs/world.md are generated from the same files
(`hearth.otp.schema_docs`), and the conformance tests
(tests/schema/) send every op to the real services and check the replies
against the schemas.

Why TOML: Python reads it with the standard library (`tomllib`; `tomli`
on 3.10, already a dependency), it holds comments and long prose well, a
C or documentation generator in any language can read it, and it has no
code in it (a schema can't do anything but describe). Types are strings
of a small language (`_schema_types`), so an op stays one readable line.

A file looks like::

    [types]                                 # aliases, for this file
    lump = "bin(32)"

    [service."hearth.fs.Filesystem"]
    doc = "Files under the server's --root."
    errors = ["not_found"]                  # kinds any of its ops may return

    [service."hearth.fs.Filesystem".ops.put]
    doc = "write a lump's bytes atomically"
    fields = ["path: str", "lump: lump"]    # in array order
    args = []                               # caps[1..], same syntax
    reply = "nil"
    errors = ["read_only"]

A field is ``name[?]: type [= default]``: with a default it may be left
out of the map form (and a bare-str request is allowed when every field
has one); ``?`` also lets the array form leave it out (trailing fields
only); a capability argument ``name*`` is any number of them.
``map_only`` lists fields only the map form can give. ``c`` says which
C encoders the guest SDK gets for an op, and a file's ``[c_types]``
which SDK type stands for an alias there (`_schema_c`;
docs/protocols.md). A service whose request is a single value instead of
an op has ``term = "name: type"``; ``extends = "other"`` starts a
service with the ops of one defined earlier in the files (in name order);
``map_op`` names the op a map without ``"op"`` means; ``section`` names
the docs table it goes in.
``invalid_request`` and ``internal_error`` may answer any request and are
not listed.
"""

from __future__ import annotations

import functools
import pathlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from hearth.vm import Cap
from hearth.vm._terms import brief

from ._errors import ServiceError
from ._request import INVALID_REQUEST
from ._schema_types import (
    NO_INVALID,
    Mismatch,
    SchemaSyntaxError,
    Type,
    parse_literal,
    parse_type,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

__all__ = ["Schema", "Op", "Field", "schema", "schemas", "load", "SchemaSyntaxError", "Mismatch",
           "NO_INVALID", "PROTOCOLS_DIR", "ALWAYS"]

PROTOCOLS_DIR = pathlib.Path(__file__).resolve().parent / "protocols"
ALWAYS = ("invalid_request", "internal_error")  # kinds any request may get
_MISSING = object()


class Field:
    """One field of an op (or one capability argument).

    Attributes:
        name: its name (the map form's key).
        type: its `Type`.
        default: the value used when it is left out, or `Field.REQUIRED`.
        trailing: the array form may leave it out too.
    """

    REQUIRED = _MISSING

    def __init__(self, spec: str, aliases: dict[str, Type]) -> None:
        head, sep, rest = spec.partition(":")
        if not sep:
            raise SchemaSyntaxError(f"a field is 'name: type', not {spec!r}")
        name = head.strip()
        self.rest = name.endswith("*")  # capability arguments only: any number of them
        self.trailing = name.endswith("?") or self.rest
        self.name = name.rstrip("?*").strip()
        type_text, eq, default = rest.partition("=")
        self.type = parse_type(type_text, aliases)
        self.default = parse_literal(default) if eq else _MISSING
        if self.trailing and self.default is _MISSING and self.type.text.split("(")[0] != "cap":
            raise SchemaSyntaxError(f"field {self.name!r}: a '?' field needs a default")
        self.spec = spec.strip()

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def __repr__(self) -> str:
        return f"Field({self.spec!r})"


class Op:
    """One operation of a service.

    Attributes:
        name: the op's name ("" for a service whose request is one value).
        doc: one line for the docs table: what the ``ok`` value is.
        fields: `Field`s in array order.
        map_only: `Field`s only the map form gives.
        args: `Field`s of caps[1..] (each a ``cap`` type; ``?``: optional).
        reply: the `Type` of the ``ok`` value.
        errors: the error kinds it may answer (besides `ALWAYS`).
        request: how the docs write the request (default: the array form).
        c: the guest SDK's encoders for it: None (one, of every field), a
            list of field paths (one, of those), or a dict of such lists
            by name (one per entry); see `_schema_c`.
    """

    def __init__(self, service: str, name: str, table: Mapping[str, Any],
                 aliases: dict[str, Type], errors: Sequence[str]) -> None:
        where = f"{service} op {name!r}"
        self.service = service  # the schema that defines it (an `extends` shares it)
        try:
            self.name = name
            self.doc = table.get("doc", "")
            self.fields = [Field(s, aliases) for s in table.get("fields", [])]
            self.map_only = [Field(s, aliases) for s in table.get("map_only", [])]
            self.args = [Field(s, aliases) for s in table.get("args", [])]
            self.reply = parse_type(table.get("reply", "any"), aliases)
            self.errors = tuple(errors) + tuple(
                e for e in table.get("errors", []) if e not in errors)
            self.request = table.get("request") or self._request_text()
            self.c = table.get("c")
            if self.c is not None and not (_is_paths(self.c) or (
                    isinstance(self.c, dict) and all(map(_is_paths, self.c.values())))):
                raise SchemaSyntaxError("'c' is a list of field paths, or a table of them")
        except SchemaSyntaxError as e:
            raise SchemaSyntaxError(f"{where}: {e}") from None
        unknown = set(table) - {"doc", "fields", "map_only", "args", "reply", "errors",
                                "request", "c"}
        if unknown:
            raise SchemaSyntaxError(f"{where}: unknown keys {sorted(unknown)}")
        if any(a.type.text.split("(")[0] != "cap" for a in self.args):
            raise SchemaSyntaxError(f"{where}: a capability argument's type is a cap")
        trailing = [f.trailing for f in self.fields]
        if trailing != sorted(trailing):
            raise SchemaSyntaxError(f"{where}: only the last fields may be '?'")

    def _request_text(self) -> str:
        if not self.name:
            return "the value itself"
        if not self.fields:
            return f'"{self.name}"'
        return "[" + ", ".join([f'"{self.name}"'] + [f.name for f in self.fields]) + "]"

    def parse_fields(self, term: Any) -> dict[str, Any]:
        """The checked fields of `term` (a bare str, an array or a map
        naming this op). Raises `ServiceError` ``invalid_request``."""
        op = self.name
        if type(term) is str:
            missing = [f.name for f in self.fields if f.required]
            if missing:
                raise _invalid(f"{op} needs {missing} (use the array or map form)")
            values = {f.name: f.default for f in self.fields + self.map_only}
        elif type(term) is tuple:
            given = len(term) - 1
            least = sum(1 for f in self.fields if not f.trailing)
            if not least <= given <= len(self.fields):
                names = [f.name for f in self.fields]
                count = str(len(names)) if least == len(names) else f"{least} to {len(names)}"
                raise _invalid(f"{op} takes {count} field(s) {names}, got {given}")
            values = {f.name: (term[i + 1] if i < given else f.default)
                      for i, f in enumerate(self.fields)}
            values.update((f.name, f.default) for f in self.map_only)
        else:
            values = {}
            for f in self.fields + self.map_only:
                if f.name in term:
                    values[f.name] = term[f.name]
                elif f.required:
                    raise _invalid(f"{op} needs a {f.name!r} field")
                else:
                    values[f.name] = f.default
        for f in self.fields + self.map_only:
            value = values[f.name]
            if value is None and f.default is None:
                continue  # the default is always allowed
            try:
                values[f.name] = f.type.check(value, f.name)
            except Mismatch as e:
                raise _invalid(f"{op}: {e}" if op else str(e)) from None
        return values

    def check_args(self, args: Sequence[Cap]) -> dict[str, Cap | None]:
        """The capability arguments (caps[1..]) by name, checked.

        Raises `ServiceError` ``invalid_request``."""
        out: dict[str, Cap | None] = {}
        for i, f in enumerate(self.args):
            where = f"{f.name}, caps[{i + 1}],"
            if f.rest:
                for j, cap in enumerate(args[i:], i + 1):
                    try:
                        f.type.check(cap, f"{f.name}, caps[{j}],")
                    except Mismatch as e:
                        raise _invalid(f"{self.name}: {e}") from None
                out[f.name] = tuple(args[i:])  # type: ignore[assignment]
                break
            if i >= len(args):
                if not f.trailing:
                    raise _invalid(f"{self.name or 'this request'} needs its {f.name} in"
                                   f" caps[{i + 1}] ({f.type.expected})")
                out[f.name] = None
                continue
            try:
                out[f.name] = f.type.check(args[i], where)
            except Mismatch as e:
                raise _invalid(f"{self.name}: {e}") from None
        return out


def _is_paths(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(p, str) for p in value)


def _invalid(message: str) -> ServiceError:
    return ServiceError(INVALID_REQUEST, message)


class Schema:
    """The protocol of one service.

    Attributes:
        name: the service's name (its registered name where it has one).
        doc: a paragraph about it.
        registered: the names it is registered under ([] for resources).
        ops: op name -> `Op`, in the file's order.
        term: for a service whose request is a single value: its `Op`
            (named ""); else None.
        map_op: the op a map without ``"op"`` means, if any.
        section: where its table goes in the docs (a marker name).
        file: the schema file it came from.
        c_types: the file's ``[c_types]``: a type's text (aliases
            resolved) -> ``(alias, C type)``.
    """

    def __init__(self, name: str, table: Mapping[str, Any], aliases: dict[str, Type],
                 file: str, base: Schema | None = None,
                 c_types: dict[str, tuple[str, str]] | None = None) -> None:
        self.name = name
        self.file = file
        self.c_types = dict(c_types or {})
        self.aliases = {k: t.text for k, t in aliases.items()}
        self.doc = table.get("doc", "")
        self.registered = list(table.get("registered", []))
        self.section = table.get("section", "")
        self.how = table.get("how", "request/response")
        # False while the service's code does not check requests with it yet.
        self.checked = bool(table.get("checked", True))
        errors = tuple(table.get("errors", []))
        self.map_op = table.get("map_op")
        self.term: Op | None = None
        if "term" in table:
            single = {k: table[k] for k in ("doc", "reply", "errors", "request") if k in table}
            spec = table["term"]
            single["fields"] = [spec if ":" in spec else f"value: {spec}"]
            self.term = Op(name, "", single, aliases, errors)
        self.ops: dict[str, Op] = dict(base.ops) if base is not None else {}
        self.ops.update((op, Op(name, op, t, aliases, errors))
                        for op, t in table.get("ops", {}).items())
        unknown = set(table) - {"doc", "registered", "section", "how", "errors", "map_op",
                                "term", "ops", "reply", "request", "extends", "checked"}
        if unknown:
            raise SchemaSyntaxError(f"{name}: unknown keys {sorted(unknown)}")

    def all_ops(self) -> list[Op]:
        """Every op, the single-value request first if there is one."""
        return ([self.term] if self.term else []) + list(self.ops.values())

    def parse(self, term: Any, args: Sequence[Cap] = ()) -> tuple[str, dict[str, Any]]:
        """Check a decoded request against the schema.

        Args:
            term: the decoded data.
            args: the request's capability arguments (caps[1..]).

        Returns:
            ``(op, fields)``: the op's name ("" for a single-value
            request, whose value is the one field) and its fields,
            type-checked, defaults filled in, and the capability
            arguments by their schema names (None for an optional one
            not given).

        Raises:
            ServiceError: ``invalid_request``, with a message naming the
                field and what was expected.

        Switches: never.
        """
        if self.term is not None:
            try:
                value = self.term.fields[0].type.check(term, self.term.fields[0].name)
            except Mismatch as e:
                raise _invalid(str(e)) from None
            fields = {self.term.fields[0].name: value}
            fields.update(self.term.check_args(args))
            return "", fields
        ops = self.ops
        if type(term) is str:
            op = term
        elif type(term) is tuple and term:
            op = term[0]
        elif type(term) is dict:
            if "op" not in term and self.map_op is not None:
                op = self.map_op
            elif "op" not in term:
                raise _invalid("the request map has no 'op'")
            else:
                op = term["op"]
        else:
            raise _invalid(f"a request is a str, a non-empty array or a map, not"
                           f" {_type_name(term)}")
        if type(op) is not str or op not in ops:
            raise _invalid(f"unknown op {brief(op)}; one of {list(ops)}")
        spec = ops[op]
        fields = spec.parse_fields(term)
        fields.update(spec.check_args(args))
        return op, fields


def _type_name(term: Any) -> str:
    name = type(term).__name__
    return {tuple: "an array", dict: "a map", type(None): "nil"}.get(
        type(term), f"{'an' if name[0] in 'aeiou' else 'a'} {name}")


@functools.lru_cache(maxsize=None)
def schemas() -> dict[str, Schema]:
    """Every schema of every file under `PROTOCOLS_DIR`, by name (read
    once, then cached; `load` reads another directory).

    Raises:
        SchemaSyntaxError: a file is not valid TOML or says something the
            schema format can't read (the message names the file).

    Switches: never.
    """
    return load(PROTOCOLS_DIR)


def _c_types(table: Mapping[str, Any], aliases: dict[str, Type]) -> dict[str, tuple[str, str]]:
    """A file's ``[c_types]`` (alias -> the SDK's C type for it), checked,
    as the alias's type text -> ``(alias, C type)``: the generator binds by
    type, wherever that type appears."""
    out = {}
    for alias, ctype in table.items():
        if alias not in aliases:
            raise SchemaSyntaxError(f"[c_types] names {alias!r}, which [types] does not define")
        t = aliases[alias]
        if ctype == "hearth_lump":
            if t.shape != ("bin", 32, 32):
                raise SchemaSyntaxError(f"[c_types] {alias}: hearth_lump is for bin(32), not"
                                        f" {t.text}")
        elif not (isinstance(ctype, str) and ctype.isidentifier()):
            raise SchemaSyntaxError(f"[c_types] {alias}: {ctype!r} is not a C type name")
        elif t.shape[0] != "map" or t.shape[1] is None:
            raise SchemaSyntaxError(f"[c_types] {alias}: a struct ({ctype}) stands for a map"
                                    f" with keys, not {t.text}")
        out[t.text] = (alias, ctype)
    return out


def load(directory: str | pathlib.Path) -> dict[str, Schema]:
    """Every schema of every ``*.toml`` file in `directory`, by name (the
    files in name order), read now: for tools and tests that try schemas
    other than the installed ones.

    Raises:
        SchemaSyntaxError: as `schemas`.

    Switches: never.
    """
    out: dict[str, Schema] = {}
    for path in sorted(pathlib.Path(directory).glob("*.toml")):
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
            unknown = set(data) - {"types", "c_types", "service"}
            if unknown:
                raise SchemaSyntaxError(f"unknown tables {sorted(unknown)}")
            aliases: dict[str, Type] = {}
            for alias, text in data.get("types", {}).items():
                aliases[alias] = parse_type(text, aliases)
            c_types = _c_types(data.get("c_types", {}), aliases)
            for name, table in data.get("service", {}).items():
                if name in out:
                    raise SchemaSyntaxError(f"{name} is defined twice")
                base = table.get("extends")
                if base is not None and base not in out:
                    raise SchemaSyntaxError(f"{name} extends {base!r}, not defined before it")
                out[name] = Schema(name, table, aliases, path.name,
                                   out[base] if base is not None else None, c_types)
        except (tomllib.TOMLDecodeError, SchemaSyntaxError) as e:
            raise SchemaSyntaxError(f"{path.name}: {e}") from None
    return out


def schema(name: str) -> Schema:
    """The schema named `name`. Raises `KeyError`. Switches: never."""
    return schemas()[name]
