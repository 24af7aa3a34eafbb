"""Test guests used by several test modules, in WAT."""

from .wat import data, module

# Echo: for each message on mailbox 0, send its bytes and capabilities back
# through the *first capability it carries*; an empty message ends it.
ECHO_VIA_REPLY_CAP = module(
    """
    (func (export "run") (local $s i32) (local $n i32) (local $c i32)
      (loop $l
        (local.set $s (call $recv (i32.const 0)))
        (local.set $n (call $get_message_data_len (local.get $s)))
        (local.set $c (call $get_message_caps_num (local.get $s)))
        (call $get_message_data (local.get $s) (i32.const 1024))
        (call $get_message_caps (local.get $s) (i32.const 512))
        (call $destroy_signal (local.get $s))
        (br_if 1 (i32.eqz (local.get $n)))
        ;; reply through caps[0], passing along caps[1..]
        (call $send (i32.load (i32.const 512)) (i32.const 1024) (local.get $n)
                    (i32.const 516) (i32.sub (local.get $c) (i32.const 1)))
        (br $l)))""",
    "recv", "get_message_data_len", "get_message_caps_num", "get_message_data",
    "get_message_caps", "destroy_signal", "send",
)

# Echo to handle 0: for each message on mailbox 0, send its bytes back
# through capability 0 (the one it was spawned with); empty ends it.
ECHO_TO_CAP0 = module(
    """
    (func (export "run") (local $s i32) (local $n i32)
      (loop $l
        (local.set $s (call $recv (i32.const 0)))
        (local.set $n (call $get_message_data_len (local.get $s)))
        (call $get_message_data (local.get $s) (i32.const 1024))
        (call $destroy_signal (local.get $s))
        (br_if 1 (i32.eqz (local.get $n)))
        (call $send (i32.const 0) (i32.const 1024) (local.get $n) (i32.const 0) (i32.const 0))
        (br $l)))""",
    "recv", "get_message_data_len", "get_message_data", "destroy_signal", "send",
)

# Relay to handle 0: for each message on mailbox 0, its bytes go on through
# capability 0, forever (an empty one too); 4 pages, for long replies. Spawned
# charged to an account, it is a reply route of that account's own (a
# peer's request is answered only through one).
RELAY_TO_CAP0 = module(
    """
    (func (export "run") (local $s i32)
      (loop $l
        (local.set $s (call $recv (i32.const 0)))
        (call $get_message_data (local.get $s) (i32.const 0))
        (call $send (i32.const 0) (i32.const 0) (call $get_message_data_len (local.get $s))
                    (i32.const 0) (i32.const 0))
        (call $destroy_signal (local.get $s))
        (br $l)))""",
    "recv", "get_message_data_len", "get_message_data", "destroy_signal", "send", memory=4,
)

# Blocks in recv on mailbox 0 forever.
WAIT_FOREVER = module(
    '(func (export "run") (loop $l (drop (call $recv (i32.const 0))) (br $l)))', "recv"
)

# Spins without ever calling the host.
SPIN = module('(func (export "run") (loop $l (br $l)))')

# Traps at once.
UNREACHABLE = module('(func (export "run") unreachable)')


def exit_with_reason(reason_msgpack):
    """A guest that exits with the given msgpack-encoded reason."""
    return module(
        data(0, reason_msgpack)
        + f'(func (export "run") (call $exit (i32.const 0) (i32.const {len(reason_msgpack)})))',
        "exit",
    )
