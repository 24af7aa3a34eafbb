"""Every op of every headless service's schema, sent to the real service
in a real runtime: a bad value in each field and each missing capability
argument get ``invalid_request`` naming it, and a valid request gets an
``ok`` value of the schema's reply type (or, where the test means it, one
of the error kinds the schema lists). The gfx services are checked the
same way under Xvfb (test_client_conformance.py)."""

import pytest

from hearth import otp, vm
from hearth.native import (
    start_filesystem,
    start_guest_service,
    start_inspector,
    start_time_services,
    start_wasm_spawner,
)
from hearth.native._lump_transfer import MAX_CHUNK, MAX_UPLOAD
from hearth.otp import schema, start_registry
from hearth.vm import MONITOR, SEND
from hearth.world import start_world

from ..native.test_guest_upgrade import versioned
from ..wasm.guests import ECHO_TO_CAP0
from .probe import Probe, cap_with

MESH = b"\x01" * 32


def _lump(proc, data):
    return bytes(proc.runtime.lumps.put(data))


def test_the_time_services_conform(proc):
    registry = start_registry()
    caps = start_time_services(registry).caps
    sleep = Probe("hearth.Sleep")
    sleep.refuse_bad_fields(caps["hearth.Sleep"], "")
    sleep.ask(caps["hearth.Sleep"], "", {"seconds": 0})
    sleep.done()
    for factory, kind, op in (("hearth.TimerFactory", "hearth.Timer", "tick"),
                              ("hearth.StopwatchFactory", "hearth.Stopwatch", "lap")):
        made = Probe(factory)
        made.refuse_bad_fields(caps[factory], "new")
        resource = made.ask(caps[factory], "new", args=[cap_with(MONITOR)])
        made.ask(caps[factory], "new", form="map", args=[cap_with(MONITOR)]).kill()
        made.done()
        probe = Probe(kind)
        probe.refuse_bad_fields(resource, op)
        probe.ask(resource, op, {"seconds": 0} if op == "tick" else None)
        probe.done()
        resource.kill()
    unix = Probe("hearth.UnixTime")
    unix.refuse_bad_fields(caps["hearth.UnixTime"], "now")
    assert unix.ask(caps["hearth.UnixTime"], "now") > 0
    unix.done()


def test_the_filesystem_conforms(proc, tmp_path):
    (tmp_path / "a.txt").write_bytes(b"hello")
    (tmp_path / "dir").mkdir()
    registry = start_registry()
    start_filesystem(registry, str(tmp_path))
    fs = otp.lookup(registry, "hearth.fs.Filesystem")
    probe = Probe("hearth.fs.Filesystem")
    lump = _lump(proc, b"written")
    for op, fields in (("get", {"path": "a.txt"}), ("list", {"path": "dir"}),
                       ("put", {"path": "b.txt", "lump": lump})):
        probe.refuse_bad_fields(fs, op, fields)
    assert probe.ask(fs, "get", {"path": "a.txt"}) == _lump(proc, b"hello")
    probe.ask(fs, "list", {"path": ""}, form="map")
    probe.ask(fs, "put", {"path": "b.txt", "lump": lump})
    assert (tmp_path / "b.txt").read_bytes() == b"written"
    probe.ask(fs, "get", {"path": "missing"}, error="not_found")
    probe.done()


def test_the_wasm_spawner_conforms(proc):
    registry = start_registry()
    spawner = start_wasm_spawner(registry).cap
    probe = Probe("hearth.wasm.WasmProcessSpawner")
    lump = _lump(proc, ECHO_TO_CAP0.encode())
    probe.refuse_bad_fields(spawner, "spawn", {"lump": lump})
    guest = probe.ask(spawner, "spawn", {"lump": lump}, args=[cap_with(SEND)])
    guest.kill()
    probe.ask(spawner, "spawn", {"lump": b"\x07" * 32}, error="not_found")
    # A map without "op" is a spawn too.
    guest = otp.request(spawner, {"lump": lump}, [cap_with(SEND)], timeout=30)
    guest.kill()
    probe.done()


def test_an_upgradable_guest_services_front_conforms(proc):
    v1, v2 = (_lump(proc, versioned(n).encode()) for n in (1, 2))
    svc = start_guest_service(vm.LumpId(v1))
    probe = Probe("hearth.GuestFront")
    probe.refuse_bad_fields(svc.front, "upgrade", {"lump": v2})
    probe.refuse_bad_fields(svc.front, "status")
    assert probe.ask(svc.front, "status")["version"] == 1
    assert probe.ask(svc.front, "upgrade", {"lump": v2})["previous"] == v1
    probe.done()


def _idle():
    while True:
        vm.recv()


@pytest.mark.hearth_timeout(120)
def test_the_inspector_and_its_lump_sessions_conform(proc):
    registry = start_registry()
    inspector = start_inspector(registry).cap
    probe = Probe("hearth.Inspector")
    victim = vm.spawn(_idle, name="schema.victim")
    sup = otp.start_link_supervisor(
        [otp.ChildSpec("child", lambda: vm.spawn_link(_idle, name="schema.child"))],
        strategy="one_for_one", intensity=5, period=5, name="schema.sup")
    assert sup is not None
    lump = _lump(proc, b"some bytes")
    follower = cap_with(SEND | MONITOR)
    valid = {
        "info": {"pid": proc.pid}, "kill": {"pid": victim_pid(proc, "schema.victim")},
        "restart": {"pid": victim_pid(proc, "schema.child")},
        "logs": {}, "follow": {}, "reload": {"module": "hearth_schema_no_such_module"},
        "upgrade": {"name": "no.such.service", "lump": lump},
        "lump_put": {"data": b"more bytes"}, "lump_get": {"lump": lump},
        "lump_upload": {"size": 3}, "lump_download": {"lump": lump},
    }
    args = {"follow": [follower], "unfollow": [follower], "whois": [follower]}
    for op in probe.schema.ops:
        probe.refuse_bad_fields(inspector, op, valid.get(op), args.get(op))
    for op in ("ps", "info", "tree", "services", "logs", "follow", "unfollow", "whois",
               "lump_put", "lump_get", "kill", "restart"):
        probe.ask(inspector, op, valid.get(op), args.get(op))
    probe.ask(inspector, "reload", valid["reload"], error="reload_failed")
    probe.ask(inspector, "upgrade", valid["upgrade"], error="not_found")
    upload = probe.ask(inspector, "lump_upload", valid["lump_upload"])["upload"]
    download = probe.ask(inspector, "lump_download", valid["lump_download"])["download"]
    probe.done()
    victim.release()

    up = Probe("hearth.Inspector.upload")
    for op, fields in (("chunk", {"offset": 0, "data": b"abc"}), ("finish", {}), ("abort", {})):
        up.refuse_bad_fields(upload, op, fields)
    up.ask(upload, "chunk", {"offset": 0, "data": b"abc"})
    assert up.ask(upload, "finish") == _lump(proc, b"abc")
    other = otp.request(inspector, ["lump_upload", 1], timeout=10)["upload"]
    up.ask(other, "abort")
    up.done()

    down = Probe("hearth.Inspector.download")
    down.refuse_bad_fields(download, "read", {"offset": 0, "length": 4})
    down.refuse_bad_fields(download, "close")
    assert down.ask(download, "read", {"offset": 0, "length": 4}) == b"some"
    down.ask(download, "close")
    down.done()


def victim_pid(proc, name):
    return next(p.pid for p in proc.runtime.processes() if p.name == name)


def test_the_schemas_bounds_are_the_services_own():
    """The sizes written in the schema are the constants the code uses."""
    ops = schema("hearth.Inspector").ops
    assert ops["lump_upload"].fields[0].type.check(MAX_UPLOAD, "size") == MAX_UPLOAD
    with pytest.raises(otp._schema.Mismatch):
        ops["lump_upload"].fields[0].type.check(MAX_UPLOAD + 1, "size")
    read = schema("hearth.Inspector.download").ops["read"].fields[1].type
    assert read.check(MAX_CHUNK, "length") == MAX_CHUNK
    with pytest.raises(otp._schema.Mismatch):
        read.check(MAX_CHUNK + 1, "length")


def test_the_registry_conforms(proc):
    registry = start_registry()
    probe = Probe("hearth.Registry")
    target = cap_with(SEND)
    for op in probe.schema.ops:
        probe.refuse_bad_fields(registry, op, {"name": "x"} if op in ("get", "register",
                                                                   "unregister") else None,
                                [target] if op == "register" else None)
    probe.ask(registry, "register", {"name": "schema.a"}, [target])
    probe.ask(registry, "get", {"name": "schema.a"})
    assert probe.ask(registry, "list", form="map") == ("schema.a",)
    view = probe.ask(registry, "view", {"read_only": True, "names": ("schema.a",)})
    probe.ask(view, "register", {"name": "schema.b"}, [target], error="permission_denied")
    probe.ask(registry, "unregister", {"name": "schema.a"})
    probe.ask(registry, "get", {"name": "schema.a"}, error="not_found")
    probe.done()


def test_the_worlds_three_doors_conform(proc):
    registry = start_registry()
    start_world(registry)
    public = otp.lookup(registry, "hearth.World")
    admin = otp.lookup(registry, "hearth.World.Admin")
    owner = cap_with(MONITOR)
    fields = {"mesh": MESH, "label": "schema"}
    pub = Probe("hearth.World")
    sub = cap_with(SEND | MONITOR)
    for op in pub.schema.ops:
        pub.refuse_bad_fields(public, op, {"entity": fields} if op == "add" else None,
                              [owner] if op == "add" else [sub])
    door = pub.ask(public, "add", {"entity": fields}, [owner])
    assert pub.ask(public, "list")[0]["label"] == "schema"
    pub.ask(public, "subscribe", args=[sub])
    pub.ask(public, "unsubscribe", args=[sub])
    pub.done()

    adm = Probe("hearth.World.Admin")
    one = {"id": door["id"]}
    for op in ("update", "remove", "entity"):
        adm.refuse_bad_fields(admin, op, dict(one, changes={"label": "x"}) if op == "update"
                              else one)
    adm.ask(admin, "update", dict(one, changes={"label": "by admin"}))
    again = adm.ask(admin, "entity", one)
    for op in ("add", "list", "subscribe", "unsubscribe"):
        adm.sent.add(op)  # the same ops as the public door's, checked above
    ent = Probe("hearth.World.entity")
    pixels = {"width": 2, "height": 2, "rgba": bytes(16)}
    for op in ent.schema.ops:
        ent.refuse_bad_fields(again["entity"], op,
                              {"changes": {"label": "x"}} if op == "update"
                              else {"pixels": pixels} if op == "paint" else None)
    ent.ask(again["entity"], "update", {"changes": {"label": "by holder"}})
    assert ent.ask(again["entity"], "get")["label"] == "by holder"
    ent.ask(again["entity"], "paint", {"pixels": pixels})
    assert isinstance(ent.ask(again["entity"], "get")["material"], bytes)
    ent.ask(again["entity"], "remove")
    ent.done()
    adm.ask(admin, "remove", one, error="not_found")
    adm.done()
