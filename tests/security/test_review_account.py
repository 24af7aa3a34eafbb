"""An attacker's review of ``hearth::account`` (hearth/vm/_wasm/_ns_account.py),
`hearth.vm.forward` (the guest service front) and the chat room as a C guest
(kindling/root/init/chat/chat.c).

Two attackers: a peer (it knows the server's shared secret, nothing more)
and the author of an untrusted guest a peer spawns through the wasm
spawner. What each test tries, and what it gets, is in its docstring. A
test for a hole that is still open is marked ``xfail(strict=True)`` with
the fix it needs; the others pin a defence that holds.

The room's logic is attacked two ways: end to end (a real hearth-server,
real WebSocket peers, the shipped chat.wasm behind its front), and in one
runtime where accounts stand for connections (`Accounts.open`, as the
kernel makes one per carrier) when the test must look at what the host
holds.
"""

import gc
import os
import pathlib
import struct
import subprocess
import sys

import msgpack
import pytest

import kindling
from hearth import otp, vm
from hearth.native import request, start_guest_service
from hearth.net import connect
from hearth.otp import ServiceError, decode
from hearth.vm import MONITOR, SEND, Message
from kindling.sdk import have_toolchain
from tests.net.conftest import wait_until
from tests.security.conftest import SECRET
from tests.wasm.guests import RELAY_TO_CAP0, WAIT_FOREVER

CHAT = pathlib.Path(kindling.__file__).parent / "root" / "init" / "chat"


# ---- in one runtime: the room, and requests stamped with an account ------------------

def start_chat():
    """The shipped room behind its front, as init starts it (no world: its
    board gives up, the room serves on). The capability clients get."""
    lump = vm.current_runtime().lumps.put((CHAT / "chat.wasm").read_bytes())
    registry = otp.start_registry()
    view = otp.registry_view(registry, read_only=True, names=["hearth.World"])
    svc = start_guest_service(lump, view, name="chat")
    view.release()
    return svc.cap


# The relay (tests/wasm/guests.py) charged to an account: the account's
# own reply route.
REPLIER = RELAY_TO_CAP0

IDLE = WAIT_FOREVER


class Party:
    """One account (a connection, as far as the room can tell) and a reply
    route of its own, so that the room answers its requests."""

    def __init__(self, account):
        self.account = account
        self.box = vm.create_mailbox()
        replier = vm.spawn_guest(REPLIER, self.box.make_capability(SEND), account=account)
        self.reply = replier.demote(SEND)

    def ask(self, service, term, caps=()):
        """`term` to `service` stamped with this account; the answer, or
        the ServiceError. Switches: always."""
        data, _ = otp.encode(term)
        vm.forward(service, Message(data, [self.reply, *caps], self.account))
        sig = self.box.recv(timeout=20)
        assert sig is not None, f"no answer to {term!r}"
        answer = decode(sig.data)
        if "err" in answer:
            return ServiceError(answer["err"]["kind"], answer["err"]["message"])
        return answer["ok"]


# ---- what a peer's guest learns through the ids --------------------------------------

# Answers on caps[0] of each message with caps: "i" -> u32 of_message;
# "c" + u32 id -> u32 is_closed(id); "k" -> u32 of_capability(caps[1]).
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
  (import "hearth::account" "of_capability" (func $of_cap (param i32) (result i32)))
  (import "hearth::account" "is_closed" (func $is_closed (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (local $sig i32) (local $acct i32) (local $cmd i32) (local $n i32)
    (loop $serve
      (local.set $sig (call $recv (i32.const 0)))
      (local.set $acct (call $of_message (local.get $sig)))
      (local.set $n (call $ncaps (local.get $sig)))
      (if (i32.or (i32.gt_u (call $len (local.get $sig)) (i32.const 60))
                  (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 8))))
        (then (call $destroy (local.get $sig)) (br $serve)))
      (call $data (local.get $sig) (i32.const 0))
      (call $caps (local.get $sig) (i32.const 64))
      (call $destroy (local.get $sig))
      (local.set $cmd (i32.load8_u (i32.const 0)))
      (if (i32.eq (local.get $cmd) (i32.const 105))  ;; i
        (then (i32.store (i32.const 128) (local.get $acct))))
      (if (i32.eq (local.get $cmd) (i32.const 99))  ;; c
        (then (i32.store (i32.const 128) (call $is_closed (i32.load (i32.const 1))))))
      (if (i32.eq (local.get $cmd) (i32.const 107))  ;; k
        (then (i32.store (i32.const 128) (call $of_cap (i32.load (i32.const 68))))))
      (call $send (i32.load (i32.const 64)) (i32.const 128) (i32.const 4) (i32.const 0)
            (i32.const 0))
      (br $serve)))
)
"""


def probe_ask(probe, data, account, caps=()):
    """`data` to the probe, stamped with `account`; its u32 answer, or None
    if it trapped instead (the test monitors it). Switches: always."""
    box = vm.create_mailbox()
    vm.forward(probe, Message(data, [box.make_capability(SEND), *caps], account))
    got = vm.current_process().select([box, vm.current_process().parent_mailbox()], timeout=20)
    assert got is not None, "the probe neither answered nor ended"
    sig = got[1]
    if type(sig) is not Message:
        return None
    return struct.unpack("<I", sig.data)[0]


def test_a_peers_guest_cant_watch_another_peers_connection_without_monitor(proc):
    """Peer A's guest gets one message from peer B (B chose to send it,
    with a reply capability of its own that has SEND only): of_message
    gives it an id for B's account, and from then on it can poll
    is_closed(id) to learn the moment B's connection ends, though nothing
    it was given lets it monitor B. (of_capability on a capability with no
    permission at all gives the same id.)"""
    accounts = proc.runtime.accounts
    a, b = accounts.open("peer 10.0.0.1#1"), accounts.open("peer 10.0.0.2#2")
    probe, _ = vm.spawn_guest(PROBE, account=a, monitor=True)
    b_guest = vm.spawn_guest(IDLE, account=b)
    assert probe_ask(probe, b"i", a) == 1  # its own account
    b_id = probe_ask(probe, b"i", b)
    assert b_id == 2  # A's guest has met B
    # A capability of B's route that permits nothing names the same account.
    assert probe_ask(probe, b"k", a, [b_guest.demote(0)]) == b_id
    before = probe_ask(probe, b"c" + struct.pack("<I", b_id), a)
    b.close()  # B's connection ends
    after = probe_ask(probe, b"c" + struct.pack("<I", b_id), a) if before is not None else None
    assert before == after, (
        f"peer A's guest saw peer B's connection end: is_closed went {before} -> {after}")


def test_a_closed_connections_id_name_and_posts_pass_to_no_new_one(proc):
    """Ids are never reused. Connections come and go (each binds a name and
    spends its burst of posts, then closes, and nothing holds its account
    any more); a new connection then gets its own id: it posts under its
    own name, with a whole burst, and a gone connection's name is free."""
    chat = start_chat()
    for i in range(70):  # past the host's first prune of the room's ids
        gone = Party(proc.runtime.accounts.open(f"peer 10.0.2.{i}#{i}"))
        assert gone.ask(chat, ["post", "hello", f"user{i}"]) == 0
        for _ in range(4):
            gone.ask(chat, ["post", "spam"])
        e = gone.ask(chat, ["post", "one too many"])
        assert isinstance(e, ServiceError) and e.kind == "limit_reached", e
        gone.account.close()
        gone.reply.release()
        del gone
        gc.collect()
    fresh = Party(proc.runtime.accounts.open("peer 10.0.3.1#1000"))
    for _ in range(5):
        assert fresh.ask(chat, ["post", "mine"]) == 0  # a whole burst of its own
    assert request(chat, "log")[-1] == {"from": "peer #1000", "text": "mine"}
    other = Party(proc.runtime.accounts.open("peer 10.0.3.2#1001"))
    assert other.ask(chat, ["post", "the name is free again", "user3"]) == 0


def test_joining_and_leaving_over_and_over_keeps_the_hosts_monitors_bounded(proc):
    """A peer joins and leaves the same member of its own again and again
    (neither is rate limited). Each join monitors the member; the ABI has
    no demonitor, so the room moves its monitors to a new mailbox once
    more than 1024 members have left: the member's route never holds more
    than that many monitors, whatever the peer does."""
    chat = start_chat()
    peer = Party(proc.runtime.accounts.open("peer 10.0.4.1#1"))
    member = vm.spawn_guest(IDLE, account=peer.account)
    route = member._route
    most = 0
    for i in range(1100):
        assert peer.ask(chat, "join", [member.demote(SEND | MONITOR)]) == 1
        assert peer.ask(chat, "leave", [member.demote(SEND | MONITOR)]) is True
        most = max(most, len(route._monitors or ()))
    assert most <= 1025, f"the member's route held {most} monitors"
    assert len(route._monitors or ()) < 1100 - 1024, "the room never let its old monitors go"
    assert request(chat, "members") == 0


# ---- end to end: a real server, real peers ------------------------------------------

def raw_ask(chat, data, box, caps=()):
    """Raw bytes to the room with a reply capability (SEND) of the peer's
    own; the decoded answer, or None if none came. Switches: always."""
    chat.send(data, [box.make_capability(SEND), *caps])
    sig = box.recv(timeout=20)
    return None if sig is None else msgpack.unpackb(sig.data, raw=False)


def err(kind, message):
    return {"err": {"kind": kind, "message": message}}


NOT_A_REQUEST = err("invalid_request", 'not a request: "op", ["op", fields...] or {"op": ...}')


UNKNOWN_OP = err("invalid_request", "unknown op, or wrong fields; ops: join, leave, post text"
                 " [from], members, log")


def _str(raw):
    """A msgpack str header and `raw` (bytes of any validity)."""
    n = len(raw)
    head = (bytes([0xA0 | n]) if n < 32 else b"\xd9" + bytes([n]) if n < 256
            else b"\xda" + n.to_bytes(2, "big"))
    return head + raw


MALFORMED = [
    ("a byte msgpack never uses", b"\xc1", NOT_A_REQUEST),
    ("a request cut short", b"\x92\xa4post", UNKNOWN_OP),
    ("200000 arrays deep", b"\x91" * 200_000 + b"\xc0", NOT_A_REQUEST),
    ("an array claiming 2**32-1 elements", b"\xdd\xff\xff\xff\xff\xa4post", NOT_A_REQUEST),
    ("a map claiming 2**32-1 entries", b"\xdf\xff\xff\xff\xff\xa2op\xa4post", NOT_A_REQUEST),
    ("an op that is no str", msgpack.packb({"op": 7}), NOT_A_REQUEST),
    ("text 100000 arrays deep", b"\x92\xa4post" + b"\x91" * 100_000 + b"\xc0",
     err("invalid_request", "text is a str")),
    ("text as bytes", msgpack.packb(["post", b"hi"], use_bin_type=True),
     err("invalid_request", "text is a str")),
    ("text of bad UTF-8", b"\x92\xa4post" + _str(b"\xff\xfe"),
     err("invalid_request", "text is not valid UTF-8")),
    ("text with an overlong '/'", b"\x92\xa4post" + _str(b"\xc0\xaf"),
     err("invalid_request", "text is not valid UTF-8")),
    ("text with a surrogate", b"\x92\xa4post" + _str(b"a\xed\xa0\x80"),
     err("invalid_request", "text is not valid UTF-8")),
    ("text cut inside a character", b"\x92\xa4post" + _str(b"caf\xc3"),
     err("invalid_request", "text is not valid UTF-8")),
    ("a name of bad UTF-8", b"\x93\xa4post\xa2hi" + _str(b"\xc3\x28"),
     err("invalid_request", "from is not valid UTF-8")),
    ("a name that is an int", msgpack.packb(["post", "hi", 5]),
     err("invalid_request", "from is a str or nil")),
    ("501 characters", msgpack.packb(["post", "x" * 501]),
     err("limit_reached", "a post from a peer is at most 500 characters, not 501")),
    ("a name of the room's own", msgpack.packb(["post", "hi", "peer 127.0.0.1#1"]),
     err("permission_denied", "names starting with 'peer ' are the room's own, for"
         " connections that gave none")),
    ("a name with a control", msgpack.packb(["post", "hi", "a\x1bb"]),
     err("invalid_request", "a name is 1 to 32 printable characters, without spaces around it")),
    ("a name of 33 characters", msgpack.packb(["post", "hi", "\U0001f600" * 33]),
     err("invalid_request", "a name is 1 to 32 printable characters, without spaces around it")),
    ("over 1 MiB", msgpack.packb(["post", "x" * (1 << 20)]),
     err("invalid_request", "message refused: longer than this service takes")),
]


def test_malformed_huge_and_deep_requests_get_a_refusal_and_the_room_serves_on(
        hearth_server, attacker, proc):
    """A peer sends the room every kind of bad request it can write: bytes
    that are no msgpack, headers claiming 4 billion elements, terms nested
    200000 deep (the SDK skips them with a counter, not recursion, so the
    guest's stack is never at risk), str that are not UTF-8 (overlong,
    surrogate, cut short), names the room's rules forbid, and a message
    past the guest's 1 MiB. Each gets its refusal, in words; then a good
    post with 500 four-byte characters is taken, a map request with a
    deep junk field too, and the room is the same process as before."""
    before = hearth_server.snapshot()
    chat = otp.lookup(attacker.root, "chat")
    box = proc.create_mailbox()
    got = {what: raw_ask(chat, data, box) for what, data, _ in MALFORMED}
    assert got == {what: refusal for what, _, refusal in MALFORMED}
    assert raw_ask(chat, msgpack.packb(["post", "\U0001f600" * 500, "mallory"]), box) == {"ok": 0}
    deep_field = (b"\x84\xa2op\xa4post\xa4text\xa2hi\xa4from\xa7mallory\xa4junk"
                  + b"\x91" * 100_000 + b"\xc0")
    assert raw_ask(chat, deep_field, box) == {"ok": 0}
    assert request(chat, "log") == (
        {"from": "mallory", "text": "\U0001f600" * 500}, {"from": "mallory", "text": "hi"})
    hearth_server.assert_unchanged(before)


def test_a_peers_request_through_the_front_stays_the_peers(hearth_server, attacker, proc):
    """vm.forward: the front passes each request on stamped as it came, so
    a peer that goes through the front (the only way it reaches the room)
    is held to a peer's bounds, and the operator's requests through the
    same front stay the operator's (no bounds). Before, the front sent as
    itself, and every peer's request became the server's own."""
    chat = otp.lookup(attacker.root, "chat")
    for i in range(5):
        request(chat, ["post", f"burst {i}"])
    with pytest.raises(ServiceError) as e:
        request(chat, ["post", "one more"])
    assert e.value.kind == "limit_reached"
    assert e.value.message.startswith("a connection posts at most 1 a second (5 at once)")
    assert request(chat, "log")[0]["from"].startswith("peer #")
    with hearth_server.operator() as op:
        op_chat = otp.lookup(op.root, "chat")
        for i in range(8):
            assert request(op_chat, ["post", "y" * 1000, "operator"]) == 0
        assert request(op_chat, ["post", "as anyone", "peer 127.0.0.1#1"]) == 0


def test_many_members_whose_connections_close_at_once_are_all_dropped(hearth_server, proc):
    """24 connections join 4 members each (mailboxes of their own, sent over
    their connection), then all of them close together while the operator
    posts: 96 routes end at once. The room drops every one of them, is
    the same process, and a new peer joins and posts."""
    before = hearth_server.snapshot()
    peers = [connect(hearth_server.url, secret=SECRET) for _ in range(24)]
    boxes = []
    for peer in peers:
        chat = otp.lookup(peer.root, "chat")
        for _ in range(4):
            box = proc.create_mailbox()
            boxes.append(box)
            request(chat, "join", [box.make_capability(SEND | MONITOR)])
    with hearth_server.operator() as op:
        op_chat = otp.lookup(op.root, "chat")
        assert request(op_chat, "members") == 96
        assert request(op_chat, ["post", "to everyone", "op"]) == 96
        for peer in peers:
            peer.close()
        for i in range(5):
            request(op_chat, ["post", f"while they go {i}", "op"])
        wait_until(lambda: request(op_chat, "members") == 0, timeout=30,
                   what="every member of the closed connections dropped")
    with connect(hearth_server.url, secret=SECRET) as late:
        chat = otp.lookup(late.root, "chat")
        box = proc.create_mailbox()
        assert request(chat, "join", [box.make_capability(SEND | MONITOR)]) == 1
        assert request(chat, ["post", "still here", "late"]) == 1
        assert decode(box.recv(timeout=20).data) == {"from": "late", "text": "still here"}
    hearth_server.assert_unchanged(before)


def ctl(sock, *argv):
    return subprocess.run([sys.executable, "-m", "hearth.ctl", *argv],
                          env=dict(os.environ, HEARTH_SOCK=sock),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed")
def test_a_live_connections_name_stays_its_own_across_an_upgrade(hearth_server, attacker,
                                                                 proc, tmp_path):
    """Peer A posts as "ada" and stays connected; the operator upgrades the
    room (``hearth-ctl upgrade chat``, a rebuilt chat.wasm); peer B then
    posts as "ada". Before the upgrade B is refused; after it, B speaks
    as A to every member and in the log."""
    from kindling.sdk import build

    rebuilt = build(CHAT / "chat.c", tmp_path / "chat.wasm")
    chat_a = otp.lookup(attacker.root, "chat")
    assert request(chat_a, ["post", "I am ada", "ada"]) == 0
    with connect(hearth_server.url, secret=SECRET) as b:
        chat_b = otp.lookup(b.root, "chat")
        with pytest.raises(ServiceError) as e:
            request(chat_b, ["post", "me too", "ada"])
        assert e.value.message == "the name 'ada' is taken by another connection"
        done = ctl(hearth_server.sock, "--json", "upgrade", "chat", str(rebuilt))
        assert done.returncode == 0, done.stderr
        assert '"old_exit": "normal"' in done.stdout, done.stdout
        assert request(chat_a, "members") == 0  # the new room
        with pytest.raises(ServiceError) as e:
            request(chat_b, ["post", "I am ada now", "ada"])
        assert e.value.kind == "permission_denied"
        assert e.value.message == "the name 'ada' is taken by another connection"


def test_bare_messages_to_the_room_do_not_flood_the_servers_log(hearth_server, attacker, proc):
    """A peer sends the room 300 messages without capabilities (a request
    needs its reply capability, so the front drops them)."""
    chat = otp.lookup(attacker.root, "chat")
    for i in range(300):
        chat.send(b"x" * 100)
    assert request(chat, "members") == 0  # after all 300, in order: every one was seen
    lines = [line for line in hearth_server.program.lines
             if "dropped a message without capabilities" in line]
    assert lines, "the front dropped them without a word"
    assert len(lines) <= 10, f"one peer wrote {len(lines)} lines to the server's log"


def test_posts_from_many_connections_repaint_the_board_at_its_rate(hearth_server, proc):
    """Six connections post their whole burst at once (30 posts, well
    inside each connection's own rate). Every paint of the board reaches
    a subscriber of the world as an ``updated`` event of its entity (a
    paint is two lumps written to the server's store): the board is
    painted at most once every 0.3 s however many post, not once a post."""
    from hearth import world
    from hearth.world import WORLD

    peers = [connect(hearth_server.url, secret=SECRET) for _ in range(6)]
    try:
        with hearth_server.operator() as op:
            pub = otp.lookup(op.root, WORLD)
            wait_until(lambda: any(e["label"] == "chat" and e["material"]
                                   for e in world.list_entities(pub)),
                       timeout=30, what="the board, painted")
            board = [e["id"] for e in world.list_entities(pub) if e["label"] == "chat"][0]
            events = proc.create_mailbox()
            world.subscribe(pub, events.make_capability(SEND | MONITOR))
            assert decode(events.recv(timeout=20).data)["event"] == "world"
            clock = vm.current_runtime().clock
            start = clock.now()
            for i, peer in enumerate(peers):
                chat = otp.lookup(peer.root, "chat")
                for j in range(5):
                    request(chat, ["post", f"line {j} of {i}", f"poster{i}"])
            paints, last = 0, start
            while True:  # until the board rests (no paint for 2 s: it paints every 0.3 s)
                sig = events.recv(timeout=2.0)
                if sig is None:
                    break
                event = decode(sig.data)
                if event["event"] == "updated" and event["entity"]["id"] == board:
                    paints, last = paints + 1, clock.now()
            lines = request(otp.lookup(op.root, "chat"), "log")
    finally:
        for peer in peers:
            peer.close()
    assert lines[-1] == {"from": "poster5", "text": "line 4 of 5"}
    assert paints >= 1, "the board was not repainted"
    assert paints <= (last - start) / 0.3 + 2, (
        f"{paints} paints in {last - start:.2f} s for 30 posts")


@pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed")
def test_after_an_upgrade_a_peers_requests_are_still_the_peers(hearth_server, attacker, proc,
                                                                tmp_path):
    """The front forwards to the new version with each request's stamp,
    and every version names accounts with the same ids: right after
    ``hearth-ctl upgrade chat`` a peer's post is still bounded (500
    characters, its rate: the bucket it had, handed over, not a fresh
    one), its member must still be its own, its posts still carry the
    name it bound, and the operator's requests are still not bounded."""
    from kindling.sdk import build

    rebuilt = build(CHAT / "chat.c", tmp_path / "chat.wasm")
    chat = otp.lookup(attacker.root, "chat")
    assert request(chat, ["post", "before", "mallory"]) == 0
    done = ctl(hearth_server.sock, "--json", "upgrade", "chat", str(rebuilt))
    assert done.returncode == 0, done.stderr
    with pytest.raises(ServiceError) as e:
        request(chat, ["post", "x" * 501])
    assert e.value.message == "a post from a peer is at most 500 characters, not 501"
    with pytest.raises(ServiceError) as e:
        request(chat, "join", [otp.lookup(attacker.root, "clock")])
    assert e.value.message.startswith("the member, caps[1], must be a route of your own")
    # One post of the burst was spent before the upgrade; the upgrade took
    # a while, so the bucket has refilled by less than one post, or one.
    taken = 0
    with pytest.raises(ServiceError) as e:
        while taken < 6:
            request(chat, ["post", f"burst {taken}"])
            taken += 1
    assert e.value.kind == "limit_reached"
    assert taken in (4, 5), f"{taken} posts taken after the upgrade"
    log = request(chat, "log")
    assert log[0] == {"from": "mallory", "text": "before"}  # the log was handed over
    assert [line["from"] for line in log] == ["mallory"] * (1 + taken)
    with hearth_server.operator() as op:
        op_chat = otp.lookup(op.root, "chat")
        for i in range(7):
            assert request(op_chat, ["post", "z" * 600, "operator"]) == 0


def test_a_peer_learns_no_other_peers_address_from_the_room(hearth_server, attacker, proc):
    """Peer B joins the room and reads its log; peer A (the attacker's
    victim) posts without giving a name."""
    with connect(hearth_server.url, secret=SECRET) as victim:
        chat = otp.lookup(attacker.root, "chat")
        box = proc.create_mailbox()
        assert request(chat, "join", [box.make_capability(SEND | MONITOR)]) == 1
        assert request(otp.lookup(victim.root, "chat"), ["post", "hello"]) == 1
        seen = decode(box.recv(timeout=20).data)["from"]
        logged = request(chat, "log")[-1]["from"]
    assert seen == logged and seen.startswith("peer ")
    assert "127.0.0.1" not in seen, f"the room told another peer {seen!r}"


# A guest that asks on behalf of whoever sends it [chat, box] and request
# bytes: it sends the bytes to chat with a reply capability of its own,
# and the answer's bytes on to box.
ASKER = r"""
(module
  (import "hearth::mailbox" "create" (func $create (result i32)))
  (import "hearth::mailbox" "make_capability" (func $make_cap (param i32 i32) (result i32)))
  (import "hearth::mailbox" "recv" (func $recv (param i32) (result i32)))
  (import "hearth::mailbox" "get_message_data_len" (func $len (param i32) (result i32)))
  (import "hearth::mailbox" "get_message_data" (func $data (param i32 i32)))
  (import "hearth::mailbox" "get_message_caps_num" (func $ncaps (param i32) (result i32)))
  (import "hearth::mailbox" "get_message_caps" (func $caps (param i32 i32)))
  (import "hearth::mailbox" "destroy_signal" (func $destroy (param i32)))
  (import "hearth::table" "send" (func $send (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (func (export "run")
    (local $mb i32) (local $sig i32) (local $n i32)
    (local.set $mb (call $create))
    (i32.store (i32.const 80) (call $make_cap (local.get $mb) (i32.const 1)))  ;; SEND
    (loop $serve
      (local.set $sig (call $recv (i32.const 0)))
      (local.set $n (call $len (local.get $sig)))
      (if (i32.or (i32.gt_u (local.get $n) (i32.const 30000))
                  (i32.ne (call $ncaps (local.get $sig)) (i32.const 2)))
        (then (call $destroy (local.get $sig)) (br $serve)))
      (call $data (local.get $sig) (i32.const 1024))
      (call $caps (local.get $sig) (i32.const 64))
      (call $destroy (local.get $sig))
      (call $send (i32.load (i32.const 64)) (i32.const 1024) (local.get $n) (i32.const 80)
            (i32.const 1))
      (local.set $sig (call $recv (local.get $mb)))
      (local.set $n (call $len (local.get $sig)))
      (call $data (local.get $sig) (i32.const 32768))
      (call $destroy (local.get $sig))
      (call $send (i32.load (i32.const 68)) (i32.const 32768) (local.get $n) (i32.const 0)
            (i32.const 0))
      (br $serve)))
)
"""


def test_a_peers_guests_share_its_connections_bounds(hearth_server, attacker, proc):
    """An untrusted guest author's try at multiplying a connection's posts
    and names: the peer spawns three guests through the wasm spawner and
    has them post for it, each with a reply route of its own. The guests
    are charged to the peer's account, so their posts are the
    connection's: one bucket (5 at once, whoever posts), one name, 500
    characters each."""
    spawner = otp.lookup(attacker.root, "hearth.wasm.WasmProcessSpawner")
    lid = vm.current_runtime().lumps.put(ASKER.encode())
    guests = [request(spawner, ["spawn", bytes(lid)], timeout=30) for _ in range(3)]
    chat = otp.lookup(attacker.root, "chat")
    box = proc.create_mailbox()

    def via(guest, term):
        guest.send(otp.encode(term)[0], [chat, box.make_capability(SEND)])
        sig = box.recv(timeout=20)
        assert sig is not None, f"no answer to {term!r} through the guest"
        return decode(sig.data)

    assert request(chat, ["post", "from the connection", "mallory"]) == 0
    assert via(guests[0], ["post", "from a guest"]) == {"ok": 0}
    assert via(guests[1], ["post", "from another guest", "mallory"]) == {"ok": 0}
    refused = via(guests[2], ["post", "as someone else", "alice"])
    assert refused == err("permission_denied",
                          "this connection posts as 'mallory'; it can't post as 'alice'")
    assert via(guests[2], ["post", "x" * 501]) == err(
        "limit_reached", "a post from a peer is at most 500 characters, not 501")
    assert via(guests[2], ["post", "four"]) == {"ok": 0}
    assert request(chat, ["post", "five"]) == 0
    answers = [via(g, ["post", "one too many"]) for g in guests]
    assert all(a["err"]["kind"] == "limit_reached" for a in answers), answers
    with pytest.raises(ServiceError) as e:
        request(chat, ["post", "one too many"])
    assert e.value.kind == "limit_reached"
    assert [line["from"] for line in request(chat, "log")] == ["mallory"] * 5


@pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed")
def test_a_peer_cant_pass_a_message_off_as_the_rooms_handover(hearth_server, attacker, proc,
                                                               tmp_path):
    """The next version of the room takes its predecessor's state from a
    message that starts with the front's handover mark. A peer sends the
    room such a message: a state of the room's own format in which its
    connection holds the name "operator" and the log has a line the
    operator never wrote, then has the operator upgrade the room. The
    front refuses it (it never forwards a client's message bearing the
    mark), and the new room has the old room's state only. A state of 2
    MiB as the room's first message (the room reads a handover of up to 4
    MiB as its first) is refused as any request past 1 MiB is."""
    from hearth.native._guest_upgrade import HANDOVER_MARK
    from kindling.sdk import build

    rebuilt = build(CHAT / "chat.c", tmp_path / "chat.wasm")
    chat = otp.lookup(attacker.root, "chat")
    box = proc.create_mailbox()
    assert raw_ask(chat, msgpack.packb(["post", "x" * (2 << 20)]), box) == err(
        "invalid_request", "message refused: longer than this service takes")
    assert request(chat, ["post", "hello", "mallory"]) == 0
    forged = msgpack.packb(["chat", 1, [[i, "operator", False, 0, 0] for i in range(1, 9)], [],
                            [["operator", "forged line"]]])
    refused = raw_ask(chat, HANDOVER_MARK + forged, box)
    assert refused == err("invalid_request", "not a request: a message starting with the"
                          " handover mark goes from the front to its guest only")
    done = ctl(hearth_server.sock, "--json", "upgrade", "chat", str(rebuilt))
    assert done.returncode == 0, done.stderr
    assert request(chat, "log") == ({"from": "mallory", "text": "hello"},)
    with pytest.raises(ServiceError) as e:
        request(chat, ["post", "I am the operator", "operator"])
    assert e.value.message == "this connection posts as 'mallory'; it can't post as 'operator'"
