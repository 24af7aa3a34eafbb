"""Which code runs: the compiled modules or their Python source.

The hot paths are compiled by Cython at install time from these same Python
files (setup.py): in `hearth.vm`, the message path (`_signals`, `_table`,
`_mailbox`, `_process`, `_scheduler`), the exit path (`_exit`, `_reasons`)
and the process-facing functions of `_api`; in `hearth.otp`, `call` and the
gen_server loop (`_call`, `_gen_server`). The `.pxd` files beside the
kernel's modules declare their classes' fields and their hot paths' local
types; the OTP modules are compiled as they are. Python prefers a compiled
module to its source when both are present, so each package, before it
imports any of them, asks `choose` to decide for its set at once:

- ``HEARTH_PURE_PYTHON=1`` in the environment: the source runs;
- one of them is not built (no C compiler at install): the source runs,
  for the whole set (a compiled kernel module needs the others' compiled
  classes);
- a `.py`, `.pxd` or `.pyx` of the set changed after its oldest build (an edit in
  an editable install, a branch switched): the source runs, for the whole
  set, with a `RuntimeWarning` that names the file; ``pip install -e .``
  builds them again.

The kernel's decision is `COMPILED`. Nothing here switches greenlets.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings

__all__ = ["COMPILED", "MODULES", "choose"]

# setup.py compiles these and `hearth.otp`'s `COMPILED_MODULES`; a test
# checks that it compiles no other.
MODULES = ("_signals", "_table", "_mailbox", "_process", "_scheduler", "_exit", "_reasons", "_api")
# And this, from its `.pyx`: the one kernel function written twice, in
# Python (which runs from source) and in C (`_stackkey.pyx` says why).
C_TWINS = ("_stackkey",)


def _built(directory: str, name: str) -> str | None:
    """The path of `name`'s compiled module, or None if there is none."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(directory, name + suffix)
        if os.path.exists(path):
            return path
    return None


def _changed(directory: str, modules: tuple[str, ...], built: list[str]) -> list[str]:
    """The source files of `modules` changed after the oldest of `built`
    was made. Any of them, not only a module's own: a compiled module calls
    the others' methods through tables laid out by their `.pxd` files. (A
    margin of 2 s: installing a wheel writes a module and its source a
    moment apart, in either order.)"""
    made = min(os.stat(path).st_mtime for path in built)
    out = []
    for name in modules:
        for ext in (".py", ".pxd", ".pyx"):
            source = os.path.join(directory, name + ext)
            if os.path.exists(source) and os.stat(source).st_mtime > made + 2.0:
                out.append(name + ext)
    return out


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds a set's `.py` files, ahead of their compiled modules."""

    def __init__(self, package: str, directory: str, modules: tuple[str, ...]) -> None:
        self.package = package
        self.directory = directory
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102
        package, _, name = fullname.rpartition(".")
        if package != self.package or name not in self.modules:
            return None
        return importlib.util.spec_from_file_location(
            fullname, os.path.join(self.directory, name + ".py"))


def _decide(package: str, directory: str, modules: tuple[str, ...]) -> bool:
    if os.environ.get("HEARTH_PURE_PYTHON", "") not in ("", "0"):
        return False
    built = [_built(directory, name) for name in modules]
    if None in built:
        return False
    changed = _changed(directory, modules, [path for path in built if path])
    if changed:
        warnings.warn(
            f"{package}: {', '.join(changed)} changed after it was compiled: "
            f"{package} runs from its Python source; `pip install -e .` compiles it again",
            RuntimeWarning,
            stacklevel=4,
        )
        return False
    return True


def choose(package: str, directory: str, modules: tuple[str, ...],
           twins: tuple[str, ...] = ()) -> bool:
    """Decide whether `modules` of `package` (in `directory`) run compiled;
    if not, make their imports find the `.py` files. `twins` are compiled
    from `.pyx` files with no module of the same name in Python: they are
    part of the decision, and are used only if it is to run compiled. Call
    it before any of them is imported. Returns True if they run compiled."""
    compiled = _decide(package, directory, modules + twins)
    if not compiled and not any(isinstance(f, _SourceFinder) and f.package == package
                                for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder(package, directory, modules))
    return compiled


#: True if the kernel's modules run compiled; False if from their source.
COMPILED = choose(__name__.rpartition(".")[0], os.path.dirname(os.path.abspath(__file__)),
                  MODULES, C_TWINS)
