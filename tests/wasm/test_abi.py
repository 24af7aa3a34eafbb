"""The ABI's surface: every function exists with its signature, nothing else
links, and docs/abi.md documents each one."""

import pathlib
import re

import pytest

from hearth import vm
from hearth.vm._wasm import GuestModuleError, load_module, spawn_guest
from hearth.vm._wasm._abi import registry

from .wat import ABI, data, module

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "abi.md"


def test_a_module_importing_every_abi_function_instantiates_and_runs(proc):
    guest = module('(func (export "run"))', "*")
    cap, ref = spawn_guest(guest, monitor=True)
    assert vm.recv(timeout=10).reason == vm.NORMAL


def test_the_host_defines_exactly_the_functions_of_the_abi():
    defined = {(hf.module, hf.name) for hf in registry}
    expected = {(namespace, name) for name, (namespace, _, _) in ABI.items()}
    assert defined == expected


@pytest.mark.parametrize(
    "line",
    [
        '(import "hearth::table" "sned" (func (param i32 i32 i32 i32 i32)))',
        '(import "hearth::table" "send" (func (param i32 i32 i32 i32)))',
        '(import "hearth::mailbox" "recv" (func (param i32)))',
        '(import "hearth::nowhere" "recv" (func (param i32) (result i32)))',
    ],
)
def test_a_module_importing_a_misspelt_or_mistyped_function_is_refused_before_it_runs(proc, line):
    with pytest.raises(GuestModuleError, match="can't be linked"):
        spawn_guest(f'(module {line} (func (export "run")))')
    assert len(proc.runtime) == 1  # no guest process was made


def test_a_module_without_run_or_with_a_mistyped_entry_point_is_refused(proc):
    with pytest.raises(GuestModuleError, match="exports no function `run`"):
        spawn_guest('(module (func (export "start")))')
    with pytest.raises(GuestModuleError, match="`run` must be"):
        spawn_guest('(module (func (export "run") (param i32)))')
    with pytest.raises(GuestModuleError, match="_hearth_spawn_by_index"):
        spawn_guest('(module (func (export "run")))', index=3)


def test_a_module_that_does_not_compile_raises_module_error(proc):
    with pytest.raises(vm.ModuleError):
        load_module("(module (func (export \"run\") (i32.add)))")


def test_spawning_with_something_that_is_not_a_capability_is_refused(proc):
    with pytest.raises(vm.PayloadError):
        spawn_guest(module('(func (export "run"))'), 3)


def test_docs_abi_md_documents_every_function_with_its_signature():
    text = DOCS.read_text()
    for hf in registry:
        section = f"## `{hf.module}`"
        assert section in text, f"docs/abi.md has no section {section}"
        body = text.split(section, 1)[1].split("\n## ", 1)[0]
        row = re.search(rf"^\| `{hf.name}` \|([^|]*)\|([^|]*)\|", body, re.M)
        assert row, f"docs/abi.md documents no {hf.qualname}"
        assert row.group(1).strip() == f"`{hf.signature()}`", hf.qualname


def test_the_metadata_phase_sets_the_process_metadata_before_run(proc):
    guest = module(
        data(0, "echoes things")
        + data(16, "Ada")
        + data(32, "AGPL-3.0")
        + """
        (func (export "_hearth_metadata")
          (call $set_name (i32.const 0) (i32.const 6))
          (call $set_description (i32.const 0) (i32.const 13))
          (call $add_author (i32.const 16) (i32.const 3))
          (call $add_author (i32.const 0) (i32.const 4))
          (call $set_license (i32.const 32) (i32.const 8))
          (call $log (i32.const 1) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 4)))
        (func (export "run") (drop (call $recv (i32.const 0))))""",
        "set_name", "set_description", "add_author", "set_license", "log", "recv",
    )
    cap = spawn_guest(guest, license="mine")
    proc.runtime.wait_all_blocked()
    (info,) = [p for p in proc.runtime.processes() if p.name == "echoes"]
    assert info.metadata["description"] == "echoes things"
    assert info.metadata["authors"] == ("Ada", "echo")
    assert info.metadata["license"] == "mine"  # the spawner's choice wins
    assert info.initial_call.startswith("wasm:") and info.initial_call.endswith(":run")
    cap.kill()


def test_hearth_init_runs_after_the_metadata_phase_and_before_run(proc):
    me = vm.make_capability(vm.SEND)
    guest = module(
        data(0, "mir")
        + """
        (func $say (param i32) (call $send (i32.const 0) (local.get 0) (i32.const 1)
                                           (i32.const 0) (i32.const 0)))
        (func (export "run") (call $say (i32.const 2)))
        (func (export "_hearth_init") (call $say (i32.const 1)))
        (func (export "_hearth_metadata") (call $say (i32.const 0)))""",
        "send",
    )
    _, ref = spawn_guest(guest, me, monitor=True)
    down = vm.recv(timeout=10)
    assert down.reason[:3] == (
        "error", "Trap", "hearth::table::send: not allowed in the metadata phase",
    )
    spawn_guest(guest.replace('(func (export "_hearth_metadata") (call $say (i32.const 0)))', ""),
                me, monitor=True)
    assert [vm.recv(timeout=10).data for _ in range(2)] == [b"i", b"r"]
    assert vm.recv(timeout=10).reason == vm.NORMAL


def test_metadata_functions_trap_in_the_running_phase(proc):
    guest = module('(func (export "run") (call $set_name (i32.const 0) (i32.const 1)))', "set_name")
    spawn_guest(guest, monitor=True)
    reason = vm.recv(timeout=10).reason
    assert reason[2] == "hearth::metadata::set_name: not allowed in the running phase"
