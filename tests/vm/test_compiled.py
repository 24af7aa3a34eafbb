"""The compiled hot paths: which modules run, and the switch back to source.

`hearth.vm._compiled` picks, at import, the compiled modules of the kernel
and of `hearth.otp` (built by setup.py from the same `.py` files) or their
Python source. The rules
themselves are checked by the rest of tests/vm and tests/otp, which CI
runs against both (`.ci/run`: compiled on 3.11, source on 3.10).
"""

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from importlib.machinery import EXTENSION_SUFFIXES

import pytest

import hearth
from hearth import otp
from hearth.vm import _compiled

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VM = os.path.join(ROOT, "hearth", "vm")
OTP = os.path.join(ROOT, "hearth", "otp")

# Prints what the kernel runs: COMPILED, each module's file, the warnings.
PROBE = r"""
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import hearth.vm as vm
    import hearth.otp as otp
    import importlib
    from hearth.vm import _compiled
    files = {name: getattr(vm, name).__file__ for name in _compiled.MODULES}
    files.update({"otp." + name: importlib.import_module("hearth.otp." + name).__file__
                  for name in otp.COMPILED_MODULES})
    from hearth.vm import _reasons
print(json.dumps({"compiled": vm.COMPILED, "otp_compiled": otp.COMPILED, "files": files,
                  "crash_key": _reasons.crash_key.__module__,
                  "warnings": [str(w.message) for w in caught]}))
"""


def _probe(env_extra=None, path=None):
    env = dict(os.environ)
    env.pop("HEARTH_PURE_PYTHON", None)
    env.update(env_extra or {})
    if path is not None:
        env["PYTHONPATH"] = path
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=60, cwd=path or ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _built():
    """True if every module of both sets has a compiled build beside its source."""
    return all(any(os.path.exists(os.path.join(d, name + s)) for s in EXTENSION_SUFFIXES)
               for d, names in ((VM, _compiled.MODULES + _compiled.C_TWINS),
                                (OTP, otp.COMPILED_MODULES))
               for name in names)


def _source(root, name):
    """Where `name` (a kernel module, or ``otp.<module>``) has its source."""
    if name.startswith("otp."):
        return os.path.join(root, "hearth", "otp", name[4:] + ".py")
    return os.path.join(root, "hearth", "vm", name + ".py")


def test_setup_compiles_exactly_the_modules_the_chooser_knows():
    # A module compiled but unknown to `_compiled` would still run compiled
    # under HEARTH_PURE_PYTHON=1; one known but not compiled would keep
    # the whole kernel on its source.
    tree = ast.parse(open(os.path.join(ROOT, "setup.py")).read())
    built = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", "") == "COMPILED")
    assert ast.literal_eval(built) == {"hearth.vm": _compiled.MODULES,
                                       "hearth.otp": otp.COMPILED_MODULES}
    twins = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", "") == "C_TWINS")
    assert ast.literal_eval(twins) == {"hearth.vm": _compiled.C_TWINS}
    for name in _compiled.MODULES:
        assert os.path.exists(os.path.join(VM, name + ".py")), name
    for name in _compiled.C_TWINS:
        assert os.path.exists(os.path.join(VM, name + ".pyx")), name
        assert not os.path.exists(os.path.join(VM, name + ".py")), name
    for name in otp.COMPILED_MODULES:
        assert os.path.exists(os.path.join(OTP, name + ".py")), name


def test_hearth_pure_python_runs_every_module_from_its_source():
    got = _probe({"HEARTH_PURE_PYTHON": "1"})
    assert got["compiled"] is False and got["otp_compiled"] is False
    assert len(got["files"]) == len(_compiled.MODULES) + len(otp.COMPILED_MODULES)
    for name, path in got["files"].items():
        assert path == _source(ROOT, name), (name, path)
    assert got["crash_key"] == "hearth.vm._reasons"  # not its C twin
    assert got["warnings"] == []


def _copy_edited(tmp_path, edited=None, left_out=()):
    """Probe a copy of the package (under `tmp_path`) where the source file
    `edited` (a path under hearth/) changed after the build, and the
    files matching the patterns `left_out` are missing."""
    shutil.copytree(os.path.dirname(hearth.__file__), tmp_path / "hearth",
                    ignore=shutil.ignore_patterns("__pycache__", *left_out))
    if edited is not None:
        later = time.time() + 60
        os.utime(tmp_path / "hearth" / edited, (later, later))
    return _probe(path=str(tmp_path))


@pytest.mark.skipif(not _built(), reason="the kernel is not compiled in this install")
def test_a_built_kernel_runs_compiled():
    got = _probe()
    assert got["compiled"] is True and got["otp_compiled"] is True, got
    for name, path in got["files"].items():
        assert path.endswith(tuple(EXTENSION_SUFFIXES)), (name, path)
    assert got["crash_key"] == "hearth.vm._stackkey"
    assert got["warnings"] == []


@pytest.mark.skipif(not _built(), reason="the kernel is not compiled in this install")
def test_a_source_changed_after_the_build_runs_from_source_with_a_warning(tmp_path):
    # A copy of the package whose _table.py was edited after the build: the
    # stale compiled module must not run (the edit would silently not
    # count), and neither may the others (they need its compiled classes).
    got = _copy_edited(tmp_path, edited="vm/_table.py")
    assert got["compiled"] is False
    for name, path in got["files"].items():
        if not name.startswith("otp."):
            assert path == _source(str(tmp_path), name), (name, path)
    # The OTP modules' own set is untouched: it stays compiled.
    assert got["otp_compiled"] is True
    assert len(got["warnings"]) == 1
    assert "hearth.vm: _table.py changed after it was compiled" in got["warnings"][0]
    assert "pip install -e ." in got["warnings"][0]


def test_a_missing_build_runs_every_module_from_its_source(tmp_path):
    # One module without its compiled build (a failed compile): all of
    # them run from source, without a warning.
    got = _copy_edited(tmp_path, left_out=("_mailbox.*.so", "_mailbox.*.pyd"))
    assert got["compiled"] is False
    for name, path in got["files"].items():
        if not name.startswith("otp."):
            assert path == _source(str(tmp_path), name), (name, path)
    assert got["warnings"] == []


@pytest.mark.skipif(not _built(), reason="the kernel is not compiled in this install")
def test_a_c_twin_edited_after_the_build_runs_the_kernel_from_source(tmp_path):
    # `_stackkey.pyx` is part of the kernel's decision like its .py files.
    got = _copy_edited(tmp_path, edited="vm/_stackkey.pyx")
    assert got["compiled"] is False and got["crash_key"] == "hearth.vm._reasons"
    assert len(got["warnings"]) == 1
    assert "hearth.vm: _stackkey.pyx changed after it was compiled" in got["warnings"][0]


def test_a_missing_c_twin_runs_the_kernel_from_source(tmp_path):
    got = _copy_edited(tmp_path, left_out=("_stackkey.*.so", "_stackkey.*.pyd"))
    assert got["compiled"] is False and got["crash_key"] == "hearth.vm._reasons"
    assert got["warnings"] == []


@pytest.mark.skipif(not _built(), reason="the kernel is not compiled in this install")
def test_an_otp_source_changed_after_the_build_runs_otp_from_source(tmp_path):
    # The two sets are decided apart: an edited otp/_call.py puts OTP's set
    # on its source and leaves the kernel compiled.
    got = _copy_edited(tmp_path, edited="otp/_call.py")
    assert got["compiled"] is True and got["otp_compiled"] is False
    for name in otp.COMPILED_MODULES:
        assert got["files"]["otp." + name] == _source(str(tmp_path), "otp." + name)
    assert len(got["warnings"]) == 1
    assert "hearth.otp: _call.py changed after it was compiled" in got["warnings"][0]


# Bad input to the kernel's compiled entry points, run once compiled and
# once from source: each must fail the same way (the error's class and
# message), or succeed alike. A typed field or local in a `.pxd` that let
# a TypeError or an OverflowError through where the source raises
# PayloadError or InvalidHandle would show here.
BAD_INPUT = r"""
import json
from hearth import otp, vm

out = []

def attempt(name, fn):
    try:
        got = fn()
        plain = isinstance(got, (int, str, bool, type(None)))
        out.append([name, "ok", repr(got) if plain else "-"])
    except Exception as e:
        out.append([name, type(e).__name__, str(e)])

rt = vm.Runtime()
with rt.open_process():
    me = vm.make_capability(vm.SEND)
    gone = vm.make_capability(vm.KILL)
    gone.release()
    mb = vm.create_mailbox()
    for i, payload in enumerate(["text", 42, None, bytearray(b"x"), memoryview(b"x"), [1]]):
        attempt(f"send payload {i}", lambda: me.send(payload))
    for i, bad in enumerate([3, "cap", object(), None, gone]):
        attempt(f"send one cap {i}", lambda: me.send(b"x", (bad,)))
        attempt(f"send caps {i}", lambda: me.send(b"x", [me, bad]))
    for i, bad in enumerate([0, "handle", None, 2**70, -1]):
        attempt(f"vm.send {i}", lambda: vm.send(bad, b"x"))
        attempt(f"demote {i}", lambda: me.demote(bad))
        attempt(f"recv mailbox {i}", lambda: vm.recv(timeout=0, mailbox=bad))
        attempt(f"table get {i}", lambda: vm.current_process().table.get(bad))
    for i, bad in enumerate(["soon", -1, float("nan"), 0]):  # (no timeout that would wait)
        attempt(f"recv timeout {i}", lambda: vm.recv(timeout=bad))
    attempt("demote float", lambda: me.demote(1.5))
    attempt("try_recv mailbox", lambda: vm.try_recv(mailbox="inbox"))
    attempt("select timeout", lambda: vm.select([mb], timeout="soon"))
    attempt("release twice", lambda: gone.release())
    attempt("send released", lambda: gone.send(b"x"))
    attempt("demote up", lambda: me.demote(vm.ALL))
    attempt("exit bad reason", lambda: vm.exit(me, object()))
    attempt("recv destroyed", lambda: (mb.destroy(), mb.recv(timeout=0)))
    attempt("call self", lambda: otp.call(me, b"x", timeout=0))
    child = vm.spawn(lambda: vm.recv())
    attempt("foreign recv", lambda: vm.spawn_monitor(lambda: mb.recv(timeout=0)))
    attempt("kill child", lambda: child.kill())
    attempt("send to dead", lambda: child.send(b"x"))
    attempt("queued", lambda: len(vm.current_process().parent_mailbox()))
rt.shutdown()
print(json.dumps(out))
"""


@pytest.mark.skipif(not _built(), reason="the kernel is not compiled in this install")
def test_bad_input_fails_the_same_compiled_and_from_source():
    def run(env_extra):
        env = dict(os.environ)
        env.pop("HEARTH_PURE_PYTHON", None)
        env.update(env_extra)
        out = subprocess.run([sys.executable, "-c", BAD_INPUT], env=env, capture_output=True,
                             text=True, timeout=60, cwd=ROOT)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    compiled = run({})
    source = run({"HEARTH_PURE_PYTHON": "1"})
    assert len(compiled) == len(source) > 40
    for a, b in zip(compiled, source):
        assert a == b
    # The probe does reach the errors it is about.
    kinds = {kind for _, kind, _ in source}
    assert {"PayloadError", "InvalidHandle", "PermissionDenied", "ok"} <= kinds, kinds


def test_the_source_distribution_ships_the_build_inputs():
    # An sdist holds what MANIFEST.in includes: without the .pxd files the
    # kernel would compile untyped, and without the twin's .pyx the build
    # would fail. (Checked on 2026-12-07: `python -m build --sdist`, then a
    # wheel built from it runs compiled.)
    import fnmatch

    lines = open(os.path.join(ROOT, "MANIFEST.in")).read().splitlines()
    included = [p for line in lines if line.startswith("include ") for p in line.split()[1:]]
    excluded = [p for line in lines if line.startswith("exclude ") for p in line.split()[1:]]
    inputs = [os.path.relpath(os.path.join(d, name), ROOT)
              for d in (VM, OTP) for name in os.listdir(d)
              if name.endswith((".pxd", ".pyx"))]
    assert any(name.endswith(".pyx") for name in inputs)
    for path in inputs:
        assert any(fnmatch.fnmatch(path, p) for p in included), path
    assert any(fnmatch.fnmatch("hearth/vm/_table.c", p) for p in excluded)
