"""The patterns of Hearth's design: sink, pub-sub, ownership via links,
factory; and docs/protocols.md's rule that every service answers malformed input
with an error (or logs it) and keeps serving.

Synchronisation is by Down/Exit signals, replies, and
`runtime.wait_all_blocked()`; never by sleeping.
"""

import pytest

from hearth import vm
from hearth.otp._call import call, cast
from hearth.otp._codec import decode, encode
from hearth.otp._errors import ServerExited, StartError
from hearth.otp._factory import create, created_count, start_factory
from hearth.otp._ownership import Owned, dispose, spawn_owned, transfer
from hearth.otp._patterns import ServiceError, err, ok, unwrap
from hearth.otp._pubsub import (
    publish,
    start_pubsub,
    subscribe,
    subscriber_count,
    unsubscribe,
)
from hearth.otp._sink import start_link_sink, start_sink
from hearth.vm import LINK, MONITOR, SEND

# -- helpers ----------------------------------------------------------------------------


def tell(cap, term):
    cap.send(*encode(term))


def box_and_cap(perms=SEND):
    box = vm.create_mailbox()
    return box, box.make_capability(perms)


def recv_term(mailbox=None, timeout=5):
    sig = vm.recv(timeout=timeout, mailbox=mailbox)
    assert type(sig) is vm.Message, sig
    return decode(sig.data, sig.caps)


def nothing_queued(runtime, mailbox=None):
    runtime.wait_all_blocked()
    return vm.try_recv(mailbox) is None


def wait_down(ref, timeout=5):
    """The reason of the Down with this ref (other signals are dropped)."""
    while True:
        sig = vm.recv(timeout=timeout)
        assert sig is not None, "no Down came"
        if type(sig) is vm.Down and sig.ref == ref:
            return sig.reason


def wait_downs(*refs, timeout=5):
    """{ref: reason} once a Down for each ref came, in any order."""
    out = {}
    while len(out) < len(refs):
        sig = vm.recv(timeout=timeout)
        assert sig is not None, f"Downs missing: {set(refs) - set(out)}"
        if type(sig) is vm.Down and sig.ref in refs:
            out[sig.ref] = sig.reason
    return out


def idle():
    while True:
        vm.recv()


def stubborn():
    """Traps exits (spawn option) and never leaves."""
    while True:
        vm.recv()


def report_and_wait(report, tag):
    """Report, then exit with the reason of the first message."""
    tell(report, ("running", tag))
    sig = vm.recv()
    vm.exit(decode(sig.data, sig.caps))


# -- results of the reply convention ------------------------------------------------------


def test_unwrap_returns_the_ok_value_and_raises_the_err_kind():
    assert unwrap(ok(3)) == 3
    with pytest.raises(ServiceError) as info:
        unwrap(err("not_found", "no such thing", name="x"))
    assert info.value.kind == "not_found"
    assert info.value.details == {"name": "x"}
    with pytest.raises(ServiceError) as info:
        unwrap(("neither",))
    assert info.value.kind == "invalid_reply"


# -- sink -----------------------------------------------------------------------------------


def test_sink_hands_casts_raw_terms_and_calls_to_the_handler_in_order(proc):
    seen = []
    sink = start_sink(seen.append)
    cast(sink, ("cast", 1))
    tell(sink, {"raw": b"\x00bytes"})
    assert call(sink, ("call", 2)) == {"ok": None}
    assert seen == [("cast", 1), {"raw": b"\x00bytes"}, ("call", 2)]


def test_sink_logs_and_drops_malformed_messages_and_keeps_going(proc, runtime, caplog):
    seen = []
    sink = start_sink(seen.append)
    ref = sink.monitor()
    sink.send(b"\xc1")  # never valid msgpack
    sink.send(b"\x92\x01")  # an array cut short
    sink.send(*encode(("after",)))
    assert call(sink, "sync") == {"ok": None}
    assert seen == [("after",), "sync"]
    assert "malformed" in caplog.text
    assert nothing_queued(runtime)  # no Down: it is alive
    vm.demonitor(ref)


def test_sink_survives_a_handler_that_raises(proc, caplog):
    seen = []

    def handler(term):
        if term == "boom":
            raise ValueError("bad term")
        seen.append(term)

    sink = start_sink(handler)
    cast(sink, "boom")
    reply = call(sink, "boom")
    assert reply["err"]["kind"] == "handler_failed"
    assert "bad term" in reply["err"]["message"]
    assert call(sink, "fine") == {"ok": None}
    assert seen == ["fine"]


def test_sink_handler_can_stop_the_sink_with_exit(proc):
    def handler(term):
        if term == "quit":
            vm.exit("normal")

    sink = start_sink(handler)
    ref = sink.monitor()
    cast(sink, "quit")
    assert wait_down(ref) == "normal"


def test_sink_lends_the_capabilities_in_a_term_to_the_handler(proc):
    box, cap = box_and_cap()

    def handler(term):
        tell(term["reply_to"], ("seen", term["n"]))

    sink = start_link_sink(handler)
    cast(sink, {"reply_to": cap, "n": 7})
    assert recv_term(box) == ("seen", 7)


# -- pub-sub ---------------------------------------------------------------------------------


def test_pubsub_fans_each_published_term_out_to_every_subscriber(proc):
    ps = start_pubsub()
    boxes = [box_and_cap(SEND | MONITOR) for _ in range(3)]
    for _, cap in boxes:
        assert subscribe(ps, cap) is True
    assert subscriber_count(ps) == 3
    publish(ps, ("moved", 1, 2))
    publish(ps, ("moved", 3, 4))
    assert subscriber_count(ps) == 3  # the casts were handled before this call
    for box, _ in boxes:
        assert recv_term(box) == ("moved", 1, 2)
        assert recv_term(box) == ("moved", 3, 4)


def test_pubsub_subscribing_twice_is_a_no_op(proc, runtime):
    ps = start_pubsub()
    box, cap = box_and_cap(SEND | MONITOR)
    assert subscribe(ps, cap) is True
    assert subscribe(ps, cap) is False
    other_perms = box.make_capability(SEND | MONITOR | LINK)  # same route
    assert subscribe(ps, other_perms) is False
    assert subscriber_count(ps) == 1
    publish(ps, "once")
    assert recv_term(box) == "once"
    assert nothing_queued(runtime, box)


def test_pubsub_unsubscribe_stops_delivery(proc, runtime):
    ps = start_pubsub()
    box, cap = box_and_cap(SEND | MONITOR)
    subscribe(ps, cap)
    assert unsubscribe(ps, box.make_capability(0)) is True  # any cap to the route
    assert unsubscribe(ps, cap) is False
    assert subscriber_count(ps) == 0
    publish(ps, "nobody hears")
    assert nothing_queued(runtime, box)


def test_pubsub_subscribe_without_a_capability_subscribes_the_caller(proc):
    ps = start_pubsub()
    assert subscribe(ps) is True
    publish(ps, "to me")
    assert recv_term() == "to me"
    assert unsubscribe(ps) is True
    assert subscriber_count(ps) == 0


def subscribe_then_exit(ps, reason):
    subscribe(ps)
    vm.exit(reason)


@pytest.mark.parametrize("reason", ["normal", "crashed"])
def test_pubsub_drops_a_subscriber_that_dies(proc, reason):
    ps = start_pubsub()
    subscribe(ps)
    _, ref = vm.spawn_monitor(subscribe_then_exit, ps, reason)
    assert wait_down(ref) == reason
    # The service's monitor fired when ours did, and its Down is queued
    # before our call.
    assert subscriber_count(ps) == 1
    publish(ps, "still here")
    assert recv_term() == "still here"


def test_pubsub_drops_a_subscriber_whose_mailbox_is_destroyed(proc):
    ps = start_pubsub()
    box, cap = box_and_cap(SEND | MONITOR)
    subscribe(ps, cap)
    box.destroy()
    assert subscriber_count(ps) == 0


def test_pubsub_forwards_capabilities_in_published_terms(proc):
    ps = start_pubsub()
    box, cap = box_and_cap(SEND | MONITOR)
    subscribe(ps, cap)
    target, target_cap = box_and_cap()
    publish(ps, {"reply_to": target_cap})
    term = recv_term(box)
    tell(term["reply_to"], "through the published capability")
    assert recv_term(target) == "through the published capability"


def test_pubsub_refuses_subscribers_it_could_not_monitor(proc):
    ps = start_pubsub()
    _, send_only = box_and_cap(SEND)
    with pytest.raises(ServiceError) as info:
        subscribe(ps, send_only)
    assert info.value.kind == "permission_denied"
    assert subscriber_count(ps) == 0


def test_pubsub_answers_malformed_requests_with_errors_and_keeps_serving(proc, runtime, caplog):
    ps = start_pubsub()
    assert call(ps, "nonsense")["err"]["kind"] == "invalid_request"
    assert call(ps, ("subscribe", 42))["err"]["kind"] == "invalid_request"
    assert call(ps, ("subscribe",))["err"]["kind"] == "invalid_request"
    cast(ps, ("no such cast",))  # logged and dropped
    # Not the call protocol, but with a reply capability: a raw error reply.
    box, reply_cap = box_and_cap()
    ps.send(b"\xc1", [reply_cap])
    assert recv_term(box)["err"]["kind"] == "invalid_request"
    ps.send(b"not msgpack at all")  # no reply capability: logged
    assert subscriber_count(ps) == 0
    assert "pub-sub dropped" in caplog.text
    # A call of publish answers with the fan-out count.
    assert call(ps, ("publish", "x")) == {"ok": 0}


# -- ownership via links -----------------------------------------------------------------------


def owner_of(report, tag, trap=False):
    """Spawn a resource owned by this process, report (resource, deed),
    then obey: "exit" → exit normally, ("transfer", cap) → hand it on,
    anything else → wait. Trapping, reports the Exits it gets."""
    vm.trap_exit(trap)
    owned = spawn_owned(report_and_wait, report, tag)
    tell(report, ("owned", owned.resource, owned.deed))
    while True:
        sig = vm.recv()
        if type(sig) is vm.Exit:
            tell(report, ("exit", sig.reason, sig.cap.same_route(owned.deed)))
            continue
        cmd = decode(sig.data, sig.caps)
        if cmd == "exit":
            return
        if type(cmd) is tuple and cmd[0] == "transfer":
            transfer(owned.deed, cmd[1])
            tell(report, ("transferred",))
        if cmd == "dispose":
            tell(report, ("disposed", dispose(owned.deed)))


def start_owner(report_cap, report_box, tag, trap=False):
    """Spawn an `owner_of`; return (owner cap, its monitor ref, resource,
    deed)."""
    owner, ref = vm.spawn_monitor(owner_of, report_cap, tag, trap)
    terms = [recv_term(report_box), recv_term(report_box)]
    running = [t for t in terms if t[0] == "running"]
    owned = [t for t in terms if t[0] == "owned"]
    assert running == [("running", tag)] and len(owned) == 1
    return owner, ref, owned[0][1], owned[0][2]


def test_spawn_owned_returns_the_resource_and_its_deed(proc):
    box, cap = box_and_cap()
    owned = spawn_owned(report_and_wait, cap, "r")
    assert isinstance(owned, Owned)
    assert recv_term(box) == ("running", "r")
    assert owned.resource.permissions == vm.ALL
    assert owned.deed.permissions == SEND | MONITOR


@pytest.mark.parametrize(
    "how, resource_reason",
    [("kill", "killed"), ("crash", "crash"), ("exit", "shutdown")],
)
def test_a_resource_dies_with_its_owner_whatever_the_reason(proc, how, resource_reason):
    box, cap = box_and_cap()
    owner, owner_ref, resource, _ = start_owner(cap, box, "r")
    watch = resource.monitor()
    if how == "kill":
        owner.kill()
    elif how == "crash":
        owner.exit("crash")
    else:
        tell(owner, "exit")  # a normal exit, which a plain link would not pass on
    assert wait_down(watch) == resource_reason


def test_after_a_transfer_the_old_owners_death_spares_the_resource(proc, runtime):
    box, cap = box_and_cap()
    old, old_ref, resource, _ = start_owner(cap, box, "r")
    new, new_ref = vm.spawn_monitor(idle)
    watch = resource.monitor()
    tell(old, ("transfer", new.demote(LINK)))
    assert recv_term(box) == ("transferred",)
    old.kill()
    assert wait_down(old_ref) == "killed"
    runtime.wait_all_blocked()
    assert vm.try_recv() is None  # no Down of the resource
    new.kill()
    assert wait_down(watch) == "killed"


def test_a_trapping_owner_learns_of_its_resources_crash_through_the_deed(proc):
    box, cap = box_and_cap()
    owner, owner_ref, resource, deed = start_owner(cap, box, "r", trap=True)
    resource.exit("broken")
    assert recv_term(box) == ("exit", "broken", True)


def test_a_resource_that_exits_normally_leaves_its_owner_alone(proc, runtime):
    box, cap = box_and_cap()
    owner, owner_ref, resource, deed = start_owner(cap, box, "r")
    watch = deed.monitor()
    tell(resource, "normal")
    assert wait_down(watch) == "normal"  # the warden went with it
    runtime.wait_all_blocked()
    assert vm.try_recv() is None  # the owner lives
    owner.kill()
    assert wait_down(owner_ref) == "killed"


def test_killing_an_owned_resource_reaches_its_owner_as_killed(proc):
    box, cap = box_and_cap()
    owner, owner_ref, resource, deed = start_owner(cap, box, "r")
    watch = deed.monitor()
    resource.kill()
    assert wait_downs(owner_ref, watch) == {owner_ref: "killed", watch: "killed"}


def test_dispose_ends_the_resource_without_touching_the_owner(proc, runtime):
    box, cap = box_and_cap()
    owner, owner_ref, resource, deed = start_owner(cap, box, "r")
    watch = resource.monitor()
    tell(owner, "dispose")
    assert recv_term(box) == ("disposed", "shutdown")
    assert wait_down(watch) == "shutdown"
    runtime.wait_all_blocked()
    assert vm.try_recv() is None  # the owner's monitor did not fire
    owner.kill()
    assert wait_down(owner_ref) == "killed"


def test_dispose_kills_a_resource_that_ignores_the_shutdown(proc, virtual_clock):
    owned = spawn_owned(stubborn, trap_exit=True)
    watch = owned.resource.monitor()
    start = virtual_clock.now()
    assert dispose(owned.deed, shutdown=2.0) == "killed"
    assert virtual_clock.now() - start >= 2.0
    assert wait_down(watch) == "killed"


def test_transfer_needs_a_link_capability(proc):
    owned = spawn_owned(idle)
    other = vm.spawn(idle)
    with pytest.raises(ServiceError) as info:
        transfer(owned.deed, other.demote(SEND))
    assert info.value.kind == "permission_denied"
    with pytest.raises(ServiceError) as info:
        transfer(owned.deed, "not a capability")
    assert info.value.kind == "invalid_request"
    with pytest.raises(ServiceError) as info:
        transfer(owned.deed, owned.resource)  # a resource can't own itself
    assert info.value.kind == "invalid_request"
    other.kill()


def test_transfer_to_a_dead_owner_takes_the_resource_with_it(proc):
    owned = spawn_owned(idle)
    dead, ref = vm.spawn_monitor(idle)
    dead.kill()
    wait_down(ref)
    watch = owned.resource.monitor()
    transfer(owned.deed, dead)
    assert wait_down(watch) == "noproc"


def test_spawn_owned_for_a_dead_owner_starts_nothing(proc, runtime):
    box, cap = box_and_cap()
    dead, ref = vm.spawn_monitor(idle)
    dead.kill()
    wait_down(ref)
    with pytest.raises(StartError) as info:
        spawn_owned(report_and_wait, cap, "never", owner=dead)
    assert info.value.reason == "noproc"
    assert nothing_queued(runtime, box)


def test_the_warden_answers_malformed_requests_and_keeps_its_resource(proc, runtime):
    owned = spawn_owned(idle)
    assert call(owned.deed, ("what",))["err"]["kind"] == "invalid_request"
    box, reply_cap = box_and_cap()
    owned.deed.send(b"\xc1", [reply_cap])
    assert recv_term(box)["err"]["kind"] == "invalid_request"
    cast(owned.deed, "ignored")
    watch = owned.resource.monitor()
    assert nothing_queued(runtime)
    assert dispose(owned.deed) == "shutdown"
    assert wait_down(watch) == "shutdown"


def test_a_transfer_after_the_resource_is_gone_raises_server_exited(proc):
    owned = spawn_owned(idle)
    watch = owned.deed.monitor()
    assert dispose(owned.deed) == "shutdown"
    wait_down(watch)
    with pytest.raises(ServerExited):
        transfer(owned.deed, vm.make_capability(LINK))


# -- factory ---------------------------------------------------------------------------------------


def session(report, greeting, user):
    tell(report, (greeting, user))
    idle()


def client_of(factory, report, user):
    """Get a session from the factory, report it, wait for "exit"."""
    owned = create(factory, user)
    tell(report, ("session", owned.resource))
    while True:
        sig = vm.recv()
        if decode(sig.data, sig.caps) == "exit":
            return


def test_factory_creates_a_process_per_request_with_fixed_and_request_args(proc):
    box, cap = box_and_cap()
    factory = start_factory(session, cap, "hello")
    a = create(factory, "alice")
    b = create(factory, "bob")
    assert {recv_term(box), recv_term(box)} == {("hello", "alice"), ("hello", "bob")}
    assert not a.resource.same_route(b.resource)
    assert created_count(factory) == 2


def test_factory_products_die_with_their_requester(proc):
    box, cap = box_and_cap()
    factory = start_factory(session, cap, "hi")
    client, client_ref = vm.spawn_monitor(client_of, factory, cap, "carol")
    terms = [recv_term(box), recv_term(box)]
    assert ("hi", "carol") in terms
    (product,) = [t[1] for t in terms if t[0] == "session"]
    watch = product.monitor()
    tell(client, "exit")
    assert wait_down(client_ref) == "normal"
    assert wait_down(watch) == "shutdown"
    assert created_count(factory) == 1  # the factory lives on


def test_a_dead_factory_leaves_its_products_running(proc, runtime):
    factory = start_factory(idle)
    owned = create(factory)
    watch = owned.resource.monitor()
    factory_ref = factory.monitor()
    factory.kill()
    assert wait_down(factory_ref) == "killed"
    runtime.wait_all_blocked()
    assert vm.try_recv() is None
    assert dispose(owned.deed) == "shutdown"
    assert wait_down(watch) == "shutdown"


def test_factory_answers_malformed_requests_with_errors_and_keeps_serving(proc):
    factory = start_factory(idle)
    assert call(factory, "new")["err"]["kind"] == "invalid_request"
    assert call(factory, ("create", 1, ()))["err"]["kind"] == "invalid_request"
    no_link = vm.make_capability(SEND)
    assert call(factory, ("create", no_link, ()))["err"]["kind"] == "permission_denied"
    box, reply_cap = box_and_cap()
    factory.send(b"\x93\x01", [reply_cap])
    assert recv_term(box)["err"]["kind"] == "invalid_request"
    cast(factory, "what")
    assert created_count(factory) == 0
    create(factory)
    assert created_count(factory) == 1


def test_factory_refuses_a_requester_that_is_already_dead(proc):
    factory = start_factory(idle)
    dead, ref = vm.spawn_monitor(idle)
    dead.kill()
    wait_down(ref)
    with pytest.raises(ServiceError) as info:
        create(factory, owner=dead)
    assert info.value.kind == "start_failed"
    assert info.value.details["reason"] == "noproc"
    assert created_count(factory) == 0
