"""Helpers of the network attacks (tests/security/test_net_*.py).

- `NetServer`: the harness's `Server` started through this module, so that
  a test can lower the listener's limits (``hearth.net._listen`` module
  constants) in the real ``hearth-server`` subprocess; ``python -m
  tests.security.net_helpers LIMITS_JSON ARGS...`` sets them and runs
  ``hearth.server.main(ARGS)``.
- `raw_peer`: an authenticated hand-written peer (`tests.net.rawpeer`).
- `rss`: a process's resident memory, from /proc.
"""

import json
import sys

import msgpack


from tests.net.rawpeer import RawPeer
from tests.security.conftest import SECRET, Server


class NetServer(Server):
    """A `Server` whose listener limits are `limits` ({constant: value})."""

    def __init__(self, tmp_path, limits):
        super().__init__(tmp_path, module="tests.security.net_helpers",
                         lead_args=(json.dumps(limits),))


def raw_peer(server, authenticate=True):
    return RawPeer(server.url, SECRET.encode(), authenticate=authenticate)


def rss(pid):
    """Resident memory of `pid` in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _main():
    import hearth.net._listen as listen_module
    from hearth.server import main

    for name, value in json.loads(sys.argv[1]).items():
        assert hasattr(listen_module, name), name
        setattr(listen_module, name, value)
    return main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(_main())


def reply_of(raw):
    """Read until a MSG arrives (the reply to a request); ``(term, caps)``."""
    from hearth.net._wire import MSG

    while True:
        ops = raw.recv()
        assert ops is not None, "the server closed the connection"
        for op in ops:
            if op[0] == MSG:
                return msgpack.unpackb(op[2], raw=False), op[3]


def get(raw, name):
    """Export id of `name` from the registry view (``(id, perms)``)."""
    raw.request(raw.root, ["get", name])
    term, caps = reply_of(raw)
    assert "ok" in term, term
    return caps[0]


def spawn_counter(server, raw):
    """Spawn the counter guest through the spawner (its lump is the
    server's); the guest's export ``(id, perms)`` (all permissions)."""
    from hearth.vm import lump_id

    spawner = get(raw, "hearth.wasm.WasmProcessSpawner")[0]
    lid = bytes(lump_id((server.root / "init/counter-guest/counter.wasm").read_bytes()))
    raw.request(spawner, ["spawn", lid], reply_id=2)
    term, caps = reply_of(raw)
    assert "ok" in term, term
    return caps[0]


def pids(snapshot):
    return {pid for pid, _ in snapshot["processes"]}


def wait_gone(server, pid, timeout=20):
    """Wait until the server runs no process `pid` (asking its inspector in
    a bounded loop that yields between tries). Switches: always."""
    import gevent

    from hearth.ctl import _ask

    with gevent.Timeout(timeout, AssertionError(f"process {pid} is still alive")):
        with server.operator() as op:
            while any(p["pid"] == pid for p in _ask(op.root, "ps")["processes"]):
                gevent.sleep(0.05)


def colliding_pairs(n):
    """`n` distinct pairs of ints whose tuples all have one hash, computed
    from CPython's tuple hash (xxHash-style lanes over the items' hashes,
    not salted per process): for each first item, the second is solved for
    so the running state after it matches that of ``(0, 0)``."""
    mask = (1 << 64) - 1
    p1, p2, p5 = 11400714785074694791, 14029467366897019727, 2870177450012600261

    def after_first(a):
        acc = (p5 + a * p2) & mask
        return (((acc << 31) | (acc >> 33)) & mask) * p1 & mask

    goal, inverse = after_first(0), pow(p2, -1, 1 << 64)
    out, a = [], 0
    while len(out) < n:
        lane = ((goal - after_first(a)) * inverse) & mask
        lane = lane - (1 << 64) if lane >> 63 else lane
        if -(2 ** 61 - 2) <= lane <= 2 ** 61 - 2 and lane != -1:  # an int hashing to itself
            out.append((a, lane))
        a += 1
    return out
