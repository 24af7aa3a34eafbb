"""The build command: ``python -m kindling.sdk build FILE.c -o OUT.wasm``."""

import importlib
import pathlib
import subprocess
import sys

import pytest
import wasmtime

from hearth import vm
from hearth.vm._wasm import spawn_guest
from kindling.sdk.build import BuildError, ToolchainMissing, build, include_dir, main

ROOT = pathlib.Path(__file__).parents[2]
HELLO = """\
#include <hearth.h>
void run(void) { hearth_send_str(0, "hello from C"); }
"""


@pytest.fixture
def toolchain(build_guest):
    """Skip unless ziglang is installed (build_guest says why)."""


def test_the_command_line_builds_a_guest_that_exports_memory_and_runs(proc, toolchain, tmp_path):
    source = tmp_path / "hello.c"
    source.write_text(HELLO)
    out = tmp_path / "out" / "hello.wasm"
    done = subprocess.run(
        [sys.executable, "-m", "kindling.sdk", "build", str(source), "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    module = wasmtime.Module(wasmtime.Engine(), out.read_bytes())
    exports = {e.name for e in module.exports}
    assert {"memory", "run", "_hearth_spawn_by_index"} <= exports
    assert all(i.module.startswith("hearth::") for i in module.imports)

    spawn_guest(out.read_bytes(), vm.make_capability(vm.SEND), monitor=True)
    assert vm.recv(timeout=10).data == b"hello from C"
    assert vm.recv(timeout=10).reason == vm.NORMAL


def test_entry_points_are_exported_only_when_defined(toolchain, tmp_path):
    source = tmp_path / "phases.c"
    source.write_text(HELLO + "void hearth_init(void) {}\nvoid hearth_metadata(void) {}\n")
    module = wasmtime.Module(wasmtime.Engine(), build(source).read_bytes())
    assert {"_hearth_init", "_hearth_metadata", "run"} <= {e.name for e in module.exports}
    plain = tmp_path / "plain.c"
    plain.write_text(HELLO)
    only_run = wasmtime.Module(wasmtime.Engine(), build(plain).read_bytes())
    assert not {"_hearth_init", "_hearth_metadata"} & {e.name for e in only_run.exports}


def test_the_default_output_is_the_source_with_wasm(toolchain, tmp_path):
    source = tmp_path / "hello.c"
    source.write_text(HELLO)
    assert build(source) == tmp_path / "hello.wasm" and (tmp_path / "hello.wasm").exists()


def test_a_compile_error_raises_build_error_with_the_compilers_message(toolchain, tmp_path):
    source = tmp_path / "broken.c"
    source.write_text("#include <hearth.h>\nvoid run(void) { not_a_function(); }\n")
    with pytest.raises(BuildError) as info:
        build(source)
    assert "not_a_function" in info.value.output
    assert info.value.command[1:4] == ["-m", "ziglang", "cc"]


def test_the_command_line_prints_compile_errors_and_fails(toolchain, tmp_path, capsys):
    source = tmp_path / "broken.c"
    source.write_text("void run(void) { syntax error }\n")
    assert main(["build", str(source)]) == 1
    err = capsys.readouterr().err
    assert "error" in err and "kindling.sdk: build failed" in err


def test_without_ziglang_the_build_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    # kindling.sdk.build is the function; the module is in sys.modules.
    module = importlib.import_module("kindling.sdk.build")
    monkeypatch.setattr(module, "have_toolchain", lambda: False)
    source = tmp_path / "hello.c"
    source.write_text(HELLO)
    with pytest.raises(ToolchainMissing, match=r"pip install -e '\.\[sdk\]'"):
        build(source)
    assert main(["build", str(source), "-o", str(tmp_path / "x.wasm")]) == 2
    assert ".venv/bin/pip install -e '.[sdk]'" in capsys.readouterr().err
    assert not (tmp_path / "x.wasm").exists()


def test_include_dir_holds_the_header_and_the_runtime(capsys):
    assert main(["include-dir"]) == 0
    printed = pathlib.Path(capsys.readouterr().out.strip())
    assert printed == include_dir()
    for name in ("hearth.h", "hearth_rt.c", "hearth_mp.c"):
        assert (printed / name).is_file()


def test_pyproject_ships_the_c_files_and_offers_the_sdk_extra():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["kindling"]
    sdk = ROOT / "kindling"
    for name in ("hearth.h", "hearth_rt.c", "hearth_mp.c"):
        assert any((sdk / "sdk" / name) in sdk.glob(p) for p in patterns), name
    extras = project["project"]["optional-dependencies"]
    assert any(dep.startswith("ziglang") for dep in extras["sdk"])


def test_warnings_are_shown_and_the_build_goes_on(toolchain, tmp_path, capfd):
    source = tmp_path / "sloppy.c"
    source.write_text(HELLO + "int unused(void) { int x; return 0; }\n")
    assert build(source).exists()
    assert "unused variable 'x'" in capfd.readouterr().err
