"""The handshake: both sides prove they know the shared secret.

Nothing else crosses a connection before it succeeds (rule N4), and the
secret itself never does. Three frames, each a msgpack array:

1. server → client: ``["hearth", VERSION, server_nonce]`` (32 random bytes)
2. client → server: ``["auth", client_nonce, client_proof]``
3. server → client: ``["welcome", server_proof]`` or ``["denied", message]``

``client_proof = HMAC-SHA256(secret, b"hearth client" + server_nonce +
client_nonce)`` and ``server_proof`` the same with ``b"hearth server"``, so
each side proves knowledge of the secret to the other, and a recorded
handshake is useless against fresh nonces. The client checks the server's
proof too: a server that does not know the secret is refused.

A wrong secret gets ``denied`` with a message, then the server closes.
Repeated failures from one address get their answer later (`Throttle`).
Every handshake frame is tiny: `MAX_HANDSHAKE_FRAME` bytes at most, refused
from its header before it is read or unpacked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from typing import Any

import msgpack

from hearth.vm._terms import brief

from ._errors import AuthError

__all__ = ["VERSION", "MAX_HANDSHAKE_FRAME", "Throttle", "server_hello", "client_auth",
           "check_client", "server_welcome", "denied", "check_welcome"]

VERSION = 1
_NONCE = 32

#: The largest handshake frame either side reads (the biggest, a ``denied``
#: with its message, is a few hundred bytes).
MAX_HANDSHAKE_FRAME = 1024


def _proof(secret: bytes, label: bytes, a: bytes, b: bytes) -> bytes:
    return hmac.new(secret, label + a + b, hashlib.sha256).digest()


def _load(frame: bytes, what: str) -> tuple[Any, ...]:
    try:
        if len(frame) > MAX_HANDSHAKE_FRAME:
            raise ValueError("too big")
        msg = msgpack.unpackb(frame, use_list=False, raw=False)
    except Exception:
        raise AuthError(f"{what}: not a Hearth handshake frame") from None
    if type(msg) is not tuple or not msg or type(msg[0]) is not str:
        raise AuthError(f"{what}: not a Hearth handshake frame")
    return msg


def server_hello() -> tuple[bytes, bytes]:
    """``(frame, nonce)``: the server's first frame."""
    nonce = os.urandom(_NONCE)
    return msgpack.packb(["hearth", VERSION, nonce], use_bin_type=True), nonce


def client_auth(hello: bytes, secret: bytes) -> tuple[bytes, bytes, bytes]:
    """The client's answer to `hello`: ``(frame, client_nonce, server_nonce)``.

    Raises:
        AuthError: `hello` is not a Hearth server's hello, or of another version.
    """
    msg = _load(hello, "the server's hello")
    if len(msg) != 3 or msg[0] != "hearth" or type(msg[2]) is not bytes or len(msg[2]) != _NONCE:
        raise AuthError("the server's hello is not a Hearth handshake")
    if msg[1] != VERSION:
        raise AuthError(f"the server speaks protocol version {brief(msg[1])}, this peer {VERSION}")
    server_nonce = msg[2]
    nonce = os.urandom(_NONCE)
    proof = _proof(secret, b"hearth client", server_nonce, nonce)
    return msgpack.packb(["auth", nonce, proof], use_bin_type=True), nonce, server_nonce


def check_client(frame: bytes, secret: bytes, server_nonce: bytes) -> bytes:
    """The client's nonce if its proof is right. Raises `AuthError` if not."""
    msg = _load(frame, "the client's answer")
    if (len(msg) != 3 or msg[0] != "auth" or type(msg[1]) is not bytes
            or len(msg[1]) != _NONCE or type(msg[2]) is not bytes):
        raise AuthError("the client's answer is not a Hearth handshake")
    expected = _proof(secret, b"hearth client", server_nonce, msg[1])
    if not hmac.compare_digest(expected, msg[2]):
        raise AuthError("wrong secret")
    return msg[1]


def server_welcome(secret: bytes, server_nonce: bytes, client_nonce: bytes) -> bytes:
    """The server's last frame after a good proof."""
    proof = _proof(secret, b"hearth server", client_nonce, server_nonce)
    return msgpack.packb(["welcome", proof], use_bin_type=True)


def denied(message: str) -> bytes:
    """The server's last frame after a bad proof."""
    return msgpack.packb(["denied", message], use_bin_type=True)


def check_welcome(frame: bytes, secret: bytes, server_nonce: bytes,
                  client_nonce: bytes) -> None:
    """Check the server's answer. Raises `AuthError` with the server's
    message when denied, or when the server's own proof is wrong."""
    msg = _load(frame, "the server's answer")
    if msg[0] == "denied" and len(msg) == 2 and type(msg[1]) is str:
        raise AuthError(f"the server refused: {msg[1]}")
    if len(msg) != 2 or msg[0] != "welcome" or type(msg[1]) is not bytes:
        raise AuthError("the server's answer is not a Hearth handshake")
    expected = _proof(secret, b"hearth server", client_nonce, server_nonce)
    if not hmac.compare_digest(expected, msg[1]):
        raise AuthError("the server does not know the secret (its proof is wrong)")


class Throttle:
    """Slows down the answers to repeated failures from one address.

    The `n`-th failed handshake from an address (failures within `window`
    seconds of each other) is answered ``denied`` only after
    ``base * 2 ** (n - 2)`` seconds (at most `cap`; the first at once). A handshake
    that succeeds is never delayed, so a client with a wrong secret slows
    down only itself, even behind a reverse proxy where every client has
    the proxy's address; and the delay holds the failing connection (one of
    the few its address may have in the handshake at once), which is what
    bounds guessing. At most `max_addresses` are remembered (the oldest are
    forgotten first). The IPC socket has none: its owner is never slowed.
    """

    def __init__(self, base: float = 0.1, cap: float = 5.0, window: float = 60.0,
                 max_addresses: int = 10000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base, self.cap, self.window = base, cap, window
        self.max_addresses = max_addresses
        self._clock = clock
        # address -> (count, last failure time), oldest first
        self._failures: dict[str, tuple[int, float]] = {}

    def count(self, address: str) -> int:
        """Failures from `address` that still count."""
        entry = self._failures.get(address)
        if entry is None:
            return 0
        if self._clock() - entry[1] > self.window:
            del self._failures[address]
            return 0
        return entry[0]

    def delay(self, address: str) -> float:
        """Seconds the next failure from `address` would wait for its answer
        (none for a first failure: a typo is answered at once)."""
        count = self.count(address)
        if not count:
            return 0.0
        # The exponent stops growing long before a float would overflow.
        return min(self.cap, self.base * 2.0 ** min(count - 1, 64))

    def failed(self, address: str) -> float:
        """Count a failure from `address`; the seconds to wait before it is
        answered."""
        delay = self.delay(address)
        count = self.count(address) + 1
        self._failures.pop(address, None)
        self._failures[address] = (count, self._clock())
        while len(self._failures) > self.max_addresses:
            del self._failures[next(iter(self._failures))]
        return delay
