"""``hearth-ctl world`` in-process (`hearth.ctl.run` against a real runtime
with a real world): the table, ``--json``, ``remove``, and what it says
when the runtime runs no world. The same through the real program and a
real server is in tests/security/test_world_peers.py."""

import io
import json

import pytest

from hearth import otp, vm, world
from hearth.ctl import NOT_FOUND, OK, run
from hearth.world import WORLD

MESH = bytes(32)


@pytest.fixture
def registry(proc):
    return otp.start_registry()


def ctl(registry, *argv):
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), registry, out, err)
    return code, out.getvalue(), err.getvalue()


def test_without_a_world_hearth_ctl_world_says_so(registry):
    code, out, err = ctl(registry, "world")
    assert code == NOT_FOUND
    assert "no service is registered as 'hearth.World'" in err


def test_the_table_the_json_and_remove(registry):
    world.start_world(registry)
    pub = otp.lookup(registry, WORLD)
    eid, _ = world.add(pub, vm.make_capability(vm.MONITOR), MESH, label=None,
                       transform=(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0.25, 0, 9, 1))
    code, out, _ = ctl(registry, "world", "list")
    assert code == OK
    row = out.splitlines()[1].split()
    assert row[0] == str(eid) and row[1:3] == ["route", row[2]] and "-" in row
    assert "0.25 0 9" in out
    code, out, _ = ctl(registry, "world", "--json")
    assert json.loads(out)[0]["label"] is None
    assert ctl(registry, "world", "remove", str(eid))[0] == OK
    code, out, err = ctl(registry, "world", "remove", str(eid), "--json")
    assert code == NOT_FOUND and json.loads(out)["error"]["kind"] == "not_found"
