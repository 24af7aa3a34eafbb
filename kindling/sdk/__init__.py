"""kindling.sdk — write Hearth guests in C.

``hearth.h`` declares the guest ABI (docs/abi.md) and a small API over it:
messages with data and capabilities, signals, links and monitors, spawning
by index, logging, lumps, metadata, a bump allocator and msgpack, to talk
to Hearth services. `build` (or ``python -m kindling.sdk build FILE.c -o
OUT.wasm``) compiles C sources with it to a module that
`hearth.vm.spawn_guest` runs. The compiler is the optional ``ziglang``
package: from a clone of Hearth, ``.venv/bin/pip install -e '.[sdk]'``.
The tour is docs/sdk.md.
"""

from .build import BuildError, ToolchainMissing, build, have_toolchain, include_dir

__all__ = ["BuildError", "ToolchainMissing", "build", "have_toolchain", "include_dir"]
