"""The SDK's msgpack in C against Python's: the guest writes what Python
writes, byte for byte, and reads whatever Python writes (suite_msgpack.c).
"""

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth import vm
from hearth.otp import decode, encode
from hearth.vm import SEND

from .suite import start_suite

CAP = 1  # the capability extension type (hearth/otp/_codec.py)


class Transcoder:
    """The msgpack suite guest, serving requests after its checks."""

    def __init__(self, guest, downs):
        self.guest = guest
        self.downs = downs
        self.replies = vm.create_mailbox()
        self.reply_cap = self.replies.make_capability(SEND)

    def ask(self, data, caps=()):
        """Send bytes with caps ``[reply capability, *caps]``; the reply."""
        self.guest.send(data, [self.reply_cap, *caps])
        got = vm.select([self.replies, self.downs], timeout=30)
        assert got is not None, "no reply within 30 s"
        mailbox, signal = got
        assert mailbox is self.replies, f"the guest died: {signal.reason!r}"
        return signal

    def round_trip(self, term):
        """Encode as Hearth does; return (sent bytes, reply)."""
        data, caps = encode(term, [self.reply_cap])
        return data, self.ask(data, caps[1:])


@pytest.fixture
def transcoder(proc, build_guest):
    guest, downs, _ = start_suite(build_guest("suite_msgpack"))
    yield Transcoder(guest, downs)
    guest.send(b"")
    assert downs.recv(timeout=10).reason == vm.NORMAL


def test_the_c_writer_picks_the_same_forms_as_pythons_msgpack(transcoder):
    reply = transcoder.ask(msgpack.packb("canned"))
    ints = [0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, -1, -32, -33,
            -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63), 2**64 - 1]
    letters = "abcdefghijklmnopqrstuvwxyz01234567"
    term = ints + [None, True, False, 1.5, "", letters[:31], letters[:32], b"\x00\x01",
                   {"k": []}, msgpack.ExtType(CAP, (1).to_bytes(4, "little")),
                   msgpack.ExtType(5, b"xy"), msgpack.ExtType(6, b"abc")]
    assert reply.data == msgpack.packb(term, use_bin_type=True)
    assert len(reply.caps) == 2 and reply.caps[1].same_route(transcoder.reply_cap)


EDGES = [
    None, True, False, 0, -1, 127, 128, -32, -33, 255, 256, -128, -129, 65535, 65536,
    -32768, -32769, 2**32 - 1, 2**32, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, 2**64 - 1,
    -(2**63), 0.0, -0.0, 1e300, float("inf"), float("nan"),
    "", "x" * 31, "x" * 32, "x" * 255, "x" * 256, "x" * 65535, "x" * 65536, "h\u00e9llo \u2713",
    b"", b"\x00" * 255, b"\x00" * 256, b"\xff" * 65535, b"\xff" * 65536,
    [], list(range(15)), list(range(16)), [0] * 65535, [0] * 65536,
    {}, {str(i): i for i in range(15)}, {str(i): i for i in range(16)},
    {str(i): None for i in range(65536)},
    {"a": [1, {"b": [b"c", None, {"d": -1.25}]}]},
]


@pytest.mark.parametrize("term", EDGES, ids=lambda t: type(t).__name__)
def test_edge_values_come_back_byte_for_byte(transcoder, term):
    data, reply = transcoder.round_trip(term)
    assert reply.data == data


def test_deep_nesting_costs_the_guest_no_stack(transcoder):
    term = 1
    for _ in range(500):  # about as deep as Python's msgpack will go
        term = [term]
    data, reply = transcoder.round_trip(term)
    assert reply.data == data


def test_capabilities_inside_the_data_come_back_in_order(transcoder, proc):
    one, two = vm.create_mailbox(), vm.create_mailbox()
    a = one.make_capability(SEND)
    b = two.make_capability(SEND | vm.MONITOR)
    term = {"a": [a, b, a], "b": b, "n": 1}
    data, reply = transcoder.round_trip(term)
    assert reply.data == data
    back = decode(reply.data, reply.caps)
    assert [c.permissions for c in back["a"]] == [SEND, SEND | vm.MONITOR, SEND]
    assert back["a"][0].same_route(a) and back["a"][2].same_route(a)
    assert back["b"].same_route(b)


def test_other_extension_types_pass_through(transcoder):
    # [ext 2 (empty), ext -5 (300 bytes)]: Python's ExtType can't say -5.
    data = b"\x92\xc7\x00\x02" + b"\xc8\x01\x2c\xfb" + b"x" * 300
    assert transcoder.ask(data).data == data


@pytest.mark.parametrize(
    "data",
    [
        b"\xc1",  # never used
        b"\xd9\x05ab",  # str8 cut short
        b"\xcd\x01",  # uint16 cut short
        b"\x92\x01",  # an array missing an element
        b"\xdd\xff\xff\xff\xff",  # an array of 4 billion, and nothing
        b"\x01\x02",  # two values
        b"\xd6\x01\x05\x00\x00\x00",  # capability 5 of a message with 1
        b"\xd5\x01\x00\x00",  # a capability extension of the wrong size
    ],
)
def test_malformed_input_is_refused_without_reading_past_it(transcoder, data):
    assert decode(transcoder.ask(data).data) == ("malformed",)


scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats() | st.text() | st.binary()
)
terms = st.recursive(
    scalars,
    lambda kids: (st.lists(kids, max_size=8)
                  | st.dictionaries(st.text(max_size=8), kids, max_size=8)),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=terms)
def test_any_term_comes_back_byte_for_byte(transcoder, term):
    data, reply = transcoder.round_trip(term)
    assert reply.data == data
