"""Install-time build of the compiled kernel.

Everything else about the package is in pyproject.toml. This file only adds
the extension modules: the kernel's hot paths (the message path in
`hearth/vm/_signals.py`, `_table.py`, `_mailbox.py`, `_process.py` and
`_scheduler.py`; the exit path in `_exit.py` and `_reasons.py`; the
process-facing functions of `_api.py`) compiled by
Cython from the very same Python files. Most have a `.pxd` beside it that
declares its classes' fields and the types of its hot paths' locals, so the
compiled classes keep their fields in C structs; the `.py` files stay the
one source, and run as they are wherever the extensions are missing.

The build is optional: with ``HEARTH_PURE_PYTHON=1`` in the environment, or
without a C compiler, the package installs as pure Python (a compile error
is printed and skipped). ``hearth.vm.COMPILED`` tells which one runs.
"""

import os

from setuptools import Extension, setup

# The compiled modules of hearth.vm, in dependency order.
# (`hearth/vm/_compiled.py` has the same list: a test checks they agree.)
KERNEL = ("_signals", "_table", "_mailbox", "_process", "_scheduler", "_exit", "_reasons", "_api")


def _extensions():
    if os.environ.get("HEARTH_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:  # a build without the build requirements
        return []
    modules = [
        Extension(f"hearth.vm.{name}", [f"hearth/vm/{name}.py"], optional=True)
        for name in KERNEL
    ]
    return cythonize(
        modules,
        quiet=True,
        compiler_directives={
            "language_level": 3,
            # Functions stay introspectable, bindable Python functions.
            "binding": True,
            # The annotations are documentation for mypy, not C types: a
            # compiled `send(data: bytes)` must still raise PayloadError,
            # not TypeError, for a str.
            "annotation_typing": False,
        },
    )


setup(ext_modules=_extensions())
