"""The init process: boot order, failures, restarts, scoped registries,
reload. Services report to the test through a probe capability registered
as a native service (``test.probe``) before boot."""

import textwrap

import pytest

from hearth import otp, vm
from hearth.vm import MONITOR, SEND, Down, Message
from kindling.init import SERVICE_INTENSITY, boot, reload_services, services
from tests.wasm.guests import WAIT_FOREVER
from tests.wasm.wat import data, module

# A Python service that reports what it can see, then serves: "crash" makes
# it fail, anything else is ignored.
SERVICE = '''
from hearth import otp, vm

VERSION = "{version}"

def main(registry):
    probe = otp.lookup(registry, "test.probe")
    seen = ",".join(
        f"{{n}}={{int(otp.lookup(registry, n) is not None)}}" for n in {peek!r}
    )
    vm.send(probe, f"{name}:{{VERSION}}:{{seen}}".encode())
    while True:
        sig = vm.recv()
        if sig.data == b"crash":
            raise RuntimeError("asked to crash")
'''


def _write(root, name, needs=(), restart="permanent", version="v1", peek=(), toml=None):
    d = root / "init" / name
    d.mkdir(parents=True, exist_ok=True)
    needs = ["test.probe", *needs]
    if toml is None:
        toml = textwrap.dedent(f'''\
            name = "{name}"
            kind = "python"
            entry = "service.py:main"
            needs = {needs!r}
            restart = "{restart}"
        ''').replace("'", '"')
    (d / "service.toml").write_text(toml)
    (d / "service.py").write_text(SERVICE.format(name=name, version=version, peek=list(peek)))
    return d


@pytest.fixture
def registry(proc):
    reg = otp.start_registry()
    otp.register(reg, "test.probe", vm.make_capability(SEND))
    return reg


def _reports(n, downs=0):
    """The next `n` reports of services, as strings (and, with `downs`, the
    refs of that many `Down` signals too, in any interleaving)."""
    out, refs = [], set()
    while len(out) < n or len(refs) < downs:
        sig = vm.recv(timeout=10)
        assert sig is not None, f"only {out} and {len(refs)} Down(s) came"
        if type(sig) is Message:
            out.append(sig.data.decode())
        elif type(sig) is Down:
            refs.add(sig.ref)
    return (out, refs) if downs else out


def _states(init):
    return {s["name"]: (s["state"], s["reason"]) for s in services(init)}


def test_services_start_in_dependency_order_and_find_what_they_need(tmp_path, registry):
    _write(tmp_path, "app", needs=["db"], peek=["db"])
    _write(tmp_path, "db", needs=["log"], peek=["log"])
    _write(tmp_path, "log")
    init = boot(tmp_path, registry)
    assert sorted(_reports(3)) == ["app:v1:db=1", "db:v1:log=1", "log:v1:"]
    table = services(init)
    assert [s["name"] for s in table] == ["log", "db", "app"]
    assert all(s["state"] == "running" and s["reason"] is None for s in table)
    assert table[2]["kind"] == "python" and table[2]["needs"] == ["test.probe", "db"]
    assert {"app", "db", "log"} <= set(otp.registered(registry))


def test_a_service_sees_its_needs_and_nothing_else(tmp_path, registry):
    _write(tmp_path, "a")
    _write(tmp_path, "b", needs=["a"], peek=["a", "c", "test.probe"])
    _write(tmp_path, "c")
    boot(tmp_path, registry)
    reports = _reports(3)
    assert "b:v1:a=1,c=0,test.probe=1" in reports


def test_the_scoped_registry_is_read_only(tmp_path, registry):
    d = tmp_path / "init" / "writer"
    d.mkdir(parents=True)
    (d / "service.toml").write_text(
        'name = "writer"\nkind = "python"\nentry = "service.py:main"\nneeds = ["test.probe"]\n')
    (d / "service.py").write_text(textwrap.dedent('''
        from hearth import otp, vm
        def main(registry):
            probe = otp.lookup(registry, "test.probe")
            try:
                otp.register(registry, "test.probe", vm.make_capability(vm.SEND))
                vm.send(probe, b"registered")
            except otp.RegistryError as e:
                vm.send(probe, e.kind.encode())
            vm.recv()
    '''))
    boot(tmp_path, registry)
    assert _reports(1) == ["permission_denied"]


def test_a_missing_dependency_fails_it_and_its_dependents_and_the_rest_boots(tmp_path, registry):
    _write(tmp_path, "a", needs=["nope"])
    _write(tmp_path, "b", needs=["a"])
    _write(tmp_path, "c")
    init = boot(tmp_path, registry)
    assert _reports(1) == ["c:v1:"]
    states = _states(init)
    assert states["a"] == ("failed", "missing dependency nope")
    assert states["b"] == ("failed", "dependency a not started: missing dependency nope")
    assert states["c"] == ("running", None)
    assert otp.lookup(registry, "a") is None


def test_a_cycle_is_reported_and_the_rest_boots(tmp_path, registry):
    _write(tmp_path, "a", needs=["b"])
    _write(tmp_path, "b", needs=["a"])
    _write(tmp_path, "c")
    init = boot(tmp_path, registry)
    assert _reports(1) == ["c:v1:"]
    states = _states(init)
    assert states["a"] == states["b"] == ("failed", "dependency cycle a -> b -> a")


def test_a_malformed_manifest_next_to_good_ones_fails_alone(tmp_path, registry):
    _write(tmp_path, "good")
    _write(tmp_path, "bad", toml="name = 'bad\n")
    _write(tmp_path, "wrong", toml='name = "other"\nkind = "python"\nentry = "service.py:main"\n')
    init = boot(tmp_path, registry)
    assert _reports(1) == ["good:v1:"]
    states = _states(init)
    assert states["good"] == ("running", None)
    assert states["bad"][0] == "failed" and "malformed service.toml" in states["bad"][1]
    assert states["wrong"][0] == "failed" and "not the directory's name" in states["wrong"][1]


def test_a_service_that_raises_on_load_fails_and_its_dependents_stay_down(tmp_path, registry):
    d = _write(tmp_path, "broken")
    (d / "service.py").write_text("raise ImportError('no such thing')\n")
    _write(tmp_path, "user", needs=["broken"])
    _write(tmp_path, "ok")
    init = boot(tmp_path, registry)
    assert _reports(1) == ["ok:v1:"]
    states = _states(init)
    assert states["broken"][0] == "failed" and "no such thing" in states["broken"][1]
    assert states["user"][0] == "failed"


def test_a_service_for_another_target_is_not_started(tmp_path, registry):
    _write(tmp_path, "ui", toml=(
        'name = "ui"\nkind = "python"\nentry = "service.py:main"\ntargets = ["client"]\n'))
    _write(tmp_path, "srv")
    init = boot(tmp_path, registry)
    assert _reports(1) == ["srv:v1:"]
    assert _states(init)["ui"][0] == "stopped"


def test_a_killed_permanent_service_comes_back_registered(tmp_path, registry):
    _write(tmp_path, "a")
    boot(tmp_path, registry)
    assert _reports(1) == ["a:v1:"]
    first = otp.lookup(registry, "a")
    ref = vm.monitor(first)
    vm.send(first, b"crash")
    down = vm.recv(timeout=10)
    assert type(down) is Down and down.ref == ref
    assert _reports(1) == ["a:v1:"]
    second = otp.lookup(registry, "a")
    assert second is not None and not second.same_route(first)


def test_a_crashed_temporary_service_stays_down(tmp_path, registry):
    _write(tmp_path, "a", restart="temporary")
    _write(tmp_path, "b")
    init = boot(tmp_path, registry)
    assert sorted(_reports(2)) == ["a:v1:", "b:v1:"]
    a = otp.lookup(registry, "a")
    vm.monitor(a)
    vm.send(a, b"crash")
    assert type(vm.recv(timeout=10)) is Down
    assert otp.lookup(registry, "a") is None
    states = _states(init)
    assert states["a"][0] == "stopped" and states["b"] == ("running", None)


def test_reload_starts_new_upgrades_changed_stops_removed_and_touches_nothing_else(
        tmp_path, registry):
    _write(tmp_path, "keep")
    _write(tmp_path, "change")
    gone = _write(tmp_path, "gone")
    init = boot(tmp_path, registry)
    assert sorted(_reports(3)) == ["change:v1:", "gone:v1:", "keep:v1:"]
    keep = otp.lookup(registry, "keep")
    watch = vm.create_mailbox()
    vm.monitor(keep, mailbox=watch)
    old_change, old_gone = otp.lookup(registry, "change"), otp.lookup(registry, "gone")
    change_ref, gone_ref = vm.monitor(old_change), vm.monitor(old_gone)

    _write(tmp_path, "change", version="v2")
    _write(tmp_path, "new", needs=["keep"], peek=["keep"])
    for f in gone.iterdir():
        f.unlink()
    gone.rmdir()
    result = reload_services(init)

    assert result == {"started": ["new"], "upgraded": ["change"], "stopped": ["gone"],
                      "failed": []}
    reports, downs = _reports(2, downs=2)
    assert sorted(reports) == ["change:v2:", "new:v1:keep=1"]
    assert downs == {change_ref, gone_ref}
    assert otp.lookup(registry, "gone") is None
    assert not otp.lookup(registry, "change").same_route(old_change)
    assert otp.lookup(registry, "keep").same_route(keep)
    assert vm.try_recv(watch) is None  # the unchanged service never went down
    states = _states(init)
    assert set(states) == {"keep", "change", "new"}
    assert all(s == ("running", None) for s in states.values())
    assert reload_services(init) == {"started": [], "upgraded": [], "stopped": [], "failed": []}


def test_a_watched_root_reloads_when_a_file_changes(tmp_path, registry):
    _write(tmp_path, "w")
    boot(tmp_path, registry, watch=0.02)
    assert _reports(1) == ["w:v1:"]
    old = otp.lookup(registry, "w")
    ref = vm.monitor(old)
    _write(tmp_path, "w", version="v2")  # saving the file is enough
    _write(tmp_path, "added")
    reports, downs = _reports(2, downs=1)
    assert sorted(reports) == ["added:v1:", "w:v2:"]
    assert downs == {ref}


def test_reload_starts_a_service_whose_problem_was_fixed(tmp_path, registry):
    _write(tmp_path, "a", toml="not toml at all =")
    init = boot(tmp_path, registry)
    assert _states(init)["a"][0] == "failed"
    _write(tmp_path, "a")
    assert reload_services(init)["started"] == ["a"]
    assert _reports(1) == ["a:v1:"]
    assert _states(init)["a"] == ("running", None)


def test_reload_reports_a_newly_broken_service_and_stops_it(tmp_path, registry):
    d = _write(tmp_path, "a")
    init = boot(tmp_path, registry)
    assert _reports(1) == ["a:v1:"]
    (d / "service.toml").write_text("kind = 'python'\n")
    result = reload_services(init)
    assert result["stopped"] == ["a"] and result["failed"] == ["a"]
    assert _states(init)["a"][0] == "failed"
    assert otp.lookup(registry, "a") is None


def test_a_wasm_service_runs_registered_with_its_view_at_handle_0(tmp_path, registry):
    d = tmp_path / "init" / "guest"
    d.mkdir(parents=True)
    (d / "service.toml").write_text('name = "guest"\nkind = "wasm"\nentry = "guest.wasm"\n')
    (d / "guest.wasm").write_text(WAIT_FOREVER)
    init = boot(tmp_path, registry)
    assert _states(init)["guest"] == ("running", None)
    cap = otp.lookup(registry, "guest")
    assert cap is not None and cap.permissions == SEND | MONITOR
    # The guest holds the view at handle 0 (and nothing else).
    info = next(p for p in vm.current_runtime().processes() if p.name == "guest")
    assert info is not None


def test_a_service_that_crashes_too_often_is_given_up_and_the_rest_runs(
        tmp_path, registry, virtual_clock):
    d = _write(tmp_path, "loop")
    (d / "service.py").write_text(textwrap.dedent('''
        from hearth import otp, vm
        def main(registry):
            vm.send(otp.lookup(registry, "test.probe"), b"loop")
            raise RuntimeError("crash at once")
    '''))
    _write(tmp_path, "steady")
    init = boot(tmp_path, registry)
    # The first start and one per allowed restart, all at the same instant.
    assert sorted(_reports(2 + SERVICE_INTENSITY)) == ["loop"] * (1 + SERVICE_INTENSITY) + [
        "steady:v1:"]
    # With the virtual clock, this returns once every process is blocked.
    assert vm.recv(timeout=1) is None
    states = _states(init)
    assert states["loop"][0] == "failed" and "gave up" in states["loop"][1]
    assert states["steady"] == ("running", None)
    assert otp.lookup(registry, "loop") is None


def _versioned(version):
    """A wasm service that answers every request with `version` (2 bytes)
    through the request's caps[0]."""
    return module(data(2048, version) + """
    (func (export "run") (local $s i32)
      (loop $l
        (local.set $s (call $recv (i32.const 0)))
        (call $get_message_caps (local.get $s) (i32.const 512))
        (call $destroy_signal (local.get $s))
        (call $send (i32.load (i32.const 512)) (i32.const 2048) (i32.const 2)
                    (i32.const 0) (i32.const 0))
        (br $l)))""", "recv", "get_message_caps", "destroy_signal", "send")


def _ask(cap):
    box = vm.create_mailbox()
    cap.send(b"which version?", [box.make_capability(SEND)])
    sig = box.recv(timeout=10)
    box.destroy()
    return sig.data


def test_a_changed_wasm_service_is_upgraded_in_place_clients_keep_their_capability(
        tmp_path, registry):
    d = tmp_path / "init" / "guest"
    d.mkdir(parents=True)
    (d / "service.toml").write_text('name = "guest"\nkind = "wasm"\nentry = "guest.wasm"\n')
    (d / "guest.wasm").write_text(_versioned("v1"))
    init = boot(tmp_path, registry)
    held = otp.lookup(registry, "guest")
    ref = vm.monitor(held)
    assert _ask(held) == b"v1"
    (d / "guest.wasm").write_text(_versioned("v2"))
    assert reload_services(init)["upgraded"] == ["guest"]
    assert _ask(held) == b"v2"  # the same capability, the new code
    assert otp.lookup(registry, "guest").same_route(held)
    assert vm.try_recv() is None, "the service never went down"
    # A module that can't run is refused; the old one runs on.
    (d / "guest.wasm").write_text("(module (this is not wasm")
    result = reload_services(init)
    assert result["failed"] == ["guest"] and result["upgraded"] == []
    assert _ask(held) == b"v2"
    state, reason = _states(init)["guest"]
    assert state == "running" and "upgrade failed" in reason
    vm.demonitor(ref)


def test_a_wasm_service_with_an_entry_index_is_restarted_with_the_new_module(
        tmp_path, registry):
    d = tmp_path / "init" / "guest"
    d.mkdir(parents=True)
    (d / "service.toml").write_text('name = "guest"\nkind = "wasm"\nentry = "guest.wasm:0"\n')
    body = '(func (export "_hearth_spawn_by_index") (param i32) (drop (call $recv (i32.const 0))))'
    (d / "guest.wasm").write_text(module(body, "recv"))
    init = boot(tmp_path, registry)
    old = otp.lookup(registry, "guest")
    ref = vm.monitor(old)
    (d / "guest.wasm").write_text(module(body + "\n;; version 2", "recv"))
    assert reload_services(init)["upgraded"] == ["guest"]
    down = vm.recv(timeout=10)
    assert type(down) is Down and down.ref == ref
    assert not otp.lookup(registry, "guest").same_route(old)
    assert _states(init)["guest"] == ("running", None)



def test_a_junk_wasm_service_is_not_retried_until_its_directory_changes(tmp_path, registry):
    d = tmp_path / "init" / "junk"
    d.mkdir(parents=True)
    (d / "service.toml").write_text('name = "junk"\nkind = "wasm"\nentry = "junk.wasm"\n')
    (d / "junk.wasm").write_bytes(b"\0asm but not really")
    _write(tmp_path, "a")
    init = boot(tmp_path, registry)
    assert _reports(1) == ["a:v1:"]
    state, reason = _states(init)["junk"]
    assert state == "failed" and reason.startswith("start failed")
    # Another service changes: the junk module is not compiled again.
    _write(tmp_path, "a", version="v2")
    result = reload_services(init)
    assert result["upgraded"] == ["a"] and result["failed"] == []
    assert _reports(1) == ["a:v2:"]
    assert _states(init)["junk"] == (state, reason)
    assert reload_services(init) == {"started": [], "upgraded": [], "stopped": [], "failed": []}
    # Its own directory changes: it is tried again.
    (d / "junk.wasm").write_text(WAIT_FOREVER)
    result = reload_services(init)
    assert result["started"] == ["junk"]
    assert _states(init)["junk"] == ("running", None)


def test_init_answers_which_services_its_manifests_expose(tmp_path, registry):
    toml = 'name = "{0}"\nkind = "python"\nentry = "service.py:main"\nneeds = ["test.probe"]\n'
    _write(tmp_path, "shown", toml=toml.format("shown") + "expose = true\n")
    _write(tmp_path, "hidden", toml=toml.format("hidden"))
    _write(tmp_path, "elsewhere",
           toml=toml.format("elsewhere") + 'expose = true\ntargets = ["client"]\n')
    init = boot(tmp_path, registry)
    assert sorted(_reports(2)) == ["hidden:v1:", "shown:v1:"]
    assert otp.call(init, "exposed") == ("shown",)  # msgpack arrays come back as tuples
