"""The world's persistence across ``kill -9`` of a real hearth-server
(docs/world.md, Persistence): persistent entities and their lumps come
back; a cut-short or corrupted log is reported clearly in the server's
output and the server starts with what it could read.
"""

import json
import os

import pytest

from hearth import otp, vm, world
from hearth.vm import MONITOR
from hearth.world import WORLD, WORLD_ADMIN

from tests.security.world_harness import serve_world


@pytest.fixture
def server(tmp_path, proc):
    yield from serve_world(tmp_path)


def put_lump(server, tmp_path, data):
    path = tmp_path / f"lump-{len(data)}"
    path.write_bytes(data)
    code, out, err = server.ctl("lump", "put", str(path))
    assert code == 0, err
    return bytes.fromhex(out.strip())


def add_persistent(server, labels, mesh):
    with server.operator() as op:
        admin = otp.lookup(op.root, WORLD_ADMIN)
        return [world.admin_add(admin, mesh, label=label, persistent=True)[0]
                for label in labels]


def listed(server):
    code, out, err = server.ctl("world", "--json")
    assert code == 0, err
    return json.loads(out)


def test_persistent_entities_and_their_lumps_survive_kill_9(server, tmp_path, proc):
    mesh = put_lump(server, tmp_path, b"a mesh that must survive" * 100)
    ids = add_persistent(server, ["statue", "fountain"], mesh)
    with server.peer() as peer:  # a peer's entity is not persistent: it goes
        world.add(otp.lookup(peer.root, WORLD), vm.make_capability(MONITOR), mesh)
        assert len(listed(server)) == 3
        server.restart_after_sigkill()
    got = listed(server)
    assert [(e["id"], e["label"], e["owner"]) for e in got] == \
        [(ids[0], "statue", "admin"), (ids[1], "fountain", "admin")]
    assert all(e["mesh"] == {"hex": mesh.hex()} for e in got)
    assert "2 persistent entities loaded" in "".join(server.program.lines)
    # The lump is in the restarted server's store.
    out = tmp_path / "back"
    code, _, err = server.ctl("lump", "get", mesh.hex(), "-o", str(out))
    assert code == 0, err
    assert out.read_bytes() == b"a mesh that must survive" * 100


def test_a_log_cut_short_by_a_crash_is_reported_and_the_rest_loaded(server, tmp_path, proc):
    mesh = put_lump(server, tmp_path, b"mesh")
    add_persistent(server, ["one", "two", "three"], mesh)
    server.program.proc.kill()
    server.program.proc.wait()
    size = os.path.getsize(server.log_path)
    with open(server.log_path, "r+b") as f:
        f.truncate(size - 3)
    server.restart_after_sigkill()
    line = server.program.wait_for("the last record is cut short")
    assert "skipped" in line
    server.program.wait_for("kept as entities.log.damaged-1")
    assert [e["label"] for e in listed(server)] == ["one", "two"]


def test_a_corrupted_log_is_reported_and_the_server_still_starts(server, tmp_path, proc):
    mesh = put_lump(server, tmp_path, b"mesh")
    add_persistent(server, ["one", "two", "three"], mesh)
    server.program.proc.kill()
    server.program.proc.wait()
    data = bytearray(open(server.log_path, "rb").read())
    data[data.find(b"one")] ^= 0x20
    open(server.log_path, "wb").write(bytes(data))
    server.restart_after_sigkill()
    assert "fails its checksum" in server.program.wait_for("fails its checksum")
    assert [e["label"] for e in listed(server)] == ["two", "three"]
    # The server serves as usual: new persistent entities are kept.
    add_persistent(server, ["four"], mesh)
    server.restart_after_sigkill()
    assert [e["label"] for e in listed(server)] == ["two", "three", "four"]
