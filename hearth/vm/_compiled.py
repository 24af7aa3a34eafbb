"""Which kernel runs: its compiled modules or their Python source.

The kernel's hot paths are compiled by Cython at install time from these
same Python files (setup.py): the message path (`_signals`, `_table`,
`_mailbox`, `_process`, `_scheduler`), the exit path (`_exit`, `_reasons`)
and the process-facing functions of `_api`. The `.pxd` files beside them
declare the classes' fields and the hot paths' local types. Python prefers
a compiled module to its source when both are present, so this module,
imported before any of them, decides for all of them at once:

- ``HEARTH_PURE_PYTHON=1`` in the environment: the source runs;
- one of them is not built (no C compiler at install): the source runs,
  for all (a compiled module needs the others' compiled classes);
- a `.py` or `.pxd` of theirs changed after the oldest build (an edit in
  an editable install, a branch switched): the source runs, for all, with
  a `RuntimeWarning` that names the file; ``pip install -e .`` builds them
  again.

The decision is `COMPILED`. Nothing here switches greenlets.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings

__all__ = ["COMPILED", "MODULES"]

MODULES = ("_signals", "_table", "_mailbox", "_process", "_scheduler", "_exit", "_reasons", "_api")

_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = __name__.rpartition(".")[0]


def _built(name: str) -> str | None:
    """The path of `name`'s compiled module, or None if there is none."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(_HERE, name + suffix)
        if os.path.exists(path):
            return path
    return None


def _changed(built: list[str]) -> list[str]:
    """The kernel's source files changed after the oldest of `built` was
    made. Any of them, not only a module's own: a compiled module calls the
    others' methods through tables laid out by their `.pxd` files. (A
    margin of 2 s: installing a wheel writes a module and its source a
    moment apart, in either order.)"""
    made = min(os.stat(path).st_mtime for path in built)
    out = []
    for name in MODULES:
        for ext in (".py", ".pxd"):
            source = os.path.join(_HERE, name + ext)
            if os.path.exists(source) and os.stat(source).st_mtime > made + 2.0:
                out.append(name + ext)
    return out


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds these modules' `.py` files, ahead of their compiled ones."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102
        package, _, name = fullname.rpartition(".")
        if package != _PACKAGE or name not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, os.path.join(_HERE, name + ".py"))


def _decide() -> bool:
    if os.environ.get("HEARTH_PURE_PYTHON", "") not in ("", "0"):
        return False
    built = {name: _built(name) for name in MODULES}
    if None in built.values():
        return False
    changed = _changed([path for path in built.values() if path])
    if changed:
        warnings.warn(
            f"hearth.vm: {', '.join(changed)} changed after the kernel was compiled: "
            "the kernel runs from its Python source; `pip install -e .` compiles it again",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return True


#: True if these modules run compiled; False if from their source.
COMPILED = _decide()

if not COMPILED and not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _SourceFinder())
