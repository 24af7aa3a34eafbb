"""Every kind of trap ends only the guest that trapped, with a reason that
names the trap, and its links and monitors fire."""

import pytest

from hearth import vm
from hearth.vm import SEND
from hearth.vm._wasm import spawn_guest

from .guests import ECHO_TO_CAP0
from .wat import data, module

CASES = {
    # wasm traps
    "unreachable": (
        module('(func (export "run") unreachable)'),
        "run: wasm trap: wasm `unreachable` instruction executed",
    ),
    "out-of-bounds load": (
        module('(func (export "run") (drop (i32.load (i32.const 65535))))'),
        "run: wasm trap: memory out of bounds",
    ),
    "stack overflow": (
        module('(func $f (export "run") (call $f))'),
        "run: wasm trap: call stack exhausted",
    ),
    "division by zero": (
        module('(func (export "run") (drop (i32.div_u (i32.const 1) (i32.const 0))))'),
        "run: wasm trap: integer divide by zero",
    ),
    "indirect call to nothing": (
        module('(table 1 funcref) (func (export "run") (call_indirect (i32.const 0)))'),
        "run: wasm trap:",
    ),
    "trap in _hearth_init": (
        module('(func (export "_hearth_init") unreachable) (func (export "run"))'),
        "_hearth_init: wasm trap: wasm `unreachable` instruction executed",
    ),
    "initial memory above the cap": (
        module('(func (export "run"))', memory=300),  # 300 pages > 16 MiB
        "instantiate: memory minimum size of 300 pages exceeds memory limits",
    ),
    # ABI misuse
    "unknown capability handle": (
        module('(func (export "run") (call $kill (i32.const 9)))', "kill"),
        "hearth::table::kill: unknown capability handle 9",
    ),
    "missing permission": (
        module('(func (export "run") (call $kill (i32.const 0)))', "kill"),
        "hearth::table::kill: capability 0 lacks KILL",
    ),
    "demote asking for more": (
        module('(func (export "run") (drop (call $demote (i32.const 0) (i32.const 3))))', "demote"),
        "hearth::table::demote: capability 0 lacks MONITOR",
    ),
    "bad pointer": (
        module(
            '(func (export "run") (call $send (i32.const 0) (i32.const 65000) (i32.const 1000)'
            " (i32.const 0) (i32.const 0)))",
            "send",
        ),
        "hearth::table::send: bad pointer: 1000 bytes at 0xfde8 are outside the guest's memory",
    ),
    "pointer that would wrap around": (
        module(
            '(func (export "run") (call $send (i32.const 0) (i32.const -1) (i32.const 2)'
            " (i32.const 0) (i32.const 0)))",
            "send",
        ),
        "hearth::table::send: bad pointer: 2 bytes at 0xffffffff",
    ),
    "bad capability in a message": (
        module(
            data(0, b"\x05\x00\x00\x00")
            + '(func (export "run") (call $send (i32.const 0) (i32.const 0) (i32.const 0)'
            " (i32.const 0) (i32.const 1)))",
            "send",
        ),
        "hearth::table::send: unknown capability handle 5",
    ),
    "no memory exported": (
        module(
            '(func (export "run") (call $send (i32.const 0) (i32.const 0) (i32.const 4)'
            " (i32.const 0) (i32.const 0)))",
            "send",
            memory=None,
        ),
        "hearth::table::send: the module exports no memory named `memory`",
    ),
    "bad UTF-8": (
        module(
            data(0, b"ok\xff")
            + '(func (export "run") (call $log (i32.const 2) (i32.const 0) (i32.const 2)'
            " (i32.const 0) (i32.const 3)))",
            "log",
        ),
        "hearth::log::log: bad UTF-8 at 0x0: invalid start byte at byte 2",
    ),
    "bad log level": (
        module('(func (export "run") (call $log (i32.const 5) (i32.const 0) (i32.const 0)'
               " (i32.const 0) (i32.const 0)))", "log"),
        "hearth::log::log: log level 5 is not 0..4",
    ),
    "wrong phase (kernel call while describing itself)": (
        module('(func (export "_hearth_metadata") (drop (call $create))) (func (export "run"))',
               "create"),
        "hearth::mailbox::create: not allowed in the metadata phase",
    ),
    "wrong phase (describing itself while running)": (
        module('(func (export "run") (call $set_license (i32.const 0) (i32.const 0)))',
               "set_license"),
        "hearth::metadata::set_license: not allowed in the running phase",
    ),
    "unknown mailbox": (
        module('(func (export "run") (drop (call $recv (i32.const 3))))', "recv"),
        "hearth::mailbox::recv: unknown mailbox handle 3",
    ),
    "destroying the parent mailbox": (
        module('(func (export "run") (call $destroy (i32.const 0)))', "destroy"),
        "hearth::mailbox::destroy: the parent mailbox (0) can't be destroyed",
    ),
    "unknown signal handle": (
        module('(func (export "run") (call $destroy_signal (i32.const 0)))', "destroy_signal"),
        "hearth::mailbox::destroy_signal: unknown signal handle 0",
    ),
    "using a Down as a message": (
        module(
            """(func (export "run")
                 (drop (call $create))
                 (call $monitor (i32.const 0) (call $make_capability (i32.const 1) (i32.const 2)))
                 (call $destroy (i32.const 1))
                 (drop (call $get_message_data_len (call $recv (i32.const 0)))))""",
            "create", "monitor", "make_capability", "destroy", "get_message_data_len", "recv",
        ),
        "hearth::mailbox::get_message_data_len: signal 0 is a Down, not a Message",
    ),
    "exit reason that is not msgpack": (
        module(data(0, b"\xc1") + '(func (export "run") (call $exit (i32.const 0) (i32.const 1)))',
               "exit"),
        "hearth::process::exit: the reason is not msgpack",
    ),
    "negative timeout": (
        module('(func (export "run") (drop (call $recv_timeout (i32.const 0) (i64.const -1))))',
               "recv_timeout"),
        "hearth::process::recv_timeout: a timeout can't be negative",
    ),
    "linking without LINK": (
        module('(func (export "run") (call $link (i32.const 0)))', "link"),
        "hearth::process::link: capability 0 lacks LINK",
    ),
    "spawning by index without the entry point": (
        module('(func (export "run") (drop (call $spawn_by_index (i32.const 0) (i32.const 0)'
               " (i32.const 0))))", "spawn_by_index"),
        "hearth::process::spawn_by_index: the module exports no function `_hearth_spawn_by_index`",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_trap_ends_only_that_guest_with_a_reason_naming_it(proc, case):
    guest, expected = CASES[case]
    runtime = proc.runtime
    bystander = spawn_guest(ECHO_TO_CAP0, vm.make_capability(SEND))
    python_bystander = vm.spawn(vm.recv)
    vm.trap_exit(True)
    target = vm.spawn(vm.recv).demote(SEND)  # what the guest gets as handle 0
    cap, ref = spawn_guest(guest, target, link=True, monitor=True)

    signals = [vm.recv(timeout=10), vm.recv(timeout=10)]
    (exit_signal,) = [s for s in signals if isinstance(s, vm.Exit)]
    (down,) = [s for s in signals if isinstance(s, vm.Down)]
    assert down.ref == ref and exit_signal.cap.same_route(cap)
    assert exit_signal.reason == down.reason
    kind, name, message, text = down.reason
    assert (kind, name) == ("error", "Trap")
    assert message.startswith(expected), message
    assert vm.format_reason(down.reason) == f"Trap: {message}"
    assert text  # wasmtime's report
    vm.check_reason(down.reason)  # plain data

    # Nobody else was touched: the test, both bystanders and the target live.
    assert [p.reason for p in runtime.processes()] == [None] * 4
    bystander.send(b"still here")
    assert vm.recv(timeout=10).data == b"still here"
    python_bystander.send(b"")


# Reports, through capability 0: memory.grow by 1 page (old size) and by a
# page count that passes the cap (-1), then memory.size in pages.
GROWER = module(
    """(func (export "run")
         (i32.store (i32.const 0) (memory.grow (i32.const 1)))
         (i32.store (i32.const 4) (memory.grow (i32.const 100)))
         (i32.store (i32.const 8) (memory.size))
         (call $send (i32.const 0) (i32.const 0) (i32.const 12) (i32.const 0) (i32.const 0)))""",
    "send",
)


def test_memory_growth_past_the_cap_fails_and_leaves_the_memory_as_it_was(proc):
    spawn_guest(GROWER, vm.make_capability(SEND), memory_limit=4 * 65536)
    report = vm.recv(timeout=10).data
    old, failed, pages = (int.from_bytes(report[i:i + 4], "little", signed=True) for i in (0, 4, 8))
    assert (old, failed, pages) == (1, -1, 2)


def test_a_memory_limit_above_the_reservation_is_refused(proc):
    with pytest.raises(ValueError, match="memory_reservation"):
        spawn_guest(GROWER, memory_limit=1 << 40)
