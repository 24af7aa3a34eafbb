"""A guest can use only the handles it was given, and only its own memory."""

from hearth import vm
from hearth.vm import SEND
from hearth.vm._wasm import spawn_guest

from .wat import data, module

# Sends 4 bytes at 0 through capability `handle`.
def _sender(handle):
    return module(
        data(0, "sent")
        + f'(func (export "run") (call $send (i32.const {handle}) (i32.const 0) (i32.const 4)'
        " (i32.const 0) (i32.const 0)))",
        "send",
    )


def test_a_handle_means_nothing_in_another_guests_table(proc):
    me = vm.make_capability(SEND)
    other = vm.create_mailbox().make_capability(SEND)
    # The first guest holds two capabilities, so handle 1 is live in its table...
    spawn_guest(_sender(1), other, me, monitor=True)
    assert vm.recv(timeout=10).data == b"sent"
    assert vm.recv(timeout=10).reason == vm.NORMAL
    # ...but not in the table of a guest given only one.
    spawn_guest(_sender(1), other, monitor=True)
    assert vm.recv(timeout=10).reason[2] == "hearth::table::send: unknown capability handle 1"


def test_a_guest_given_nothing_can_reach_nobody(proc):
    spawn_guest(_sender(0), monitor=True)
    assert vm.recv(timeout=10).reason[2] == "hearth::table::send: unknown capability handle 0"


def test_a_released_handle_cannot_be_used_again(proc):
    guest = module(
        '(func (export "run") (call $dec_ref (i32.const 0)) (call $inc_ref (i32.const 0)))',
        "dec_ref", "inc_ref",
    )
    spawn_guest(guest, vm.make_capability(SEND), monitor=True)
    assert vm.recv(timeout=10).reason[2] == "hearth::table::inc_ref: unknown capability handle 0"


# Writes a secret at 100 and waits; or (the snoop) sends the 6 bytes at 100.
KEEPER = module(
    data(100, "secret")
    + '(func (export "run") (drop (call $recv (i32.const 0))))',
    "recv",
)
SNOOP = module(
    '(func (export "run") (call $send (i32.const 0) (i32.const 100) (i32.const 6)'
    " (i32.const 0) (i32.const 0)))",
    "send",
)


def test_guests_have_separate_memories(proc):
    keeper = spawn_guest(KEEPER)
    proc.runtime.wait_all_blocked()
    spawn_guest(SNOOP, vm.make_capability(SEND))
    assert vm.recv(timeout=10).data == bytes(6)
    keeper.kill()


def test_a_pointer_beyond_the_guests_own_memory_traps(proc):
    keeper = spawn_guest(KEEPER)  # another guest's memory exists...
    guest = module(
        '(func (export "run") (call $send (i32.const 0) (i32.const 65536) (i32.const 1)'
        " (i32.const 0) (i32.const 0)))",
        "send",
    )
    spawn_guest(guest, vm.make_capability(SEND), monitor=True)  # ...but is out of reach
    reason = vm.recv(timeout=10).reason
    assert reason[2].startswith("hearth::table::send: bad pointer: 1 bytes at 0x10000")
    keeper.kill()


def test_a_guest_can_write_received_data_only_inside_its_memory(proc):
    guest = module(
        """(func (export "run")
             (call $get_message_data (call $recv (i32.const 0)) (i32.const 65534)))""",
        "recv", "get_message_data",
    )
    cap, ref = spawn_guest(guest, monitor=True)
    cap.send(b"four")
    reason = vm.recv(timeout=10).reason
    assert reason[2].startswith("hearth::mailbox::get_message_data: bad pointer: 4 bytes at 0xfffe")
