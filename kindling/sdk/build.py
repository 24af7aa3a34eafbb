"""The guest build command: C sources to a wasm32 guest module, with zig.

``python -m kindling.sdk build FILE.c [FILE.c ...] -o OUT.wasm`` compiles the
sources together with the SDK's runtime (``hearth_rt.c``, ``hearth_mp.c``),
with ``hearth.h`` on the include path, for ``wasm32-freestanding`` without a
libc, and links a module that exports ``memory`` and whatever entry points
the sources define (``run``, ``_hearth_init``, ``_hearth_metadata``; the
runtime adds ``_hearth_spawn_by_index``). The compiler is the ``ziglang``
package from PyPI (``zig cc``, i.e. clang and a wasm linker), an optional
extra because it is large: from a clone of Hearth,
``.venv/bin/pip install -e '.[sdk]'``.
"""

import argparse
import importlib.util
import os
import pathlib
import subprocess
import sys

__all__ = [
    "BuildError",
    "ToolchainMissing",
    "RUNTIME_SOURCES",
    "build",
    "check_imports",
    "compile_command",
    "have_toolchain",
    "include_dir",
    "main",
]

SDK_DIR = pathlib.Path(__file__).resolve().parent
RUNTIME_SOURCES = ("hearth_rt.c", "hearth_mp.c", "hearth_svc.c", "hearth_patterns.c")
# The request encoders generated from the services' schemas (hearth_protocols.h:
# `python -m hearth.otp.protocols c-header`), on the include path after the
# caller's own -I directories.
GENERATED_DIR = SDK_DIR.parent / "sdk_generated"
INSTALL_HINT = ".venv/bin/pip install -e '.[sdk]' (in your Hearth clone; it adds ziglang)"
DEFAULT_STACK_SIZE = 64 * 1024  # wasm-ld's own default; zig's is 1 MiB per guest


class ToolchainMissing(RuntimeError):
    """The ``ziglang`` package is not installed: the user's environment
    lacks the optional ``sdk`` extra."""

    def __init__(self):
        super().__init__(
            "the guest toolchain (the ziglang package) is not installed: " + INSTALL_HINT
        )


class BuildError(RuntimeError):
    """The compiler or linker refused the sources (the guest author's
    fault, usually): the message carries zig's output.

    Attributes:
        command: the command that failed, as a list.
        output: what it printed.
    """

    def __init__(self, command, output):
        super().__init__(f"guest build failed:\n{output.rstrip()}")
        self.command = command
        self.output = output


def include_dir():
    """The directory holding ``hearth.h`` (and the runtime's sources, which
    also need `GENERATED_DIR` on the include path: `build` adds it)."""
    return SDK_DIR


def have_toolchain():
    """Whether the ``ziglang`` package is importable."""
    return importlib.util.find_spec("ziglang") is not None


def compile_command(sources, output, *, optimize="2", stack_size=DEFAULT_STACK_SIZE, debug=False,
                    include_dirs=(), defines=(), extra_args=(), libc=False):
    """The ``zig cc`` command line `build` runs (without checking for zig).

    With `libc`, the target is ``wasm32-wasi`` with zig's bundled libc
    (``string.h``, ``stdlib.h``'s ``malloc``, ``stdio.h``'s ``snprintf``,
    ``math.h``) as a reactor module, stripped; `build` then refuses a module
    that imports anything but ``hearth::*`` (see `check_imports`).
    """
    if libc:
        target = ["--target=wasm32-wasi", "-mexec-model=reactor", "-DHEARTH_LIBC=1"]
        if not debug:
            target.append("-s")
    else:
        target = ["--target=wasm32-freestanding", "-nostdlib", "-ffreestanding"]
    cmd = [
        sys.executable, "-m", "ziglang", "cc",
        *target,
        f"-O{optimize}",
        # DWARF makes a small guest 50 times larger; the name section, which
        # wasmtime's backtraces use, stays either way.
        "-g" if debug else "-g0",
        "-Wall",
        "-Wl,--no-entry",
        "-Wl,--export-memory",
        f"-Wl,-z,stack-size={int(stack_size)}",
        f"-I{SDK_DIR}",
    ]
    cmd += [f"-I{d}" for d in include_dirs]
    cmd.append(f"-I{GENERATED_DIR}")
    cmd += [f"-D{d}" for d in defines]
    cmd += list(extra_args)
    cmd += ["-o", os.fspath(output)]
    cmd += [os.fspath(s) for s in sources]
    cmd += [os.fspath(SDK_DIR / name) for name in RUNTIME_SOURCES]
    return cmd


def check_imports(wasm):
    """Raise `BuildError` if the module imports anything but Hearth's ABI.

    A libc guest that calls ``printf``, ``fopen``, ``time`` and the like
    imports ``wasi_snapshot_preview1`` functions, which the host does not
    provide (deny by default): such a module could never be spawned, so
    the build refuses it and names the imports.
    """
    import wasmtime

    module = wasmtime.Module(wasmtime.Engine(), pathlib.Path(wasm).read_bytes())
    foreign = sorted(f"{i.module}.{i.name}" for i in module.imports
                     if not i.module.startswith("hearth::"))
    if foreign:
        raise BuildError([], (
            f"{wasm}: imports {', '.join(foreign)}, which Hearth does not provide: a guest has "
            "no files, stdout or system clock (use hearth_log for output, the time services "
            "for time; snprintf, malloc, string.h and math.h need no imports)\n"))


def build(sources, output=None, *, optimize="2", stack_size=DEFAULT_STACK_SIZE, debug=False,
          include_dirs=(), defines=(), extra_args=(), libc=False):
    """Compile and link C sources (or Zig ones) into a guest module.

    Args:
        sources: a path, or a list of paths, of C files; or of Zig files,
            the first the root (see `kindling.sdk._zig`: ``hearth.h`` is
            imported as ``@import("hearth.zig")``; `include_dirs`,
            `defines`, `extra_args` and `debug` are for C).
        output: the ``.wasm`` to write (default: the first source's name
            with ``.wasm``).
        optimize: the ``-O`` level: ``"0"``, ``"1"``, ``"2"``, ``"3"``,
            ``"s"`` or ``"z"``.
        stack_size: bytes of the guest's shadow stack (part of its
            initial memory).
        debug: keep DWARF debug information in the module.
        include_dirs, defines, extra_args: more ``-I``, ``-D`` and raw
            arguments for ``zig cc``.

    Returns:
        the output path, a `pathlib.Path`.

    Raises:
        ToolchainMissing: ``ziglang`` is not installed.
        BuildError: the compiler or linker failed.

    Switches: always, when gevent has patched `subprocess` (other
    greenlets run while the compiler does); it is not meant for a
    Hearth process's hot path.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = [pathlib.Path(s) for s in sources]
    if not sources:
        raise ValueError("build needs at least one source file")
    output = pathlib.Path(output) if output is not None else sources[0].with_suffix(".wasm")
    if not have_toolchain():
        raise ToolchainMissing()
    if sources[0].suffix == ".zig":
        if libc:
            raise ValueError("--libc is for C guests")
        from ._zig import build_zig

        output.parent.mkdir(parents=True, exist_ok=True)
        return build_zig(sources, output, sdk_dir=SDK_DIR, runtime_sources=RUNTIME_SOURCES,
                         optimize=optimize, stack_size=stack_size, error=BuildError,
                         include_dirs=[GENERATED_DIR])
    cmd = compile_command(sources, output, optimize=optimize, stack_size=stack_size, debug=debug,
                          include_dirs=include_dirs, defines=defines, extra_args=extra_args,
                          libc=libc)
    output.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise BuildError(cmd, done.stdout)
    if done.stdout:
        sys.stderr.write(done.stdout)  # warnings: as a compiler would show them
    if libc:
        try:
            check_imports(output)
        except BuildError:
            output.unlink()
            raise
    return output


def main(argv=None):
    """The command line: ``python -m kindling.sdk build ...``; returns the
    exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m kindling.sdk",
        description="Build Hearth guests from C with the kindling SDK.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="compile C sources to a guest .wasm")
    b.add_argument("sources", nargs="+", metavar="FILE.c|FILE.zig")
    b.add_argument("-o", "--output", metavar="OUT.wasm",
                   help="the module to write (default: FILE.wasm)")
    b.add_argument("-O", dest="optimize", default="2", choices=["0", "1", "2", "3", "s", "z"],
                   help="optimization level (default 2)")
    b.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR")
    b.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]")
    b.add_argument("--stack-size", type=int, default=DEFAULT_STACK_SIZE, metavar="BYTES",
                   help=f"the guest's stack (default {DEFAULT_STACK_SIZE})")
    b.add_argument("--libc", action="store_true",
                   help="link zig's wasm32-wasi libc (snprintf, malloc, string.h, math.h)")
    b.add_argument("-g", dest="debug", action="store_true", help="keep DWARF debug information")
    b.add_argument("-v", "--verbose", action="store_true", help="print the zig command")
    commands.add_parser("include-dir", help="print the directory that holds hearth.h")
    commands.add_parser("zig-header", help="regenerate hearth.zig from hearth.h (zig translate-c)")
    args = parser.parse_args(argv)

    if args.command == "include-dir":
        print(include_dir())
        return 0
    if args.command == "zig-header":
        from ._zig import translate_header

        try:
            (SDK_DIR / "hearth.zig").write_text(translate_header(SDK_DIR, BuildError))
        except BuildError as e:
            print(e.output, file=sys.stderr)
            return 1
        print(SDK_DIR / "hearth.zig")
        return 0
    options = dict(optimize=args.optimize, stack_size=args.stack_size, debug=args.debug,
                   include_dirs=args.include_dirs, defines=args.defines, libc=args.libc)
    if args.verbose:
        out = args.output or pathlib.Path(args.sources[0]).with_suffix(".wasm")
        print(" ".join(compile_command(args.sources, out, **options)), file=sys.stderr)
    try:
        out = build(args.sources, args.output, **options)
    except ToolchainMissing as e:
        print(f"kindling.sdk: {e}", file=sys.stderr)
        return 2
    except BuildError as e:
        print(e.output, end="" if e.output.endswith("\n") else "\n", file=sys.stderr)
        print("kindling.sdk: build failed", file=sys.stderr)
        return 1
    print(out)
    return 0
