"""Kindling boots a world root in a real hearth-server, seen through the
real hearth-ctl: every bundled service runs under its supervisor, a killed
one comes back, and a broken manifest beside them is reported without
stopping the boot."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from hearth.ctl import OK

from ..ctl.daemon import Server

BUNDLED = os.path.join(os.path.dirname(__import__("kindling").__file__), "root")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("world")
    root = tmp / "root"
    shutil.copytree(BUNDLED, root)
    broken = root / "init" / "broken"
    broken.mkdir()
    (broken / "service.toml").write_text('name = "broken"\nkind = "python"\n')  # no entry
    srv = Server(str(tmp / "hearth.sock"), tmp / "server.log",
                 args=["--root", str(root), "--watch", "0"]).start()
    try:
        yield srv
    finally:
        srv.stop()


def _ctl(world, *argv):
    res = subprocess.run([sys.executable, "-m", "hearth.ctl", "--json", *argv],
                         env=dict(os.environ, HEARTH_SOCK=world.sock),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == OK, res.stderr
    return json.loads(res.stdout)


def test_every_server_service_runs_under_its_supervisor_and_the_broken_one_is_reported(world):
    rows = {r["name"]: r for r in _ctl(world, "services")}
    for name in ("panic-test", "clock", "chat", "counter-guest"):
        assert rows[name]["state"] == "running", rows[name]
    assert rows["broken"]["state"] == "failed"
    assert "entry" in rows["broken"]["reason"]
    tree = _ctl(world, "tree")
    init = next(r for r in tree if r["name"] == "kindling.init")
    supervised = {c["id"]: c for c in init["children"]}
    for name in ("panic-test", "clock", "chat", "counter-guest"):
        (child,) = supervised[name]["children"]
        assert child["id"] == name and child["state"] != "dead"
    assert "broken" not in supervised
