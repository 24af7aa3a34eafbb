"""The stock services ported to guests are hot-upgradable: ``hearth-ctl
upgrade NAME FILE.wasm`` against a real ``hearth-server`` (the bundled root)
swaps the module while a client holds the service's capability, and the
client's next request is answered by the new version."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

import kindling
from hearth import otp
from hearth.native import request
from hearth.net import connect

from ..ctl.daemon import Server

INIT = pathlib.Path(kindling.__file__).parent / "root" / "init"
# name -> (a request, its answer)
PORTS = {"clock": (["echo", [1, "two"]], (1, "two")), "panic-test": ("ping", "pong")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ports")
    srv = Server(str(tmp / "hearth.sock"), tmp / "server.log").start()
    try:
        yield srv
    finally:
        srv.stop()


def ctl(server, *argv):
    return subprocess.run([sys.executable, "-m", "hearth.ctl", *argv],
                          env=dict(os.environ, HEARTH_SOCK=server.sock),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", sorted(PORTS))
def test_a_ported_service_upgrades_live_while_a_client_holds_it(server, name, proc):
    term, answer = PORTS[name]
    module = INIT / name / f"{name}.wasm"
    with connect("unix://" + server.sock) as tools:
        service = otp.lookup(tools.root, name)
        assert request(service, term) == answer
        for version in (2, 3):
            done = ctl(server, "upgrade", name, str(module))
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith(f"upgraded {name} to version {version}")
            assert request(service, term) == answer  # the same capability
        # The old guest finished on the front's Exit (it returned from run):
        # it did not trap or get killed at the drain's deadline.
        done = ctl(server, "--json", "upgrade", name, str(module))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["old_exit"] == "normal"
        again = otp.lookup(tools.root, name)
        assert again.same_route(service)  # no restart: the same front
