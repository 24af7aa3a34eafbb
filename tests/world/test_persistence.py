"""The world's log (docs/world.md, Persistence): persistent entities come
back after a restart; a cut-short or corrupted log is reported clearly and
what could be read is kept.

Real parts: real files in a temporary data directory and a real world
process stopped and started again. The same across ``kill -9`` of a real
hearth-server is in tests/security/test_world_persistence.py.
"""

import logging
import os

import pytest

from hearth import otp, vm, world
from hearth.otp import ServiceError
from hearth.vm import MONITOR
from hearth.world import WORLD, WORLD_ADMIN, WorldLog, read_records
from hearth.world._log import LOG_NAME, MAGIC

MOVED = (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 6, 7, 1)


@pytest.fixture
def registry(proc):
    return otp.start_registry()


def start(registry, data_dir):
    sup = world.start_world(registry, data_dir=str(data_dir))
    return sup, otp.lookup(registry, WORLD), otp.lookup(registry, WORLD_ADMIN)


def stop(sup, registry):
    sup.unlink()
    ref = sup.monitor()
    sup.kill()
    while True:
        sig = vm.recv(timeout=5)
        if type(sig) is vm.Down and sig.ref == ref:
            break
    # The names go with the world (R2) before anyone sees it die.
    assert otp.lookup(registry, WORLD) is None


def lumps(*blobs):
    store = vm.current_runtime().lumps
    return [bytes(store.put(b)) for b in blobs]


def test_persistent_entities_survive_a_restart_and_others_do_not(registry, tmp_path):
    mesh, mat, mat2 = lumps(b"a mesh", b"a material", b"another material")
    sup, pub, admin = start(registry, tmp_path)
    kept, cap = world.admin_add(admin, mesh, material=mat, label="statue", persistent=True)
    gone, _ = world.admin_add(admin, mesh, label="not persistent")
    removed, _ = world.admin_add(admin, mesh, label="removed", persistent=True)
    world.update(cap, transform=MOVED, material=mat2)
    world.admin_remove(admin, removed)
    stop(sup, registry)
    sup, pub, admin = start(registry, tmp_path)
    [e] = world.list_entities(pub)
    assert e["id"] == kept and e["label"] == "statue" and e["owner"] == "admin"
    assert e["material"] == mat2 and e["transform"][12:15] == (5.0, 6.0, 7.0)
    assert e["persistent"] is True
    # Ids are never reused, even those of entities that left.
    new, _ = world.admin_add(admin, mesh)
    assert new > max(kept, gone, removed)
    # The admin hands out a fresh door to a persistent entity.
    door = otp.request(admin, ["entity", kept])["entity"]
    world.update(door, label="renamed")
    assert world.list_entities(pub)[0]["label"] == "renamed"


def test_a_persistent_entity_needs_its_lumps_in_the_store(registry, tmp_path):
    sup, pub, admin = start(registry, tmp_path)
    missing = bytes(32)
    with pytest.raises(ServiceError) as e:
        world.admin_add(admin, missing, persistent=True)
    assert e.value.kind == "not_found"
    assert "not in the server's lump store" in e.value.message
    (mesh,) = lumps(b"mesh")
    with pytest.raises(ServiceError) as e:
        world.admin_add(admin, mesh, persistent=True, owner=vm.make_capability(MONITOR))
    assert "give it no owner" in e.value.message


def _log_with_three(registry, tmp_path):
    mesh, = lumps(b"mesh")
    sup, pub, admin = start(registry, tmp_path)
    for label in ("one", "two", "three"):
        world.admin_add(admin, mesh, label=label, persistent=True)
    stop(sup, registry)
    return os.path.join(tmp_path, "world", LOG_NAME)


def test_a_cut_short_log_keeps_what_it_can_and_says_so(registry, tmp_path, caplog):
    path = _log_with_three(registry, tmp_path)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 5)  # the last record, cut short as a crash mid-write leaves it
    with caplog.at_level(logging.WARNING, logger="hearth.world"):
        sup, pub, admin = start(registry, tmp_path)
    assert [e["label"] for e in world.list_entities(pub)] == ["one", "two"]
    text = caplog.text
    assert "the last record is cut short" in text and "skipped" in text
    assert "kept as entities.log.damaged-1" in text
    assert os.path.getsize(path + ".damaged-1") == size - 5
    # The rewritten log loads cleanly, and takes new records after the good ones.
    mesh, = lumps(b"mesh")
    world.admin_add(admin, mesh, label="four", persistent=True)
    stop(sup, registry)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hearth.world"):
        sup, pub, admin = start(registry, tmp_path)
    assert [e["label"] for e in world.list_entities(pub)] == ["one", "two", "four"]
    assert "skipped" not in caplog.text


def test_a_corrupted_record_is_skipped_and_the_rest_kept(registry, tmp_path, caplog):
    path = _log_with_three(registry, tmp_path)
    data = bytearray(open(path, "rb").read())
    at = data.find(b"two")
    data[at] ^= 0xFF  # one flipped byte inside the second entity's record
    open(path, "wb").write(bytes(data))
    with caplog.at_level(logging.WARNING, logger="hearth.world"):
        sup, pub, admin = start(registry, tmp_path)
    assert [e["label"] for e in world.list_entities(pub)] == ["one", "three"]
    assert "fails its checksum (corrupted on disk): skipped" in caplog.text


def test_a_file_that_is_not_a_world_log_is_set_aside(registry, tmp_path, caplog):
    os.makedirs(tmp_path / "world")
    (tmp_path / "world" / LOG_NAME).write_bytes(b"this is not a log")
    with caplog.at_level(logging.WARNING, logger="hearth.world"):
        sup, pub, admin = start(registry, tmp_path)
    assert world.list_entities(pub) == []
    assert "not a world log (bad header)" in caplog.text


def test_a_record_claiming_an_absurd_length_ends_the_reading_there():
    log_bytes = MAGIC + b"\xff\xff\xff\x7f\x00\x00\x00\x00" + b"junk"
    terms, problems = read_records(log_bytes)
    assert terms == []
    assert "more than any record can hold" in problems[0]


def test_compaction_rewrites_the_log_to_the_live_entities(tmp_path):
    wl = WorldLog(str(tmp_path))
    assert wl.open() == ([], [])
    wl.compact([("put", {"id": 1})])
    for i in range(50):
        wl.append(("put", {"id": 1, "n": i}))
    big = os.path.getsize(wl.path)
    wl.compact([("put", {"id": 1, "n": 49})])
    assert os.path.getsize(wl.path) < big
    wl.close()
    terms, problems = WorldLog(str(tmp_path)).open()
    assert terms == [("put", {"id": 1, "n": 49})] and problems == []
    assert not os.path.exists(wl.path + ".tmp")


def test_a_data_directory_it_cannot_use_leaves_a_world_in_memory(registry, tmp_path, caplog):
    (tmp_path / "world").write_text("a file where the world's directory should be")
    with caplog.at_level(logging.ERROR, logger="hearth.world"):
        sup, pub, admin = start(registry, tmp_path)
    assert "it lives in memory only" in caplog.text
    eid, _ = world.admin_add(admin, bytes(32), label="in memory")
    assert [e["id"] for e in world.list_entities(pub)] == [eid]
