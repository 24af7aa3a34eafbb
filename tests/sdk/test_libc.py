"""The SDK's libc option (``build --libc``): zig's wasm32-wasi libc linked
into a guest that imports nothing but Hearth's ABI."""

import pathlib

import pytest
import wasmtime

from hearth import vm
from kindling.sdk import BuildError, build, have_toolchain

GUESTS = pathlib.Path(__file__).parent / "guests"


@pytest.fixture
def toolchain():
    if not have_toolchain():
        pytest.skip("the guest toolchain is not installed: .venv/bin/pip install -e '.[sdk]'")


def test_a_libc_guest_formats_allocates_and_imports_only_hearth(proc, toolchain, tmp_path):
    wasm = build(GUESTS / "libc_probe.c", tmp_path / "probe.wasm", libc=True).read_bytes()
    imports = {i.module for i in wasmtime.Module(wasmtime.Engine(), wasm).imports}
    assert imports and all(m.startswith("hearth::") for m in imports)
    mb = vm.current_process().create_mailbox()
    _, ref = vm.spawn_guest(wasm, mb.make_capability(vm.SEND), monitor=True, mailbox=mb)
    msg = mb.recv()
    assert msg.data == b"-42 hi 1.190 ff intact=1 reused=1 len=6"
    down = mb.recv()
    assert down.ref == ref and down.reason == "normal"
    down.cap.release()


def test_a_libc_guest_that_needs_wasi_is_refused_at_build_time(toolchain, tmp_path):
    src = tmp_path / "printer.c"
    src.write_text('#include <stdio.h>\n#include <hearth.h>\nvoid run(void) { printf("hi\\n"); }\n')
    with pytest.raises(BuildError) as info:
        build(src, tmp_path / "printer.wasm", libc=True)
    assert "wasi_snapshot_preview1.fd_write" in str(info.value)
    assert "which Hearth does not provide" in str(info.value)
    assert not (tmp_path / "printer.wasm").exists()


def test_the_freestanding_build_is_unchanged_by_the_option(toolchain, tmp_path):
    wasm = build(GUESTS / "suite_meta.c", tmp_path / "meta.wasm").read_bytes()
    exports = {e.name for e in wasmtime.Module(wasmtime.Engine(), wasm).exports}
    assert "_initialize" not in exports and "run" in exports
