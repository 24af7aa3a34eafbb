"""The schema entries for the guest SDK's C (a file's ``[c_types]``, an
op's ``c``): what they make the generator write, and a clear error naming
the file and the op for each mistake, when the schemas are loaded or the
header generated."""

import subprocess
import sys

import pytest

from hearth.otp._schema import load
from hearth.otp._schema_c import encoders, header
from hearth.otp._schema_types import SchemaSyntaxError

BASE = """
[types]
lump = "bin(32)"
spot = "map{x: num, y: num, tag?: str}"
{c_types}

[service."t.Svc"]
section = "t"
doc = "a test service"

[service."t.Svc".ops.put]
doc = "nil"
fields = ["where: spot", "lump: lump | nil", "note?: str = \\"\\""]
args = ["owner?: cap(MONITOR)"]
reply = "nil"
{c}
"""


def _write(tmp_path, c_types="", c=""):
    (tmp_path / "t.toml").write_text(BASE.replace("{c_types}", c_types).replace("{c}", c))
    return tmp_path


def _one(tmp_path, **entries):
    found = load(_write(tmp_path, **entries))
    return encoders(("t.Svc",), found)[0]


def test_without_entries_a_map_is_taken_key_by_key_and_a_bin32_is_a_pointer(tmp_path):
    (e,) = _one(tmp_path)
    assert e.name == "hearth_req_t_svc_put"
    assert [p.decl for p in e.params] == [
        "hearth_cap owner", "double where_x", "double where_y", "const char *where_tag",
        "const void *lump", "const char *note"]
    assert [p.none_ok for p in e.params] == [True, False, False, True, True, True]
    assert "hearth_mp_put_map(w, 2 + (where_tag != NULL));" in e.text
    assert "uint32_t n = 3;" in e.text  # the trailing note may be left out


def test_c_types_bind_a_lump_handle_and_a_struct(tmp_path):
    text = header(("t.Svc",), load(_write(
        tmp_path, c_types='[c_types]\nlump = "hearth_lump"\nspot = "hearth_spot"')))
    assert ("static inline void hearth_req_t_svc_put(hearth_mp_writer *w, hearth_cap owner,"
            " const hearth_spot *where, hearth_lump lump, const char *note)") in text
    assert ("static inline void hearth_req_put_spot(hearth_mp_writer *w,"
            " const hearth_spot *p)") in text
    assert 'hearth_mp_put_str(w, "tag");\n    hearth_mp_put_str(w, p->tag);' in text


def test_c_entries_choose_keys_and_make_several_encoders(tmp_path):
    a, b = _one(tmp_path, c='c = {short = ["where.x", "where.y", "lump"], tagged = '
                             '["where.x", "where.y", "where.tag", "lump", "note?"]}')
    assert a.name == "hearth_req_t_svc_put_short" and b.name == "hearth_req_t_svc_put_tagged"
    assert "hearth_mp_put_map(w, 2);" in a.text and "hearth_mp_put_array(w, 3);" in a.text
    assert "hearth_mp_put_map(w, 3);" in b.text  # a key without '?' is always written


@pytest.mark.parametrize("entries, said", [
    ({"c_types": '[c_types]\nlump = "hearth_lumpy"'},
     "[c_types] lump: a struct (hearth_lumpy) stands for a map with keys, not bin(32)"),
    ({"c_types": '[c_types]\nspot = "hearth_lump"'},
     "[c_types] spot: hearth_lump is for bin(32)"),
    ({"c_types": '[c_types]\nplace = "hearth_spot"'},
     "[c_types] names 'place', which [types] does not define"),
    ({"c_types": '[c_types]\nspot = "not a name"'}, "is not a C type name"),
    ({"c_types": "[c_type]\nspot = 1"}, "unknown tables ['c_type']"),
    ({"c": "c = 3"}, "t.Svc op 'put': 'c' is a list of field paths, or a table of them"),
])
def test_a_bad_entry_is_refused_when_the_schemas_load(tmp_path, entries, said):
    with pytest.raises(SchemaSyntaxError) as e:
        load(_write(tmp_path, **entries))
    assert said in str(e.value) and "t.toml" in str(e.value)


@pytest.mark.parametrize("c, said", [
    ('c = ["where.z", "lump"]', "c path 'where.z': where is not a map with a key 'z'"),
    ('c = ["here", "lump"]', "c path 'here': no field 'here'"),
    ('c = ["where.x", "lump"]', "where needs the keys ['y']"),
    ('c = ["where.x?", "where.y", "lump"]', "where.x is required: no '?'"),
    ('c = ["where", "note"]', "c leaves out ['lump']; only trailing '?' fields"),
    ('c = ["where", "lump?"]', "lump is not a trailing '?' field: no '?'"),
    ('c = ["where", "where.x"]', "c path 'where.x' is given twice"),
])
def test_a_c_entry_the_c_cannot_do_is_refused_naming_the_op(tmp_path, c, said):
    found = load(_write(tmp_path, c=c))
    with pytest.raises(SchemaSyntaxError) as e:
        header(("t.Svc",), found)
    assert said in str(e.value) and "t.Svc op put" in str(e.value)


def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path):
    _write(tmp_path, c='c = ["here"]')
    done = subprocess.run([sys.executable, "-m", "hearth.otp.protocols", "c-header",
                           "--schemas", str(tmp_path), "--service", "t.Svc",
                           str(tmp_path / "out.h")], capture_output=True, text=True)
    assert done.returncode == 1
    assert "c path 'here': no field 'here'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.h").exists()
