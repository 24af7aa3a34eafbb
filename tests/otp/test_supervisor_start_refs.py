"""What `start_child` accepts as a start function: an unforgeable
reference made in this OS process, or a name the supervisor was given in
advance (``allowed_starts``); never a module and function named in a
message. And a malformed spec is answered, not raised (issue 17).
"""

import pytest

from hearth import vm
from hearth.otp._call import call
from hearth.otp._supervisor import (
    ChildSpec,
    start_child,
    start_link,
    supervisor_spec,
    which_children,
)

RAN = []


def mark(*args):
    """A start function a forged message would like to run."""
    RAN.append(args)
    return "ignore"


def idle():
    while True:
        sig = vm.recv()
        for cap in getattr(sig, "caps", ()):
            cap.release()


def start_idle():
    return vm.spawn_link(idle)


def _forged_spec(ref, args=()):
    """A child spec term as a message from anyone may carry it."""
    return ("$childspec", "forged", "call", ref, args, "temporary", None, "worker", False, {})


@pytest.fixture(autouse=True)
def _clean():
    RAN.clear()


def test_a_bad_spec_is_answered_invalid_child_spec_not_raised(proc):
    vm.trap_exit(True)
    sup = start_link([])
    status, (kind, text) = start_child(sup, ChildSpec("b", (idle, ()), restart="bogus"))
    assert (status, kind) == ("error", "invalid_child_spec")
    assert "invalid restart 'bogus'" in text
    status, (kind, text) = start_child(sup, ChildSpec("s", start_idle, shutdown=-1))
    assert (status, kind) == ("error", "invalid_child_spec") and "shutdown" in text
    assert which_children(sup) == []


@pytest.mark.parametrize("ref", [
    f"{__name__}:mark",  # importable, but named in a message
    "os:system",
    "$local:" + "0" * 32,  # a token this OS process never made
    "$local:",
    7,
])
def test_a_start_function_named_in_a_message_is_refused_and_never_runs(proc, ref):
    vm.trap_exit(True)
    sup = start_link([])
    status, (kind, text) = call(sup, ("start_child", _forged_spec(ref, ("echo pwned",))))
    assert (status, kind) == ("error", "invalid_child_spec")
    assert "forged" in text
    assert RAN == []
    assert which_children(sup) == []


def test_a_class_or_function_named_in_simple_one_for_one_args_is_refused(proc):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("t", mark, restart="temporary")],
                     strategy="simple_one_for_one")
    reply = call(sup, ("start_child", ("args", (("$ref", f"{__name__}:mark"),))))
    assert reply[0] == "error" and reply[1][0] == "invalid_child_spec"
    assert "never imported by name" in reply[1][1]
    assert RAN == []
    # The honest path still works: a function among the arguments travels.
    assert start_child(sup, [mark]) == ("ok", None)
    assert RAN == [(mark,)]


def test_in_process_callers_keep_passing_functions(proc):
    vm.trap_exit(True)
    sup = start_link([])
    status, cap = start_child(sup, ChildSpec("w", start_idle))
    assert status == "ok" and type(cap) is vm.Cap
    status, sub = start_child(sup, supervisor_spec("sub", [ChildSpec("i", (idle, ()))]))
    assert status == "ok" and [c.id for c in which_children(sub)] == ["i"]


def test_allowed_starts_are_the_names_a_supervisor_takes(proc):
    vm.trap_exit(True)
    sup = start_link([ChildSpec("first", "idle-worker")],
                     allowed_starts={"idle-worker": start_idle, "mark": mark})
    assert [c.id for c in which_children(sup)] == ["first"]
    status, cap = start_child(sup, ChildSpec("second", "idle-worker"))
    assert status == "ok" and type(cap) is vm.Cap
    # From a message, by name: only these names.
    assert call(sup, ("start_child", _forged_spec("mark", (1,)))) == ("ok", None)
    assert RAN == [(1,)]
    status, (kind, text) = call(sup, ("start_child", _forged_spec("os:system")))
    assert (status, kind) == ("error", "invalid_child_spec")
    assert "['idle-worker', 'mark']" in text


def test_start_link_refuses_a_name_it_was_not_given(proc):
    with pytest.raises(ValueError, match="not one of allowed_starts"):
        start_link([ChildSpec("w", "nope")], allowed_starts={"idle-worker": start_idle})
    with pytest.raises(ValueError, match="not a name"):
        start_link([], allowed_starts={"$local:x": start_idle})


def test_a_child_supervisors_names_are_resolved_by_that_supervisor(proc):
    vm.trap_exit(True)
    sup = start_link([])  # no allowed starts of its own
    sub = supervisor_spec("sub", [ChildSpec("w", "idle-worker")],
                          allowed_starts={"idle-worker": start_idle})
    status, cap = start_child(sup, sub)
    assert status == "ok"
    assert [c.id for c in which_children(cap)] == ["w"]
    # A name the child supervisor was not given fails its start, naming why.
    bad = supervisor_spec("bad", [ChildSpec("w", "mark")],
                          allowed_starts={"idle-worker": start_idle})
    status, reason = start_child(sup, bad)
    assert status == "error" and "not one of allowed_starts" in repr(reason)
    assert RAN == []


def _takes_a_function(fn, report):
    report.send(fn.__qualname__.encode())
    report.release()
    vm.recv()


@pytest.mark.parametrize("fn", [vm.recv, vm.spawn, call, start_link])
def test_a_kernel_or_otp_function_passes_as_a_start_argument(proc, fn):
    # Functions of the compiled hot paths (vm.recv, otp.call, ...) are not
    # `inspect.isfunction`: they must still travel as references, as the
    # same functions do when the kernel runs from source.
    sup = start_link([], "one_for_one")
    me = vm.make_capability(vm.SEND)
    got = start_child(sup, ChildSpec("taker", (_takes_a_function, (fn, me))))
    assert got[0] == "ok", got
    assert vm.recv(timeout=5).data == fn.__qualname__.encode()
