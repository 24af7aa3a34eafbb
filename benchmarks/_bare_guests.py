"""The fair baseline of a guest round trip: the same guests, without Hearth.

The very WAT modules `bench_wasm` runs under Hearth, each on a native thread
of its own, with their host functions (`recv`, `send`, `get_message_data`,
...) defined the way Hearth defines them: unchecked linker functions whose
ctypes callbacks read and write the raw value slots through a u32 view
(``hearth.vm._wasm._ffi``), exports called with the unchecked call. What is
left out is everything Hearth adds per call and per message: the phase and
kill checks, capability tables and permissions, the kernel's mailboxes and
processes, message objects, accounting.

A round trip makes the same host calls and the same thread wake-ups as under
Hearth: a guest blocked in `recv` parks on a native lock of its own and the
sender appends to its mailbox and releases that lock (strict alternation, so
one release per message); a message to the Python side crosses to the hub
through a gevent async watcher, and the hub's answer releases the guest's
lock. Guest threads run as SCHED_BATCH, as Hearth's do.

Only `bench_wasm` uses this; it is not an API.
"""

import collections
import ctypes
import operator
import time

import gevent
import gevent.event
import wasmtime
from gevent import monkey

from hearth.vm._wasm import _ffi
from hearth.vm._wasm._bridge import as_batch_thread

__all__ = ["guest_python", "guest_guest"]

_allocate_lock = monkey.get_original("_thread", "allocate_lock")
_start_new_thread = monkey.get_original("_thread", "start_new_thread")
_ARGVIEW = ctypes.c_uint32 * (4 * 8)
_I32 = wasmtime.ValType.i32

# name -> (params, results); the signatures of bench_wasm's imports.
_SIGNATURES = {
    "send": (5, 0),
    "recv": (1, 1),
    "make_capability": (2, 1),
    "destroy_signal": (1, 0),
    "get_message_data_len": (1, 1),
    "get_message_data": (2, 0),
    "get_message_caps_num": (1, 1),
    "get_message_caps": (2, 0),
}
_NAMESPACE = {"send": "hearth::table"}  # the rest are hearth::mailbox


class _Hub:
    """The Python side: messages to it cross to the hub's thread."""

    def __init__(self):
        self.inbox = collections.deque()
        self.arrived = gevent.event.Event()
        self._watcher = gevent.get_hub().loop.async_()
        self._watcher.start(self.arrived.set)

    def deliver(self, message):  # on a guest thread
        self.inbox.append(message)
        self._watcher.send()

    def recv(self, timeout=60):
        """Wait (switches greenlets) for the next message from a guest.

        Raises:
            TimeoutError: none came within `timeout` seconds (a guest trapped).
        """
        deadline = time.perf_counter() + timeout
        while not self.inbox:
            if not self.arrived.wait(max(0.0, deadline - time.perf_counter())):
                raise TimeoutError(f"no message from the bare guest in {timeout} s")
            self.arrived.clear()
        return self.inbox.popleft()

    def close(self):
        self._watcher.close()


class _Guest:
    """One bare guest: a store, an instance of `wat` and a native thread."""

    def __init__(self, engine, wat, caps):
        self.caps = list(caps)  # handle -> a _Guest or the _Hub
        self.mailbox = collections.deque()
        self.wake = _allocate_lock()
        self.wake.acquire()
        self.signals = {}
        self._next_signal = 1
        self.views = {}
        self.done = _allocate_lock()
        self.done.acquire()
        self.failure = None
        linker = wasmtime.Linker(engine)
        self._keep = []
        for name, (nparams, nresults) in _SIGNATURES.items():
            ty = wasmtime.FuncType([_I32()] * nparams, [_I32()] * nresults)
            callback = _ffi.HOST_CALLBACK(self._callback(getattr(self, "h_" + name), nparams,
                                                         nresults))
            self._keep.append((ty, callback))
            _ffi.define_host_func(linker, _NAMESPACE.get(name, "hearth::mailbox"), name, ty,
                                  callback)
        self.store = wasmtime.Store(engine)
        instance = linker.instantiate(self.store, wasmtime.Module(engine, wat))
        exports = instance.exports(self.store)
        self._run = exports["run"]
        self.base, _ = _ffi.memory_base_and_size(self.store, exports["memory"])

    def _callback(self, fn, nparams, nresults):
        views = self.views
        view_type = _ARGVIEW
        get = operator.itemgetter(*range(0, 4 * nparams, 4)) if nparams > 1 else None

        def callback(env, caller, args, nargs):
            view = views.get(args)
            if view is None:
                view = views[args] = view_type.from_address(args)
            result = fn(*get(view)) if get is not None else fn(view[0])
            if nresults:
                view[0] = result
            return 0

        return callback

    def start(self):
        _start_new_thread(self._thread_main, ())

    def _thread_main(self):
        as_batch_thread()
        try:
            self.failure = _ffi.call_func(self.store, self._run)
        finally:
            self.done.release()

    def deliver(self, message):  # from any thread; one message at a time
        self.mailbox.append(message)
        self.wake.release()

    # -- the host functions ------------------------------------------------------------

    def h_recv(self, _mailbox):
        self.wake.acquire()
        handle = self._next_signal
        self._next_signal += 1
        self.signals[handle] = self.mailbox.popleft()
        return handle

    def h_get_message_data_len(self, s):
        return len(self.signals[s][0])

    def h_get_message_data(self, s, ptr):
        data = self.signals[s][0]
        ctypes.memmove(self.base + ptr, data, len(data))

    def h_get_message_caps_num(self, s):
        return len(self.signals[s][1])

    def h_get_message_caps(self, s, ptr):
        caps = self.signals[s][1]
        out = (ctypes.c_uint32 * len(caps)).from_address(self.base + ptr)
        for i, target in enumerate(caps):
            self.caps.append(target)
            out[i] = len(self.caps) - 1

    def h_destroy_signal(self, s):
        del self.signals[s]

    def h_make_capability(self, _mailbox, _perms):
        self.caps.append(self)
        return len(self.caps) - 1

    def h_send(self, cap, ptr, n, caps_ptr, ncaps):
        data = ctypes.string_at(self.base + ptr, n)
        handles = (ctypes.c_uint32 * ncaps).from_address(self.base + caps_ptr) if ncaps else ()
        self.caps[cap].deliver((data, [self.caps[h] for h in handles]))


def _join(guests, timeout=60):
    """Wait (polling, switches greenlets) until every guest's `run` returned."""
    deadline = time.perf_counter() + timeout
    for g in guests:
        while not g.done.acquire(False):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"a bare guest still runs after {timeout} s")
            gevent.sleep(0.001)
        assert g.failure is None, g.failure


def guest_python(n, echo_wat):
    """Round trips a second between the hub and a bare echo guest (`echo_wat`
    sends each message back through capability 0, the hub)."""
    engine = wasmtime.Engine()
    hub = _Hub()
    try:
        guest = _Guest(engine, echo_wat, [hub])
        guest.start()
        guest.deliver((b"warm", []))
        hub.recv()
        deliver, recv = guest.deliver, hub.recv
        t0 = time.perf_counter()
        for _ in range(n):
            deliver((b"x", []))
            recv()
        seconds = time.perf_counter() - t0
        guest.deliver((b"", []))
        _join([guest])
        return n / seconds
    finally:
        hub.close()


def guest_guest(n, pinger_wat, echo_wat):
    """Round trips a second between two bare guests: `pinger_wat` (caps: the
    echo, the hub) waits for "go", pings the echo `n` times and tells the hub."""
    engine = wasmtime.Engine()
    hub = _Hub()
    try:
        echo = _Guest(engine, echo_wat, [])
        ping = _Guest(engine, pinger_wat, [echo, hub])
        echo.start()
        ping.start()
        t0 = time.perf_counter()
        ping.deliver((b"go", []))
        hub.recv()
        seconds = time.perf_counter() - t0
        echo.deliver((b"", []))
        _join([echo, ping])
        return n / seconds
    finally:
        hub.close()
