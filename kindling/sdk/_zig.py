"""Guests in Zig: ``python -m kindling.sdk build guest.zig -o guest.wasm``.

A Zig guest uses the same SDK as a C one: ``hearth.h`` translated to Zig,
``kindling/sdk/hearth.zig`` (made by ``zig translate-c``; regenerate it
with ``python -m kindling.sdk zig-header`` after changing a header: the
first translation builds zig's translator, minutes on a small machine, so
builds use the committed file), imported as ``@import("hearth.zig")``, and
the SDK's C runtime compiled and linked with it. The sources are copied
into a scratch directory beside that ``hearth.zig``, because a Zig import
is relative to the importing file. Call the SDK's functions, not the
``hearth_abi_*`` declarations: translation drops their import module, so
only the C runtime may call them.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

__all__ = ["OPTIMIZE_MODES", "build_zig", "translate_header"]

# `build`'s -O levels as Zig's modes. ReleaseSafe keeps the checks that turn
# an overflow or an out-of-bounds index into a trap, which ends only the guest.
OPTIMIZE_MODES = {"0": "Debug", "1": "ReleaseSafe", "2": "ReleaseSafe", "3": "ReleaseFast",
                  "s": "ReleaseSmall", "z": "ReleaseSmall"}


def _zig(*args):
    return [sys.executable, "-m", "ziglang", *args]


def translate_header(sdk_dir, error):
    """``hearth.h`` as Zig source (comment lines naming this machine's paths
    left out). Switches: always, when gevent has patched `subprocess`."""
    cmd = _zig("translate-c", os.fspath(sdk_dir / "hearth.h"), f"-I{sdk_dir}",
               "-target", "wasm32-freestanding")
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise error(cmd, done.stderr)
    lines = [line for line in done.stdout.splitlines() if not line.startswith("// /")]
    header = ("// hearth.zig: kindling/sdk/hearth.h translated by `zig translate-c`;"
              " regenerate with\n// `python -m kindling.sdk zig-header`, never edit.\n")
    return header + "\n".join(lines) + "\n"


def build_zig(sources, output, *, sdk_dir, runtime_sources, optimize="2", stack_size=65536,
              error, include_dirs=()):
    """Build Zig `sources` (the first is the root file) into `output`;
    `include_dirs` are for the runtime's C (after the SDK's own).

    `error(command, output)` makes the exception raised when zig fails.
    Switches: always, when gevent has patched `subprocess`.
    """
    with tempfile.TemporaryDirectory(prefix="hearth-zig-") as tmp:
        tmp = pathlib.Path(tmp)
        shutil.copyfile(sdk_dir / "hearth.zig", tmp / "hearth.zig")
        copies = []
        for src in sources:
            copy = tmp / pathlib.Path(src).name
            shutil.copyfile(src, copy)
            copies.append(copy)
        cmd = _zig("build-exe", *map(os.fspath, copies),
                   *(os.fspath(sdk_dir / name) for name in runtime_sources),
                   f"-I{sdk_dir}", *(f"-I{d}" for d in include_dirs),
                   "-target", "wasm32-freestanding", "-fno-entry", "-rdynamic",
                   "-O", OPTIMIZE_MODES[optimize], "-fstrip", "--stack", str(int(stack_size)),
                   f"-femit-bin={os.path.abspath(output)}")
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=tmp)
        if done.returncode != 0:
            raise error(cmd, done.stdout)
        if done.stdout:
            sys.stderr.write(done.stdout)
    return pathlib.Path(output)
