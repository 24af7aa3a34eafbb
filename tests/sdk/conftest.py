"""Fixtures for the SDK's tests: C guests built once per session.

Building needs the ``ziglang`` package (the ``sdk`` extra, also in the
``test`` extra); without it the tests that build are skipped, saying so.
"""

import pathlib

import pytest

from kindling.sdk import build, have_toolchain

GUESTS = pathlib.Path(__file__).parent / "guests"


@pytest.fixture(scope="session")
def build_guest(tmp_path_factory):
    """``build_guest(name)``: the wasm bytes of ``guests/<name>.c``, or of a
    C source given as text with ``build_guest(name, source=...)``."""
    if not have_toolchain():
        pytest.skip("the guest toolchain is not installed: .venv/bin/pip install -e '.[sdk]'")
    out = tmp_path_factory.mktemp("guests")
    built = {}

    def build_guest(name, source=None):
        if name not in built:
            path = GUESTS / f"{name}.c"
            if source is not None:
                path = out / f"{name}.c"
                path.write_text(source)
            built[name] = build(path, out / f"{name}.wasm").read_bytes()
        return built[name]

    return build_guest
