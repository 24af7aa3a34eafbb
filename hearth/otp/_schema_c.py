"""C request encoders for guests, written from the schemas: the guest SDK's
service clients (``kindling/sdk/hearth_svc.c``) encode every request they
send with them, and a guest may call them too (``python -m
hearth.otp.protocols c-header OUT``; the SDK's copy is
``kindling/sdk_generated/hearth_protocols.h``, which the SDK's build puts
on the include path).

Each ``hearth_req_<service>_<op>(w, caps..., fields...)`` attaches its
capability arguments (caps[1..], in order: an optional one is skipped when
HEARTH_NONE, a ``name*`` one is a pointer and a count) to a writer started
with ``hearth_mp_request_init`` (or ``hearth_mp_writer_init`` for a plain
send) and writes the request's term: the array form, a bare str for an op
without fields, the value itself for a single-value service. The C of
each value is in `_schema_c_forms`. A field whose type is a map without a
``[c_types]`` struct is taken key by key (``<field>_<key>``); a key the
map may lack is left out when its value is none.

An op's ``c`` key in the schema chooses what its encoders take: a list of
field paths (``"state.position"``, ``"state.command?"``: ``?`` leaves the
key, or a trailing ``?`` field, out when its value is none; a key without
``?`` is always written, nil for none if its type allows nil), or a table
of such lists, one encoder each, named ``..._<op>_<entry>``. Without
``c``, an encoder takes every field, a trailing ``?`` field and a map's
optional keys with ``?``. An op some field of which has no C form is
listed in a comment instead (unless its ``c`` leaves the field out, which
only the array form's trailing ``?`` fields may be). Nothing here
switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._schema import Op, Schema, SchemaSyntaxError, schemas
from ._schema_c_forms import HELPERS, form, nilable
from ._schema_types import Type

__all__ = ["header", "encoders", "Encoder", "Param", "C_SERVICES"]

# The services a guest talks to; the admin ones (the inspector, the
# world's admin door) are left to Python.
C_SERVICES = ("hearth.Registry", "hearth.Sleep", "hearth.TimerFactory", "hearth.Timer",
              "hearth.StopwatchFactory", "hearth.Stopwatch", "hearth.UnixTime",
              "hearth.fs.Filesystem", "hearth.wasm.WasmProcessSpawner", "hearth.World",
              "hearth.World.entity", "hearth.Window", "hearth.Renderer",
              "hearth.Renderer.object", "hearth.Renderer.light", "hearth.canvas.CanvasFactory",
              "hearth.canvas", "hearth.DebugDrawFactory", "hearth.DebugDraw",
              "hearth.terminal.TerminalFactory", "hearth.terminal")


class _Skip(Exception):
    pass


@dataclass
class Param:
    """One C parameter of an encoder (after the writer).

    Attributes:
        decl: its declaration (``const char *name``).
        role: ``"value"``, ``"len"`` (a bin's length, after it), ``"cap"``
            (a capability argument), ``"caps"`` and ``"count"`` (a list of
            them).
        type: the schema type of the value (of the argument for caps).
        none_ok: NULL / HEARTH_NONE is allowed (nil, or left out).
    """

    decl: str
    role: str
    type: Type
    none_ok: bool


@dataclass
class Encoder:
    """One generated function: its `name`, the `service` and `op` (an
    `Op`) whose request it writes, its `params`, and its C `text`."""

    name: str
    service: str
    op: Op
    params: list[Param] = field(default_factory=list)
    text: str = ""


class _Node:
    """A field or key an encoder takes: `absent` if the caller may leave
    it out; `keys` (name -> `_Node`) if it is a map taken key by key."""

    def __init__(self, absent: bool = False) -> None:
        self.absent = absent
        self.keys: dict[str, _Node] | None = None


def _given(none: str) -> str:
    """The C condition that a value is given, from its none condition."""
    if none.startswith("!") and none[1:].isidentifier():
        return f"{none[1:]} != NULL"
    name = none[2:].split(" ", 1)[0]
    if none == f"(!{name} || !{name}[0])":
        return f"{name} && {name}[0]"
    if none.endswith(" == HEARTH_NONE") and " " not in none[:-len(" == HEARTH_NONE")]:
        return none.replace(" == ", " != ")
    return f"!{none}" if none.startswith("(") else f"!({none})"


def _c_name(service: str) -> str:
    short = service[len("hearth."):] if service.startswith("hearth.") else service
    return short.replace(".", "_").lower()


def _map_keys(t: Type, c_types: dict[str, Any]) -> dict[str, tuple[Type, bool]] | None:
    """The keys of a map type taken key by key (not bound to a struct)."""
    if t.shape[0] == "map" and t.shape[1] is not None and t.text not in c_types:
        return t.shape[1]
    return None


def _default(t: Type, absent: bool, c_types: dict[str, Any]) -> _Node:
    node = _Node(absent)
    keys = _map_keys(t, c_types)
    if keys is not None and not absent:
        node.keys = {k: _default(kt, not req, c_types) for k, (kt, req) in keys.items()}
    return node


def _selection(op: Op, paths: list[str] | None, c_types: dict[str, Any],
               where: str) -> dict[str, _Node]:
    """The fields an encoder takes, by name, in array order."""
    types = {f.name: f.type for f in op.fields}
    if paths is None:
        return {f.name: _default(f.type, f.trailing, c_types) for f in op.fields}
    chosen: dict[str, _Node] = {}
    for path in paths:
        absent = path.endswith("?")
        parts = path.rstrip("?").split(".")
        if parts[0] not in types:
            raise SchemaSyntaxError(f"{where}: c path {path!r}: no field {parts[0]!r}"
                                    f" (fields: {list(types)})")
        nodes, t = chosen, types[parts[0]]
        for i, part in enumerate(parts):
            if i:
                keys = _map_keys(t, c_types)
                if keys is None or part not in keys:
                    raise SchemaSyntaxError(f"{where}: c path {path!r}: {'.'.join(parts[:i])}"
                                            f" is not a map with a key {part!r}")
                t = keys[part][0]
            last = i == len(parts) - 1
            node = nodes.get(part)
            if node is None:
                node = nodes[part] = _default(t, absent, c_types) if last else _Node()
                if not last:
                    node.keys = {}
            elif last or node.keys is None:
                raise SchemaSyntaxError(f"{where}: c path {path!r} is given twice")
            if not last:
                assert node.keys is not None
                nodes = node.keys
    return {name: chosen[name] for name in types if name in chosen}


class _Function:
    """One encoder being written."""

    def __init__(self, c_types: dict[str, Any], where: str) -> None:
        self.c_types = c_types
        self.where = where
        self.params = ["hearth_mp_writer *w"]
        self.meta: list[Param] = []
        self.notes: list[str] = []
        self.structs: list[tuple[str, str, Type]] = []

    def value(self, t: Type, name: str, node: _Node, explicit: bool) -> tuple[list[str], str]:
        """(statements writing it, its none condition if it may be left out)."""
        if node.keys is not None:
            if node.absent:
                raise SchemaSyntaxError(f"{self.where}: {name} is a map taken key by key:"
                                        " it can't be left out")
            return self.map(t, name, node, explicit), ""
        f = form(t, self.c_types, node.absent)
        if f is None:
            if explicit:
                raise SchemaSyntaxError(f"{self.where}: {name} ({t.text}) has no C form")
            raise _Skip(f"{name}: {t.text}")
        f = f.fill(name)
        self.params += f.params
        none_ok = node.absent or nilable(t)
        self.meta += [Param(d, "len" if d.endswith(f"{name}_len") else "value", t, none_ok)
                      for d in f.params]
        self.structs += f.structs
        if f.note:
            self.notes.append(f"{name}: {f.note}")
        return f.put, f.none if node.absent else ""

    def map(self, t: Type, name: str, node: _Node, explicit: bool) -> list[str]:
        keys = _map_keys(t, self.c_types)
        assert keys is not None and node.keys is not None
        missing = [k for k, (_, req) in keys.items() if req and k not in node.keys]
        if missing:
            raise SchemaSyntaxError(f"{self.where}: {name} needs the keys {missing}")
        count, conds, body = 0, [], []
        for key, (kt, req) in keys.items():
            if key not in node.keys:
                continue
            sub = node.keys[key]
            if sub.absent and req:
                raise SchemaSyntaxError(f"{self.where}: {name}.{key} is required: no '?'")
            put, none = self.value(kt, f"{name}_{key}", sub, explicit)
            put = [f'hearth_mp_put_str(w, "{key}");'] + put
            if none:
                conds.append(_given(none))
                body.append(f"if ({conds[-1]}) {{")
                body += ["    " + s for s in put]
                body.append("}")
            else:
                count += 1
                body += put
        size = " + ".join(([str(count)] if count else []) + [f"({c})" for c in conds]) or "0"
        return [f"hearth_mp_put_map(w, {size});"] + body

    def args(self, op: Op) -> list[str]:
        body = []
        for a in op.args:
            if a.rest:
                self.params += [f"const hearth_cap *{a.name}", f"uint32_t {a.name}_count"]
                self.meta += [Param(self.params[-2], "caps", a.type, True),
                              Param(self.params[-1], "count", a.type, True)]
                body.append(f"for (uint32_t i = 0; i < {a.name}_count; i++)"
                            f" hearth_mp_attach(w, {a.name}[i]);")
            elif a.trailing:
                self.params.append(f"hearth_cap {a.name}")
                self.meta.append(Param(self.params[-1], "cap", a.type, True))
                body.append(f"if ({a.name} != HEARTH_NONE) hearth_mp_attach(w, {a.name});")
            else:
                self.params.append(f"hearth_cap {a.name}")
                self.meta.append(Param(self.params[-1], "cap", a.type, False))
                body.append(f"hearth_mp_attach(w, {a.name});")
        return body


def _function(s: Schema, op: Op, c_types: dict[str, Any], variant: str,
              paths: list[str] | None) -> tuple[Encoder, list[tuple[str, str, Type]]]:
    """(the encoder, the struct helpers it uses)."""
    where = f"{s.name} op {op.name or '(value)'}"
    chosen = _selection(op, paths, c_types, where)
    fn = _Function(c_types, where)
    body = fn.args(op)
    explicit = paths is not None
    if not op.name:  # a single-value service: the value itself
        field = op.fields[0]
        put, _ = fn.value(field.type, field.name, chosen[field.name], explicit)
        body += put
    elif not op.fields:
        body.append(f'hearth_mp_put_str(w, "{op.name}");')
    else:
        names = [f.name for f in op.fields]
        taken = [n in chosen for n in names]
        if taken != sorted(taken, reverse=True) or any(
                not f.trailing for f in op.fields if f.name not in chosen):
            left = [n for n in names if n not in chosen]
            raise SchemaSyntaxError(f"{where}: c leaves out {left}; only trailing '?' fields"
                                    " may be left out of an array")
        fixed, trailing = 1, []
        puts: list[tuple[list[str], str]] = []
        for f in op.fields:
            if f.name not in chosen:
                continue
            node = chosen[f.name]
            if node.absent and not f.trailing:
                raise SchemaSyntaxError(f"{where}: {f.name} is not a trailing '?' field: no '?'")
            put, none = fn.value(f.type, f.name, node, explicit)
            puts.append((put, none))
            if none:
                trailing.append(none)
            elif trailing:
                raise SchemaSyntaxError(f"{where}: {f.name} follows a field that may be left out")
            else:
                fixed += 1
        if trailing:
            body.append(f"uint32_t n = {fixed};")
            for i, none in enumerate(trailing):
                body.append(f"if (n == {fixed + i} && {_given(none)}) n++;")
            body.append("hearth_mp_put_array(w, n);")
        else:
            body.append(f"hearth_mp_put_array(w, {fixed});")
        body.append(f'hearth_mp_put_str(w, "{op.name}");')
        for i, (put, none) in enumerate(puts):
            if none:
                body.append(f"if (n > {fixed + (i - (len(puts) - len(trailing)))}) {{")
                body += ["    " + x for x in put]
                body.append("}")
            else:
                body += put
    name = f"hearth_req_{_c_name(s.name)}" + (f"_{op.name}" if op.name else "") + (
        f"_{variant}" if variant else "")
    lines = [f"/* {s.name} {op.request}: ok is {op.doc}"]
    lines += [f" * caps[{i}]: {a.spec}" for i, a in enumerate(op.args, 1)]
    lines += [f" * {note}" for note in fn.notes]
    lines[-1] += " */"
    text = "\n".join(lines) + f"\nstatic inline void {name}({', '.join(fn.params)}) {{\n"
    text += "".join(f"    {b}\n" for b in body) + "}\n"
    return Encoder(name, s.name, op, fn.meta, text), fn.structs


def _struct_helper(helper: str, ctype: str, t: Type, c_types: dict[str, Any]) -> str:
    """A struct's encoder: the map with every key, from the members."""
    keys = t.shape[1]
    body = [f"hearth_mp_put_map(w, {len(keys)});"]
    for key, (kt, _) in keys.items():
        f = form(kt, c_types)
        if f is None:
            raise SchemaSyntaxError(f"{ctype}: the key {key!r} ({kt.text}) has no C form")
        body.append(f'hearth_mp_put_str(w, "{key}");')
        body += f.fill(f"p->{key}").put
    return (f"/* {t.text} from a {ctype} (its members are the keys; every key is written) */\n"
            f"static inline void {helper}(hearth_mp_writer *w, const {ctype} *p) {{\n"
            + "".join(f"    {b}\n" for b in body) + "}\n")


def _variants(op: Op) -> list[tuple[str, list[str] | None]]:
    if isinstance(op.c, dict):
        return list(op.c.items())
    return [("", op.c)]


def encoders(names: tuple[str, ...] = C_SERVICES, found: dict[str, Schema] | None = None
             ) -> tuple[list[Encoder], list[str], list[str]]:
    """``(encoders, struct helpers' C, ops not generated)`` for the schemas
    `names` (of `found`: default, the installed ones;
    `hearth.otp._schema.load` reads others).

    Raises:
        SchemaSyntaxError: an op's ``c`` or a file's ``[c_types]`` says
            something the C can't do (the message names the op).
    """
    found = schemas() if found is None else found
    c_types: dict[str, Any] = {}
    for name in names:
        for text, binding in found[name].c_types.items():
            if c_types.setdefault(text, binding)[1] != binding[1]:
                raise SchemaSyntaxError(f"{text} is {c_types[text][1]} in one file and"
                                        f" {binding[1]} in another")
    functions: list[Encoder] = []
    skipped: list[str] = []
    structs: dict[str, str] = {}
    for name in names:
        s = found[name]
        for op in s.all_ops():
            if op.service != s.name:
                continue
            try:
                for variant, paths in _variants(op):
                    encoder, used = _function(s, op, c_types, variant, paths)
                    functions.append(encoder)
                    for helper, ctype, t in used:
                        structs.setdefault(helper, _struct_helper(helper, ctype, t, c_types))
            except _Skip as e:
                skipped.append(f"{name} {op.name or '(value)'} ({e})")
    return functions, list(structs.values()), skipped


def header(names: tuple[str, ...] = C_SERVICES, found: dict[str, Schema] | None = None) -> str:
    """The text of ``hearth_protocols.h`` for the schemas `names` (of
    `found`, as `encoders`).

    Raises:
        SchemaSyntaxError: as `encoders`.
    """
    functions, structs, skipped = encoders(names, found)
    out = ["/* Generated by `python -m hearth.otp.protocols c-header` from the",
           " * TOML files of hearth/otp/protocols: do not edit. Request encoders, one per op",
           " * (hearth/otp/_schema_c.py says how); start the writer with",
           " * hearth_mp_request_init (a request) or hearth_mp_writer_init (a plain send). */",
           "#ifndef HEARTH_PROTOCOLS_H", "#define HEARTH_PROTOCOLS_H", "",
           '#include "hearth.h"', "", HELPERS]
    out += structs + [e.text for e in functions]
    if skipped:
        out.append("/* Not generated (a field with no C equivalent here):")
        out += [f" *   {x}" for x in skipped]
        out.append(" */")
    out += ["", "#endif /* HEARTH_PROTOCOLS_H */", ""]
    return "\n".join(out)
