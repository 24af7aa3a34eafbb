"""The registry service: rules R1–R3 and its wire protocol."""

import logging
import struct

import msgpack
import pytest

from hearth import vm
from hearth.otp import CallTimeout, ServerExited, encode
from hearth.otp._registry import NameTable, start_link_registry, start_registry
from hearth.otp._registry_client import (
    NameTaken,
    RegistryError,
    lookup,
    register,
    registered,
    unregister,
    registry_view,
)
from hearth.vm import ALL, MONITOR, SEND


def _idle():
    while True:
        vm.recv()


def _info(proc, cap):
    """The kernel's snapshot of the process behind `cap` (found by route)."""
    for info in proc.runtime.processes():
        if any(m.route_id == cap.route_id for m in info.mailboxes):
            return info
    return None


# -- R1 -------------------------------------------------------------------------------


def test_r1_lookup_returns_the_registered_capability(proc):
    reg = start_registry()
    holder = vm.spawn(_idle)
    register(reg, "svc", holder.demote(SEND))
    found = lookup(reg, "svc")
    assert found.same_route(holder)
    assert found.permissions == SEND
    holder.kill()


def test_r1_lookup_of_an_unregistered_name_returns_nothing(proc):
    reg = start_registry()
    assert lookup(reg, "nobody") is None


def test_r1_register_fails_if_the_name_is_taken_naming_the_holder(proc):
    reg = start_registry()
    first, second = vm.spawn(_idle), vm.spawn(_idle)
    register(reg, "svc", first)
    with pytest.raises(NameTaken) as caught:
        register(reg, "svc", second)
    holder_pid = _info(proc, first).pid
    assert caught.value.kind == "name_taken"
    assert f"pid {holder_pid}" in str(caught.value)
    assert (caught.value.name, caught.value.holder) == ("svc", holder_pid)
    assert lookup(reg, "svc").same_route(first)
    first.kill()
    second.kill()


def test_r1_registered_lists_the_names_sorted(proc):
    reg = start_registry()
    assert registered(reg) == []
    for name in ["b", "c", "a"]:
        register(reg, name, vm.make_capability(SEND))
    assert registered(reg) == ["a", "b", "c"]


def test_r1_unregister_frees_the_name(proc):
    reg = start_registry()
    register(reg, "svc", vm.make_capability(SEND))
    unregister(reg, "svc")
    assert lookup(reg, "svc") is None
    assert registered(reg) == []
    register(reg, "svc", vm.make_capability(MONITOR))
    assert lookup(reg, "svc").permissions == MONITOR


def test_r1_unregistering_an_unknown_name_is_not_found(proc):
    reg = start_registry()
    with pytest.raises(RegistryError) as caught:
        unregister(reg, "nobody")
    assert caught.value.kind == "not_found"


def test_r1_one_process_may_hold_several_names(proc):
    reg = start_registry()
    holder = vm.spawn(_idle)
    register(reg, "full", holder)
    register(reg, "send", holder.demote(SEND))
    assert lookup(reg, "full").permissions == ALL
    assert lookup(reg, "send").permissions == SEND
    holder.kill()
    assert registered(reg) == []


def test_r1_names_must_be_strings(proc):
    reg = start_registry()
    with pytest.raises(TypeError):
        register(reg, b"bytes", vm.make_capability(SEND))
    with pytest.raises(TypeError):
        lookup(reg, 1)


# -- R2 -------------------------------------------------------------------------------


def test_r2_a_name_is_gone_before_the_down_for_its_process_is_delivered(proc):
    reg = start_registry()
    holder = vm.spawn(_idle)
    register(reg, "svc", holder)

    def watcher(reg, holder, report):
        ref = holder.monitor()
        report.send(b"ready")
        down = vm.recv()
        assert type(down) is vm.Down and down.ref == ref
        # Right after the Down, inside the monitoring process:
        found = lookup(reg, "svc")
        mine = vm.make_capability(SEND)
        register(reg, "svc", mine)
        report.send(*encode((found is None, lookup(reg, "svc").same_route(mine))))
        vm.recv()

    w, wref = vm.spawn_monitor(watcher, reg, holder, vm.make_capability(SEND))
    assert vm.recv(timeout=5).data == b"ready"
    holder.kill()
    assert msgpack.unpackb(vm.recv(timeout=5).data) == [True, True]
    assert lookup(reg, "svc").same_route(w)
    w.kill()
    assert vm.recv(timeout=5).ref == wref
    assert lookup(reg, "svc") is None


def test_r2_a_name_is_gone_before_an_exit_reaches_a_trapping_linked_process(proc):
    reg = start_registry()
    vm.trap_exit(True)
    holder = vm.spawn_link(_idle)
    register(reg, "svc", holder)
    holder.exit("crash")
    sig = vm.recv(timeout=5)
    assert type(sig) is vm.Exit and sig.reason == "crash"
    assert lookup(reg, "svc") is None
    register(reg, "svc", vm.make_capability(SEND))


def test_r2_the_table_forgets_a_dead_holder_synchronously_within_the_kill():
    # White-box: no registry process, no switch between the kill and the
    # checks, so only the exit hook can have removed the names.
    rt = vm.Runtime()
    try:
        with rt.open_process():
            table = NameTable()
            holder = vm.spawn(_idle)
            assert table.register("a", holder.demote(SEND))
            assert table.register("b", holder.demote(MONITOR))
            holder.kill()
            assert len(table) == 0 and table.lookup("a") is None
            dropped = table.take_dropped()
            assert len(dropped) == 2
            for cap in dropped:
                cap.release()
    finally:
        assert rt.shutdown() == []


def test_r2_killing_the_holder_from_another_process_removes_every_name(proc):
    reg = start_registry()
    holder = vm.spawn(_idle)
    for name in ["a", "b", "c"]:
        register(reg, name, holder)
    register(reg, "other", vm.make_capability(SEND))
    ref = holder.monitor()
    vm.spawn(lambda cap: cap.kill(), holder)
    assert vm.recv(timeout=5).ref == ref
    assert registered(reg) == ["other"]


def test_r2_a_name_goes_with_a_destroyed_mailbox_of_a_living_process(proc):
    reg = start_registry()
    side = vm.create_mailbox()
    register(reg, "side", side.make_capability(SEND))
    side.destroy()
    assert lookup(reg, "side") is None
    assert registered(reg) == []
    register(reg, "side", vm.make_capability(SEND))


def test_r2_a_closed_route_can_not_be_registered(proc):
    reg = start_registry()
    dead, ref = vm.spawn_monitor(lambda: None)
    vm.recv(timeout=5)
    with pytest.raises(RegistryError) as caught:
        register(reg, "ghost", dead)
    assert caught.value.kind == "noproc"
    assert lookup(reg, "ghost") is None


def test_r2_a_holder_whose_names_are_all_unregistered_keeps_no_exit_hook(proc):
    reg = start_registry()
    for i in range(5):
        register(reg, f"n{i}", vm.make_capability(SEND))
    assert len(proc.at_exit) == 1
    for i in range(5):
        unregister(reg, f"n{i}")
    assert proc.at_exit == []


def test_r2_a_registry_that_dies_takes_its_exit_hooks_off_the_holders(proc):
    reg = start_registry()
    register(reg, "me", vm.make_capability(SEND))
    ref = reg.monitor()
    reg.kill()
    assert vm.recv(timeout=5).ref == ref
    assert proc.at_exit == []


# -- R3 -------------------------------------------------------------------------------


def test_r3_a_read_only_view_looks_up_and_lists_but_can_not_register(proc):
    reg = start_registry()
    register(reg, "svc", vm.make_capability(SEND))
    ro = registry_view(reg, read_only=True)
    assert lookup(ro, "svc") is not None
    assert registered(ro) == ["svc"]
    for attempt in (
        lambda: register(ro, "new", vm.make_capability(SEND)),
        lambda: unregister(ro, "svc"),
    ):
        with pytest.raises(RegistryError) as caught:
            attempt()
        assert caught.value.kind == "permission_denied"
    assert registered(reg) == ["svc"]


def test_r3_a_scoped_view_sees_and_changes_only_its_names(proc):
    reg = start_registry()
    for name in ["a", "b", "secret"]:
        register(reg, name, vm.make_capability(SEND))
    scoped = registry_view(reg, names=["a", "b", "c"])
    assert registered(scoped) == ["a", "b"]
    assert lookup(scoped, "a") is not None
    assert lookup(scoped, "secret") is None
    register(scoped, "c", vm.make_capability(SEND))
    unregister(scoped, "a")
    for attempt in (
        lambda: register(scoped, "d", vm.make_capability(SEND)),
        lambda: unregister(scoped, "secret"),
    ):
        with pytest.raises(RegistryError) as caught:
            attempt()
        assert caught.value.kind == "permission_denied"
    assert registered(reg) == ["b", "c", "secret"]


def test_r3_a_view_hides_names_even_ones_registered_later_and_views_of_it_too(proc):
    reg = start_registry()
    for name in ["public", "admin"]:
        register(reg, name, vm.make_capability(SEND))
    view = registry_view(reg, read_only=True, hide=["admin", "later-admin"])
    register(reg, "later-admin", vm.make_capability(SEND))
    register(reg, "later", vm.make_capability(SEND))
    assert registered(view) == ["later", "public"]
    assert lookup(view, "admin") is None and lookup(view, "later-admin") is None
    wider = registry_view(view, read_only=False)
    assert registered(wider) == ["later", "public"]
    with pytest.raises(RegistryError) as caught:
        register(wider, "admin2", vm.make_capability(SEND))
    assert caught.value.kind == "permission_denied"


def test_r3_a_view_made_from_a_view_never_widens_it(proc):
    reg = start_registry()
    for name in ["a", "b", "c"]:
        register(reg, name, vm.make_capability(SEND))
    ro = registry_view(reg, read_only=True, names=["a", "b"])
    wider = registry_view(ro, read_only=False, names=None)
    assert registered(wider) == ["a", "b"]
    with pytest.raises(RegistryError) as caught:
        unregister(wider, "a")
    assert caught.value.kind == "permission_denied"
    narrower = registry_view(wider, names=["b", "c"])
    assert registered(narrower) == ["b"]
    assert lookup(narrower, "c") is None
    assert registered(reg) == ["a", "b", "c"]


def test_r3_a_busy_root_mailbox_does_not_starve_a_view(proc):
    reg = start_registry()
    v = registry_view(reg)
    mb = vm.create_mailbox()
    reply = mb.make_capability(SEND)
    # Queued before the registry runs again: five on the root, one on the view.
    for _ in range(5):
        reg.send(msgpack.packb(["list"]), [reply])
    v.send(msgpack.packb(["get", "x"]), [reply])
    answers = [msgpack.unpackb(mb.recv(timeout=5).data) for _ in range(6)]
    assert [i for i, a in enumerate(answers) if "err" in a][0] <= 1


def test_r3_a_view_capability_can_only_send_and_monitor(proc):
    reg = start_registry()
    v = registry_view(reg, read_only=True)
    assert v.permissions == SEND | MONITOR
    with pytest.raises(vm.PermissionDenied):
        v.kill()
    with pytest.raises(vm.PermissionDenied):
        v.demote(ALL)


def test_r3_a_request_through_a_view_of_a_dead_registry_raises_its_reason(proc):
    reg = start_registry()
    v = registry_view(reg)
    ref = reg.monitor()
    reg.exit("gone")
    assert vm.recv(timeout=5).ref == ref
    with pytest.raises(ServerExited) as caught:
        lookup(v, "x")
    assert caught.value.reason == vm.NOPROC
    with pytest.raises(ServerExited):
        registered(reg)


# -- clients --------------------------------------------------------------------------


def test_a_registry_that_never_answers_raises_a_call_timeout(proc, virtual_clock):
    mute = vm.spawn(_idle)
    with pytest.raises(CallTimeout):
        lookup(mute.demote(SEND), "x", timeout=3)
    # The timed-out reply mailbox was retired; the next request gets a new one.
    reg = start_registry()
    assert lookup(reg, "x") is None
    mute.kill()


def test_start_link_registry_links_the_service_to_the_caller(proc):
    vm.trap_exit(True)
    reg = start_link_registry()
    reg.kill()
    sig = vm.recv(timeout=5)
    assert type(sig) is vm.Exit and sig.reason == vm.KILLED


# -- the wire protocol, as a guest speaks it --------------------------------------------


def _cap_ext(index):
    return msgpack.ExtType(1, struct.pack("<I", index))


def _ask(reg, data, caps=(), reply=True):
    """Send raw bytes like a guest, with a fresh reply mailbox at caps[0].

    Returns ``(reply term, reply caps)`` with capability extensions left
    as raw `ExtType`s, or None if no reply came.
    """
    mb = vm.create_mailbox()
    head = [mb.make_capability(SEND)] if reply else []
    reg.send(data, head + list(caps))
    for cap in head:
        cap.release()
    # The registry answers within one pass; a missing answer is final once
    # every process is blocked.
    vm.current_runtime().wait_all_blocked()
    sig = mb.try_recv()
    mb.destroy()
    if sig is None:
        return None
    return msgpack.unpackb(sig.data), sig.caps


def _err_kind(answer):
    term, _ = answer
    return term["err"]["kind"]


def test_wire_get_register_unregister_and_list_in_map_and_array_form(proc):
    reg = start_registry()
    me = vm.make_capability(SEND)
    assert _ask(reg, msgpack.packb({"op": "register", "name": "x"}), [me]) == ({"ok": None}, ())
    assert _ask(reg, msgpack.packb(["register", "y"]), [me]) == ({"ok": None}, ())
    for request in ({"op": "get", "name": "x"}, ["get", "x"]):
        term, caps = _ask(reg, msgpack.packb(request))
        assert term == {"ok": _cap_ext(0)}
        assert len(caps) == 1 and caps[0] is me
        caps[0].release()
    assert _ask(reg, msgpack.packb({"op": "list"})) == ({"ok": ["x", "y"]}, ())
    assert _ask(reg, msgpack.packb(["list"])) == ({"ok": ["x", "y"]}, ())
    assert _ask(reg, msgpack.packb(["unregister", "y"])) == ({"ok": None}, ())
    term, _ = _ask(reg, msgpack.packb({"op": "get", "name": "y"}))
    assert term["err"]["kind"] == "not_found" and "'y'" in term["err"]["message"]


def test_wire_the_documented_example_bytes_work(proc):
    reg = start_registry()
    register(reg, "x", vm.make_capability(SEND))
    data = bytes.fromhex("82 a2 6f 70 a3 67 65 74 a4 6e 61 6d 65 a1 78")
    mb = vm.create_mailbox()
    reg.send(data, [mb.make_capability(SEND)])
    sig = mb.recv(timeout=5)
    assert sig.data == bytes.fromhex("81 a2 6f 6b d6 01 00 00 00 00")
    assert sig.caps[0].same_route(vm.make_capability(SEND))


def test_wire_register_when_taken_replies_name_taken_naming_the_holder(proc):
    reg = start_registry()
    register(reg, "x", vm.make_capability(SEND))
    term, _ = _ask(reg, msgpack.packb(["register", "x"]), [vm.make_capability(SEND)])
    assert term["err"]["kind"] == "name_taken"
    assert f"pid {proc.pid}" in term["err"]["message"]
    assert term["err"]["pid"] == proc.pid


def test_wire_view_replies_a_capability_to_a_narrower_mailbox(proc):
    reg = start_registry()
    term, caps = _ask(reg, msgpack.packb({"op": "view", "read_only": True, "names": ["a"]}))
    assert term == {"ok": _cap_ext(0)}
    ro = caps[0]
    answer = _ask(ro, msgpack.packb(["register", "a"]), [vm.make_capability(SEND)])
    assert _err_kind(answer) == "permission_denied"
    term, caps = _ask(ro, msgpack.packb(["view", False, None]))
    answer = _ask(caps[0], msgpack.packb(["unregister", "a"]))
    assert _err_kind(answer) == "permission_denied"


@pytest.mark.parametrize(
    "data, caps",
    [
        pytest.param(b"\xc1garbage", 0, id="not-msgpack"),
        pytest.param(b"\x92\xa3get", 0, id="truncated"),
        pytest.param(msgpack.packb("get"), 0, id="not-a-map-or-array"),
        pytest.param(msgpack.packb([]), 0, id="empty-array"),
        pytest.param(msgpack.packb({"name": "x"}), 0, id="no-op"),
        pytest.param(msgpack.packb({"op": "steal"}), 0, id="unknown-op"),
        pytest.param(msgpack.packb([7, "x"]), 0, id="op-not-a-str"),
        pytest.param(msgpack.packb({"op": {}}), 0, id="op-unhashable"),
        pytest.param(msgpack.packb({"op": "get"}), 0, id="missing-name"),
        pytest.param(msgpack.packb({"op": "get", "name": 7}), 0, id="name-not-a-str"),
        pytest.param(msgpack.packb(["get", b"x"]), 0, id="name-is-bytes"),
        pytest.param(msgpack.packb(["get", "x", "y"]), 0, id="too-many-arguments"),
        pytest.param(msgpack.packb(["register", "x"]), 0, id="register-without-caps-1"),
        pytest.param(msgpack.packb(["view", "yes", None]), 0, id="read-only-not-a-bool"),
        pytest.param(msgpack.packb(["view", False, ["a", 1]]), 0, id="names-not-strs"),
        pytest.param(msgpack.packb(["get", _cap_ext(0)]), 0, id="name-is-a-capability"),
        pytest.param(msgpack.packb(["get", _cap_ext(9)]), 1, id="cap-index-out-of-range"),
        pytest.param(msgpack.packb({"op": "get", "name": msgpack.ExtType(5, b"")}), 0,
                     id="unknown-extension"),
    ],
)
def test_wire_a_malformed_request_gets_invalid_request_and_the_service_goes_on(proc, data, caps):
    reg = start_registry()
    register(reg, "x", vm.make_capability(SEND))
    extra = [vm.make_capability(SEND) for _ in range(caps)]
    answer = _ask(reg, data, extra)
    assert answer is not None and _err_kind(answer) == "invalid_request"
    assert answer[0]["err"]["message"]
    assert lookup(reg, "x") is not None


def test_wire_a_bug_in_the_registry_is_an_error_reply_and_the_service_goes_on(
    proc, monkeypatch, caplog
):
    reg = start_registry()

    def broken(self):
        raise RuntimeError("bug")

    monkeypatch.setattr(NameTable, "names", broken)
    with caplog.at_level(logging.ERROR, logger="hearth.otp.registry"):
        answer = _ask(reg, msgpack.packb(["list"]))
    assert _err_kind(answer) == "internal_error"
    assert "failed on a request" in caplog.text
    monkeypatch.undo()
    assert registered(reg) == []


@pytest.mark.parametrize(
    "caps",
    [pytest.param("none", id="no-caps"), pytest.param("no-send", id="reply-cap-without-send")],
)
def test_wire_a_request_without_a_usable_reply_capability_is_logged_and_dropped(
    proc, caplog, caps
):
    reg = start_registry()
    sent = [] if caps == "none" else [vm.make_capability(MONITOR)]
    with caplog.at_level(logging.WARNING, logger="hearth.otp.registry"):
        assert _ask(reg, msgpack.packb(["register", "x"]), sent, reply=False) is None
        assert _ask(reg, b"\xc1", sent, reply=False) is None
    # The second within 10 s is counted, not logged (DropLog).
    assert len([r for r in caplog.records if "without a reply capability" in r.message]) == 1
    assert registered(reg) == []


def test_wire_the_service_keeps_no_reference_it_was_not_asked_to_keep(proc):
    reg = start_registry()
    _ask(reg, msgpack.packb(["list"]))
    before = _info(proc, reg).capabilities
    holder = vm.spawn(_idle)
    for data, caps in [
        (msgpack.packb(["list"]), []),
        (b"\xc1", [holder, holder]),
        (msgpack.packb(["get", "x"]), [holder.demote(SEND)]),
        (msgpack.packb(["register", "x"]), [holder, holder]),
        (msgpack.packb(["register", "x"]), [holder.demote(MONITOR)]),
        (msgpack.packb(["view", True, None]), []),
    ]:
        _ask(reg, data, caps)
    # One handle kept for "x", and a view mailbox, which holds no handle.
    assert _info(proc, reg).capabilities == before + 1
    holder.kill()
    _ask(reg, msgpack.packb(["list"]))
    assert _info(proc, reg).capabilities == before
