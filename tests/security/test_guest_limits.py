"""What a peer's guests can make a real hearth-server hold: bounded per peer
(live guests, memory, CPU), and let go when the peer goes.

Each test is an attack by an authenticated peer (`attacker`) on a real
``hearth-server`` subprocess; the server must refuse with an error a person
can read and keep serving everyone else.
"""

import msgpack
import pytest

from hearth import otp, vm
from hearth.ctl import _ask
from hearth.native import request
from hearth.otp import ServiceError

from tests.net.conftest import wait_until
from tests.security.guest_modules import (
    ABI_SPAWN_LOOP,
    IDLE,
    MEMORY_GROW,
    SPAWN_LOOP,
    SPIN,
    wasm,
)

LIMITS = vm.GuestLimits()  # what hearth-server gives every peer
SPAWNER = "hearth.wasm.WasmProcessSpawner"


def _spawner(attacker):
    return otp.lookup(attacker.root, SPAWNER)


def _lump(wat):
    """Store a guest as a wasm lump in the attacker's own runtime: the server
    fetches it from the attacker when asked to spawn it."""
    return vm.current_runtime().lumps.put(wasm(wat))


def _guests(server):
    """Pids of the server's live guests (the operator's view)."""
    with server.operator() as op:
        rows = _ask(op.root, "ps")["processes"]
    return sorted(r["pid"] for r in rows if (r["initial_call"] or "").startswith("wasm:"))


def _wait_back_to(server, before, timeout=30):
    """Wait until the server's processes are those of `before` again."""
    def same():
        now = server.snapshot()["processes"]
        return now == before["processes"]
    wait_until(same, timeout=timeout, what="the server's processes to be as before")


def _leave(server, attacker, before, *caps):
    """The attacker lets go of `caps` and leaves; the server's processes
    come back to `before`'s and nothing else changed. Switches: always."""
    for cap in caps:
        cap.release()
    attacker.close()
    _wait_back_to(server, before)
    server.assert_unchanged(before)


def _recv_message(timeout=30):
    sig = vm.recv(timeout=timeout)
    assert isinstance(sig, vm.Message), sig
    return sig


def _release(sig):
    for cap in sig.caps:
        cap.release()


def test_a_peer_asking_for_10000_guests_gets_its_cap_and_readable_refusals(
        hearth_server, attacker):
    before = hearth_server.snapshot()
    own_guests = len(_guests(hearth_server))
    spawner = _spawner(attacker)
    lid = _lump(IDLE)
    reply = vm.make_capability(vm.SEND)
    request_data = msgpack.packb(["spawn", bytes(lid)])
    for _ in range(10_000):
        spawner.send(request_data, [reply])
    ok, refusals = 0, []
    for _ in range(10_000):
        sig = _recv_message()
        answer = msgpack.unpackb(sig.data)
        _release(sig)
        if "ok" in answer:
            ok += 1
        else:
            refusals.append(answer["err"])
    assert ok == LIMITS.max_guests
    assert len(refusals) == 10_000 - LIMITS.max_guests
    assert {e["kind"] for e in refusals} == {"quota_exceeded"}
    message = refusals[-1]["message"]
    assert "max_guests=64" in message and "live guests" in message, message
    assert len(_guests(hearth_server)) == own_guests + LIMITS.max_guests

    # The guests go with the peer; the server serves everyone else.
    attacker.close()
    _wait_back_to(hearth_server, before)
    hearth_server.assert_unchanged(before)


def test_a_guest_asking_the_spawner_for_copies_of_itself_stops_at_the_same_cap(
        hearth_server, attacker):
    before = hearth_server.snapshot()
    spawner = _spawner(attacker)
    lid = _lump(SPAWN_LOOP)
    report = vm.make_capability(vm.SEND)
    guest = request(spawner, ["spawn", lid], args=[spawner, report], timeout=30)
    err = msgpack.unpackb(_recv_message().data)["err"]
    got = int.from_bytes(_recv_message().data, "little")
    assert err["kind"] == "quota_exceeded"
    assert "max_guests=64" in err["message"], err
    assert got == LIMITS.max_guests - 1  # the looping guest is the first of them
    _leave(hearth_server, attacker, before, guest)


def test_a_guest_spawning_through_the_abi_in_a_loop_traps_at_the_cap(hearth_server, attacker):
    before = hearth_server.snapshot()
    own_guests = len(_guests(hearth_server))
    spawner = _spawner(attacker)
    guest = request(spawner, ["spawn", _lump(ABI_SPAWN_LOOP)], timeout=30)
    ref = guest.monitor()
    down = vm.recv(timeout=30)
    assert isinstance(down, vm.Down) and down.ref == ref
    text = str(down.reason)
    assert "spawn_by_index" in text and "QuotaExceeded" in text and "max_guests=64" in text, text
    # Its children live on, charged to the peer: one fewer than the cap.
    assert len(_guests(hearth_server)) == own_guests + LIMITS.max_guests - 1
    _leave(hearth_server, attacker, before, guest)


def test_memory_grow_fails_at_the_peer_s_memory_cap(hearth_server, attacker):
    before = hearth_server.snapshot()
    report = vm.make_capability(vm.SEND)
    guest = request(_spawner(attacker), ["spawn", _lump(MEMORY_GROW)], args=[report], timeout=30)
    data = _recv_message().data
    big, pages = int.from_bytes(data[:4], "little", signed=True), int.from_bytes(data[4:], "little")
    assert big == -1  # 4 GiB at once: refused, the guest lives on
    assert pages == LIMITS.memory_pages  # 16 MiB: grown to the cap, not past it
    _leave(hearth_server, attacker, before, guest)


def test_a_guest_that_spins_without_host_calls_is_trapped_after_its_cpu_slice(
        hearth_server, attacker):
    before = hearth_server.snapshot()
    guest = request(_spawner(attacker), ["spawn", _lump(SPIN)], timeout=30)
    ref = guest.monitor()
    # Served while it spins: a fresh peer, the operator.
    hearth_server.assert_unchanged(before, ignore_pids=_guests(hearth_server))
    down = vm.recv(timeout=50)
    assert isinstance(down, vm.Down) and down.ref == ref
    kind, what, message = down.reason[0], down.reason[1], down.reason[2]
    assert (kind, what) == ("error", "Trap")
    assert message.startswith("cpu slice: ran ") and "without a host call" in message, message
    assert f"over its slice of {LIMITS.cpu_slice:g} s" in message
    guest.release()
    hearth_server.assert_unchanged(before)


def test_guests_spawned_for_a_peer_die_with_its_connection(hearth_server, attacker):
    before = hearth_server.snapshot()
    guests = [request(_spawner(attacker), ["spawn", _lump(IDLE)], timeout=30) for _ in range(3)]
    assert len(_guests(hearth_server)) >= 3
    for g in guests:
        g.release()
    attacker.close()
    _wait_back_to(hearth_server, before)
    hearth_server.assert_unchanged(before)


def _lump_file(server, lid):
    h = lid.hex()
    return server.data_dir / "lumps" / h[:2] / h[2:]


def test_a_peer_s_module_leaves_the_store_when_the_peer_and_its_guests_are_gone(
        hearth_server, attacker):
    before = hearth_server.snapshot()
    lid = _lump(IDLE)
    guest = request(_spawner(attacker), ["spawn", lid], timeout=30)
    path = _lump_file(hearth_server, lid)
    assert path.is_file()
    compiled = list((hearth_server.data_dir / "modules").glob(f"{lid.hex()}-*.cwasm"))
    assert compiled
    guest.release()
    attacker.close()
    _wait_back_to(hearth_server, before)
    wait_until(lambda: not path.exists(), timeout=10, what="the lump to be collected")
    assert not any(p.exists() for p in compiled)
    hearth_server.assert_unchanged(before)


def test_a_lump_that_is_not_wasm_is_refused_and_never_stored(hearth_server, attacker):
    before = hearth_server.snapshot()
    junk = vm.current_runtime().lumps.put(b"\xffnot a module, just bytes a peer wants kept" * 100)
    with pytest.raises(ServiceError) as info:
        request(_spawner(attacker), ["spawn", junk], timeout=30)
    assert info.value.kind == "invalid_module"
    assert "not a wasm module" in info.value.message and "not stored" in info.value.message
    assert not _lump_file(hearth_server, junk).exists()
    hearth_server.assert_unchanged(before)


def test_a_wasm_header_on_junk_is_refused_and_not_kept(hearth_server, attacker):
    before = hearth_server.snapshot()
    junk = vm.current_runtime().lumps.put(b"\0asm\x01\0\0\0 and then garbage")
    with pytest.raises(ServiceError) as info:
        request(_spawner(attacker), ["spawn", junk], timeout=30)
    assert info.value.kind == "invalid_module"
    assert not _lump_file(hearth_server, junk).exists()
    hearth_server.assert_unchanged(before)


def test_guests_the_operator_spawns_over_the_ipc_socket_are_not_a_peer_s(hearth_server, proc):
    # The operator's tools connect through the IPC socket: what they spawn
    # is not bounded per connection and outlives the tool (hearth-ctl spawn).
    before = len(_guests(hearth_server))
    lid = _lump(IDLE)
    with hearth_server.operator() as op:
        spawner = otp.lookup(op.root, SPAWNER)
        for _ in range(LIMITS.max_guests + 1):
            request(spawner, ["spawn", lid], timeout=30).release()
    assert len(_guests(hearth_server)) == before + LIMITS.max_guests + 1


def test_spawns_with_a_reply_capability_of_someone_else_are_not_served(
        hearth_server, attacker):
    # The replies would go to the registry view the server handed the peer
    # (a local process of the server's, charged to nobody). A request sent
    # for a peer is answered only on a route of the peer's own: none of
    # these spawns happens, and an honest spawn right after is served (so
    # the forged ones were handled, and dropped, before it).
    before = hearth_server.snapshot()
    own_guests = len(_guests(hearth_server))
    spawner = _spawner(attacker)
    request_data = msgpack.packb(["spawn", bytes(_lump(IDLE))])
    for _ in range(LIMITS.max_guests + 36):
        spawner.send(request_data, [attacker.root])
    guest = request(spawner, ["spawn", _lump(IDLE)], timeout=30)
    assert len(_guests(hearth_server)) == own_guests + 1
    _leave(hearth_server, attacker, before, guest)
