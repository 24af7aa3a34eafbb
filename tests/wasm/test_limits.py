"""Guest limits from host Python: an account of the operator's own, the CPU
slice, and the limits' checks."""

import pytest

from hearth import vm
from hearth.vm._wasm import spawn_guest

from .wat import module

IDLE = module("""
  (func (export "run") (loop $l (drop (call $recv (i32.const 0))) (br $l)))
""", "recv")
SPIN = module('(func (export "run") (loop $l (br $l)))')


def _down(ref, timeout=30):
    sig = vm.recv(timeout=timeout)
    assert isinstance(sig, vm.Down) and sig.ref == ref, sig
    return sig


def test_a_spinning_guest_with_a_cpu_slice_traps_naming_the_slice(proc):
    guest, ref = spawn_guest(SPIN, monitor=True, cpu_slice=0.1)
    reason = _down(ref).reason
    assert reason[:2] == ("error", "Trap")
    assert reason[2].startswith("cpu slice: ran ") and "over its slice of 0.1 s" in reason[2]


def test_a_cpu_slice_must_be_positive(proc):
    with pytest.raises(ValueError, match="cpu_slice"):
        spawn_guest(IDLE, cpu_slice=0)


def test_an_account_of_the_operator_s_bounds_its_live_guests(proc):
    account = proc.runtime.accounts.open("tenant", vm.GuestLimits(max_guests=2))
    a = spawn_guest(IDLE, account=account)
    b, ref = spawn_guest(IDLE, account=account, monitor=True)
    with pytest.raises(vm.QuotaExceeded, match=r"tenant has 2 live guests.*max_guests=2"):
        spawn_guest(IDLE, account=account)
    b.kill()
    _down(ref)
    c = spawn_guest(IDLE, account=account)  # room again
    assert len(account.guests) == 2
    for cap in (a, b, c):
        cap.kill()
        cap.release()


def test_guests_spawned_by_a_charged_guest_are_charged_too(proc):
    parent_wat = module("""
  (func $idle (loop $l (drop (call $recv (i32.const 0))) (br $l)))
  (func (export "_hearth_spawn_by_index") (param i32) (call $idle))
  (func (export "run")
    (drop (call $spawn_by_index (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $spawn_by_index (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $spawn_by_index (i32.const 0) (i32.const 0) (i32.const 0))))
""", "recv", "spawn_by_index")
    account = proc.runtime.accounts.open("tenant", vm.GuestLimits(max_guests=3))
    parent, ref = spawn_guest(parent_wat, account=account, monitor=True)
    reason = _down(ref).reason
    assert "QuotaExceeded" in reason[2] and "max_guests=3" in reason[2], reason
    children = list(account.guests)
    assert len(children) == 2  # its two children; the third was refused
    account.close()
    assert [p.reason for p in children] == [("shutdown", "noconnection")] * 2
    assert not account.guests


def test_closing_an_account_spares_guests_linked_to_host_python(proc):
    account = proc.runtime.accounts.open("tenant")
    vm.trap_exit(True)
    kept = spawn_guest(IDLE, account=account, link=True)
    dropped, ref = spawn_guest(IDLE, account=account, monitor=True)
    kept_proc, = [p for p in account.guests if p.links]
    account.close()
    assert _down(ref).reason == ("shutdown", "noconnection")
    assert kept_proc.reason is None and kept_proc.account is None
    with pytest.raises(vm.QuotaExceeded, match="is gone"):
        spawn_guest(IDLE, account=account)
    kept.kill()
    exit_sig = vm.recv(timeout=10)
    assert isinstance(exit_sig, vm.Exit) and exit_sig.reason == "killed"
    kept.release()
    dropped.release()


def test_an_account_s_memory_pages_lower_the_memory_cap(proc):
    account = proc.runtime.accounts.open("tenant", vm.GuestLimits(memory_pages=2))
    grow = module("""
  (func (export "run")
    (i32.store (i32.const 0) (memory.grow (i32.const 1)))
    (i32.store (i32.const 4) (memory.grow (i32.const 1)))
    (call $send (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0)))
""", "send")
    spawn_guest(grow, vm.make_capability(vm.SEND), account=account).release()
    got = vm.recv(timeout=30).data
    assert [int.from_bytes(got[i:i + 4], "little", signed=True) for i in (0, 4)] == [1, -1]


@pytest.mark.parametrize("field, bad", [
    ("max_guests", -1), ("memory_pages", 1.5), ("max_lumps", "many"), ("cpu_slice", 0),
    ("cpu_slice", -2.0), ("max_lump_bytes", -5),
])
def test_limits_out_of_range_are_refused_with_the_field_named(field, bad):
    with pytest.raises(ValueError, match=f"GuestLimits.{field}"):
        vm.GuestLimits(**{field: bad})


def test_a_runtime_takes_its_peer_limits(proc):
    rt = vm.Runtime(guest_limits=vm.GuestLimits(max_guests=7))
    assert rt.accounts.peer_limits.max_guests == 7
    with pytest.raises(TypeError):
        vm.Runtime(guest_limits={"max_guests": 7})
