"""A gen_server keeps its callers' reply capabilities between calls.

Each call brings the caller's reply capability; the server holds a
reference of its own to those of up to `_REPLY_CAPS_KEPT` callers, so the
next call from the same caller finds the handle in the server's table.
These tests hold that to O2 and O3: the table stays bounded, a closed
caller's handle is dropped (at the sweep that calls from callers not kept
bring, every `_SWEEP_EVERY`), a handle the server's own code released (by
replying twice) is never released again, and nothing the server sends
through a kept capability is ever taken for a later call's answer.
"""

import pytest

from hearth import vm
from hearth.otp import CallTimeout, call
from hearth.otp._call import _REPLY_CAPS_KEPT, _SWEEP_EVERY
from hearth.otp._gen_server import GenServer, reply, start
from hearth.vm import SEND


class Probe(GenServer):
    def init(self):
        return ("ok", [])

    def handle_call(self, request, from_, state):
        if request == "table":
            return ("reply", len(vm.current_process().table), state)
        if request == "reply cap":
            return ("reply", (from_.cap.handle, from_.cap.refs), state)
        if request == "hold":  # answered later, by "answer held"
            state.append(from_)
            return ("noreply", state)
        if request == "answer held":
            for held in state:
                reply(held, "late")
            state.clear()
            return ("reply", "done", state)
        if request == "twice":
            reply(from_, "first")
            return ("reply", "second", state)  # a second reply: the server's bug
        return ("reply", request, state)


def caller(server, report, request):
    """A process that calls `server` once, reports the answer, and waits."""
    answer = call(server, request)
    report.send(repr(answer).encode())
    vm.recv()


def wait_report():
    sig = vm.recv(timeout=5)
    assert type(sig) is vm.Message, sig
    return sig.data


def test_calls_from_one_caller_reuse_one_handle_in_the_server(proc):
    server = start(Probe)
    before = call(server, "table")
    seen = {call(server, "reply cap") for _ in range(20)}
    # One handle, two references while the call runs: the call's own (its
    # `From`, released by the reply) and the one the server keeps.
    assert len(seen) == 1
    (handle, refs), = seen
    assert refs == 2
    assert call(server, "table") == before
    server.kill()


def test_the_server_keeps_the_reply_capabilities_of_a_few_callers_only(proc):
    server = start(Probe)
    assert call(server, "reply cap")[1] == 2  # ours, kept
    me = vm.make_capability(SEND)
    callers = [vm.spawn(caller, server, me, i) for i in range(3 * _REPLY_CAPS_KEPT)]
    for _ in callers:
        wait_report()
    # They are all alive: the kept ones stay kept (ours and the first
    # others), and the rest is not kept: at most the kept ones and the
    # call's own.
    assert call(server, "reply cap")[1] == 2
    assert call(server, "table") <= _REPLY_CAPS_KEPT + 1
    for c in callers:
        c.kill()
    me.release()
    server.kill()


def test_closed_callers_reply_capabilities_are_dropped_to_make_room(proc):
    server = start(Probe)
    me = vm.make_capability(SEND)
    for i in range(_REPLY_CAPS_KEPT):  # fill the kept set, then die
        c = vm.spawn(caller, server, me, i)
        wait_report()
        ref = c.monitor()
        c.kill()
        sig = vm.recv(timeout=5)
        assert type(sig) is vm.Down and sig.ref == ref
        sig.cap.release()
        c.release()
    # Our calls are not kept while the set is full of the dead ones' ...
    for _ in range(_SWEEP_EVERY - 1):
        assert call(server, "reply cap")[1] == 1
    # ... until a sweep drops theirs and keeps ours.
    assert call(server, "reply cap")[1] == 2
    assert call(server, "table") == 1
    me.release()
    server.kill()


def test_a_reply_capability_released_by_the_server_itself_is_not_released_again(proc):
    server = start(Probe)
    # The second reply goes out through the kept reference, as OTP's
    # gen_server:reply would send it, and releases that reference: the
    # server must not release the handle again when it drops it later.
    assert call(server, "twice") == "first"
    me = vm.make_capability(vm.SEND)
    # Enough callers, each dead before the next, for sweeps to drop it.
    for i in range(_REPLY_CAPS_KEPT + 2 * _SWEEP_EVERY):
        other = vm.spawn(caller, server, me, i)
        wait_report()
        other.kill()
    me.release()
    assert call(server, "x") == "x"  # the stale "second" was drained, not taken
    ref = server.monitor()
    assert vm.try_recv() is None
    server.kill()
    sig = vm.recv(timeout=5)
    assert type(sig) is vm.Down and sig.ref == ref and sig.reason == vm.KILLED
    sig.cap.release()


def test_a_late_reply_through_a_kept_capability_never_answers_a_later_call(proc):
    server = start(Probe)
    with pytest.raises(CallTimeout):
        call(server, "hold", timeout=0.05)
    assert call(server, "x") == "x"
    # The held call's reply goes to the reply mailbox the timeout retired;
    # the next call's answer is its own.
    assert call(server, "answer held") == "done"
    assert call(server, "y") == "y"
    assert vm.try_recv() is None
    server.kill()
