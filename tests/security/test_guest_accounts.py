"""A peer's account in a server runtime with small limits: what its guests
may store, what the operator keeps, and the CPU slice of a guest that does
call the host. The server is a runtime of its own in this OS process (so
the test can look at its store and its accounts), reached over a real
loopback WebSocket.
"""

import time

import pytest

from hearth import otp, vm
from hearth.native import request, start_wasm_spawner
from hearth.net import connect, listen
from hearth.otp import ServiceError

from tests.net.conftest import SECRET, Side, wait_until
from tests.security.guest_modules import IDLE, wasm
from tests.wasm.wat import data, module

SMALL = vm.GuestLimits(max_guests=4, memory_pages=4, cpu_slice=0.3, max_lumps=3,
                       max_lump_bytes=4096)
SPAWNER = "hearth.wasm.WasmProcessSpawner"


def _adopter():
    """The operator's keeper: links to every guest it is handed; kills
    them all when told ``drop``."""
    vm.trap_exit(True)
    kept = []
    while True:
        sig = vm.recv()
        if isinstance(sig, vm.Message):
            for cap in sig.caps:
                vm.link(cap)
                kept.append(cap)
            if sig.data == b"drop":
                for cap in kept:
                    cap.kill()


def _setup(held):
    reg = otp.start_registry()
    start_wasm_spawner(reg)
    otp.register(reg, "adopter", vm.spawn(_adopter, name="adopter"))
    held["registry"] = reg
    held["listener"] = lst = listen("127.0.0.1:0", secret=SECRET, root=reg)
    return lst


@pytest.fixture
def server(runtime):
    rt = vm.Runtime(guest_limits=SMALL)
    side = Side(rt, _setup)
    side.url = side.info.url
    yield side
    side.stop()
    rt.shutdown(timeout=5)


@pytest.fixture
def peer(server, proc):
    p = connect(server.url, secret=SECRET)
    yield p
    p.close()


def _spawn(peer, wat_or_bytes, args=()):
    raw = wasm(wat_or_bytes) if isinstance(wat_or_bytes, str) else wat_or_bytes
    lid = vm.current_runtime().lumps.put(raw)
    return lid, request(otp.lookup(peer.root, SPAWNER), ["spawn", lid], args=list(args),
                        timeout=30)


def _account(server):
    (conn,) = server.info.connections
    return server.rt.accounts.of_carrier(conn)


def _padded(n, tag):
    """An idle guest of about `n` bytes (a data segment of padding)."""
    return wasm(module(data(64, tag * (n // len(tag))) + """
  (func (export "run") (loop $l (drop (call $recv (i32.const 0))) (br $l)))
""", "recv"))


def test_a_guest_linked_to_an_operator_process_outlives_its_peer_and_the_rest_die(
        server, peer):
    lid, kept = _spawn(peer, IDLE)
    _, dropped = _spawn(peer, IDLE)
    otp.lookup(peer.root, "adopter").send(b"keep this one", [kept])
    account = _account(server)
    wait_until(lambda: any(p.links for p in account.guests), what="the adopter's link")
    (kept_proc,) = [p for p in account.guests if p.links]
    others = [p for p in account.guests if p is not kept_proc]
    peer.close()
    wait_until(lambda: all(p.reason is not None for p in others), what="the others to die")
    assert [p.reason for p in others] == [("shutdown", "noconnection")]
    assert kept_proc.reason is None and kept_proc.account is None  # the operator's now
    assert server.rt.lumps.has(lid)  # a live guest runs it
    server.run(lambda held: otp.lookup(held["registry"], "adopter").send(b"drop"))
    wait_until(lambda: kept_proc.reason is not None, what="the operator to drop it")
    wait_until(lambda: not server.rt.lumps.has(lid), what="its lump to go with it")
    kept.release()
    dropped.release()


def test_a_lump_over_the_peer_s_byte_quota_is_refused_and_not_stored(server, peer):
    _, first = _spawn(peer, _padded(3000, b"a"))
    big = _padded(3000, b"b")
    with pytest.raises(ServiceError) as info:
        _spawn(peer, big)
    assert info.value.kind == "quota_exceeded"
    assert "max_lump_bytes=4096" in info.value.message, info.value.message
    assert not server.rt.lumps.has(vm.lump_id(big))
    first.release()


def test_lumps_no_live_guest_runs_make_room_for_new_ones(server, peer):
    lids = []
    for tag in (b"x", b"y", b"z", b"w"):
        lid, guest = _spawn(peer, _padded(200, tag))
        ref = guest.monitor()
        guest.kill()
        assert vm.recv(timeout=10).ref == ref
        guest.release()
        lids.append(lid)
    account = _account(server)
    assert list(account.lumps) == lids[1:]  # the oldest unused one went
    assert not server.rt.lumps.has(lids[0])
    assert all(server.rt.lumps.has(lid) for lid in lids[1:])


def test_a_lump_the_operator_pinned_stays_after_its_peer_is_gone(server, peer):
    lid, guest = _spawn(peer, _padded(100, b"p"))
    server.rt.accounts.ledger.pin(lid)
    account = _account(server)
    guest.release()
    peer.close()
    wait_until(lambda: account.closed and not account.guests, what="the peer's guests to die")
    assert server.rt.lumps.has(lid)
    server.rt.accounts.ledger.unpin(lid)
    assert not server.rt.lumps.has(lid)


# caps: 0 = where to report. Stores 20 lumps of 4 distinct bytes each with
# hearth::lump::load, then one of 8 KiB, reporting "ok" in between.
LOADER = module("""
  (func (export "run") (local $i i32)
    (loop $l
      (i32.store (i32.const 0) (i32.add (local.get $i) (i32.const 0x1000)))
      (drop (call $load (i32.const 0) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 20))))
    (call $send (i32.const 0) (i32.const 100) (i32.const 2) (i32.const 0) (i32.const 0))
    (drop (call $load (i32.const 1024) (i32.const 8192)))
    (loop $l (drop (call $recv (i32.const 0))) (br $l)))
""" + data(100, b"ok"), "load", "send", "recv")


def test_lumps_a_peer_s_guest_stores_count_against_the_peer(server, peer):
    before = len(list(server.rt.lumps.ids()))
    report = vm.make_capability(vm.SEND)
    _, guest = _spawn(peer, LOADER, [report])
    ref = guest.monitor()
    assert vm.recv(timeout=30).data == b"ok"
    down = vm.recv(timeout=30)
    assert down.ref == ref
    text = str(down.reason)
    assert "hearth::lump::load" in text and "max_lump_bytes=4096" in text, text
    account = _account(server)
    assert len(account.lumps) <= SMALL.max_lumps
    assert len(list(server.rt.lumps.ids())) <= before + SMALL.max_lumps
    guest.release()


# caps: 0 = where to report. About a second of CPU in slices of a few
# milliseconds, each ended by a host call; then reports "done".
BUSY_BUT_POLITE = module("""
  (func (export "run") (local $i i32) (local $j i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 2000000))))
      (drop (call $try_recv (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 2000))))
    (call $send (i32.const 0) (i32.const 100) (i32.const 4) (i32.const 0) (i32.const 0)))
""" + data(100, b"done"), "try_recv", "send")


def test_a_guest_that_calls_the_host_between_slices_runs_past_its_slice(server, peer):
    report = vm.make_capability(vm.SEND)
    started = time.monotonic()
    _, guest = _spawn(peer, BUSY_BUT_POLITE, [report])
    ref = guest.monitor()
    assert vm.recv(timeout=50).data == b"done"
    # Meaningful only if it ran longer than one slice in all (wall >= CPU).
    assert time.monotonic() - started > 2 * SMALL.cpu_slice
    down = vm.recv(timeout=10)
    assert down.ref == ref and down.reason == "normal"
    guest.release()


def test_the_peer_s_memory_pages_cap_its_guests(server, peer):
    grow = module("""
  (func (export "run")
    (i32.store (i32.const 0) (memory.grow (i32.const 3)))
    (i32.store (i32.const 4) (memory.grow (i32.const 1)))
    (call $send (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0)))
""", "send")
    report = vm.make_capability(vm.SEND)
    _, guest = _spawn(peer, grow, [report])
    got = vm.recv(timeout=30).data
    grown = [int.from_bytes(got[i:i + 4], "little", signed=True) for i in (0, 4)]
    assert grown == [1, -1]  # 1 + 3 pages fit in 4; a fifth does not
    guest.release()


def test_a_persistent_entity_keeps_the_lumps_it_names_after_their_peer_is_gone(server, peer):
    """A lump a peer uploaded is collected once the peer is gone, unless
    lasting state names it: the world pins the lumps of its persistent
    entities, and lets go of them when the entity is removed."""
    from hearth import world
    from hearth.world import WORLD_ADMIN, start_world

    lid, guest = _spawn(peer, _padded(100, b"w"))

    def admin_add(held):
        start_world(held["registry"])
        held["admin"] = otp.lookup(held["registry"], WORLD_ADMIN)
        return world.admin_add(held["admin"], lid, persistent=True)[0]

    entity_id = server.run(admin_add)
    account = _account(server)
    guest.release()
    peer.close()
    wait_until(lambda: account.closed and not account.guests, what="the peer's guests to die")
    assert server.rt.lumps.has(lid)  # pinned by the persistent entity
    server.run(lambda held: world.admin_remove(held["admin"], entity_id))
    assert not server.rt.lumps.has(lid)  # nothing holds it now


def test_a_lump_the_operator_stores_too_stays_after_the_peer_that_stored_it_first(server, peer):
    """The store keeps one copy of equal bytes: a peer's upload that the
    operator then stores too (say, a shared asset) is the operator's, and
    stays when the peer goes."""
    raw = _padded(100, b"s")
    lid, guest = _spawn(peer, raw)
    assert server.rt.accounts.ledger.tracked(lid)
    assert server.rt.lumps.put(raw) == lid  # the operator's own put of the same bytes
    account = _account(server)
    guest.release()
    peer.close()
    wait_until(lambda: account.closed and not account.guests, what="the peer's guests to die")
    assert server.rt.lumps.has(lid)
    assert server.rt.lumps.get(lid) == raw
