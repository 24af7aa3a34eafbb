"""No request from a peer makes hearth-server run host code or act by pid.

A peer holds only what the allow-list gives it. Here it tries every admin
request it might know on every capability it can name: a supervisor's
``start_child`` naming ``os:system`` (attack 2: it used to import and call
any ``"module:qualname"``), ``which_children`` (capabilities to every
child), init's ``reload_services``, the inspector's ``kill``/``reload``/
``upgrade`` (attack 4: pids as authority), a guest front's ``upgrade``,
and pickles (nothing in Hearth unpickles). Each one is refused, in words a
person can read, and nothing changes: no file, no process, no name.
"""

import pathlib
import pickle

import pytest

from hearth import otp, vm
from hearth._entry import bundled_root
from hearth.native import request

from tests.security.surface_helpers import PEER_NAMES, ask


class _Pwn:
    """A pickle that runs a shell command when unpickled."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        import os

        return (os.system, (self.command,))


def _forged_spec(ref, args):
    return ("$childspec", "pwn", "call", ref, args, "temporary", None, "worker", False, {})


def _attacks(marker, pid, lump):
    command = f"touch {marker}"
    return [
        ("start_child", _forged_spec("os:system", (command,))),
        ("start_child", _forged_spec("subprocess:getoutput", (command,))),
        ("start_child", ("args", (("$ref", "os:system"), command))),
        ("which_children",),
        ("count_children",),
        ("terminate_child", "clock"),
        "reload_services",
        "services",
        "exposed",
        ["kill", pid],
        ["restart", pid],
        ["reload", "os"],
        ["upgrade", "counter-guest", lump],
        ["upgrade", lump],
        "status",
        ["lump_put", pickle.dumps(_Pwn(command)), None],
        ["put", "init/clock/service.py", lump],
        pickle.dumps(_Pwn(command)),  # as the whole message, raw
        ["echo", pickle.dumps(_Pwn(command))],
    ]


def _caps_in(term, out):
    if type(term) is vm.Cap:
        out.append(term)
    elif isinstance(term, (tuple, list)):
        for t in term:
            _caps_in(t, out)
    elif isinstance(term, dict):
        for t in term.values():
            _caps_in(t, out)
    return out


def _clock_pid(server):
    from hearth.ctl import _ask

    with server.operator() as op:
        rows = _ask(op.root, "ps")["processes"]
    return next(r["pid"] for r in rows if r["name"] == "clock")


def _counter_at(n, attacker, proc):
    """The exposed counter guest, reset and counted up to `n`, and a wasm
    lump (the debug grid's) in the attacker's store for upgrade attempts."""
    counter = otp.lookup(attacker.root, "counter-guest")
    request(counter, "reset")
    request(counter, ["add", n])
    wasm = (pathlib.Path(bundled_root()) / "init" / "debug-grid" / "grid.wasm").read_bytes()
    return counter, bytes(proc.runtime.lumps.put(wasm))


def test_no_admin_request_works_on_anything_a_peer_holds(hearth_server, attacker, proc,
                                                          tmp_path):
    marker = tmp_path / "pwned"
    counter, lump = _counter_at(5, attacker, proc)
    before = hearth_server.snapshot()
    attacks = _attacks(marker, _clock_pid(hearth_server), lump)
    answers = {}
    reachable = otp.registered(attacker.root)
    assert set(reachable) == PEER_NAMES
    for name in reachable:
        cap = otp.lookup(attacker.root, name)
        try:
            for i, term in enumerate(attacks):
                # Both envelopes: a service's request and a gen_server's call.
                wrapped = term if isinstance(term, bytes) else ("$call", b"tag", term)
                for form, data in (("request", term), ("call", wrapped)):
                    reply = ask(cap, data)
                    found = _caps_in(reply, [])
                    for c in found:
                        c.release()
                    assert found == [], (name, term, reply)
                    answers[(name, i, form)] = reply
        finally:
            cap.release()
    assert not marker.exists(), "a peer ran a shell command in the server"
    silent = sorted({k[0] for k, r in answers.items() if r is None})
    assert silent == [], silent
    # Every answer that came is an error a person can read.
    for key, reply in answers.items():
        name, i, form = key
        if name == "clock" and form == "request" and attacks[i][0] == "echo":
            assert reply == {"ok": attacks[i][1]}  # the pickle comes back as bytes, unread
            continue
        assert type(reply) is dict and set(reply) == {"err"}, (key, reply)
        assert reply["err"]["kind"] == "invalid_request", (key, reply)
        assert type(reply["err"]["message"]) is str and reply["err"]["message"], (key, reply)
    # The guest service still runs its first module, with its count.
    assert request(counter, "get") == 5
    counter.release()
    hearth_server.assert_unchanged(before)


@pytest.mark.parametrize("op", ["upgrade", "status"])
def test_a_guest_services_clients_cannot_reach_its_front(hearth_server, attacker, proc, op):
    """The front's control mailbox (upgrade, status) is never registered:
    what a client sends is forwarded to the guest, which knows no such op."""
    counter, lump = _counter_at(3, attacker, proc)
    before = hearth_server.snapshot()
    with pytest.raises(otp.ServiceError) as info:
        request(counter, [op, lump] if op == "upgrade" else op)
    assert info.value.kind == "invalid_request"
    assert "unknown op; one of get, add, reset" in info.value.message
    assert request(counter, "get") == 3  # the same guest, its count kept
    counter.release()
    hearth_server.assert_unchanged(before)
