"""Service manifests and the start order: pure checks, no processes."""

import pytest

from kindling.init import Manifest, ManifestError, load_manifest, plan, scan_root


def _service(root, name, toml, files=None):
    d = root / "init" / name
    d.mkdir(parents=True)
    (d / "service.toml").write_text(toml)
    for fname, text in (files or {"service.py": "def main(registry):\n    pass\n"}).items():
        (d / fname).write_text(text)
    return d


def _python(name, extra=""):
    return f'name = "{name}"\nkind = "python"\nentry = "service.py:main"\n{extra}'


def test_a_full_manifest_is_read_with_every_field(tmp_path):
    d = _service(tmp_path, "echo", """
name = "echo"
description = "echoes"
kind = "python"
entry = "service.py:main"
needs = ["hearth.Sleep"]
restart = "transient"
targets = ["server"]
expose = true
""")
    m = load_manifest(d)
    assert (m.name, m.kind, m.function, m.needs, m.restart, m.targets, m.description) == (
        "echo", "python", "main", ("hearth.Sleep",), "transient", ("server",), "echoes")
    assert m.expose is True
    assert m.file == str(d / "service.py")
    assert len(m.digest) == 32


def test_defaults_are_permanent_everywhere_and_no_needs(tmp_path):
    m = load_manifest(_service(tmp_path, "echo", _python("echo")))
    assert (m.restart, m.targets, m.needs, m.description, m.expose) == (
        "permanent", ("server", "client"), (), "", False)


def test_a_wasm_entry_may_name_a_spawn_index(tmp_path):
    d = _service(tmp_path, "g", 'name = "g"\nkind = "wasm"\nentry = "g.wasm:3"\n',
                 {"g.wasm": "(module)"})
    m = load_manifest(d)
    assert (m.kind, m.index, m.file) == ("wasm", 3, str(d / "g.wasm"))


@pytest.mark.parametrize("toml, files, message", [
    ('name = "x"\nkind = ', None, "malformed service.toml"),
    ('kind = "python"\nentry = "service.py:main"\n', None, "missing field 'name'"),
    ('name = "x"\nentry = "service.py:main"\n', None, "missing field 'kind'"),
    ('name = "x"\nkind = "python"\n', None, "missing field 'entry'"),
    ('name = "y"\nkind = "python"\nentry = "service.py:main"\n', None, "is not the directory"),
    ('name = "x"\nkind = "java"\nentry = "service.py:main"\n', None, "unknown kind 'java'"),
    (_python("x", 'restart = "sometimes"\n'), None, "unknown restart 'sometimes'"),
    ('name = "x"\nkind = "python"\nentry = "other.py:main"\n', None, "missing entry file"),
    ('name = "x"\nkind = "python"\nentry = "service.py"\n', None, "FILE.py:FUNCTION"),
    ('name = "x"\nkind = "wasm"\nentry = "x.wasm"\n', None, "missing entry file"),
    (_python("x", 'needs = "a"\n'), None, "needs must be a list"),
    (_python("x", 'targets = ["moon"]\n'), None, "unknown target"),
    (_python("x", 'colour = "red"\n'), None, "unknown field"),
    (_python("x", 'expose = "yes"\n'), None, "expose must be true or false"),
    (_python("x", 'needs = ["x"]\n'), None, "can't need itself"),
    ('name = "x"\nkind = "python"\nentry = "../service.py:main"\n', None, "outside"),
])
def test_a_bad_manifest_is_reported_with_what_is_wrong(tmp_path, toml, files, message):
    d = _service(tmp_path, "x", toml, files)
    with pytest.raises(ManifestError, match=message.replace("(", r"\(")):
        load_manifest(d)


def test_scan_keeps_good_services_next_to_bad_ones(tmp_path):
    _service(tmp_path, "good", _python("good"))
    _service(tmp_path, "bad", "this is = not toml =")
    (tmp_path / "init" / "notes.txt").write_text("not a service")
    manifests, problems = scan_root(tmp_path)
    assert list(manifests) == ["good"]
    assert list(problems) == ["bad"] and "malformed" in problems["bad"]


def test_a_root_without_an_init_directory_has_no_services(tmp_path):
    assert scan_root(tmp_path) == ({}, {})


def test_the_digest_changes_with_code_not_with_pycache(tmp_path):
    d = _service(tmp_path, "x", _python("x"))
    before = load_manifest(d).digest
    (d / "__pycache__").mkdir()
    (d / "__pycache__" / "service.cpython-311.pyc").write_bytes(b"junk")
    assert load_manifest(d).digest == before
    (d / "service.py").write_text("def main(registry):\n    return 2\n")
    assert load_manifest(d).digest != before


# -- plan ---------------------------------------------------------------------------------


def _m(name, *needs):
    return Manifest(name=name, directory="/", kind="python", file="/f.py", function="main",
                    needs=tuple(needs))


def _plan(*ms, failed=None, native=()):
    return plan({m.name: m for m in ms}, failed or {}, set(native))


def test_dependencies_start_first():
    order, failures = _plan(_m("app", "db", "log"), _m("db", "log"), _m("log"))
    assert order == ["log", "db", "app"] and failures == {}


def test_a_native_service_satisfies_a_need():
    assert _plan(_m("a", "hearth.Sleep"), native={"hearth.Sleep"}) == (["a"], {})


def test_a_missing_dependency_fails_the_service_and_its_dependents():
    order, failures = _plan(_m("a", "nope"), _m("b", "a"), _m("c"))
    assert order == ["c"]
    assert failures["a"] == "missing dependency nope"
    assert failures["b"] == "dependency a not started: missing dependency nope"


def test_a_cycle_fails_each_member_naming_the_cycle():
    order, failures = _plan(_m("a", "b"), _m("b", "a"), _m("c", "a"), _m("d"))
    assert order == ["d"]
    assert failures["a"] == failures["b"] == "dependency cycle a -> b -> a"
    assert failures["c"] == "dependency a not started: dependency cycle a -> b -> a"


def test_a_dependency_with_a_bad_manifest_fails_its_dependents():
    order, failures = _plan(_m("a", "bad"), failed={"bad": "malformed service.toml"})
    assert order == [] and failures["a"] == "dependency bad not started: malformed service.toml"


def test_two_cycles_each_fail_their_members_and_the_rest_is_ordered():
    order, failures = _plan(_m("a", "b"), _m("b", "a"), _m("x", "y"), _m("y", "x"),
                            _m("app", "lib"), _m("lib"))
    assert order == ["lib", "app"]
    assert failures == {"a": "dependency cycle a -> b -> a", "b": "dependency cycle a -> b -> a",
                        "x": "dependency cycle x -> y -> x", "y": "dependency cycle x -> y -> x"}
