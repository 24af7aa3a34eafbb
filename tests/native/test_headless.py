"""The headless side never loads the graphical one: what hearth-server
and the tools import has no pygame, PyOpenGL, pyte or `hearth.gfx` in it,
by construction (hearth.native has no lazy attributes that could pull
them in), checked in fresh interpreters and in a real hearth-server."""

import json
import shutil
import subprocess
import sys

from hearth import otp
from hearth._entry import bundled_root
from hearth.net import connect

from ..net.conftest import wait_until
from ..net.servers import Program

# Everything hearth-server, hearth-ctl and init can load: the entry points,
# every module of the layers below the client, and the server's own stock
# services (loaded from their files, as init does).
_IMPORT_ALL = r"""
import importlib, importlib.util, json, pkgutil, sys, tomllib
from pathlib import Path

import hearth.server, hearth.ctl, kindling.init
from hearth._entry import bundled_root

for package in ("hearth.vm", "hearth.otp", "hearth.net", "hearth.native", "hearth.world",
                "kindling.init"):
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        importlib.import_module(info.name)
services = []
for toml in sorted(Path(bundled_root()).glob("init/*/service.toml")):
    manifest = tomllib.loads(toml.read_text())
    entry = manifest.get("entry", "")
    if "server" in manifest.get("targets", ()) and ".py:" in entry:
        path = toml.parent / entry.split(":")[0]
        spec = importlib.util.spec_from_file_location("svc_" + toml.parent.name, path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        services.append(toml.parent.name)
native = importlib.import_module("hearth.native")
print(json.dumps({
    "loaded": sorted({"hearth.gfx" if m.startswith("hearth.gfx") else m.split(".")[0]
                      for m in sys.modules
                      if m.split(".")[0] in ("pygame", "OpenGL", "pyte")
                      or m == "hearth.gfx" or m.startswith("hearth.gfx.")}),
    "services": services,
    "lazy": hasattr(native, "__getattr__"),
    "names": sorted(n for n in ("Renderer", "TerminalFactory", "open_display", "cube_mesh")
                    if hasattr(native, n)),
}))
"""


def test_what_the_server_imports_loads_nothing_graphical():
    out = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True,
                         timeout=50)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["loaded"] == [], f"the headless side loaded {found['loaded']}"
    # The bundled server services are all guests since chat became one (issue
    # 16): no Python of theirs to load, so none can load graphics either.
    assert found["services"] == [], f"Python server services again: {found['services']}"
    assert found["lazy"] is False, "hearth.native has a module __getattr__ again"
    assert found["names"] == [], f"hearth.native still offers {found['names']}"


def test_the_graphical_package_does_load_them():
    """The check above can fail: importing hearth.gfx loads all three."""
    code = ("import sys, hearth.gfx; "
            "print(all(m in sys.modules for m in ('pygame', 'OpenGL.GL', 'pyte')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=50)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "True"


def test_a_running_server_never_imports_them(tmp_path, proc):
    """A real hearth-server, booted with the bundled root's server
    services running, lists every import it made (``-X importtime``):
    hearth.native is there, nothing graphical is."""
    root = tmp_path / "root"
    shutil.copytree(bundled_root(), root, ignore=shutil.ignore_patterns("__pycache__"))
    sock = str(tmp_path / "hearth.sock")
    server = Program("hearth.server", "--root", str(root), "--bind", "127.0.0.1:0",
                     "--ipc", sock, "--data-dir", str(tmp_path / "data"),
                     "--status-every", "3600",
                     env={"HEARTH_SECRET": "headless", "PYTHONPROFILEIMPORTTIME": "1"})
    try:
        server.wait_for("tools attach at")
        with connect("unix://" + sock) as op:
            wait_until(lambda: {"clock", "chat"} <= set(otp.registered(op.root)), timeout=30)
    finally:
        assert server.stop() == 0, "".join(server.lines[-40:])
    imported = {line.rsplit("|", 1)[1].strip() for line in server.lines
                if line.startswith("import time:") and "|" in line}
    assert {"hearth.native", "hearth.world", "kindling.init._init"} <= imported
    graphical = sorted({"hearth.gfx" if m.startswith("hearth.gfx") else m.split(".")[0]
                        for m in imported
                        if m.split(".")[0] in ("pygame", "OpenGL", "pyte")
                        or m == "hearth.gfx" or m.startswith("hearth.gfx.")})
    assert graphical == [], f"hearth-server imported {graphical}"
