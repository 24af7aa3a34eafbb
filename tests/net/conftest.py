"""Peers for network tests: each is a runtime of its own in this OS process,
talking to the others over real loopback sockets.

`server` is a runtime with a registry (the root it hands its peers) and a
WebSocket listener; `peers.client()` makes another runtime. Code runs in a
peer's runtime as a process with `peer.run(fn, *args)`, which waits for it
and returns its result (or raises its error). The test's own greenlet is a
process of the plugin's `runtime`, which plays client A wherever a test
needs one.
"""

import gevent
import pytest
from gevent.event import AsyncResult
from gevent.queue import Queue

from hearth import otp, vm
from hearth.net import connect, listen

SECRET = b"correct horse battery staple"


class Side:
    """A runtime with a host process that keeps its capabilities."""

    def __init__(self, rt, setup=None):
        self.rt = rt
        self._jobs = Queue()
        ready = AsyncResult()
        self._stopped = AsyncResult()
        self._host = rt.spawn(self._host_loop, setup, ready, name="host")
        self.info = ready.get(timeout=10)

    def _host_loop(self, setup, ready):
        try:
            self._host_body(setup, ready)
        finally:
            self._stopped.set(True)

    def _host_body(self, setup, ready):
        held = {}
        try:
            ready.set(setup(held) if setup else None)
        except BaseException as e:
            ready.set_exception(e)
            raise
        self.held = held
        while True:
            job = self._jobs.get()
            if job is None:
                break
            fn, args, result = job
            _run_job(fn, held, args, result)
        for thing in held.values():
            close = getattr(thing, "close", None)
            if close is not None:
                close()

    def run(self, fn, *args, timeout=20):
        """Run ``fn(held, *args)`` in the host process of this runtime (one
        job at a time, so state such as monitors carries over between jobs);
        wait for its result. `held` is the host's dict of capabilities."""
        result = AsyncResult()
        self._jobs.put((fn, args, result))
        return result.get(timeout=timeout)

    def stop(self):
        """Close what the host holds (listener, peer) and wait for it."""
        self._jobs.put(None)
        self._stopped.get(timeout=10)


def _run_job(fn, held, args, result):
    try:
        result.set(fn(held, *args))
    except BaseException as e:  # handed to the waiting test
        result.set_exception(e)


def _echo():
    """Answers each message with its data, through caps[0]."""
    while True:
        sig = vm.recv()
        if isinstance(sig, vm.Message) and sig.caps:
            sig.caps[0].send(b"echo:" + sig.data, sig.caps[1:])
            for c in sig.caps:
                c.release()


def _server_setup(held):
    reg = otp.start_registry()
    echo = vm.spawn(_echo, name="echo")
    otp.register(reg, "echo", echo)
    held["registry"] = reg
    held["listener"] = lst = listen("127.0.0.1:0", secret=SECRET, root=reg)
    return lst


@pytest.fixture
def server(runtime):
    """The server: a runtime of its own with a registry root and a listener."""
    rt = vm.Runtime()
    side = Side(rt, _server_setup)
    side.listener = side.info
    side.url = side.listener.url
    yield side
    side.stop()
    rt.shutdown(timeout=5)
    assert not rt.crashes, rt.crashes


class Clients:
    def __init__(self, server):
        self.server = server
        self.sides = []

    def client(self):
        """Another peer runtime, connected to the server; its host holds
        ``peer`` (the `Peer`) and ``root`` (the server's registry)."""
        url = self.server.url

        def setup(held):
            peer = connect(url, secret=SECRET)
            held["peer"] = peer
            return peer

        side = Side(vm.Runtime(), setup)
        side.peer = side.info
        self.sides.append(side)
        return side

    def close(self):
        for side in self.sides:
            side.stop()
        for side in self.sides:
            side.rt.shutdown(timeout=5)
            assert not side.rt.crashes, side.rt.crashes


@pytest.fixture
def clients(server):
    c = Clients(server)
    yield c
    c.close()


def wait_until(predicate, timeout=5.0, what="condition"):
    """Yield to the hub until `predicate()` holds; the loop is bounded and
    each turn lets the other side's greenlets run (no fixed sleep)."""
    with gevent.Timeout(timeout, AssertionError(f"timed out waiting for {what}")):
        while not predicate():
            gevent.sleep(0.001)
