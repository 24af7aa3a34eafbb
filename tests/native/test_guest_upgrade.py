"""Upgrading a running guest service to a new module: clients keep their
capability, and no request is lost or answered twice.

The guests are WAT: a service that answers each request (a message whose
caps[0] is the reply capability) with one byte naming its version followed
by the request's bytes, and that traps exits so it can finish what it has
when asked to make way (see `hearth/native/_guest_upgrade.py`).
"""

import logging
import struct

import pytest

from hearth import vm
from hearth.native._guest_upgrade import (
    HANDOVER_MARK,
    HANDOVER_MAX_BYTES,
    HANDOVER_MAX_CAPS,
    UPGRADE_FAILED,
    UPGRADE_REASON,
    guest_service_status,
    start_guest_service,
    upgrade,
)
from hearth.native._service import INVALID_REQUEST, NOT_FOUND
from hearth.native._wasm_spawner import INVALID_MODULE
from hearth.otp import (
    ServerExited,
    ServiceError,
    decode,
    lookup,
    read_reply,
    register,
    request,
    send_request,
    start_registry,
)
from hearth.vm import MONITOR, SEND, LumpId

from ..wasm.guests import ECHO_VIA_REPLY_CAP
from ..wasm.wat import data, module


def versioned(version, *, trap_exits=True, finish_on_exit=True, announce=False, gated=False):
    """A guest service of `version` (one byte).

    trap_exits: call ``trap_exit(1)`` first (the front sets it anyway);
        False calls ``trap_exit(0)`` instead.
    finish_on_exit: return at an `Exit` signal; else ignore it and serve on.
    announce: first send b"up" + version to handle 0.
    gated: first send b"gate" to handle 0 with a capability to a mailbox of
        its own, and wait for a message there before serving.
    """
    start = f"(drop (call $trap_exit (i32.const {int(trap_exits)})))"
    if announce:
        start += ("(call $send (i32.const 0) (i32.const 16) (i32.const 3)"
                  " (i32.const 0) (i32.const 0))")
    if gated:
        start += """
          (local.set $g (call $create))
          (i32.store (i32.const 600) (call $make_capability (local.get $g) (i32.const 1)))
          (call $send (i32.const 0) (i32.const 20) (i32.const 4) (i32.const 600) (i32.const 1))
          (drop (call $recv (local.get $g)))"""
    on_exit = "(return)" if finish_on_exit else "(nop)"
    return module(
        data(1024, bytes([version])) + data(16, b"up" + bytes([version])) + data(20, b"gate")
        + f"""
        (func (export "run") (local $s i32) (local $k i32) (local $n i32) (local $c i32)
                             (local $i i32) (local $g i32)
          {start}
          (loop $l
            (local.set $s (call $recv (i32.const 0)))
            (local.set $k (call $get_signal_kind (local.get $s)))
            (if (i32.eq (local.get $k) (i32.const 2)) (then {on_exit}))
            (if (i32.eqz (local.get $k)) (then
              (local.set $n (call $get_message_data_len (local.get $s)))
              (local.set $c (call $get_message_caps_num (local.get $s)))
              (call $get_message_data (local.get $s) (i32.const 1025))
              (call $get_message_caps (local.get $s) (i32.const 512))
              (call $send (i32.load (i32.const 512)) (i32.const 1024)
                          (i32.add (local.get $n) (i32.const 1)) (i32.const 0) (i32.const 0))
              (local.set $i (i32.const 0))
              (block $done (loop $drop
                (br_if $done (i32.ge_u (local.get $i) (local.get $c)))
                (call $dec_ref (i32.load (i32.add (i32.const 512)
                                                  (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $drop)))))
            (call $destroy_signal (local.get $s))
            (br $l)))""",
        "trap_exit", "send", "recv", "get_signal_kind", "get_message_data_len",
        "get_message_caps_num", "get_message_data", "get_message_caps", "dec_ref",
        "destroy_signal", "create", "make_capability",
    )


TRAPS_AT_ONCE = module('(func (export "run") unreachable)')
NO_MEMORY = module('(func (export "run"))', memory=None)


def _lump(runtime, wat):
    return runtime.lumps.put(wat.encode())


def _ask(service, payload, timeout=10):
    """One request; return (version, bytes echoed)."""
    box = vm.create_mailbox()
    service.send(payload, [box.make_capability(SEND)])
    sig = box.recv(timeout)
    box.destroy()
    assert sig is not None, f"no reply to {payload!r}"
    return sig.data[0], sig.data[1:]


@pytest.fixture
def v(runtime):
    """Lump ids of version 1, 2 and 3 of the service."""
    return {n: _lump(runtime, versioned(n)) for n in (1, 2, 3)}


# -- the stream: many clients, two upgrades -------------------------------------------------


WINDOW = 4  # requests each client keeps outstanding


def _client(service, report, cid):
    """Send numbered requests through `service`, at most WINDOW at a time,
    until told to stop (any message on mailbox 0); report each reply to
    `report` as it comes, then b"done" with the count sent."""
    mb0 = vm.parent_mailbox()
    box = vm.create_mailbox()
    reply = box.make_capability(SEND)
    sent = outstanding = 0
    stopping = False
    while True:
        while not stopping and outstanding < WINDOW:
            service.send(struct.pack("<II", cid, sent), [reply])
            sent += 1
            outstanding += 1
        if stopping and not outstanding:
            break
        got = vm.select([mb0, box], timeout=30)
        if got is None:
            report.send(b"lost" + struct.pack("<II", cid, outstanding))
            return
        mb, sig = got
        if mb is mb0:
            stopping = True
            continue
        report.send(sig.data)
        outstanding -= 1
    report.send(b"done" + struct.pack("<II", cid, sent))


CLIENTS = 8


@pytest.mark.hearth_timeout(120)
def test_clients_streaming_through_two_upgrades_get_exactly_one_reply_each_in_version_order(
        proc, v):
    svc = start_guest_service(v[1])
    report_box = vm.create_mailbox()
    report = report_box.make_capability(SEND)
    clients = [vm.spawn(_client, svc.cap, report, cid) for cid in range(CLIENTS)]
    replies = []  # (cid, seq, version)
    done = {}

    def collect_one():
        sig = report_box.recv(timeout=30)
        assert sig is not None, f"the clients went quiet after {len(replies)} replies"
        assert not sig.data.startswith(b"lost"), sig.data
        if sig.data.startswith(b"done"):
            cid, sent = struct.unpack("<II", sig.data[4:])
            done[cid] = sent
        else:
            cid, seq = struct.unpack("<II", sig.data[1:])
            replies.append((cid, seq, sig.data[0]))

    def collect_until(version, count):
        while sum(1 for r in replies if r[2] == version) < count:
            collect_one()

    collect_until(1, 1000)
    first = upgrade(svc.front, v[2], timeout=30)
    collect_until(2, 1000)
    second = upgrade(svc.front, v[3], timeout=30)
    collect_until(3, 1000)
    for c in clients:
        c.send(b"stop")
    while len(done) < CLIENTS:
        collect_one()
    proc.runtime.wait_all_blocked()
    assert report_box.try_recv() is None  # nothing late, nothing twice

    assert (first["version"], first["lump"], first["previous"]) == (2, v[2], v[1])
    assert (second["version"], second["lump"], second["previous"]) == (3, v[3], v[2])
    assert first["old_exit"] == second["old_exit"] == vm.NORMAL
    by_client = {cid: sorted((seq, version) for c, seq, version in replies if c == cid)
                 for cid in range(CLIENTS)}
    for cid, got in by_client.items():
        assert [seq for seq, _ in got] == list(range(done[cid])), f"client {cid}"
        versions = [version for _, version in got]
        assert versions == sorted(versions), f"client {cid}: a later request met an older version"
    assert {version for _, _, version in replies} == {1, 2, 3}
    status = guest_service_status(svc.front)
    assert status["version"] == 3 and not status["switching"]
    assert status["forwarded"] == len(replies) == sum(done.values())


# -- the switch, one step at a time ---------------------------------------------------------


def test_requests_queued_at_the_old_guest_are_answered_by_it_and_later_ones_by_the_new(proc, v):
    runtime = proc.runtime
    gate_box = vm.create_mailbox()
    svc = start_guest_service(_lump(runtime, versioned(1, gated=True)),
                              gate_box.make_capability(SEND))
    gate = gate_box.recv(timeout=10).caps[0]  # version 1 waits for it before serving
    box = vm.create_mailbox()
    reply = box.make_capability(SEND)
    for i in range(50):
        svc.cap.send(b"%d" % i, [reply])
    runtime.wait_all_blocked()  # all 50 forwarded, queued at version 1
    upgrade_box = vm.create_mailbox()
    send_request(svc.front, ["upgrade", v[2]], upgrade_box.make_capability(SEND))
    runtime.wait_all_blocked()  # the switch has begun: version 2 runs, version 1 was told
    assert guest_service_status(svc.front)["switching"] is True
    for i in range(50, 100):
        svc.cap.send(b"%d" % i, [reply])  # they wait in the front's public mailbox
    runtime.wait_all_blocked()
    assert box.try_recv() is None and upgrade_box.try_recv() is None
    gate.send(b"go")
    answers = [box.recv(timeout=10).data for _ in range(100)]
    assert answers == ([b"\x01%d" % i for i in range(50)]
                       + [b"\x02%d" % i for i in range(50, 100)])
    result = read_reply(upgrade_box.recv(timeout=10))
    assert result["old_exit"] == vm.NORMAL and result["version"] == 2
    runtime.wait_all_blocked()
    assert box.try_recv() is None


def test_clients_keep_the_same_capability_and_the_front_its_initial_caps(proc):
    runtime = proc.runtime
    announce = vm.create_mailbox()
    v1 = _lump(runtime, versioned(1, announce=True))
    v2 = _lump(runtime, versioned(2, announce=True))
    registry = start_registry()
    svc = start_guest_service(v1, announce.make_capability(SEND))
    assert svc.cap.permissions == SEND | MONITOR
    register(registry, "test.Versioned", svc.cap)
    assert announce.recv(timeout=10).data == b"up\x01"
    client_cap = lookup(registry, "test.Versioned")
    assert _ask(client_cap, b"a") == (1, b"a")
    upgrade(svc.front, v2)
    assert announce.recv(timeout=10).data == b"up\x02"  # the new guest got handle 0 too
    assert _ask(client_cap, b"b") == (2, b"b")
    assert lookup(registry, "test.Versioned").same_route(client_cap)


def test_an_upgrade_waits_for_the_old_guest_and_reports_how_it_ended(proc, v):
    svc = start_guest_service(v[1])
    result = upgrade(svc.front, v[2])
    assert result == {"version": 2, "lump": v[2], "previous": v[1], "old_exit": vm.NORMAL}
    assert _ask(svc.cap, b"x") == (2, b"x")
    proc.runtime.wait_all_blocked()
    fronts = [p for p in proc.runtime.processes() if p.name == "hearth.guest_service"]
    guests = [p for p in proc.runtime.processes() if p.initial_call.startswith("wasm:")]
    assert len(fronts) == 1 and len(guests) == 1  # the old guest is gone


def test_a_guest_that_turns_trap_exit_off_is_stopped_at_once_with_the_upgrade_reason(proc):
    runtime = proc.runtime
    naive = _lump(runtime, versioned(1, trap_exits=False))
    svc = start_guest_service(naive)
    assert _ask(svc.cap, b"x") == (1, b"x")
    result = upgrade(svc.front, _lump(runtime, versioned(2)))
    assert result["old_exit"] == UPGRADE_REASON
    assert _ask(svc.cap, b"y") == (2, b"y")


def test_a_guest_that_reads_every_signal_as_a_message_traps_on_the_exit_ending_the_switch(
        proc, v):
    svc = start_guest_service(_lump(proc.runtime, ECHO_VIA_REPLY_CAP))
    box = vm.create_mailbox()
    svc.cap.send(b"x", [box.make_capability(SEND)])
    assert box.recv(timeout=10).data == b"x"
    result = upgrade(svc.front, v[2])
    assert result["old_exit"][:2] == ("error", "Trap")
    assert "get_message_data_len" in result["old_exit"][2]
    assert _ask(svc.cap, b"y") == (2, b"y")


def test_an_old_guest_that_never_finishes_is_killed_at_the_drain_deadline(proc, virtual_clock):
    runtime = proc.runtime
    stubborn = _lump(runtime, versioned(1, finish_on_exit=False))
    svc = start_guest_service(stubborn, drain_timeout=2.0)
    assert _ask(svc.cap, b"x") == (1, b"x")
    started = runtime.clock.now()
    box = vm.create_mailbox()
    upgrade_box = vm.create_mailbox()
    send_request(svc.front, ["upgrade", _lump(runtime, versioned(2))],
                 upgrade_box.make_capability(SEND))
    svc.cap.send(b"during", [box.make_capability(SEND)])  # waits in the front's mailbox
    result = read_reply(upgrade_box.recv(timeout=10))
    assert result["old_exit"] == vm.KILLED
    assert runtime.clock.now() - started == pytest.approx(2.0)
    assert box.recv(timeout=10).data == b"\x02during"


# -- failures: the service goes on ------------------------------------------------------------


def test_an_upgrade_to_a_missing_or_unusable_module_changes_nothing(proc, v):
    runtime = proc.runtime
    svc = start_guest_service(v[1])
    with pytest.raises(ServiceError) as info:
        upgrade(svc.front, LumpId(b"\x07" * 32))
    assert info.value.kind == NOT_FOUND
    with pytest.raises(ServiceError) as info:
        upgrade(svc.front, _lump(runtime, NO_MEMORY))
    assert info.value.kind == INVALID_MODULE
    # The same refusals from the front itself, for a raw request.
    for lump, kind in ((b"\x07" * 32, NOT_FOUND), (_lump(runtime, NO_MEMORY), INVALID_MODULE),
                       (b"short", INVALID_REQUEST)):
        with pytest.raises(ServiceError) as info:
            request(svc.front, ["upgrade", lump])
        assert info.value.kind == kind
    with pytest.raises(ServiceError) as info:
        request(svc.front, ["downgrade", v[1]])
    assert info.value.kind == INVALID_REQUEST
    assert _ask(svc.cap, b"x") == (1, b"x")
    assert guest_service_status(svc.front)["version"] == 1


def test_a_new_guest_that_dies_before_the_switch_is_done_is_rolled_back(proc, v):
    runtime = proc.runtime
    gate_box = vm.create_mailbox()
    svc = start_guest_service(_lump(runtime, versioned(1, gated=True)),
                              gate_box.make_capability(SEND))
    gate = gate_box.recv(timeout=10).caps[0]
    box = vm.create_mailbox()
    reply = box.make_capability(SEND)
    svc.cap.send(b"before", [reply])
    runtime.wait_all_blocked()  # forwarded to the old guest
    upgrade_box = vm.create_mailbox()
    send_request(svc.front, ["upgrade", _lump(runtime, TRAPS_AT_ONCE)],
                 upgrade_box.make_capability(SEND))
    runtime.wait_all_blocked()  # the new guest trapped; a fresh version 1 waits at its gate
    fresh_gate = gate_box.recv(timeout=10).caps[0]
    svc.cap.send(b"after", [reply])
    gate.send(b"go")  # the old guest drains: the switch ends
    with pytest.raises(ServiceError) as info:
        read_reply(upgrade_box.recv(timeout=10))
    assert info.value.kind == UPGRADE_FAILED
    assert info.value.details["version"] == 1
    assert info.value.details["reason"][:2] == ("error", "Trap")
    assert box.recv(timeout=10).data == b"\x01before"
    fresh_gate.send(b"go")
    assert box.recv(timeout=10).data == b"\x01after"  # from the fresh version-1 guest
    assert guest_service_status(svc.front)["version"] == 1
    assert upgrade(svc.front, v[2])["version"] == 2  # and it can still be upgraded
    assert _ask(svc.cap, b"z") == (2, b"z")


def test_upgrades_asked_for_during_a_switch_run_one_after_the_other(proc, v):
    svc = start_guest_service(v[1])
    boxes = [vm.create_mailbox() for _ in range(2)]
    send_request(svc.front, ["upgrade", v[2]], boxes[0].make_capability(SEND))
    send_request(svc.front, {"op": "upgrade", "lump": v[3]}, boxes[1].make_capability(SEND))
    results = [read_reply(b.recv(timeout=10)) for b in boxes]
    assert [r["version"] for r in results] == [2, 3]
    assert [r["previous"] for r in results] == [v[1], v[2]]
    assert _ask(svc.cap, b"z") == (3, b"z")


def test_a_message_without_capabilities_is_dropped_not_forwarded(proc, v, caplog):
    svc = start_guest_service(v[1])
    with caplog.at_level(logging.WARNING, logger="hearth.native"):
        svc.cap.send(b"")
        svc.cap.send(b"no reply cap")
        assert _ask(svc.cap, b"x") == (1, b"x")
    assert sum("without capabilities" in r.getMessage() for r in caplog.records) == 1
    status = guest_service_status(svc.front)
    assert status["forwarded"] == 1 and status["dropped"] == 2


def test_dropped_messages_are_logged_at_a_bounded_rate(proc, v, caplog, virtual_clock):
    """Whoever can send a service a message can make it drop one: a line
    each would let a peer fill the operator's log. The first is logged,
    then at most one line every 10 s saying how many more were dropped."""
    svc = start_guest_service(v[1])
    with caplog.at_level(logging.WARNING, logger="hearth.native"):
        for _ in range(300):
            svc.cap.send(b"x")
        assert _ask(svc.cap, b"x") == (1, b"x")  # after all 300, in order
        vm.recv(timeout=9.0)  # the clock moves; still inside the interval
        svc.cap.send(b"x")
        assert _ask(svc.cap, b"x") == (1, b"x")
        vm.recv(timeout=1.5)
        svc.cap.send(b"x")
        assert _ask(svc.cap, b"x") == (1, b"x")
    lines = [r.getMessage() for r in caplog.records if "without capabilities" in r.getMessage()]
    assert len(lines) == 2, lines
    assert lines[1].endswith("(and 300 more since the last line like it)")
    assert guest_service_status(svc.front)["dropped"] == 302


def test_killing_the_front_stops_its_guest_and_clients_see_it_go(proc, v):
    svc = start_guest_service(v[1])
    ref = svc.cap.monitor()
    svc.front.kill()
    down = vm.recv(timeout=10)
    assert down.ref == ref and down.reason == vm.KILLED
    proc.runtime.wait_all_blocked()
    assert not [p for p in proc.runtime.processes() if p.initial_call.startswith("wasm:")]


def test_a_guest_that_crashes_outside_an_upgrade_ends_the_front_with_its_reason(proc):
    runtime = proc.runtime
    signal_kind = "(local.set $k (call $get_signal_kind"
    crashy = _lump(runtime, versioned(1).replace(signal_kind, "(unreachable) " + signal_kind))
    svc = start_guest_service(crashy)
    with pytest.raises(ServerExited) as info:
        request(svc.cap, "anything", timeout=10)
    assert info.value.reason[:2] == ("error", "Trap")


def test_starting_with_a_bad_module_starts_nothing(proc):
    runtime = proc.runtime
    before = len(runtime.processes())
    with pytest.raises(ServiceError) as info:
        start_guest_service(_lump(runtime, NO_MEMORY))
    assert info.value.kind == INVALID_MODULE
    with pytest.raises(ServiceError) as info:
        start_guest_service(LumpId(b"\x09" * 32))
    assert info.value.kind == NOT_FOUND
    assert len(runtime.processes()) == before


def test_a_linked_service_stops_with_its_owner_even_when_the_owner_ends_normally(proc, v):
    def owner(reporter):
        svc = start_guest_service(v[1], link=True)
        reporter.send(b"started", [svc.cap])

    got = vm.create_mailbox()
    vm.spawn(owner, got.make_capability(SEND))
    public = got.recv(timeout=10).caps[0]
    ref = public.monitor()
    down = vm.recv(timeout=10)
    # NOPROC if the front was gone before the monitor was set.
    assert down.ref == ref and down.reason in (vm.NORMAL, vm.NOPROC)
    proc.runtime.wait_all_blocked()
    assert not [p for p in proc.runtime.processes() if p.initial_call.startswith("wasm:")]


# -- handing state to the next version -------------------------------------------------------

STATE = 0x600000  # where a keeper keeps the bytes of its state
BUF = 0x100000  # its version byte, then each message's bytes (and an account id)


def keeper(version, *, gate_exit=False, stay=False):
    """A guest service of `version` that keeps state and hands it over.

    A request (caps[0] its reply capability) is answered with the version
    byte, the request's bytes and the u32 account id of the message; a
    request whose bytes start with ``k`` becomes the state: its bytes and
    caps[1..] (kept). A handover (bytes starting with the front's mark)
    becomes the state too, and is reported to handle 0 as it came (its
    bytes, and its caps but caps[0]). At an `Exit`, a keeper with a state
    leaves it through handle 1 (caps: a reply capability, then the state's
    caps), waits for the front's answer and reports b"left" and the answer
    to handle 0; with `gate_exit` it first sends b"gate" and a capability
    to handle 0 and waits for a message there; with `stay` it then serves
    on instead of returning.
    """
    gate = """
       (local.set $g (call $create))
       (i32.store (i32.const 600) (call $make_capability (local.get $g) (i32.const 1)))
       (call $send (i32.const 0) (i32.const 16) (i32.const 4) (i32.const 600) (i32.const 1))
       (drop (call $recv (local.get $g)))""" if gate_exit else ""
    return module(
        data(16, b"gate") + data(2044, b"left") + data(BUF, bytes([version])) + f"""
        (func $drop_state (local $i i32)
          (block $done (loop $next
            (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 4000))))
            (call $dec_ref (i32.load (i32.add (i32.const 0x20004)
                                              (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
          (i32.store (i32.const 4000) (i32.const 0))
          (i32.store (i32.const 4008) (i32.const 0)))
        (func $keep (param $from i32) (param $n i32) (param $c i32)
          (call $drop_state)
          (memory.copy (i32.const {STATE}) (local.get $from) (local.get $n))
          (i32.store (i32.const 4004) (local.get $n))
          (memory.copy (i32.const 0x20004) (i32.const 0x10004)
                       (i32.shl (local.get $c) (i32.const 2)))
          (i32.store (i32.const 4000) (local.get $c))
          (i32.store (i32.const 4008) (i32.const 1)))
        (func (export "run") (local $s i32) (local $k i32) (local $n i32) (local $c i32)
                             (local $i i32) (local $g i32) (local $mb i32) (local $a i32)
          (loop $l
            (local.set $s (call $recv (i32.const 0)))
            (local.set $k (call $get_signal_kind (local.get $s)))
            (if (i32.eq (local.get $k) (i32.const 2)) (then
              (call $destroy_signal (local.get $s))
              {gate}
              (if (i32.load (i32.const 4008)) (then
                (local.set $mb (call $create))
                (i32.store (i32.const 0x20000)
                           (call $make_capability (local.get $mb) (i32.const 1)))
                (call $send (i32.const 1) (i32.const {STATE}) (i32.load (i32.const 4004))
                            (i32.const 0x20000) (i32.add (i32.load (i32.const 4000)) (i32.const 1)))
                (local.set $a (call $recv (local.get $mb)))
                (local.set $n (call $get_message_data_len (local.get $a)))
                (call $get_message_data (local.get $a) (i32.const 2048))
                (call $send (i32.const 0) (i32.const 2044) (i32.add (local.get $n) (i32.const 4))
                            (i32.const 0) (i32.const 0))))
              {"(i32.store (i32.const 4008) (i32.const 0)) (br $l)" if stay else "(return)"}))
            (if (i32.eqz (local.get $k)) (then
              (local.set $n (call $get_message_data_len (local.get $s)))
              (local.set $c (call $get_message_caps_num (local.get $s)))
              (call $get_message_data (local.get $s) (i32.const {BUF + 1}))
              (call $get_message_caps (local.get $s) (i32.const 0x10000))
              (i32.store (i32.add (i32.const {BUF + 1}) (local.get $n))
                         (call $of_message (local.get $s)))
              (if (i32.eq (i32.load8_u (i32.const {BUF + 1})) (i32.const 0xc1))
                (then
                  (call $send (i32.const 0) (i32.const {BUF + 1}) (local.get $n) (i32.const 0x10004)
                              (i32.sub (local.get $c) (i32.const 1)))
                  (call $dec_ref (i32.load (i32.const 0x10000)))
                  (call $keep (i32.const {BUF + 1 + 17}) (i32.sub (local.get $n) (i32.const 17))
                              (i32.sub (local.get $c) (i32.const 1))))
                (else
                  (call $send (i32.load (i32.const 0x10000)) (i32.const {BUF})
                              (i32.add (local.get $n) (i32.const 5)) (i32.const 0) (i32.const 0))
                  (call $dec_ref (i32.load (i32.const 0x10000)))
                  (if (i32.eq (i32.load8_u (i32.const {BUF + 1})) (i32.const 107))
                    (then (call $keep (i32.const {BUF + 1}) (local.get $n)
                                      (i32.sub (local.get $c) (i32.const 1))))
                    (else
                      (local.set $i (i32.const 1))
                      (block $done (loop $drop
                        (br_if $done (i32.ge_u (local.get $i) (local.get $c)))
                        (call $dec_ref (i32.load (i32.add (i32.const 0x10000)
                                                          (i32.shl (local.get $i) (i32.const 2)))))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $drop)))))))))
            (call $destroy_signal (local.get $s))
            (br $l)))""",
        "send", "recv", "get_signal_kind", "get_message_data_len", "get_message_caps_num",
        "get_message_data", "get_message_caps", "dec_ref", "destroy_signal", "create",
        "make_capability", "of_message",
        memory=176,
    )


def _keep_ask(service, payload, caps=(), account=None, timeout=10):
    """One request to a keeper; (version, bytes echoed, account id)."""
    box = vm.create_mailbox()
    reply = box.make_capability(SEND)
    if account is None:
        service.send(payload, [reply, *caps])
    else:
        vm.forward(service, vm.Message(payload, [reply, *caps], account))
    sig = box.recv(timeout)
    box.destroy()
    assert sig is not None, f"no reply to {payload!r}"
    return sig.data[0], sig.data[1:-4], struct.unpack("<I", sig.data[-4:])[0]


@pytest.fixture
def keepers(runtime):
    """Lump ids of keeper versions 1, 2 and 3."""
    return {n: _lump(runtime, keeper(n)) for n in (1, 2, 3)}


def test_what_a_version_leaves_reaches_the_next_once_before_its_first_request(proc, keepers):
    report = vm.create_mailbox()
    svc = start_guest_service(keepers[1], report.make_capability(SEND))
    member = vm.create_mailbox()
    assert _keep_ask(svc.cap, b"k:room state", [member.make_capability(SEND)]) == (
        1, b"k:room state", 0)
    upgrade_box = vm.create_mailbox()
    send_request(svc.front, ["upgrade", keepers[2]], upgrade_box.make_capability(SEND))
    # A request right behind the upgrade, answered to the report mailbox:
    # it must come after the handover the new version reports there.
    svc.cap.send(b"first", [report.make_capability(SEND)])
    assert read_reply(upgrade_box.recv(timeout=10))["version"] == 2
    left = report.recv(timeout=10)
    assert left.data == b"left" + b"\x81\xa2ok\xc3"  # {"ok": true}: the front kept it
    took = report.recv(timeout=10)
    assert took.data == HANDOVER_MARK + b"k:room state"
    assert len(took.caps) == 1 and took.caps[0].same_route(member.make_capability(SEND))
    first = report.recv(timeout=10)
    assert first.data[:6] == b"\x02first"  # only then the first request
    # The handed-over capability works in the new version's hands, and the
    # state goes on through a second upgrade.
    assert upgrade(svc.front, keepers[3])["version"] == 3
    assert report.recv(timeout=10).data.startswith(b"left")
    again = report.recv(timeout=10)
    assert again.data == HANDOVER_MARK + b"k:room state"
    again.caps[0].send(b"still a member")
    assert member.recv(timeout=10).data == b"still a member"
    assert _keep_ask(svc.cap, b"x")[0] == 3
    proc.runtime.wait_all_blocked()
    assert report.try_recv() is None  # handed over once per upgrade, nothing else


def test_a_version_that_leaves_nothing_hands_nothing_over(proc, keepers):
    report = vm.create_mailbox()
    svc = start_guest_service(keepers[1], report.make_capability(SEND))
    assert _keep_ask(svc.cap, b"no state kept")[0] == 1
    assert upgrade(svc.front, keepers[2])["old_exit"] == vm.NORMAL
    assert _keep_ask(svc.cap, b"y") == (2, b"y", 0)
    proc.runtime.wait_all_blocked()
    assert report.try_recv() is None


def test_a_handover_past_the_bounds_is_refused_and_the_old_guest_is_told(proc, keepers):
    report = vm.create_mailbox()
    svc = start_guest_service(keepers[1], report.make_capability(SEND))
    big = b"k" * (HANDOVER_MAX_BYTES + 1)
    assert _keep_ask(svc.cap, big, timeout=30)[0] == 1
    assert upgrade(svc.front, keepers[2])["old_exit"] == vm.NORMAL
    left = report.recv(timeout=10)
    assert left.data.startswith(b"left")
    answer = decode(left.data[4:])["err"]
    assert answer["kind"] == "limit_reached"
    assert answer["message"] == (
        f"a handover is at most {HANDOVER_MAX_BYTES} bytes and {HANDOVER_MAX_CAPS}"
        f" capabilities, not {HANDOVER_MAX_BYTES + 1} bytes and 0 capabilities: nothing was kept")
    assert _keep_ask(svc.cap, b"y")[0] == 2
    proc.runtime.wait_all_blocked()
    assert report.try_recv() is None  # the new version got nothing


def test_a_rolled_back_upgrade_hands_the_state_to_the_fresh_old_version(proc):
    runtime = proc.runtime
    report = vm.create_mailbox()
    svc = start_guest_service(_lump(runtime, keeper(1, gate_exit=True)),
                              report.make_capability(SEND))
    member = vm.create_mailbox()
    assert _keep_ask(svc.cap, b"k:kept", [member.make_capability(SEND)])[0] == 1
    upgrade_box = vm.create_mailbox()
    send_request(svc.front, ["upgrade", _lump(runtime, TRAPS_AT_ONCE)],
                 upgrade_box.make_capability(SEND))
    gate = report.recv(timeout=10)  # the old guest waits at its gate, asked to finish
    assert gate.data == b"gate"
    runtime.wait_all_blocked()  # the new guest trapped; a fresh version 1 runs
    gate.caps[0].send(b"go")
    with pytest.raises(ServiceError) as info:
        read_reply(upgrade_box.recv(timeout=10))
    assert info.value.kind == UPGRADE_FAILED
    assert report.recv(timeout=10).data.startswith(b"left\x81\xa2ok")
    took = report.recv(timeout=10)
    assert took.data == HANDOVER_MARK + b"k:kept"
    took.caps[0].send(b"hello")
    assert member.recv(timeout=10).data == b"hello"
    assert _keep_ask(svc.cap, b"z")[0] == 1


def test_a_clients_message_marked_as_a_handover_is_refused_and_never_forwarded(proc, keepers):
    report = vm.create_mailbox()
    svc = start_guest_service(keepers[1], report.make_capability(SEND))
    with pytest.raises(ServiceError) as info:
        box = vm.create_mailbox()
        svc.cap.send(HANDOVER_MARK + b"k:forged", [box.make_capability(SEND)])
        read_reply(box.recv(timeout=10))
    assert info.value.kind == INVALID_REQUEST
    assert "handover mark" in info.value.message
    assert guest_service_status(svc.front)["forwarded"] == 0
    assert upgrade(svc.front, keepers[2])["version"] == 2
    proc.runtime.wait_all_blocked()
    assert report.try_recv() is None  # version 1 kept nothing: the forgery never reached it


def test_every_version_of_a_service_names_an_account_with_the_same_id(proc, keepers):
    accounts = proc.runtime.accounts
    a, b = accounts.open("peer 10.0.0.1#1"), accounts.open("peer 10.0.0.2#2")
    report = vm.create_mailbox()
    svc = start_guest_service(keepers[1], report.make_capability(SEND))
    assert _keep_ask(svc.cap, b"x", account=a) == (1, b"x", 1)
    assert _keep_ask(svc.cap, b"x") == (1, b"x", 0)
    assert upgrade(svc.front, keepers[2])["version"] == 2
    assert _keep_ask(svc.cap, b"y", account=b) == (2, b"y", 2)
    assert _keep_ask(svc.cap, b"y", account=a) == (2, b"y", 1)
    # A guest outside the service numbers accounts on its own.
    other = start_guest_service(keepers[1], report.make_capability(SEND))
    assert _keep_ask(other.cap, b"z", account=b) == (1, b"z", 1)


def test_what_an_old_guest_left_goes_on_when_it_is_killed_at_the_drain_deadline(
        proc, virtual_clock):
    runtime = proc.runtime
    report = vm.create_mailbox()
    svc = start_guest_service(_lump(runtime, keeper(1, stay=True)), report.make_capability(SEND),
                              drain_timeout=2.0)
    assert _keep_ask(svc.cap, b"k:before the end")[0] == 1
    result = upgrade(svc.front, _lump(runtime, keeper(2)))
    assert result["old_exit"] == vm.KILLED  # it left its state, then would not finish
    assert report.recv(timeout=10).data.startswith(b"left\x81\xa2ok")
    assert report.recv(timeout=10).data == HANDOVER_MARK + b"k:before the end"
    assert _keep_ask(svc.cap, b"after")[0] == 2
