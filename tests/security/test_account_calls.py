"""What a guest can learn through ``hearth::account`` (docs/abi.md), and
what the host keeps for it, against real wasm guests and real accounts.

The calls exist so that a guest service (the chat room) can hold each peer
to its own bounds. They must not become a way for one party's guest to
learn another's private data: a peer's guest reads no other account's name
(a peer's name is its address), the ids it gets are its own numbering and
carry nothing else, a message relayed by a service carries the service's
account, not the original sender's, and nothing a guest does makes the
host keep more than what exists anyway.

The probe is WAT (no toolchain needed, and a peer can send it as is). It
answers on the reply capability of each message with caps, by the first
data byte: ``i`` -> u32s [mine, of_message, is_closed(of_message)];
``n`` + u32 id -> that account's name; ``c`` + u32 id -> is_closed(id);
``l`` -> the of_message of the last message that came without capabilities
(a chat post), or 0xFFFFFFFF if none did.
"""

import gc
import struct

from hearth import otp, vm
from hearth.native import request
from hearth.vm import MONITOR, SEND, Message

PROBE = r"""
(module
  (import "hearth::mailbox" "recv" (func $recv (param i32) (result i32)))
  (import "hearth::mailbox" "get_message_data_len" (func $len (param i32) (result i32)))
  (import "hearth::mailbox" "get_message_data" (func $data (param i32 i32)))
  (import "hearth::mailbox" "get_message_caps_num" (func $ncaps (param i32) (result i32)))
  (import "hearth::mailbox" "get_message_caps" (func $caps (param i32 i32)))
  (import "hearth::mailbox" "destroy_signal" (func $destroy (param i32)))
  (import "hearth::table" "send" (func $send (param i32 i32 i32 i32 i32)))
  (import "hearth::account" "of_message" (func $of_message (param i32) (result i32)))
  (import "hearth::account" "mine" (func $mine (result i32)))
  (import "hearth::account" "is_closed" (func $is_closed (param i32) (result i32)))
  (import "hearth::account" "name" (func $name (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "\ff\ff\ff\ff")
  (func (export "run")
    (local $sig i32) (local $acct i32) (local $cmd i32) (local $n i32)
    (loop $serve
      (local.set $sig (call $recv (i32.const 0)))
      (local.set $acct (call $of_message (local.get $sig)))
      (if (i32.gt_u (call $len (local.get $sig)) (i32.const 60))
        (then (call $destroy (local.get $sig)) (br $serve)))
      (i32.store (i32.const 0) (i32.const 0))
      (call $data (local.get $sig) (i32.const 0))
      (local.set $n (call $ncaps (local.get $sig)))
      (if (i32.gt_u (local.get $n) (i32.const 8))
        (then (call $destroy (local.get $sig)) (br $serve)))
      (call $caps (local.get $sig) (i32.const 64))
      (call $destroy (local.get $sig))
      (if (i32.eqz (local.get $n))
        (then (i32.store (i32.const 200) (local.get $acct)) (br $serve)))
      (local.set $cmd (i32.load8_u (i32.const 0)))
      (if (i32.eq (local.get $cmd) (i32.const 105))  ;; i
        (then
          (i32.store (i32.const 128) (call $mine))
          (i32.store (i32.const 132) (local.get $acct))
          (i32.store (i32.const 136) (call $is_closed (local.get $acct)))
          (call $send (i32.load (i32.const 64)) (i32.const 128) (i32.const 12)
                (i32.const 0) (i32.const 0))))
      (if (i32.eq (local.get $cmd) (i32.const 110))  ;; n
        (then
          (local.set $n (call $name (i32.load (i32.const 1)) (i32.const 256) (i32.const 256)))
          (call $send (i32.load (i32.const 64)) (i32.const 256) (local.get $n)
                (i32.const 0) (i32.const 0))))
      (if (i32.eq (local.get $cmd) (i32.const 99))  ;; c
        (then
          (i32.store (i32.const 128) (call $is_closed (i32.load (i32.const 1))))
          (call $send (i32.load (i32.const 64)) (i32.const 128) (i32.const 4)
                (i32.const 0) (i32.const 0))))
      (if (i32.eq (local.get $cmd) (i32.const 108))  ;; l
        (then
          (call $send (i32.load (i32.const 64)) (i32.const 200) (i32.const 4)
                (i32.const 0) (i32.const 0))))
      (br $serve)))
)
"""


def ask(probe, data, account=None, box=None):
    """Send `data` to the probe stamped with `account` (as a peer's
    connection or a guest of that account would; None: the server's own),
    with a reply capability; the reply's bytes. Switches: always."""
    box = box or vm.create_mailbox()
    reply = box.make_capability(SEND)
    vm.forward(probe, Message(data, [reply], account))
    reply.release()
    sig = box.recv(timeout=10)
    assert type(sig) is Message, sig
    return sig.data


def ids(probe, account=None):
    return struct.unpack("<3I", ask(probe, b"i", account))


def name(probe, ident):
    return ask(probe, b"n" + struct.pack("<I", ident))


def test_a_peers_guest_reads_its_own_name_and_no_other_partys(proc):
    accounts = proc.runtime.accounts
    a, b = accounts.open("peer 10.0.0.1#1"), accounts.open("peer 10.0.0.2#2")
    probe, ref = vm.spawn_guest(PROBE, account=a, monitor=True)
    assert ids(probe, a) == (1, 1, 0)  # the peer and its guest are one account
    assert ids(probe) == (1, 0, 0)     # the server's own side
    assert name(probe, 1) == b"peer 10.0.0.1#1"
    assert name(probe, 0) == b""
    # Another party: an id (2, from of_message), nothing more. Whether B is
    # closed, and B's name (its address), are not for a guest of A's: each
    # asked traps.
    for call, what in ((b"c", "is_closed"), (b"n", "name")):
        probe, ref = vm.spawn_guest(PROBE, account=a, monitor=True)
        assert ids(probe, a) == (1, 1, 0)
        vm.forward(probe, Message(b"post", [], b))  # B's message: the probe met B
        assert struct.unpack("<I", ask(probe, b"l", a)) == (2,)
        reply = vm.create_mailbox().make_capability(SEND)
        vm.forward(probe, Message(call + struct.pack("<I", 2), [reply], a))
        reply.release()
        down = vm.recv(timeout=10)
        assert down.ref == ref
        assert down.reason[:2] == ("error", "Trap")
        assert down.reason[2] == (f"hearth::account::{what}: account 2 is not this guest's: a"
                                  f" guest spawned for a peer asks {what} of its own account"
                                  " only")


def test_ids_are_each_guests_own_numbering(proc):
    accounts = proc.runtime.accounts
    a, b = accounts.open("tenant a"), accounts.open("tenant b")
    one, two = vm.spawn_guest(PROBE), vm.spawn_guest(PROBE)
    assert ids(one, a)[1] == 1 and ids(one, b)[1] == 2
    assert ids(two, b)[1] == 1 and ids(two, a)[1] == 2  # the same ids, other accounts
    # The server's own guests may read names (the chat room shows them).
    assert name(one, 2) == b"tenant b" and name(two, 2) == b"tenant a"
    # An id never given traps, whatever other guests were given.
    probe, _ = vm.spawn_guest(PROBE, monitor=True)
    probe.send(b"c" + struct.pack("<I", 1), [vm.create_mailbox().make_capability(SEND)])
    down = vm.recv(timeout=10)
    assert down.reason[2] == "hearth::account::is_closed: unknown account id 1"


def test_the_host_keeps_no_more_than_what_exists(proc):
    probe = vm.spawn_guest(PROBE)
    box = vm.create_mailbox()
    kept = proc.runtime.accounts.open("kept")
    kept_id = ids(probe, kept)[1]
    guest = probe._route._proc.guest  # the host's side of the probe, to measure
    for i in range(500):
        account = proc.runtime.accounts.open(f"passing {i}")
        assert ids(probe, account)[1] == kept_id + 1 + i  # never reused
        del account  # nothing holds it any more: gone
    gc.collect()
    assert len(guest.accounts) <= 64 + 1, len(guest.accounts)
    # A gone account reads as closed; an open one as open until it closes.
    assert ask(probe, b"c" + struct.pack("<I", kept_id + 1), box=box) == struct.pack("<I", 1)
    assert ask(probe, b"c" + struct.pack("<I", kept_id), box=box) == struct.pack("<I", 0)
    kept.close()
    assert ask(probe, b"c" + struct.pack("<I", kept_id), box=box) == struct.pack("<I", 1)


def test_a_peers_guest_learns_nothing_of_who_posts_to_a_room_it_joined(hearth_server, attacker,
                                                                       proc):
    """End to end: a peer spawns the probe on the server (charged to the
    peer), joins the chat room with it, and another peer posts. The post
    reaches the probe from the room (account 0): the poster's account, and
    so its address, never reaches the attacker's guest."""
    from hearth.net import connect
    from tests.security.conftest import SECRET

    spawner = otp.lookup(attacker.root, "hearth.wasm.WasmProcessSpawner")
    lid = vm.current_runtime().lumps.put(PROBE.encode())
    probe = request(spawner, ["spawn", bytes(lid)], timeout=30)
    box = vm.create_mailbox()

    def peer_ask(data):
        probe.send(data, [box.make_capability(SEND)])
        return box.recv(timeout=20).data

    mine, stamped, closed = struct.unpack("<3I", peer_ask(b"i"))
    assert mine == stamped == 1 and closed == 0  # the attacker and its guest: one account
    assert peer_ask(b"n" + struct.pack("<I", 1)).startswith(b"peer 127.0.0.1#")
    chat = otp.lookup(attacker.root, "chat")
    assert request(chat, "join", [probe.demote(SEND | MONITOR)]) == 1
    with connect(hearth_server.url, secret=SECRET) as other:
        request(otp.lookup(other.root, "chat"), ["post", "hello", "bob"])
    for _ in range(100):  # the post and this request travel apart: ask until it is there
        got = struct.unpack("<I", peer_ask(b"l"))[0]
        if got != 0xFFFFFFFF:
            break
    assert got == 0  # from the room, the server's own side
    # The only ids the probe was given are 0 and its own: asking for any
    # other traps it.
    downs = vm.create_mailbox()
    probe.monitor(downs)
    probe.send(b"n" + struct.pack("<I", 2), [box.make_capability(SEND)])
    down = downs.recv(timeout=20)
    assert down.reason[2] == "hearth::account::name: unknown account id 2"
