"""The attacker's guests, as wasm binaries a peer hands the server's spawner.

Each is small WAT compiled to a wasm binary here (peers send binaries; the
spawner refuses anything that is neither wasm nor WAT before storing it).
"""

import wasmtime

from tests.wasm.wat import data, module

# `$idle` waits forever; so does `_hearth_spawn_by_index(i)`, the entry
# point of the children the spawning guests ask for.
_IDLE_FUNCS = """
  (func $idle (loop $l (drop (call $recv (i32.const 0))) (br $l)))
  (func (export "_hearth_spawn_by_index") (param i32) (call $idle))
"""

IDLE = module(_IDLE_FUNCS + '(func (export "run") (call $idle))', "recv")

# caps: 0 = the spawner, 1 = where to report. Asks the spawner for copies
# of itself (entry 0: they idle) until a reply is an error; then sends the
# error reply's bytes, then the number of guests it got (u32), to cap 1.
# The request is ["spawn", <its own lump id>, 0]: 93 a5 "spawn" c4 20 id 00.
SPAWN_LOOP = module(
    data(0, b"\x93\xa5spawn\xc4\x20") + data(41, b"\x00") + _IDLE_FUNCS + """
  (func (export "run") (local $reply i32) (local $sig i32) (local $len i32) (local $n i32)
    (call $this_lump (i32.const 9))
    (local.set $reply (call $make_capability (i32.const 0) (i32.const 1)))
    (i32.store (i32.const 100) (local.get $reply))
    (block $done
      (loop $l
        (call $send (i32.const 0) (i32.const 0) (i32.const 42) (i32.const 100) (i32.const 1))
        (local.set $sig (call $recv (i32.const 0)))
        (local.set $len (call $get_message_data_len (local.get $sig)))
        (call $get_message_data (local.get $sig) (i32.const 200))
        (call $destroy_signal (local.get $sig))
        ;; {"ok": ...} is 81 a2 6f 6b; {"err": ...} is 81 a3 65 72 72
        (br_if $done (i32.eq (i32.load8_u (i32.const 201)) (i32.const 0xa3)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $l)))
    (call $send (i32.const 1) (i32.const 200) (local.get $len) (i32.const 0) (i32.const 0))
    (i32.store (i32.const 150) (local.get $n))
    (call $send (i32.const 1) (i32.const 150) (i32.const 4) (i32.const 0) (i32.const 0))
    (call $idle))
""",
    "this_lump", "make_capability", "send", "recv", "get_message_data_len",
    "get_message_data", "destroy_signal",
)

# Spawns children (entry 0: they idle) through the ABI until it can't.
ABI_SPAWN_LOOP = module(_IDLE_FUNCS + """
  (func (export "run")
    (loop $l (drop (call $spawn_by_index (i32.const 0) (i32.const 0) (i32.const 0))) (br $l)))
""", "recv", "spawn_by_index")

# caps: 0 = where to report. Asks for 65536 pages at once, then grows a
# page at a time until memory.grow fails; reports (u32 each) the result of
# the big grow and the pages it has then, and waits.
MEMORY_GROW = module(_IDLE_FUNCS + """
  (func (export "run")
    (i32.store (i32.const 0) (memory.grow (i32.const 65536)))
    (block $full (loop $l
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $l)))
    (i32.store (i32.const 4) (memory.size))
    (call $send (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0))
    (call $idle))
""", "recv", "send")

# Spins in wasm and never calls the host.
SPIN = module("""
  (func (export "run") (loop $l (br $l)))
""")


def wasm(wat_text):
    """The wasm binary of `wat_text`."""
    return wasmtime.wat2wasm(wat_text)
