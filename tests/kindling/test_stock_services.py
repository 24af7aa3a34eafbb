"""The stock services bundled with kindling (kindling/root/init/<name>/):
their manifests, and each service driven through docs/protocols.md's
request/response convention.

Init (kindling/init) is not needed: each Python service's entry file is
loaded with importlib and its FUNCTION(registry) spawned here with a
read-only registry view scoped to the manifest's needs, as init does; a
wasm one is started as init starts it, an upgradable guest service
(`hearth.native.start_guest_service`) with its view at handle 0, or with
`hearth.vm.spawn_guest` where a test drives the guest itself.
"""

import fnmatch
import importlib.util
import pathlib

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest

import kindling
from hearth import vm
from hearth.native import request, start_guest_service, start_time_services
from hearth.otp import (
    ChildSpec,
    ServerExited,
    ServiceError,
    decode,
    encode,
    lookup,
    register,
    registry_view,
    start_link_supervisor,
    start_registry,
    which_children,
)
from hearth.vm import KILL, MONITOR, SEND, Down, Message

ROOT = pathlib.Path(kindling.__file__).parent / "root"
INIT = ROOT / "init"
REPO = pathlib.Path(__file__).parents[2]

STOCK = {"panic-test", "clock", "chat", "counter-guest"}
# The client's graphical services (targets ["client"]); tests/client drives them.
STOCK |= {"debug-grid", "skybox", "fly-camera", "demo-scene", "terminal-demo"}
# The window manager (a client service; tests/wm drive it), with a [settings] table.
STOCK |= {"wm"}
WITH_SETTINGS = {"wm"}
KEYS = {"name", "description", "kind", "entry", "needs", "restart", "targets"}
# The stock services hearth-server's peers may look up (``expose = true``);
# panic-test is not: any peer could make its supervisor give up.
EXPOSED = {"chat", "clock", "counter-guest"}
PUBLIC = SEND | MONITOR


# -- helpers ---------------------------------------------------------------------------


def manifest(name):
    with open(INIT / name / "service.toml", "rb") as f:
        return tomllib.load(f)


_loaded = {}


def entry_function(name):
    """FUNCTION of a Python service's ``entry = "FILE.py:FUNCTION"``."""
    if name not in _loaded:
        file, function = manifest(name)["entry"].split(":")
        module_name = "kindling_root_" + name.replace("-", "_")
        spec = importlib.util.spec_from_file_location(module_name, INIT / name / file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[name] = getattr(module, function)
    return _loaded[name]


def start_service(registry, name, link=False):
    """Start a service as init would: a Python one as FUNCTION(view), the
    process body; a wasm one as a guest service behind its front; the view
    read-only and scoped to its needs, the public capability registered as
    its name. Returns the service's full capability (the front's)."""
    view = registry_view(registry, read_only=True, names=manifest(name)["needs"])
    if manifest(name)["kind"] == "wasm":
        lump = vm.current_runtime().lumps.put((INIT / name / manifest(name)["entry"]).read_bytes())
        svc = start_guest_service(lump, view, link=link, name=name)
        view.release()
        try:
            register(registry, name, svc.cap)
        finally:
            svc.cap.release()
        return svc.front
    spawn = vm.spawn_link if link else vm.spawn
    cap = spawn(entry_function(name), view, name=name)
    view.release()
    public = cap.demote(PUBLIC)
    try:
        register(registry, name, public)
    finally:
        public.release()
    return cap


def raw_request(service, data, caps=None):
    """Send raw bytes as a request; return the decoded reply."""
    mb = vm.current_process().create_mailbox()
    reply_to = mb.make_capability(SEND)
    try:
        service.send(data, [reply_to, *(caps or ())])
        sig = mb.recv()
        term = decode(sig.data, sig.caps)
        for cap in sig.caps:
            cap.release()
        return term
    finally:
        reply_to.release()
        mb.destroy()


def error_kind(service, term, args=()):
    with pytest.raises(ServiceError) as info:
        request(service, term, args)
    return info.value.kind


@pytest.fixture(autouse=True)
def _virtual_time(virtual_clock):
    return virtual_clock


@pytest.fixture
def registry(proc):
    return start_registry()


# -- manifests -------------------------------------------------------------------------


def test_the_stock_services_are_all_there():
    assert {p.name for p in INIT.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))} == STOCK


@pytest.mark.parametrize("name", sorted(STOCK))
def test_each_manifest_follows_the_format(name):
    m = manifest(name)
    assert set(m) == (KEYS | ({"expose"} if name in EXPOSED else set())
                      | ({"settings"} if name in WITH_SETTINGS else set()))
    assert m.get("expose", False) is (name in EXPOSED)
    assert m["name"] == name
    assert type(m["description"]) is str and m["description"]
    assert m["kind"] in ("python", "wasm")
    assert type(m["needs"]) is list and all(type(n) is str and n for n in m["needs"])
    assert m["restart"] in ("permanent", "transient", "temporary")
    assert type(m["targets"]) is list and m["targets"]
    assert all(type(t) is str and t for t in m["targets"])
    if m["kind"] == "python":
        file, sep, function = m["entry"].partition(":")
        assert sep and file.endswith(".py") and function.isidentifier()
        assert (INIT / name / file).is_file()
        assert callable(entry_function(name))
    else:
        assert m["entry"].endswith(".wasm") and ":" not in m["entry"]
        assert (INIT / name / m["entry"]).read_bytes()[:4] == b"\0asm"


def test_the_manifests_say_what_each_service_needs_and_how_it_restarts():
    assert manifest("clock")["needs"] == ["hearth.UnixTime"]
    assert manifest("panic-test")["restart"] == "permanent"
    assert manifest("counter-guest")["kind"] == "wasm"
    assert manifest("chat")["needs"] == ["hearth.World"]
    assert all(manifest(n)["kind"] == "wasm" for n in ("clock", "panic-test", "chat"))


def test_the_root_ships_as_package_data():
    with open(REPO / "pyproject.toml", "rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["kindling"]
    package = pathlib.Path(kindling.__file__).parent
    for name in STOCK:
        for path in (INIT / name).iterdir():
            if path.is_file():
                rel = path.relative_to(package).as_posix()
                assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


# -- panic-test ------------------------------------------------------------------------


def test_panic_test_answers_until_asked_to_panic_then_crashes(registry):
    start_service(registry, "panic-test")
    svc = lookup(registry, "panic-test")
    assert request(svc, "ping") == "pong"
    assert error_kind(svc, "explode") == "invalid_request"
    assert error_kind(svc, ["panic", -1]) == "invalid_request"
    assert error_kind(svc, {"op": "panic", "seconds": "soon"}) == "invalid_request"
    assert request(svc, ["ping"]) == "pong"  # still serving
    mb = vm.current_process().create_mailbox()
    ref = svc.monitor(mb)
    assert request(svc, "panic") == "panicking"
    down = mb.recv()
    assert type(down) is Down and down.ref == ref
    assert vm.is_error(down.reason)
    assert "PanicTest" in vm.format_reason(down.reason)
    down.cap.release()
    with pytest.raises(ServerExited):
        request(svc, "ping")
    assert lookup(registry, "panic-test") is None  # its name went with it


def test_panic_test_can_panic_later_on_the_runtime_clock(registry, runtime):
    start_service(registry, "panic-test")
    svc = lookup(registry, "panic-test")
    mb = vm.current_process().create_mailbox()
    svc.monitor(mb)
    t0 = runtime.clock.now()
    assert request(svc, {"op": "panic", "seconds": 30}) == "panicking"
    assert request(svc, "ping") == "pong"  # serves until the panic is due
    assert request(svc, ["panic", 60]) == "panicking"  # the earlier one stands
    down = mb.recv()
    assert type(down) is Down and vm.is_error(down.reason)
    assert runtime.clock.now() - t0 == pytest.approx(30)
    down.cap.release()


def test_panic_test_is_restarted_by_its_supervisor(registry):
    spec = ChildSpec("panic-test", start_service, args=(registry, "panic-test", True),
                     restart=manifest("panic-test")["restart"], shutdown="brutal_kill")
    sup = start_link_supervisor([spec], strategy="one_for_one", intensity=3, period=5.0)
    svc = lookup(registry, "panic-test")
    first = request(svc, "pid")
    mb = vm.current_process().create_mailbox()
    svc.monitor(mb)
    assert request(svc, "panic") == "panicking"
    down = mb.recv()
    assert type(down) is Down and vm.is_error(down.reason)
    down.cap.release()
    # The supervisor got the crash before this call, so it has restarted
    # (and re-registered) the service by the time it answers.
    [child] = which_children(sup)
    assert child.restarts == 1 and child.child is not None
    again = lookup(registry, "panic-test")
    assert not again.same_route(svc)
    second = request(again, "pid")
    assert second != first
    assert request(again, "ping") == "pong"


# -- clock -----------------------------------------------------------------------------


def test_clock_tells_the_time_from_hearth_unix_time(registry):
    start_time_services(registry, unix_time_source=lambda: 1_700_000_000_123_456_789)
    start_service(registry, "clock")
    clock = lookup(registry, "clock")
    assert request(clock, "now") == 1_700_000_000_123_456_789
    assert request(clock, ["now"]) == 1_700_000_000_123_456_789
    assert request(clock, {"op": "now"}) == 1_700_000_000_123_456_789


def test_clock_follows_the_time_service_through_a_restart(registry):
    ticks = iter(range(1, 100))
    services = start_time_services(registry, unix_time_source=lambda: next(ticks))
    start_service(registry, "clock")
    clock = lookup(registry, "clock")
    assert request(clock, "now") == 1
    [unix] = [c for c in which_children(services.supervisor) if c.id == "hearth.UnixTime"]
    mb = vm.current_process().create_mailbox()
    unix.child.monitor(mb)
    unix.child.kill()
    down = mb.recv()
    down.cap.release()
    which_children(services.supervisor)  # restarted and registered again by now
    assert request(clock, "now") == 2


def test_clock_echoes_its_argument(registry):
    start_service(registry, "clock")
    clock = lookup(registry, "clock")
    value = {"a": (1, 2.5, "three", None, True), "b": b"\x00bytes"}
    assert request(clock, ["echo", value]) == value
    assert request(clock, {"op": "echo", "value": "hi"}) == "hi"
    assert request(clock, "echo") is None
    mine = vm.make_capability(SEND)
    back = request(clock, ["echo", mine], [mine])
    assert back.same_route(mine)


def test_clock_without_unix_time_says_unavailable_and_keeps_serving(registry):
    start_service(registry, "clock")
    clock = lookup(registry, "clock")
    assert error_kind(clock, "now") == "unavailable"
    assert error_kind(clock, ["now", 1]) == "invalid_request"
    assert error_kind(clock, "tomorrow") == "invalid_request"
    assert error_kind(clock, 42) == "invalid_request"
    assert raw_request(clock, b"\xc1")["err"]["kind"] == "invalid_request"  # not msgpack
    assert request(clock, ["echo", 7]) == 7


def test_clock_sees_only_what_it_needs(registry):
    start_time_services(registry)
    start_service(registry, "clock")
    # Its registry is a view scoped to hearth.UnixTime: it can't find the
    # others, so asking it for the time still works while they exist.
    assert lookup(registry, "hearth.Sleep") is not None
    assert type(request(lookup(registry, "clock"), "now")) is int


# -- chat ------------------------------------------------------------------------------


def member():
    """A mailbox of the test's own and a SEND|MONITOR capability to it."""
    mb = vm.current_process().create_mailbox()
    return mb, mb.make_capability(SEND | MONITOR)


def read_post(mb):
    sig = mb.recv()
    assert type(sig) is Message and not sig.caps
    return decode(sig.data)


def test_chat_fans_posts_out_to_every_member(registry):
    start_service(registry, "chat")
    chat = lookup(registry, "chat")
    (a, a_cap), (b, b_cap) = member(), member()
    assert request(chat, "members") == 0
    assert request(chat, "join", [a_cap]) == 1
    assert request(chat, {"op": "join"}, [b_cap]) == 2
    assert request(chat, ["join"], [a_cap]) == 2  # joining twice changes nothing
    assert request(chat, ["post", "hello", "alice"]) == 2
    assert request(chat, ["post", "anyone?"]) == 2
    assert request(chat, {"op": "post", "text": "hi", "from": "bob"}) == 2
    for mb in (a, b):
        assert read_post(mb) == {"from": "alice", "text": "hello"}
        assert read_post(mb) == {"from": None, "text": "anyone?"}
        assert read_post(mb) == {"from": "bob", "text": "hi"}
        assert mb.try_recv() is None  # once each
    assert request(chat, "leave", [b_cap]) is True
    assert request(chat, "leave", [b_cap]) is False
    assert request(chat, ["post", "just a"]) == 1
    assert read_post(a) == {"from": None, "text": "just a"}
    assert b.try_recv() is None


def test_chat_drops_members_whose_route_closes(registry):
    start_service(registry, "chat")
    chat = lookup(registry, "chat")
    (a, a_cap), (b, b_cap) = member(), member()
    request(chat, "join", [a_cap])
    request(chat, "join", [b_cap])
    # A member process that dies.
    child = vm.spawn(vm.recv, name="member")
    request(chat, "join", [child.demote(SEND | MONITOR)])
    assert request(chat, "members") == 3
    mb = vm.current_process().create_mailbox()
    child.monitor(mb)
    child.kill()
    mb.recv().cap.release()  # its Down; the room's was queued with it
    assert request(chat, "members") == 2
    # A member mailbox destroyed.
    b.destroy()
    assert request(chat, "members") == 1
    assert request(chat, ["post", "still here"]) == 1
    assert read_post(a) == {"from": None, "text": "still here"}


def test_chat_answers_malformed_requests_with_errors_and_keeps_serving(registry):
    start_service(registry, "chat")
    chat = lookup(registry, "chat")
    a, a_cap = member()
    request(chat, "join", [a_cap])
    send_only = a.make_capability(SEND)
    assert error_kind(chat, "join") == "invalid_request"  # no member capability
    assert error_kind(chat, "join", [send_only]) == "invalid_request"  # can't monitor it
    assert error_kind(chat, "join", [a_cap, a_cap]) == "invalid_request"
    assert error_kind(chat, "leave") == "invalid_request"
    assert error_kind(chat, ["post", 5]) == "invalid_request"
    assert error_kind(chat, ["post", "x", 5]) == "invalid_request"
    assert error_kind(chat, "post") == "invalid_request"
    assert error_kind(chat, ["post", "a", "b", "c"]) == "invalid_request"
    assert error_kind(chat, {"text": "no op"}) == "invalid_request"
    assert error_kind(chat, "shout") == "invalid_request"
    assert error_kind(chat, 3.5) == "invalid_request"
    assert raw_request(chat, b"\xc1")["err"]["kind"] == "invalid_request"
    chat.send(encode("members")[0])  # no reply capability: dropped
    assert request(chat, "members") == 1
    assert request(chat, ["post", "ok"]) == 1
    assert read_post(a) == {"from": None, "text": "ok"}
    assert a.try_recv() is None  # none of the bad requests posted anything


# -- counter-guest (wasm) --------------------------------------------------------------


COUNTER = INIT / "counter-guest"


def drive_counter(wasm, registry):
    """Spawn the guest as init would and run one script of requests;
    return what it answered (values, or error kinds)."""
    view = registry_view(registry, read_only=True, names=manifest("counter-guest")["needs"])
    guest = vm.spawn_guest(wasm, view, name="counter-guest")
    view.release()
    mb = vm.current_process().create_mailbox()
    ref = guest.monitor(mb)
    script = [
        "get", ["add", 5], {"op": "add", "n": 10}, ["get"], {"op": "get"},
        ["add", -3], "reset", "get", ["add", 2],
        "explode", ["add"], ["add", "five"], {"op": "add"}, {"n": 1}, 7, ["get", 1],
        ["add", 1],
    ]
    out = []
    for term in script:
        try:
            out.append(request(guest, term))
        except ServiceError as e:
            out.append(e.kind)
    out.append(raw_request(guest, b"\xc1")["err"]["kind"])
    guest.send(b"no reply capability")  # dropped
    out.append(request(guest, "get"))
    assert mb.try_recv() is None  # it never exited
    vm.current_process().demonitor(ref, flush=True)
    guest.kill()
    return out


EXPECTED = [
    0, 5, 15, 15, 15, 12, 12, 0, 2,
    "invalid_request", "invalid_request", "invalid_request", "invalid_request",
    "invalid_request", "invalid_request", "invalid_request",
    3, "invalid_request", 3,
]


def test_counter_guest_serves_requests_on_mailbox_0(registry):
    wasm = (COUNTER / manifest("counter-guest")["entry"]).read_bytes()
    assert drive_counter(wasm, registry) == EXPECTED


def test_counter_guest_rebuilt_from_source_behaves_the_same(registry, tmp_path):
    from kindling.sdk import build, have_toolchain

    if not have_toolchain():
        pytest.skip("the guest toolchain is not installed: .venv/bin/pip install -e '.[sdk]'")
    rebuilt = build(COUNTER / "counter.c", tmp_path / "counter.wasm").read_bytes()
    committed = (COUNTER / "counter.wasm").read_bytes()
    assert drive_counter(rebuilt, registry) == drive_counter(committed, registry) == EXPECTED
