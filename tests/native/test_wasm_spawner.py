"""``hearth.wasm.WasmProcessSpawner`` (docs/protocols.md): wasm guests spawned
from lumps by a request, with their initial capabilities.

The guests are WAT text stored as lumps (wasmtime compiles the text). Each
test talks to the spawner through the registry, as a guest would.
"""

import logging
import time

import gevent
import gevent.event
import msgpack
import pytest
from gevent import monkey

from hearth import vm
from hearth.native._service import INTERNAL_ERROR, INVALID_REQUEST, NOT_FOUND, Service
from hearth.native._service import spawn_service
from hearth.native._wasm_spawner import (
    INVALID_MODULE,
    WASM_SPAWNER,
    parse_spawn,
    start_wasm_spawner,
)
from hearth.otp import (
    ServiceError,
    lookup,
    read_reply,
    register,
    request,
    send_request,
    start_registry,
    which_children,
)
from hearth.vm import ALL, MONITOR, SEND, LumpId

from ..wasm.guests import ECHO_TO_CAP0
from ..wasm.wat import data, module

_NativeLock = monkey.get_original("threading", "Lock")


@pytest.fixture
def registry(proc):
    return start_registry()


@pytest.fixture
def spawner(registry):
    return start_wasm_spawner(registry).cap


def _lump(runtime, wat):
    return runtime.lumps.put(wat.encode())


def _spawn(spawner, lid, *caps, entrypoint=None, timeout=30):
    term = ["spawn", lid] if entrypoint is None else ["spawn", lid, entrypoint]
    return request(spawner, term, args=caps, timeout=timeout)


def _fails(kind, spawner, term, *caps):
    with pytest.raises(ServiceError) as info:
        request(spawner, term, args=caps, timeout=30)
    assert info.value.kind == kind, info.value
    return info.value.message


def _loader_exits(runtime):
    return sum(1 for e in runtime.exits() if e.name == "hearth.wasm.loader")


# Sends b"A" to handle 0, b"B" to handle 1 and b"C" to handle 2.
ABC = module(
    data(0, "ABC")
    + """
    (func (export "run")
      (call $send (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0))
      (call $send (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 0))
      (call $send (i32.const 2) (i32.const 2) (i32.const 1) (i32.const 0) (i32.const 0)))""",
    "send",
)

# run() sends b"run" to handle 0; _hearth_spawn_by_index(i) sends i as a
# little-endian u32.
ENTRIES = module(
    data(8, "run")
    + """
    (func (export "run")
      (call $send (i32.const 0) (i32.const 8) (i32.const 3) (i32.const 0) (i32.const 0)))
    (func (export "_hearth_spawn_by_index") (param $i i32)
      (i32.store (i32.const 0) (local.get $i))
      (call $send (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0)))""",
    "send",
)


# -- registration and the happy path --------------------------------------------------------


def test_the_spawner_is_registered_under_its_protocols_name(spawner, registry):
    assert WASM_SPAWNER == "hearth.wasm.WasmProcessSpawner"
    found = lookup(registry, WASM_SPAWNER)
    assert found.same_route(spawner)
    assert found.permissions == SEND | MONITOR


def test_a_spawned_guest_runs_with_its_initial_capability_and_all_permissions(proc, spawner):
    lid = _lump(proc.runtime, ECHO_TO_CAP0)
    guest = _spawn(spawner, lid, vm.make_capability(SEND))
    assert guest.permissions == ALL
    guest.send(b"hello")
    assert vm.recv(timeout=10).data == b"hello"
    ref = guest.monitor()
    guest.send(b"")  # ends the echo
    down = vm.recv(timeout=10)
    assert down.ref == ref and down.reason == vm.NORMAL


def test_initial_capabilities_land_at_handles_0_to_n_minus_1_in_order(proc, spawner):
    boxes = [vm.create_mailbox() for _ in range(3)]
    caps = [b.make_capability(SEND) for b in boxes]
    _spawn(spawner, _lump(proc.runtime, ABC), *caps)
    assert [b.recv(timeout=10).data for b in boxes] == [b"A", b"B", b"C"]


def test_entrypoint_nil_runs_run_and_an_index_runs_hearth_spawn_by_index(proc, spawner):
    lid = _lump(proc.runtime, ENTRIES)
    me = vm.make_capability(SEND)
    _spawn(spawner, lid, me)
    assert vm.recv(timeout=10).data == b"run"
    for index in (0, 7, 2**31, 2**32 - 1):
        _spawn(spawner, lid, me, entrypoint=index)
        assert vm.recv(timeout=10).data == index.to_bytes(4, "little")


def test_every_request_form_is_understood(proc, spawner):
    lid = _lump(proc.runtime, ENTRIES)
    me = vm.make_capability(SEND)
    forms = [
        (["spawn", lid], b"run"),
        (["spawn", lid, None], b"run"),
        (["spawn", lid, 5], (5).to_bytes(4, "little")),
        ({"op": "spawn", "lump": lid}, b"run"),
        ({"op": "spawn", "lump": lid, "entrypoint": 6}, (6).to_bytes(4, "little")),
        ({"lump": lid, "entrypoint": None}, b"run"),  # the original's WasmSpawnInfo
        ({"lump": lid, "entrypoint": 9}, (9).to_bytes(4, "little")),
    ]
    for term, said in forms:
        request(spawner, term, args=[me], timeout=30)
        assert vm.recv(timeout=10).data == said, term


def test_the_documented_bytes_spawn_a_guest(proc, spawner):
    lid = _lump(proc.runtime, ENTRIES)
    box = vm.create_mailbox()
    raw = bytes.fromhex("92a5737061776ec420") + lid
    assert raw == msgpack.packb(["spawn", bytes(lid)])
    spawner.send(raw, [box.make_capability(SEND), vm.make_capability(SEND)])
    reply = box.recv(timeout=30)
    assert reply.data == bytes.fromhex("81a26f6bd60100000000")
    assert len(reply.caps) == 1 and reply.caps[0].permissions == ALL
    assert vm.recv(timeout=10).data == b"run"


def test_a_module_is_compiled_once_and_later_spawns_need_no_loader(proc, spawner):
    runtime = proc.runtime
    lid = _lump(runtime, ENTRIES)
    me = vm.make_capability(SEND)
    _spawn(spawner, lid, me)
    vm.recv(timeout=10)
    runtime.wait_all_blocked()
    assert _loader_exits(runtime) == 1
    for _ in range(5):
        _spawn(spawner, lid, me)
        vm.recv(timeout=10)
    runtime.wait_all_blocked()
    assert _loader_exits(runtime) == 1  # answered by the spawner itself
    assert runtime.modules.cache_info().compiled == 1


def test_compiled_modules_are_kept_on_disk_by_lump_id(tmp_path):
    first = vm.Runtime(data_dir=str(tmp_path))
    with first.open_process():
        spawner = start_wasm_spawner(start_registry()).cap
        lid = _lump(first, ECHO_TO_CAP0)
        _spawn(spawner, lid, vm.make_capability(SEND)).send(b"")
        assert first.modules.cache_info().compiled == 1
    first.shutdown()
    second = vm.Runtime(data_dir=str(tmp_path))  # a restart: the lump and its code are on disk
    with second.open_process():
        spawner = start_wasm_spawner(start_registry()).cap
        guest = _spawn(spawner, lid, vm.make_capability(SEND))
        guest.send(b"again")
        assert vm.recv(timeout=10).data == b"again"
        guest.send(b"")
        info = second.modules.cache_info()
        assert (info.compiled, info.deserialized) == (0, 1)
    second.shutdown()


# -- a guest that finds a service through the registry ------------------------------------


class _Echo(Service):
    """Answers any request with ``["echo", term]``."""

    name = "test.Echo"

    def handle_request(self, request):
        return ("echo", request.term)


# Spawned with (registry, reporter): asks the registry for "test.Echo"
# (["get", "test.Echo"] with a capability to its own mailbox 0 as the reply
# capability), sends "hello" to the capability found, and forwards the
# service's reply bytes to the reporter.
GET = msgpack.packb(["get", "test.Echo"])
HELLO = msgpack.packb("hello")
REGISTRY_CLIENT = module(
    data(0, GET)
    + data(64, HELLO)
    + f"""
    (func (export "run") (local $s i32) (local $n i32)
      (i32.store (i32.const 512) (call $make_capability (i32.const 0) (i32.const 1)))
      (call $send (i32.const 0) (i32.const 0) (i32.const {len(GET)}) (i32.const 512) (i32.const 1))
      (local.set $s (call $recv (i32.const 0)))
      (call $get_message_caps (local.get $s) (i32.const 600))
      (call $destroy_signal (local.get $s))
      (call $send (i32.load (i32.const 600)) (i32.const 64) (i32.const {len(HELLO)})
                  (i32.const 512) (i32.const 1))
      (local.set $s (call $recv (i32.const 0)))
      (local.set $n (call $get_message_data_len (local.get $s)))
      (call $get_message_data (local.get $s) (i32.const 1024))
      (call $send (i32.const 1) (i32.const 1024) (local.get $n) (i32.const 0) (i32.const 0)))""",
    "make_capability", "send", "recv", "get_message_caps", "destroy_signal",
    "get_message_data_len", "get_message_data",
)


def test_a_guest_spawned_with_a_registry_looks_up_a_service_and_talks_to_it(proc, spawner,
                                                                           registry):
    echo = spawn_service(_Echo)
    public = echo.demote(SEND | MONITOR)
    register(registry, "test.Echo", public)
    reporter = vm.create_mailbox()
    guest = _spawn(spawner, _lump(proc.runtime, REGISTRY_CLIENT), registry,
                   reporter.make_capability(SEND))
    ref = guest.monitor()
    said = reporter.recv(timeout=10)
    assert msgpack.unpackb(said.data) == {"ok": ["echo", "hello"]}
    down = vm.recv(timeout=10)
    assert down.ref == ref and down.reason == vm.NORMAL


# -- bad input: an error reply naming the problem, and the spawner goes on ------------------


NO_MEMORY = module(
    '(func (export "run") (call $send (i32.const 0) (i32.const 0) (i32.const 0)'
    " (i32.const 0) (i32.const 0)))",
    "send",
    memory=None,
)
NO_RUN = module('(func (export "start_here"))')
UNKNOWN_IMPORT = '(module (import "hearth::table" "teleport" (func)) (memory (export "memory") 1)' \
                 ' (func (export "run")))'
BAD_RUN = module('(func (export "run") (param i32))')


def test_bad_modules_are_refused_with_invalid_module_and_the_spawner_goes_on(proc, spawner,
                                                                           registry):
    runtime = proc.runtime
    me = vm.make_capability(SEND)
    before = lookup(registry, WASM_SPAWNER)
    not_wasm = runtime.lumps.put(b"\x00\x01 these bytes are neither wasm nor WAT")
    assert "not a wasm module" in _fails(INVALID_MODULE, spawner, ["spawn", not_wasm])
    message = _fails(INVALID_MODULE, spawner, ["spawn", _lump(runtime, NO_MEMORY)], me)
    assert "memory" in message
    message = _fails(INVALID_MODULE, spawner, ["spawn", _lump(runtime, NO_RUN)], me)
    assert "`run`" in message
    message = _fails(INVALID_MODULE, spawner, ["spawn", _lump(runtime, ECHO_TO_CAP0), 3], me)
    assert "`_hearth_spawn_by_index`" in message
    message = _fails(INVALID_MODULE, spawner, ["spawn", _lump(runtime, UNKNOWN_IMPORT)])
    assert "teleport" in message
    message = _fails(INVALID_MODULE, spawner, ["spawn", _lump(runtime, BAD_RUN)])
    assert "`run`" in message
    # Still the same process, still serving.
    assert lookup(registry, WASM_SPAWNER).same_route(before)
    guest = _spawn(spawner, _lump(runtime, ECHO_TO_CAP0), me)
    guest.send(b"still here")
    assert vm.recv(timeout=10).data == b"still here"
    guest.send(b"")


def test_a_cached_module_without_the_entry_point_asked_for_is_refused_too(proc, spawner):
    lid = _lump(proc.runtime, ECHO_TO_CAP0)
    guest = _spawn(spawner, lid, vm.make_capability(SEND))  # now in the spawner's table
    message = _fails(INVALID_MODULE, spawner, ["spawn", lid, 0])
    assert "`_hearth_spawn_by_index`" in message
    guest.send(b"")


def test_an_unknown_lump_is_not_found(proc, spawner):
    missing = LumpId(b"\x11" * 32)
    assert missing.hex() in _fails(NOT_FOUND, spawner, ["spawn", missing])


@pytest.mark.parametrize(
    "term",
    [
        ["spawn", "ab" * 32],  # hex text, not bytes
        ["spawn", b"\x01" * 31],
        ["spawn", 12],
        ["spawn", b"\x01" * 32, "run"],
        ["spawn", b"\x01" * 32, True],
        ["spawn", b"\x01" * 32, -1],
        ["spawn", b"\x01" * 32, 2**32],
        ["spawn", b"\x01" * 32, 1.0],
        ["spawn", b"\x01" * 32, None, "extra"],
        ["spawn"],
        ["launch", b"\x01" * 32],
        {"op": "spawn"},
        {"op": "launch", "lump": b"\x01" * 32},
        {"entrypoint": 3},
        "spawn",
        42,
        None,
    ],
)
def test_malformed_requests_are_invalid_request(proc, spawner, term):
    _fails(INVALID_REQUEST, spawner, term)


def test_parse_spawn_names_the_problem():
    with pytest.raises(ServiceError, match="not hex"):
        parse_spawn(("spawn", "ab" * 32))
    with pytest.raises(ServiceError, match="31 bytes"):
        parse_spawn(("spawn", b"x" * 31))
    with pytest.raises(ServiceError, match="entrypoint"):
        parse_spawn(("spawn", b"x" * 32, "run"))
    assert parse_spawn(("spawn", b"x" * 32)) == (LumpId(b"x" * 32), None)
    assert parse_spawn({"lump": b"x" * 32, "entrypoint": 4}) == (LumpId(b"x" * 32), 4)


def test_requests_that_are_not_msgpack_or_lack_a_reply_capability_leave_it_serving(
        proc, spawner, caplog):
    box = vm.create_mailbox()
    spawner.send(b"\xc1 not msgpack", [box.make_capability(SEND)])
    with pytest.raises(ServiceError) as info:
        read_reply(box.recv(timeout=10))
    assert info.value.kind == INVALID_REQUEST
    with caplog.at_level(logging.WARNING, logger="hearth.native"):
        spawner.send(msgpack.packb(["spawn", b"\x01" * 32]))  # no reply capability
        spawner.send(msgpack.packb(["spawn", b"\x01" * 32]), [vm.make_capability(MONITOR)])
        guest = _spawn(spawner, _lump(proc.runtime, ECHO_TO_CAP0), vm.make_capability(SEND))
    assert sum("without a reply capability" in r.getMessage() for r in caplog.records) == 1  # the second within 10 s: counted, not logged (DropLog)
    guest.send(b"")


def test_a_bug_in_a_loader_is_an_internal_error_and_the_spawner_goes_on(proc, spawner,
                                                                      monkeypatch, caplog):
    cache = proc.runtime.modules

    def broken(lid):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(cache, "get", broken)
    with caplog.at_level(logging.ERROR, logger="hearth.native"):
        message = _fails(INTERNAL_ERROR, spawner, ["spawn", _lump(proc.runtime, ENTRIES)])
    assert "the disk caught fire" in message
    monkeypatch.undo()
    _spawn(spawner, _lump(proc.runtime, ENTRIES), vm.make_capability(SEND))
    assert vm.recv(timeout=10).data == b"run"


def test_a_killed_spawner_is_restarted_and_registered_again(proc, registry):
    started = start_wasm_spawner(registry)
    child = {c.id: c.child for c in which_children(started.supervisor)}[WASM_SPAWNER]
    ref = child.monitor()
    child.kill()
    assert vm.recv(timeout=10).ref == ref
    proc.runtime.wait_all_blocked()
    again = lookup(registry, WASM_SPAWNER)
    assert not again.same_route(child)
    _spawn(again, _lump(proc.runtime, ENTRIES), vm.make_capability(SEND))
    assert vm.recv(timeout=10).data == b"run"


def test_guests_outlive_the_spawner_that_spawned_them(proc, registry):
    started = start_wasm_spawner(registry)
    guest = _spawn(started.cap, _lump(proc.runtime, ECHO_TO_CAP0), vm.make_capability(SEND))
    child = {c.id: c.child for c in which_children(started.supervisor)}[WASM_SPAWNER]
    child.kill()
    proc.runtime.wait_all_blocked()
    guest.send(b"alive")
    assert vm.recv(timeout=10).data == b"alive"
    guest.send(b"")


# -- compiling off the hub -----------------------------------------------------------------


def _echo_process():
    """A Python process answering each message through the capability it
    carries."""

    def echo():
        while True:
            sig = vm.recv()
            sig.caps[0].send(sig.data)
            for cap in sig.caps:
                cap.release()

    return vm.spawn(echo)


def test_a_spawn_waiting_for_its_module_holds_back_neither_the_hub_nor_the_spawner(
        proc, spawner, monkeypatch):
    runtime = proc.runtime
    hub = gevent.get_hub()
    cached = _lump(runtime, ENTRIES)
    me = vm.make_capability(SEND)
    _spawn(spawner, cached, me)
    assert vm.recv(timeout=10).data == b"run"

    slow = _lump(runtime, ECHO_TO_CAP0)
    cache = runtime.modules
    real_get = cache.get
    gate = _NativeLock()
    gate.acquire()
    compiling = gevent.event.Event()

    def gated_get(lid):
        if lid == slow and monkey.get_original("_thread", "get_ident")() != hub.thread_ident:
            hub.loop.run_callback_threadsafe(compiling.set)
            gate.acquire()  # held until the test lets the compile finish
        return real_get(lid)

    monkeypatch.setattr(cache, "get", gated_get)
    slow_box = vm.create_mailbox()
    send_request(spawner, ["spawn", slow], slow_box.make_capability(SEND), [me])
    compiling.wait(timeout=10)
    assert compiling.is_set()

    # While the module "compiles": a Python process answers, and the
    # spawner answers a spawn of a module it has.
    echo = _echo_process()
    for i in range(100):
        echo.send(b"%d" % i, [me])
        assert vm.recv(timeout=10).data == b"%d" % i
    _spawn(spawner, cached, me, entrypoint=1)
    assert vm.recv(timeout=10).data == (1).to_bytes(4, "little")
    assert slow_box.try_recv() is None

    gate.release()
    reply = slow_box.recv(timeout=30)
    guest = read_reply(reply)
    guest.send(b"compiled")
    assert vm.recv(timeout=10).data == b"compiled"
    guest.send(b"")


def _big_module(functions, salt):
    """A WAT module of `functions` arithmetic-heavy functions (many MB of
    text; hundreds of milliseconds to compile), exporting memory and run."""
    parts = ['(module (memory (export "memory") 1)']
    for i in range(functions):
        ops = "".join(
            f"(local.set $x (i32.add (i32.mul (local.get $x) (i32.const {i * 40 + j + salt}))"
            f" (i32.xor (local.get $x) (i32.const {j}))))"
            for j in range(40)
        )
        parts.append(f"(func $f{i} (param $x i32) (result i32) {ops} (local.get $x))")
    parts.append(f'(func (export "run") (drop (call $f0 (i32.const {salt}))))')
    parts.append(")")
    return "\n".join(parts)


@pytest.mark.hearth_timeout(120)
def test_a_python_process_keeps_answering_while_a_large_module_compiles(proc, spawner):
    runtime = proc.runtime
    big = _lump(runtime, _big_module(3000, salt=time.monotonic_ns() % 1000))
    me = vm.make_capability(SEND)
    echo = _echo_process()
    box = vm.create_mailbox()
    started = time.perf_counter()
    send_request(spawner, ["spawn", big], box.make_capability(SEND), [vm.make_capability(SEND)])
    answered, longest = 0, 0.0
    while (reply := box.try_recv()) is None:
        t = time.perf_counter()
        echo.send(b"ping", [me])
        assert vm.recv(timeout=30).data == b"ping"
        longest = max(longest, time.perf_counter() - t)
        answered += 1
    compile_time = time.perf_counter() - started
    assert msgpack.unpackb(reply.data, ext_hook=lambda c, d: (c, d)) == {"ok": (1, bytes(4))}
    assert runtime.modules.cache_info().compiled == 1
    # The hub ran the whole time: many round trips, none held up for long.
    assert answered >= 20, (answered, compile_time)
    assert longest < compile_time / 4, (longest, compile_time)
    print(f"\ncompiled in {compile_time:.2f} s; {answered} round trips meanwhile,"
          f" the longest {longest * 1e3:.1f} ms")
