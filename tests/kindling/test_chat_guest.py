"""The chat room as a guest (kindling/root/init/chat/chat.c): its font is
the world's, its board is drawn as the Python room drew it, peers are held
to their bounds through hearth::account, and ``hearth-ctl upgrade chat``
swaps it while members are joined: the old version hands its members,
names, rate buckets and log to the new one, so members go on receiving
posts without joining again."""

import os
import pathlib
import subprocess
import sys

import msgpack
import pytest

import kindling
from hearth import otp, vm, world
from hearth.native import request, start_guest_service, upgrade_guest_service
from hearth.net import connect
from hearth.otp import ServiceError, decode
from hearth.vm import MONITOR, SEND, Message, lump_id
from hearth.world import WORLD
from kindling.sdk import build, have_toolchain
from tests.net.conftest import wait_until
from tests.wasm.guests import RELAY_TO_CAP0

from . import chat_board, chat_font

CHAT = pathlib.Path(kindling.__file__).parent / "root" / "init" / "chat"


def test_the_guests_font_is_the_worlds():
    assert (CHAT / "chat_font.h").read_text() == chat_font.header(), (
        "chat_font.h differs from hearth/world/_font.py: regenerate it with"
        " .venv/bin/python -m tests.kindling.chat_font > kindling/root/init/chat/chat_font.h"
        " and rebuild chat.wasm")


def start_chat(registry):
    """The room as init starts it: behind its front, with a registry view
    scoped to its needs. Returns the capability clients get."""
    lump = vm.current_runtime().lumps.put((CHAT / "chat.wasm").read_bytes())
    view = otp.registry_view(registry, read_only=True, names=[WORLD])
    svc = start_guest_service(lump, view, name="chat")
    view.release()
    return svc.cap


def board_entity(pub):
    boards = [e for e in world.list_entities(pub) if e["label"] == "chat"]
    return boards[0] if boards else None


def pixels_of(material):
    store = vm.current_runtime().lumps
    mat = msgpack.unpackb(store.get(material), raw=False)
    tex = msgpack.unpackb(store.get(mat["albedo_texture"]), raw=False)
    return tex["size"][0], tex["size"][1], tex["rgba"]


LINES = [
    {"from": "ada", "text": "hello"},
    {"from": None, "text": "no name given"},
    {"from": "", "text": "an empty name"},
    {"from": "grace", "text": "  runs   of\twhite\nspace  \u2003and ends  "},
    {"from": "h\u00e9l\u00e8ne", "text": "caf\u00e9 \u2713 \U0001f600 not in the font"},
    {"from": "long", "text": "x" * 30 + " " + "y" * 30},
    {"from": "quote", "text": "'\"\\`~{}|"},
    {"from": "a name of exactly thirty-two ch", "text": "past the columns"},
    {"from": "last", "text": "the ninth line pushes the first off the board"},
]


def test_the_board_shows_the_last_lines_as_the_python_room_drew_them(proc):
    registry = otp.start_registry()
    world.start_world(registry, data_dir=None)
    pub = otp.lookup(registry, WORLD)
    chat = start_chat(registry)
    wait_until(lambda: board_entity(pub) is not None and board_entity(pub)["material"],
               timeout=20, what="the board, painted")
    entity = board_entity(pub)
    assert pixels_of(entity["material"]) == chat_board.board_image([])
    assert entity["mesh"] == bytes(lump_id(chat_board.panel_mesh()))  # the same panel
    w, h, _ = chat_board.board_image([])
    assert entity["transform"] == pytest.approx(chat_board.board_transform(w, h), rel=1e-6)
    for line in LINES:
        request(chat, ["post", line["text"], line["from"]])
    expected = chat_board.board_image(LINES)
    wait_until(lambda: pixels_of(board_entity(pub)["material"]) == expected, timeout=20,
               what="the board showing the last 8 lines as board_image draws them")


def member():
    mb = vm.current_process().create_mailbox()
    return mb, mb.make_capability(SEND | MONITOR)


def post_of(mb):
    sig = mb.recv(timeout=10)
    assert type(sig) is Message and not sig.caps
    return decode(sig.data)


# The relay (tests/wasm/guests.py) charged to an account: a reply route of
# that account's own, whose replies reach the test.
RELAY = RELAY_TO_CAP0

_relays = {}  # account -> (the test's mailbox, the relay's capability)


@pytest.fixture
def relays():
    _relays.clear()
    yield _relays
    _relays.clear()


def stamped(service, term, account, caps=()):
    """A request to `service` stamped with `account`, as a peer's
    connection (or one of its guests) sends it, with a reply capability of
    that account's; the reply, or the ServiceError. Switches: always."""
    if account not in _relays:
        box = vm.create_mailbox()
        relay = vm.spawn_guest(RELAY, box.make_capability(SEND), account=account)
        _relays[account] = (box, relay.demote(SEND))
    box, reply = _relays[account]
    data, _ = otp.encode(term)
    vm.forward(service, Message(data, [reply, *caps], account))
    sig = box.recv(timeout=10)
    assert sig is not None, f"no answer to {term!r}"
    answer = decode(sig.data)
    if "err" in answer:
        return ServiceError(answer["err"]["kind"], answer["err"]["message"])
    return answer["ok"]


def test_a_connections_name_and_bounds_go_with_it(proc, virtual_clock, relays):
    """In one runtime, with accounts standing for two connections: names
    bind, rates limit, names are freed when a connection closes, and a
    request answered elsewhere than to its own party is dropped."""
    accounts = proc.runtime.accounts
    a, b = accounts.open("peer 10.0.0.1#1"), accounts.open("peer 10.0.0.2#2")
    chat = start_chat(otp.start_registry())
    assert stamped(chat, ["post", "hi"], a) == 0
    assert stamped(chat, ["post", "I am ada", "ada"], a) == 0
    e = stamped(chat, ["post", "I am ada too", "ada"], b)
    assert e.kind == "permission_denied" and e.message == \
        "the name 'ada' is taken by another connection"
    e = stamped(chat, ["post", "now bob", "bob"], a)
    assert e.message == "this connection posts as 'ada'; it can't post as 'bob'"
    for _ in range(5):
        stamped(chat, ["post", "spam"], a)
    e = stamped(chat, ["post", "spam"], a)
    assert e.kind == "limit_reached" and e.message.startswith(
        "a connection posts at most 1 a second (5 at once): try again in ")
    virtual_clock.advance(1.0)
    assert stamped(chat, ["post", "a second later"], a) == 0
    log = request(chat, "log")
    assert log[0] == {"from": "peer #1", "text": "hi"}
    assert log[1] == {"from": "ada", "text": "I am ada"}
    assert log[-1] == {"from": "ada", "text": "a second later"}
    a.close()
    assert stamped(chat, ["post", "mine now", "ada"], b) == 0
    # A request of b's whose reply capability is the server's: dropped.
    box = vm.create_mailbox()
    data, _ = otp.encode("members")
    vm.forward(chat, Message(data, [box.make_capability(SEND)], b))
    assert request(chat, "members") == 0  # served after it: it was not answered
    assert box.try_recv() is None
    # Names as Python's repr shows them.
    c = accounts.open("peer 10.0.0.3#3")
    assert stamped(chat, ["post", "x", "it's"], c) == 0
    e = stamped(chat, ["post", "x", "tab\there"], c)
    assert e.message == "this connection posts as \"it's\"; it can't post as 'tab\\there'"
    # Members: only a connection's own routes (its guests' mailboxes), at most 4.
    mb, cap = member()
    e = stamped(chat, "join", c, [cap])
    assert e.kind == "invalid_request" and e.message.startswith(
        "the member, caps[1], must be a route of your own")
    guests = [vm.spawn_guest(IDLE, account=c) for _ in range(5)]
    for n, guest in enumerate(guests[:4], 1):
        assert stamped(chat, "join", c, [guest.demote(SEND | MONITOR)]) == n
    e = stamped(chat, "join", c, [guests[4].demote(SEND | MONITOR)])
    assert (e.kind, e.message) == ("limit_reached", "a connection joins at most 4 members")
    assert request(chat, "join", [cap]) == 5  # the server's own side is not bounded so
    guests[0].kill()  # a member whose route closes is dropped, and frees its place
    wait_until(lambda: request(chat, "members") == 4, timeout=10, what="the member dropped")
    assert stamped(chat, "join", c, [guests[4].demote(SEND | MONITOR)]) == 5


IDLE = """(module
  (import "hearth::mailbox" "recv" (func $recv (param i32) (result i32)))
  (func (export "run") (loop $wait (drop (call $recv (i32.const 0))) (br $wait))))"""


def ctl(sock, *argv):
    return subprocess.run([sys.executable, "-m", "hearth.ctl", *argv],
                          env=dict(os.environ, HEARTH_SOCK=sock),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed")
def test_hearth_ctl_upgrade_chat_while_members_are_joined(tmp_path, proc):
    from tests.ctl.daemon import Server

    rebuilt = build(CHAT / "chat.c", tmp_path / "chat.wasm")
    srv = Server(str(tmp_path / "hearth.sock"), tmp_path / "server.log").start()
    try:
        with connect("unix://" + srv.sock) as tools:
            chat = otp.lookup(tools.root, "chat")
            pub = otp.lookup(tools.root, WORLD)
            wait_until(lambda: board_entity(pub) is not None, timeout=20, what="the board")
            old_board = board_entity(pub)["id"]
            mb, cap = member()
            assert request(chat, "join", [cap]) == 1
            assert request(chat, ["post", "before", "op"]) == 1
            assert post_of(mb) == {"from": "op", "text": "before"}
            done = ctl(srv.sock, "--json", "upgrade", "chat", str(rebuilt))
            assert done.returncode == 0, done.stderr
            assert '"old_exit": "normal"' in done.stdout, done.stdout
            # The same capability; the new room has the old one's member and log.
            assert request(chat, "members") == 1
            assert request(chat, "log") == ({"from": "op", "text": "before"},)
            assert request(chat, ["post", "after", "op"]) == 1  # no join again
            assert post_of(mb) == {"from": "op", "text": "after"}
            assert request(chat, "join", [cap]) == 1  # joining again changes nothing
            assert request(chat, "leave", [cap]) is True
            assert request(chat, ["post", "gone", "op"]) == 0
            assert request(chat, "log") == ({"from": "op", "text": "before"},
                                             {"from": "op", "text": "after"},
                                             {"from": "op", "text": "gone"})
            assert mb.try_recv() is None  # it left: nothing more, nothing twice
            # The old board left with the old room; the new room has one.
            wait_until(lambda: board_entity(pub) is not None
                       and board_entity(pub)["id"] != old_board
                       and len([e for e in world.list_entities(pub)
                                if e["label"] == "chat"]) == 1,
                       timeout=20, what="one board, the new room's")
    finally:
        srv.stop()


NAMES = ["caf\u00e9", "\u540d\u524d", "\U0001f600 smile", "a\u200bb", "a\u00a0b", "a\x85b",
         "a\ue000b", "tab\there", "a\u2028b", "a\u061cb", "\ufeffbom", " edge", "x" * 33, ""]


def test_a_peers_name_is_checked_as_python_checks_it(proc, relays):
    """Printable (Python's str.isprintable, for assigned characters), 1 to
    32 characters, no spaces around it: the Python room's rule, kept by the
    guest for each kind of character."""
    chat = start_chat(otp.start_registry())
    for i, name in enumerate(NAMES):
        account = proc.runtime.accounts.open(f"peer 10.0.1.{i}#{i}")
        got = stamped(chat, ["post", "x", name], account)
        good = name.isprintable() and 1 <= len(name) <= 32 and name == name.strip()
        if good:
            assert got == 0, (name, got)
        else:
            assert isinstance(got, ServiceError) and got.kind == "invalid_request", (name, got)
            assert got.message == ("a name is 1 to 32 printable characters, without spaces"
                                   " around it")


@pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed")
def test_an_upgrade_hands_members_names_buckets_and_log_to_the_new_room(
        proc, virtual_clock, relays, tmp_path):
    """In one runtime, accounts standing for connections. Connection A has
    joined 4 members (its most), bound the name "ada" and spent 3 posts of
    its burst; the operator's member is joined too. After two upgrades
    (a rebuilt chat.wasm, then the shipped one again): every member gets
    the next post without joining again, A still can't join a fifth, its
    members still count against it when one leaves, "ada" is still A's
    (B is refused it, A posts under it unnamed), A has 2 posts of its
    burst left, not 5, and the log goes on."""
    accounts = proc.runtime.accounts
    a, b = accounts.open("peer 10.0.0.1#1"), accounts.open("peer 10.0.0.2#2")
    shipped = proc.runtime.lumps.put((CHAT / "chat.wasm").read_bytes())
    rebuilt = proc.runtime.lumps.put(build(CHAT / "chat.c", tmp_path / "chat.wasm").read_bytes())
    svc = start_guest_service(shipped, otp.registry_view(otp.start_registry(), read_only=True,
                                                         names=[WORLD]), name="chat")
    chat = svc.cap
    boxes = [vm.create_mailbox() for _ in range(4)]
    guests = [vm.spawn_guest(RELAY, box.make_capability(SEND), account=a) for box in boxes]
    for n, guest in enumerate(guests, 1):
        assert stamped(chat, "join", a, [guest.demote(SEND | MONITOR)]) == n
    op_box, op_cap = member()
    assert request(chat, "join", [op_cap]) == 5
    assert stamped(chat, ["post", "I am ada", "ada"], a) == 5
    assert stamped(chat, ["post", "two"], a) == 5
    assert stamped(chat, ["post", "three"], a) == 5
    for box in [*boxes, op_box]:
        for _ in range(3):
            box.recv(timeout=10)
    for lump in (rebuilt, shipped):
        assert upgrade_guest_service(svc.front, lump)["old_exit"] == vm.NORMAL
    assert request(chat, "members") == 5
    e = stamped(chat, "join", a, [vm.spawn_guest(IDLE, account=a).demote(SEND | MONITOR)])
    assert (e.kind, e.message) == ("limit_reached", "a connection joins at most 4 members")
    e = stamped(chat, ["post", "I am ada too", "ada"], b)
    assert e.message == "the name 'ada' is taken by another connection"
    assert stamped(chat, ["post", "four"], a) == 5  # as "ada", to every member
    for box in boxes:
        assert decode(box.recv(timeout=10).data) == {"from": "ada", "text": "four"}
    assert post_of(op_box) == {"from": "ada", "text": "four"}
    assert stamped(chat, ["post", "five"], a) == 5
    e = stamped(chat, ["post", "six"], a)
    assert e.kind == "limit_reached", e  # the bucket it had, not a fresh one
    assert [line["text"] for line in request(chat, "log")] == [
        "I am ada", "two", "three", "four", "five"]
    guests[0].kill()  # its member goes, and frees a place of A's
    wait_until(lambda: request(chat, "members") == 4, timeout=10, what="the member dropped")
    assert stamped(chat, "join", a, [vm.spawn_guest(IDLE, account=a).demote(SEND | MONITOR)]) == 5
