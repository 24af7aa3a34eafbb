"""The public API of hearth.vm, hearth.otp and hearth.net is annotated, and
the type checker and the linter configured in pyproject.toml pass on them.

mypy and ruff come with the ``test`` extra; where they are not installed
their two tests are skipped (the annotation check still runs).
"""

import importlib
import inspect
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ["hearth.vm", "hearth.otp", "hearth.net"]



def _methods(cls):
    for attr, value in vars(cls).items():
        if attr.startswith("_") and attr not in ("__init__", "__call__"):
            continue
        if isinstance(value, property):
            yield from (f for f in (value.fget, value.fset) if f is not None)
        elif isinstance(value, (staticmethod, classmethod)):
            yield value.__func__
        elif inspect.isfunction(value):
            yield value


def _public_functions():
    """(qualified name, function) of every function in a package's
    ``__all__`` and every public method or property of a class in it."""
    for pkg in PACKAGES:
        module = importlib.import_module(pkg)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found = [obj]
            elif inspect.isclass(obj):
                found = list(_methods(obj))
            else:
                continue
            for fn in found:
                # Dataclasses' generated methods have no source to annotate.
                if fn.__module__.startswith("hearth.") and fn.__code__.co_filename != "<string>":
                    yield f"{fn.__module__}.{fn.__qualname__}", fn


def _unannotated(fn):
    sig = inspect.signature(fn)
    missing = [p.name for p in sig.parameters.values()
               if p.annotation is inspect.Parameter.empty and p.name not in ("self", "cls")]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_every_public_function_and_method_is_annotated():
    functions = dict(_public_functions())
    assert len(functions) > 200  # the walk found the API, not nothing
    gaps = {name: miss for name, fn in functions.items() if (miss := _unannotated(fn))}
    assert gaps == {}


def test_the_check_sees_a_missing_annotation():
    def half(a: int, b):  # b and the return are left bare on purpose
        return a

    assert _unannotated(half) == ["b", "return"]


def test_the_package_says_it_is_typed():
    assert (REPO / "hearth" / "py.typed").is_file()
    assert 'hearth = ["py.typed", ' in (REPO / "pyproject.toml").read_text()


def _tool(name):
    path = shutil.which(name, path=str(pathlib.Path(sys.executable).parent))
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def _run(argv):
    out = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    return out.returncode, (out.stdout + out.stderr)[-6000:]


def test_mypy_passes_on_vm_otp_and_net(tmp_path):
    # The settings and the files checked are pyproject.toml's [tool.mypy].
    code, text = _run([_tool("mypy"), "--cache-dir", str(tmp_path / "cache")])
    assert code == 0, text


def test_ruff_passes_on_vm_otp_and_net():
    code, text = _run([_tool("ruff"), "check", "--no-cache", "hearth/vm", "hearth/otp",
                       "hearth/net", "tests/test_typing.py", "tests/test_layers.py"])
    assert code == 0, text
