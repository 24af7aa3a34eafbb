"""``hearth::lump``: a guest names its own module, stores and loads lumps."""

from hearth import vm
from hearth.vm import SEND, lump_id
from hearth.vm._wasm import load_module, spawn_guest

from .wat import data, module

# Sends its own lump id (32 bytes) through capability 0.
WHO_AM_I = module(
    """(func (export "run")
         (call $this_lump (i32.const 0))
         (call $send (i32.const 0) (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 0)))""",
    "this_lump", "send",
)


def test_this_lump_is_the_id_of_the_modules_source(proc):
    spawn_guest(WHO_AM_I, vm.make_capability(SEND))
    assert vm.recv(timeout=10).data == lump_id(WHO_AM_I.encode())


def test_a_guest_module_can_be_spawned_by_lump_id(proc):
    lid = proc.runtime.lumps.put(WHO_AM_I.encode())
    spawn_guest(lid, vm.make_capability(SEND))
    assert vm.recv(timeout=10).data == lid


def test_this_lump_traps_for_a_module_handed_over_compiled(proc):
    import wasmtime

    compiled = wasmtime.Module(proc.runtime.engine, WHO_AM_I)
    spawn_guest(compiled, vm.make_capability(SEND), monitor=True)
    assert vm.recv(timeout=10).reason[2].startswith("hearth::lump::this_lump: this guest's module")
    assert load_module(compiled).lump_id is None


# Stores "payload" as a lump, frees the handle, loads it again by id, and
# sends (its id, its length as u32, its data) through capability 0.
ROUND_TRIP = module(
    data(0, "payload")
    + """(func (export "run") (local $h i32) (local $n i32)
           (local.set $h (call $load (i32.const 0) (i32.const 7)))
           (call $get_id (local.get $h) (i32.const 100))
           (call $free (local.get $h))
           (local.set $h (call $load_by_id (i32.const 100)))
           (local.set $n (call $get_len (local.get $h)))
           (i32.store (i32.const 132) (local.get $n))
           (call $get_data (local.get $h) (i32.const 136))
           (call $send (i32.const 0) (i32.const 100) (i32.add (i32.const 36) (local.get $n))
                       (i32.const 0) (i32.const 0)))""",
    "load", "get_id", "free", "load_by_id", "get_len", "get_data", "send",
)


def test_a_guest_stores_and_loads_lumps(proc):
    spawn_guest(ROUND_TRIP, vm.make_capability(SEND))
    report = vm.recv(timeout=10).data
    assert report[:32] == lump_id(b"payload")
    assert int.from_bytes(report[32:36], "little") == 7 and report[36:] == b"payload"
    assert proc.runtime.lumps.get(lump_id(b"payload")) == b"payload"


def test_loading_an_unknown_lump_traps(proc):
    guest = module('(func (export "run") (drop (call $load_by_id (i32.const 0))))', "load_by_id")
    spawn_guest(guest, monitor=True)
    reason = vm.recv(timeout=10).reason
    assert reason[2] == f"hearth::lump::load_by_id: no lump {bytes(32).hex()}"


def test_a_freed_lump_handle_traps(proc):
    guest = module(
        '(func (export "run") (local $h i32)'
        " (local.set $h (call $load (i32.const 0) (i32.const 1)))"
        " (call $free (local.get $h)) (drop (call $get_len (local.get $h))))",
        "load", "free", "get_len",
    )
    spawn_guest(guest, monitor=True)
    assert vm.recv(timeout=10).reason[2] == "hearth::lump::get_len: unknown lump handle 0"
