"""A peer that never pauses does not starve everyone else: its connection's
reader yields to the hub after every frame, and a huge frame is unmasked in
chunks with yields between them."""

import os
import subprocess
import sys

import pytest

from hearth import otp
from hearth.native import request
from hearth.net._transport import _UNMASK_CHUNK, _unmask

from tests.security.conftest import SECRET

pytestmark = pytest.mark.hearth_timeout(120)

# Floods CLOSED operations (2,048 a frame, never-imported ids) as fast as the
# server reads them, then prints "done" and exits.
FLOOD = """
import sys
from tests.net.rawpeer import RawPeer
from hearth.net._wire import CLOSED, pack
peer = RawPeer(sys.argv[1], sys.argv[2].encode())
frame = pack([(CLOSED, (1 << 30) + i, "normal", False) for i in range(2048)])
print("flooding", flush=True)
for _ in range(int(sys.argv[3])):
    peer.send_raw(frame)
print("done", flush=True)
"""


def test_a_peer_flooding_frames_does_not_hold_back_another_peers_request(hearth_server,
                                                                          attacker):
    clock = otp.lookup(attacker.root, "clock")
    assert request(clock, "now") > 0
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    flood = subprocess.Popen([sys.executable, "-c", FLOOD, hearth_server.url, SECRET, "3000"],
                             stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        assert flood.stdout.readline().strip() == "flooding"
        # Served while the flood is still being read: before the fix, the
        # server read every frame the flooder sent before anyone else ran.
        for _ in range(20):
            assert request(clock, ["echo", 1]) == 1
        assert flood.poll() is None, "the flood ended before the requests were served"
    finally:
        flood.kill()
        flood.wait()
    hearth_server.assert_unchanged(hearth_server.snapshot())


def _reference(mask, payload, offset=0):
    """The definition: byte i of the payload XOR byte (offset + i) % 4 of the mask."""
    return bytes(b ^ mask[(offset + i) % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("n", [0, 1, 3, 64, 1023, 1024, 1025, 4096, 4099, 70_001])
def test_unmask_matches_the_byte_by_byte_definition(n):
    mask, payload = os.urandom(4), os.urandom(n)
    assert _unmask(mask, payload) == _reference(mask, payload)


def test_unmask_of_a_payload_over_a_chunk_is_whole(proc):
    mask = os.urandom(4)
    payload = os.urandom(2 * _UNMASK_CHUNK + 4097)
    out = _unmask(mask, payload)
    # Unmasking twice gives the payload back; spot-check against the definition
    # at chunk edges and in the tail.
    assert _unmask(mask, out) == payload
    for at in (0, _UNMASK_CHUNK - 3, _UNMASK_CHUNK, 2 * _UNMASK_CHUNK + 4090):
        assert out[at:at + 7] == _reference(mask, payload[at:at + 7], at)
