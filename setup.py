"""Install-time build of the compiled hot paths.

Everything else about the package is in pyproject.toml. This file only adds
the extension modules, compiled by Cython from the very same Python files:
in `hearth/vm`, the message path (`_signals.py`, `_table.py`,
`_mailbox.py`, `_process.py`, `_scheduler.py`), the exit path (`_exit.py`,
`_reasons.py`) and the process-facing functions of `_api.py`; in
`hearth/otp`, `call` and the gen_server loop (`_call.py`,
`_gen_server.py`). The kernel's modules have a `.pxd` beside them that
declares their classes' fields and their hot paths' local types, so the
compiled classes keep their fields in C structs. The `.py` files stay the
one source, and run as they are wherever the extensions are missing
(docs/design.md, section 4.1). One more extension has no Python module of
its name: `hearth/vm/_stackkey.pyx`, the C twin of `_reasons._crash_key`.

The build is optional: with ``HEARTH_PURE_PYTHON=1`` in the environment, or
without a C compiler, the package installs as pure Python (a compile error
is printed and skipped). ``hearth.vm.COMPILED`` and ``hearth.otp.COMPILED``
tell which runs.
"""

import os

from setuptools import Extension, setup

# The compiled modules, by package (`hearth.vm._compiled.MODULES` and
# `hearth.otp.COMPILED_MODULES` have the same lists: a test checks they agree).
COMPILED = {
    "hearth.vm": ("_signals", "_table", "_mailbox", "_process", "_scheduler", "_exit",
                  "_reasons", "_api"),
    "hearth.otp": ("_call", "_gen_server"),
}
# Compiled from their own `.pyx`: C twins of a kernel function whose Python
# version runs from source (`hearth/vm/_stackkey.pyx` says why).
C_TWINS = {"hearth.vm": ("_stackkey",)}


def _extensions():
    if os.environ.get("HEARTH_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:  # a build without the build requirements
        return []
    modules = [
        Extension(f"{package}.{name}", [f"{package.replace('.', '/')}/{name}{ext}"],
                  optional=True)
        for ext, sets in ((".py", COMPILED), (".pyx", C_TWINS))
        for package, names in sets.items()
        for name in names
    ]
    compiled = cythonize(
        modules,
        quiet=True,
        # cythonize regenerates a module's C when its .py or .pxd changed,
        # not when the directives below did: regenerate all after an edit
        # of this file.
        force=any(not os.path.exists(os.path.splitext(source)[0] + ".c")
                  or os.path.getmtime(os.path.splitext(source)[0] + ".c")
                  < os.path.getmtime(__file__)
                  for ext in modules for source in ext.sources),
        compiler_directives={
            "language_level": 3,
            # Functions stay introspectable, bindable Python functions.
            "binding": True,
            # The annotations are documentation for mypy, not C types: a
            # compiled `send(data: bytes)` must still raise PayloadError,
            # not TypeError, for a str.
            "annotation_typing": False,
            # A typed local or field holding None (a kernel object made
            # without its fields, a bad argument to an internal call)
            # raises AttributeError, as the source does, instead of
            # reading through a null pointer.
            "nonecheck": True,
        },
    )
    for ext in compiled:
        # A module that fails to compile (no compiler, no Python headers) is
        # left out with a warning, and the install goes on: the set then
        # runs from source. cythonize's Extensions do not keep `optional`,
        # and without it an editable install failed copying what was not
        # built.
        ext.optional = True
    return compiled


setup(ext_modules=_extensions())
