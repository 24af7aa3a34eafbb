"""The schema files load, their types say what they accept, and requests
are parsed in all three forms with messages that name the field."""

import math

import pytest

from hearth import vm
from hearth.otp import ServiceError, schema, schemas
from hearth.otp._schema import ALWAYS, NO_INVALID, Schema
from hearth.otp._schema_types import Mismatch, SchemaSyntaxError, parse_type
from hearth.vm import MONITOR, SEND


def test_every_schema_file_loads_and_every_op_has_a_line_for_people():
    found = schemas()
    assert len(found) >= 25
    for s in found.values():
        assert s.section, s.name
        for op in s.all_ops():
            assert op.doc, f"{s.name} {op.name}: no doc"
            assert not set(op.errors) & set(ALWAYS), f"{s.name} {op.name}: lists {ALWAYS}"


@pytest.mark.parametrize("text, good, bad", [
    ("int(0..10)", [0, 10], [-1, 11, 1.5, True, "1"]),
    ("num(0..)", [0, 1.5, 10**12], [-0.1, math.nan, math.inf, True, None]),
    ("num", [-3, 2.5], [math.nan, -math.inf]),
    ("str(..3)", ["", "abc"], ["abcd", b"a"]),
    ("bin(32)", [b"x" * 32], [b"x" * 31, "x" * 32]),
    ("list(int, 2)", [(1, 2)], [(1,), (1, 2, 3), (1, "2"), [1, 2]]),
    ("list(str, ..2) | nil", [None, (), ("a", "b")], [("a", "b", "c"), "a"]),
    ('"none" | "locked"', ["none", "locked"], ["other", None]),
    ("map{a: int, b?: str}", [{"a": 1}, {"a": 1, "b": "x"}], [{"b": "x"}, {"a": 1, "c": 2}]),
    ("map{a: int, ...}", [{"a": 1, "c": 2}], [{}]),
    ("bool", [True, False], [0, 1, None]),
])
def test_types_accept_what_they_say_and_nothing_else(text, good, bad):
    t = parse_type(text)
    for value in good:
        assert t.check(value, "f") is value
    for value in bad:
        with pytest.raises(Mismatch):
            t.check(value, "f")
    if t.invalid() is not NO_INVALID:
        with pytest.raises(Mismatch):
            t.check(t.invalid(), "f")


def test_capabilities_are_checked_for_their_permissions(proc):
    t = parse_type("cap(SEND+MONITOR)")
    ok = vm.make_capability(SEND | MONITOR)
    assert t.check(ok, "sub") is ok
    with pytest.raises(Mismatch) as e:
        t.check(vm.make_capability(SEND), "sub")
    assert str(e.value) == "sub needs SEND and MONITOR; it has SEND"
    with pytest.raises(Mismatch):
        t.check(b"not a cap", "sub")


@pytest.mark.parametrize("text", ["int(", "list(int", "map{a int}", "cap(FLY)", "nosuch",
                                  "int | ", "str(x)"])
def test_a_type_that_is_not_in_the_language_is_refused_when_loaded(text):
    with pytest.raises(SchemaSyntaxError):
        parse_type(text)


def test_an_unknown_key_in_a_schema_is_refused():
    with pytest.raises(SchemaSyntaxError, match="unknown keys"):
        Schema("x", {"ops": {"a": {"dco": "typo"}}}, {}, "x.toml")
    with pytest.raises(SchemaSyntaxError, match="needs a default"):
        Schema("x", {"ops": {"a": {"fields": ["f?: int"]}}}, {}, "x.toml")


def test_the_three_forms_parse_alike_and_defaults_fill_in():
    logs = schema("hearth.Inspector")
    want = ("logs", {"pid": None, "after": 0, "limit": 200})
    assert logs.parse("logs") == want
    assert logs.parse(("logs",)) == want
    assert logs.parse({"op": "logs"}) == want
    assert logs.parse(("logs", 3, 5)) == ("logs", {"pid": 3, "after": 5, "limit": 200})
    assert logs.parse({"op": "logs", "limit": 1, "other": "ignored"})[1]["limit"] == 1


@pytest.mark.parametrize("name, term, needle", [
    ("hearth.Timer", ("tick", -1), "tick: seconds must be an int or a float >= 0"),
    ("hearth.Timer", ("tick",), "tick takes 1 field(s) ['seconds'], got 0"),
    ("hearth.Timer", {"op": "tick"}, "tick needs a 'seconds' field"),
    ("hearth.Timer", "tick", "tick needs ['seconds'] (use the array or map form)"),
    ("hearth.Timer", ("tock", 1), "unknown op 'tock'; one of ['tick']"),
    ("hearth.Timer", {"seconds": 1}, "the request map has no 'op'"),
    ("hearth.Timer", 3, "a request is a str, a non-empty array or a map, not an int"),
    ("hearth.fs.Filesystem", ("put", "a", "00" * 32), "(raw bytes, not hex or text)"),
    ("hearth.World", ("add", {"mesh": b"x" * 32, "colour": 1}), "unknown field(s) ['colour']"),
    ("hearth.World", ("add", {"label": "x"}), "add: entity needs a 'mesh'"),
    ("hearth.World", ("add", {"mesh": b"x" * 32, "transform": (1,) * 15}),
     "entity.transform must be an array of 16 numbers"),
    ("hearth.Inspector", ("logs", None, 0, -1), "limit must be an int >= 0, not -1"),
])
def test_refusals_name_the_field_and_what_was_expected(name, term, needle):
    with pytest.raises(ServiceError) as e:
        schema(name).parse(term)
    assert e.value.kind == "invalid_request"
    assert needle in e.value.message, e.value.message
    assert len(e.value.message) < 400


def test_capability_arguments_are_counted_and_checked(proc):
    follow = schema("hearth.Inspector")
    with pytest.raises(ServiceError, match=r"follow needs its follower in caps\[1\]"
                                           r" \(a capability with SEND and MONITOR\)"):
        follow.parse("follow", ())
    with pytest.raises(ServiceError, match=r"follower, caps\[1\], needs SEND and MONITOR"):
        follow.parse("follow", (vm.make_capability(SEND),))
    cap = vm.make_capability(SEND | MONITOR)
    assert follow.parse("follow", (cap,))[1]["follower"] is cap
    spawn = schema("hearth.wasm.WasmProcessSpawner")
    caps = (vm.make_capability(SEND), vm.make_capability(MONITOR))
    assert spawn.parse({"lump": b"x" * 32}, caps)[1]["handles"] == caps


def test_a_huge_bad_value_is_quoted_only_in_part():
    with pytest.raises(ServiceError) as e:
        schema("hearth.Sleep").parse("x" * (1 << 20))
    assert len(e.value.message) < 200
