"""A guest gets no WASI: the host provides no ``wasi_snapshot_preview1``
function (no files, stdout, environment or system clock beyond Hearth's own
services), so a module that imports one (what a libc guest calling printf,
fopen or time would) can't be linked and never runs: spawned locally or
by a peer through the server's spawner. `kindling.sdk build --libc`
refuses such a module before it exists (tests/sdk/test_libc.py)."""

import pytest

from hearth import otp, vm
from hearth.native import request
from hearth.otp import ServiceError
from hearth.vm._wasm import GuestModuleError

WASI = [
    ("fd_write", "(param i32 i32 i32 i32) (result i32)"),    # stdout
    ("path_open", "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)"),  # files
    ("clock_time_get", "(param i32 i64 i32) (result i32)"),  # the system clock
    ("environ_get", "(param i32 i32) (result i32)"),          # the environment
]


def module(name, signature):
    return (f'(module (import "wasi_snapshot_preview1" "{name}" (func {signature}))'
            ' (memory (export "memory") 1) (func (export "run")))')


@pytest.mark.parametrize("name,signature", WASI, ids=[n for n, _ in WASI])
def test_a_guest_importing_wasi_is_refused_before_it_runs(proc, name, signature):
    with pytest.raises(GuestModuleError, match="can't be linked") as info:
        vm.spawn_guest(module(name, signature))
    assert name in str(info.value)
    assert len(proc.runtime) == 1  # no guest process was made


def test_a_peer_cannot_spawn_a_wasi_guest_on_the_server(hearth_server, attacker):
    before = hearth_server.snapshot()
    spawner = otp.lookup(attacker.root, "hearth.wasm.WasmProcessSpawner")
    lid = vm.current_runtime().lumps.put(module(*WASI[0]).encode())
    with pytest.raises(ServiceError) as info:
        request(spawner, ["spawn", bytes(lid)], timeout=30)
    assert info.value.kind == "invalid_module"
    assert "fd_write" in info.value.message
    hearth_server.assert_unchanged(before)
