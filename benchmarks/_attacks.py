"""Attacks on a hearth-server, each run by an attacker who knows the shared
secret, for `bench_attacks`' load check.

``python -m benchmarks._attacks NAME URL SECONDS`` runs attack NAME against
the server at URL for SECONDS, then stops by itself (every loop below is
bounded by that deadline and by counts), printing one line of what it did.
The secret comes from ``$HEARTH_SECRET``. Run in a process of its own so that
the attacker's own work (building a 64 MiB frame, masking it) never shares a
CPU turn with the legitimate client being measured.

Each attack is one of the ways an authenticated peer tried to take a server
down (see docs/security.md):

========================  =============================================================
attack                    what it does
========================  =============================================================
``handshake_bomb``        before authenticating, sends a 48 MiB frame of empty msgpack maps
``slowloris``             holds 10,000 half-sent HTTP requests open, re-opening any closed
``wrong_secret``          20 greenlets handshaking with a wrong secret as fast as allowed
``lump_flood``            asks for a lump the server holds 2,048 times a frame, never reads
``error_format``          frames whose one bad operation is huge (40 MB), or nested 1,000 deep
``closed_flood``          ``CLOSED`` for ids it never exported, 2,048 a frame
``request_bomb``          a 48 MiB message of empty maps to the root service
``spawn_flood``           asks the wasm spawner for guests blocked in recv, without end
``spin``                  spawns guests that loop forever without a host call
``grow``                  spawns guests that grow their memory until refused
========================  =============================================================
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402

from hearth.net import _auth  # noqa: E402
from hearth.net._wire import CLOSED, LUMP_WANT, MSG, ROOT, pack, unpack  # noqa: E402

BOMB_BYTES = 48 * 1024 * 1024


def _empty_maps(n):
    """A msgpack array of `n` empty maps (n bytes of 0x80 behind a header)."""
    return b"\xdd" + n.to_bytes(4, "big") + b"\x80" * n


class RawPeer:
    """A peer on a bare WebSocket that speaks the wire format by hand."""

    def __init__(self, url, secret, authenticate=True, timeout=10):
        parts = urlsplit(url)
        sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.ws = websocket.create_connection(url, timeout=timeout, socket=sock)
        self.root = None
        if authenticate:
            frame, nonce, server_nonce = _auth.client_auth(self.recv_raw(), secret)
            self.ws.send_binary(frame)
            _auth.check_welcome(self.recv_raw(), secret, server_nonce, nonce)
            self.send([(ROOT, None)])
            for op in unpack(self.recv_raw()):
                if op[0] == ROOT and op[1] is not None:
                    self.root = op[1][0]

    def recv_raw(self):
        return self.ws.recv_data()[1]

    def send(self, ops):
        self.ws.send_binary(pack(ops))

    def send_raw(self, frame):
        self.ws.send_binary(frame)

    def close(self):
        try:
            self.ws.close(timeout=1)
        except Exception:
            pass


def _repeat(deadline, body):
    """Run `body()` until `deadline`; a connection the server drops is just
    the next round. Returns (rounds, refusals)."""
    rounds = refused = 0
    while time.monotonic() < deadline:
        rounds += 1
        try:
            body()
        except Exception:
            refused += 1
            gevent.sleep(0.01)
    return rounds, refused


def handshake_bomb(url, secret, deadline):
    bomb = _empty_maps(BOMB_BYTES)

    def once():
        peer = RawPeer(url, secret, authenticate=False, timeout=5)
        try:
            peer.recv_raw()  # the server's hello
            peer.send_raw(bomb)
            peer.recv_raw()
        finally:
            peer.close()

    return _repeat(deadline, once)


def slowloris(url, secret, deadline, n=10_000):
    parts = urlsplit(url)
    held = []
    opened = 0
    while time.monotonic() < deadline:
        while len(held) < n and time.monotonic() < deadline:
            try:
                s = socket.create_connection((parts.hostname, parts.port), timeout=2)
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
                held.append(s)
                opened += 1
            except OSError:
                gevent.sleep(0.05)
                break
        gevent.sleep(0.2)
        alive = []
        for s in held:  # keep the ones the server has not closed
            s.setblocking(False)
            try:
                closed = s.recv(1) == b""
            except BlockingIOError:
                closed = False
            except OSError:
                closed = True
            if closed:
                s.close()
            else:
                alive.append(s)
        held = alive
    for s in held:
        s.close()
    return opened, 0


def wrong_secret(url, secret, deadline, workers=20):
    counts = [0, 0]

    def worker():
        while time.monotonic() < deadline:
            counts[0] += 1
            try:
                RawPeer(url, secret + b" (wrong)", timeout=5).close()
            except Exception:
                counts[1] += 1

    gevent.joinall([gevent.spawn(worker) for _ in range(workers)])
    return tuple(counts)


def _held_lump_id(url):
    """The id of a lump the server holds: the bundled counter guest's module."""
    from hearth._entry import bundled_root
    from hearth.vm import lump_id

    with open(os.path.join(bundled_root(), "init", "counter-guest", "counter.wasm"), "rb") as f:
        return bytes(lump_id(f.read()))


def lump_flood(url, secret, deadline):
    lid = _held_lump_id(url)
    frame = pack([(LUMP_WANT, i, lid) for i in range(2048)])

    def once():
        peer = RawPeer(url, secret)
        try:
            while time.monotonic() < deadline:
                peer.send_raw(frame)  # and never read
        finally:
            peer.close()

    return _repeat(deadline, once)


def error_format(url, secret, deadline):
    # An operation whose code is not an int: 40 MB of bytes whose repr is
    # four times that; and one nested 1,000 arrays deep.
    huge = pack([("x", b"\0" * (40 * 1024 * 1024))])
    deep = b"\x91" * 1001 + b"\xc0"

    def once():
        for frame in (huge, deep):
            peer = RawPeer(url, secret)
            try:
                peer.send_raw(frame)
                peer.recv_raw()
            finally:
                peer.close()

    return _repeat(deadline, once)


def closed_flood(url, secret, deadline):
    state = {"next": 1 << 20}

    def once():
        peer = RawPeer(url, secret)
        try:
            while time.monotonic() < deadline:
                base = state["next"]
                state["next"] += 2048
                peer.send([(CLOSED, base + i, "normal", False) for i in range(2048)])
                gevent.sleep(0)
        finally:
            peer.close()

    return _repeat(deadline, once)


def request_bomb(url, secret, deadline):
    data = _empty_maps(BOMB_BYTES)

    def once():
        peer = RawPeer(url, secret)
        try:
            while time.monotonic() < deadline:
                peer.send([(MSG, peer.root, data, [(1, 1)])])
        finally:
            peer.close()

    return _repeat(deadline, once)


# -- guests: a real peer runtime, uploading its module as a lump ------------------------

_BLOCK = """(module (import "hearth::mailbox" "recv" (func $recv (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (drop (call $recv (i32.const 0)))))"""
_SPIN = """(module (memory (export "memory") 1)
  (func (export "run") (loop $l (br $l))))"""
_GROW = """(module (import "hearth::mailbox" "recv" (func $recv (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (block $done (loop $l (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
      (br $l)))
    (drop (call $recv (i32.const 0)))))"""


def _spawning(wat, limit):
    def attack(url, secret, deadline):
        import wasmtime

        from hearth import otp, vm
        from hearth.net import connect

        module = wasmtime.wat2wasm(wat)
        counts = [0, 0]

        def body():
            lid = vm.current_runtime().lumps.put(module)
            with connect(url, secret=secret) as peer:
                spawner = otp.lookup(peer.root, "hearth.wasm.WasmProcessSpawner")
                while time.monotonic() < deadline and counts[0] < limit:
                    counts[0] += 1
                    try:
                        otp.request(spawner, ["spawn", bytes(lid)], timeout=10)
                    except Exception:
                        counts[1] += 1
                        gevent.sleep(0.05)

        rt = vm.Runtime()
        with rt.open_process():
            while time.monotonic() < deadline and counts[0] < limit:
                try:
                    body()
                except Exception:
                    counts[1] += 1
                    gevent.sleep(0.1)
        rt.shutdown(timeout=5)
        return tuple(counts)

    return attack


ATTACKS = {
    "handshake_bomb": handshake_bomb,
    "slowloris": slowloris,
    "wrong_secret": wrong_secret,
    "lump_flood": lump_flood,
    "error_format": error_format,
    "closed_flood": closed_flood,
    "request_bomb": request_bomb,
    "spawn_flood": _spawning(_BLOCK, 10_000),
    "spin": _spawning(_SPIN, 50),
    "grow": _spawning(_GROW, 50),
}


def main(argv):
    name, url, seconds = argv
    secret = os.environ["HEARTH_SECRET"].encode()
    deadline = time.monotonic() + float(seconds)
    rounds, refused = ATTACKS[name](url, secret, deadline)
    print(f"{name}: {rounds} tries, {refused} refused or dropped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
