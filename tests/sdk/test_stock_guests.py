"""The stock services written as guests (kindling/root/init/<name>/) ship
their .wasm next to the C source: each must be exactly what the SDK builds
from that source now (rebuild with ``python -m kindling.sdk build
kindling/root/init/NAME/NAME.c -o kindling/root/init/NAME/NAME.wasm``)."""

import pathlib

import pytest

import kindling
from kindling.sdk import build

INIT = pathlib.Path(kindling.__file__).parent / "root" / "init"
# The ports of issue 16 and the terminal demo (debug-grid and counter-guest predate them).
PORTED = ["clock", "panic-test", "skybox", "demo-scene", "fly-camera", "terminal-demo", "chat"]


@pytest.mark.parametrize("name", PORTED)
def test_the_committed_module_is_built_from_its_source(name, build_guest, tmp_path):
    committed = INIT / name / f"{name}.wasm"
    rebuilt = build(INIT / name / f"{name}.c", tmp_path / committed.name).read_bytes()
    assert rebuilt == committed.read_bytes(), (
        f"{committed} is out of date: rebuild it from {name}.c")
