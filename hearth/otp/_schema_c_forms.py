"""How a value of a schema type is taken and written in C, for the guest
SDK's generated request encoders (`_schema_c`).

A `Form` is the C parameter(s) a value takes and the statements that write
it with the SDK's msgpack writer ``w``: ``int`` -> ``int64_t``,
``num``/``float`` -> ``double``, ``bool`` -> ``bool``, ``str`` (or a
choice of literal strs) -> ``const char *``, ``bin(N)`` -> ``const void
*`` (N bytes), ``bin`` -> a pointer and ``NAME_len``, ``cap`` ->
``hearth_cap``, ``list(num, N)`` -> ``const float NAME[N]`` written as N
floats, ``list(num, N) | bin(4N)`` -> ``const float NAME[N]`` written as
the bin (little-endian float32, as wasm32 keeps them), ``list(str)`` -> a
NULL-terminated ``const char *const *``; a type a file's ``[c_types]``
binds: ``hearth_lump`` (a bin(32) alias: the lump handle, its id written)
or a struct (a map alias: ``const T *``, its members named as the keys).
A value that may be missing (``T | nil``, or a key or trailing field the
caller may leave out) is a pointer, NULL for none, or HEARTH_NONE for a
handle. Anything else (``any``, a map without a binding inside a struct,
a list of lists) has no form. Pure text work: nothing switches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._schema_types import Type

__all__ = ["Form", "form", "HELPERS"]

# Static helpers the generated header starts with (they use only hearth.h).
HELPERS = """\
/* A lump as its 32-byte id; HEARTH_NONE as nil. */
static inline void hearth_req_put_lump(hearth_mp_writer *w, hearth_lump lump) {
    hearth_lump_id id;
    if (lump == HEARTH_NONE) {
        hearth_mp_put_nil(w);
        return;
    }
    hearth_lump_get_id(lump, &id);
    hearth_mp_put_bin(w, id.bytes, sizeof id.bytes);
}

/* n floats as an array of msgpack floats. */
static inline void hearth_req_put_floats(hearth_mp_writer *w, const float *v, uint32_t n) {
    hearth_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++)
        hearth_mp_put_double(w, v[i]);
}

/* A NULL-terminated list of strs as an array. */
static inline void hearth_req_put_strs(hearth_mp_writer *w, const char *const *v) {
    uint32_t n = 0;
    while (v && v[n])
        n++;
    hearth_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++)
        hearth_mp_put_str(w, v[i]);
}
"""


@dataclass
class Form:
    """The C side of one value. Each text has ``{n}`` for the value's C
    name (a parameter, or ``p->key`` in a struct).

    Attributes:
        params: its parameter declarations.
        put: the statements writing it when it is given.
        none: a C condition true when the caller gave none (NULL,
            HEARTH_NONE), or "" when it always has a value.
        note: for the function's comment ("NULL writes nil").
        structs: ``(helper name, C type, map Type)`` of struct bindings it
            uses, whose helpers the header must define.
    """

    params: list[str]
    put: list[str]
    none: str = ""
    note: str = ""
    structs: list[tuple[str, str, Type]] = field(default_factory=list)

    def fill(self, n: str) -> Form:
        return Form([p.format(n=n) for p in self.params], [s.format(n=n) for s in self.put],
                    self.none.format(n=n), self.note.format(n=n), self.structs)


def _base(t: Type, c_types: dict[str, tuple[str, str]]) -> Form | None:
    """The form of `t` when it is given (nil aside)."""
    if t.text in c_types:
        alias, ctype = c_types[t.text]
        if ctype == "hearth_lump":
            return Form(["hearth_lump {n}"], ["hearth_req_put_lump(w, {n});"],
                        "{n} == HEARTH_NONE")
        helper = "hearth_req_put_" + (ctype[len("hearth_"):] if ctype.startswith("hearth_")
                                      else ctype)
        return Form([f"const {ctype} *{{n}}"], [f"{helper}(w, {{n}});"], "!{n}",
                    structs=[(helper, ctype, t)])
    kind = t.shape[0]
    if kind == "int":
        return Form(["int64_t {n}"], ["hearth_mp_put_int(w, {n});"])
    if kind in ("num", "float"):
        return Form(["double {n}"], ["hearth_mp_put_double(w, {n});"])
    if kind == "bool":
        return Form(["bool {n}"], ["hearth_mp_put_bool(w, {n});"])
    if kind in ("str", "literal"):
        return Form(["const char *{n}"], ["hearth_mp_put_str(w, {n});"], "!{n}")
    if kind == "bin":
        _, lo, hi = t.shape
        if lo is not None and lo == hi:
            return Form(["const void *{n}"], [f"hearth_mp_put_bin(w, {{n}}, {lo});"], "!{n}")
        return Form(["const void *{n}", "uint32_t {n}_len"],
                    ["hearth_mp_put_bin(w, {n}, {n}_len);"], "!{n}")
    if kind == "cap":
        return Form(["hearth_cap {n}"], ["hearth_mp_put_cap(w, {n});"], "{n} == HEARTH_NONE")
    if kind == "list":
        _, item, lo, hi = t.shape
        if item.shape[0] in ("num", "float") and lo is not None and lo == hi:
            return Form([f"const float {{n}}[{lo}]"], [f"hearth_req_put_floats(w, {{n}}, {lo});"],
                        "!{n}")
        if item.shape[0] in ("str", "literal"):  # an empty list is none if it can't be valid
            return Form(["const char *const *{n}"], ["hearth_req_put_strs(w, {n});"],
                        "(!{n} || !{n}[0])" if lo else "!{n}")
        return None
    if kind == "union":
        options = [o for o in t.shape[1] if o.shape[0] != "nil"]
        if len(options) == 2 and options[0].shape[0] == "list" and options[1].shape[0] == "bin":
            _, item, lo, hi = options[0].shape
            if (item.shape[0] in ("num", "float") and lo is not None and lo == hi
                    and options[1].shape[1:] == (4 * lo, 4 * lo)):
                return Form([f"const float {{n}}[{lo}]"],
                            [f"hearth_mp_put_bin(w, {{n}}, {4 * lo});"], "!{n}")
        if all(o.shape[0] == "literal" for o in options):
            return Form(["const char *{n}"], ["hearth_mp_put_str(w, {n});"], "!{n}")
        for o in options:
            found = _base(o, c_types)
            if found is not None:
                return found
        return None
    return None  # any, nil, a map (flattened by the caller, or bound to a struct)


def _pointer(f: Form) -> Form:
    """A scalar's form as a pointer, so that NULL can mean none."""
    (decl,) = f.params
    ctype, _ = decl.rsplit(" ", 1)
    return Form([f"const {ctype} *{{n}}"], [s.replace("{n})", "*{n})") for s in f.put], "!{n}")


def _none_text(none: str) -> str:
    """A none condition for people: "NULL", "HEARTH_NONE", "NULL or empty"."""
    if none.startswith("(!"):
        return "NULL or empty"
    return "HEARTH_NONE" if "HEARTH_NONE" in none else "NULL"


def nilable(t: Type) -> bool:
    return t.shape[0] == "nil" or (t.shape[0] == "union" and any(
        o.shape[0] == "nil" for o in t.shape[1]))


def form(t: Type, c_types: dict[str, tuple[str, str]], absent: bool = False) -> Form | None:
    """The form of a value of type `t`, or None if it has none.

    With `absent` the caller may leave the value out: its `Form.none` is
    then a condition, and the writer of the enclosing array or map skips
    the value when it holds. Else a nilable type writes nil for none.
    """
    base = _base(t, c_types)
    if base is None:
        return None
    nil = nilable(t)
    if (absent or nil) and not base.none:
        base = _pointer(base)
    if absent or nil:  # an array parameter that may be NULL: a plain pointer
        base.params = [re.sub(r"\{n\}\[\d+\]$", "*{n}", p) for p in base.params]
    if absent:
        return Form(base.params, base.put, base.none, f"{_none_text(base.none)}: left out",
                    base.structs)
    if nil:
        put = [f"if ({base.none})", "    hearth_mp_put_nil(w);", "else"] + [
            "    " + x for x in base.put]
        return Form(base.params, put, base.none, f"{_none_text(base.none)}: nil", base.structs)
    return base
