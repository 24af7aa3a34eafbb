"""Benchmarks of the wasm guest host (hearth/vm/_wasm) and the guest spawner.

Three benchmarks, each beside baselines measured in the same run:

- ``wasm_rt``: round trips a second between a guest and a Python process,
  and between two guests, beside (a) the same guests run bare
  (``benchmarks/_bare_guests.py``: the same modules, host functions defined
  on the raw path Hearth uses, the same thread wake-ups; the ``overhead``
  figures, what Hearth adds per round trip), (b) the sums of as many host
  calls through wasmtime-py's ``define_func`` and through the raw path
  (references), and (c) the substrate alone: two native threads
  ping-ponging through the hub or on native locks. The
  round trips are measured again with the process pinned to one CPU:
  each one is a chain of thread wake-ups, which cost much less when the
  threads don't bounce between cores.
- ``wasm_spawn``: time from `spawn_guest` of a cached lump to the guest's
  first message (p50, p99), beside a bare wasmtime-py instance started on a
  new thread; and the same through ``hearth.wasm.WasmProcessSpawner``.
- ``wasm_idle``: 10,000 idle guests held by one runtime at once: the time
  to start them, resident memory and kernel memory maps per guest, beside
  10,000 bare native threads with the same stack size. Measured in a fresh
  interpreter (``python -m benchmarks.bench_wasm idle N``), since memory
  and thread stacks freed by an earlier benchmark would be reused.

Run them alone with ``python -m benchmarks wasm_rt wasm_spawn wasm_idle``.
"""

if __name__ == "__main__":  # the idle probe runs as an entry point of its own
    from gevent import monkey

    monkey.patch_all()

import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import wasmtime  # noqa: E402
from gevent import monkey  # noqa: E402

from hearth import vm  # noqa: E402
from hearth.vm import SEND  # noqa: E402

from . import _bare_guests  # noqa: E402
from ._harness import Stopwatch, benchmark, figure, median, percentile, trials  # noqa: E402

_perf = time.perf_counter
_allocate_lock = monkey.get_original("_thread", "allocate_lock")
_start_new_thread = monkey.get_original("_thread", "start_new_thread")
_stack_size = monkey.get_original("_thread", "stack_size")


# -- guests (WAT) ---------------------------------------------------------------------------

_IMPORTS = {
    "send": '(import "hearth::table" "send" (func $send (param i32 i32 i32 i32 i32)))',
    "recv": '(import "hearth::mailbox" "recv" (func $recv (param i32) (result i32)))',
    "make_capability": '(import "hearth::mailbox" "make_capability"'
                       " (func $make_capability (param i32 i32) (result i32)))",
    "destroy_signal": '(import "hearth::mailbox" "destroy_signal"'
                      " (func $destroy_signal (param i32)))",
    "get_message_data_len": '(import "hearth::mailbox" "get_message_data_len"'
                            " (func $get_message_data_len (param i32) (result i32)))",
    "get_message_data": '(import "hearth::mailbox" "get_message_data"'
                        " (func $get_message_data (param i32 i32)))",
    "get_message_caps_num": '(import "hearth::mailbox" "get_message_caps_num"'
                            " (func $get_message_caps_num (param i32) (result i32)))",
    "get_message_caps": '(import "hearth::mailbox" "get_message_caps"'
                        " (func $get_message_caps (param i32 i32)))",
}


def _module(body, *imports):
    lines = [_IMPORTS[name] for name in imports]
    return "(module\n" + "\n".join(lines) + '\n(memory (export "memory") 1)\n' + body + "\n)"


# For each message: send its bytes back through capability 0; empty ends it.
# Host calls per round trip: recv, get_message_data_len, get_message_data,
# destroy_signal, send.
ECHO_TO_CAP0 = _module(
    """(func (export "run") (local $s i32) (local $n i32)
      (loop $l
        (local.set $s (call $recv (i32.const 0)))
        (local.set $n (call $get_message_data_len (local.get $s)))
        (call $get_message_data (local.get $s) (i32.const 1024))
        (call $destroy_signal (local.get $s))
        (br_if 1 (i32.eqz (local.get $n)))
        (call $send (i32.const 0) (i32.const 1024) (local.get $n) (i32.const 0) (i32.const 0))
        (br $l)))""",
    "recv", "get_message_data_len", "get_message_data", "destroy_signal", "send",
)
ECHO_CALLS = 5

# For each message: send its bytes back through the first capability it
# carries; empty ends it. 7 host calls per message.
ECHO_VIA_REPLY_CAP = _module(
    """(func (export "run") (local $s i32) (local $n i32) (local $c i32)
      (loop $l
        (local.set $s (call $recv (i32.const 0)))
        (local.set $n (call $get_message_data_len (local.get $s)))
        (local.set $c (call $get_message_caps_num (local.get $s)))
        (call $get_message_data (local.get $s) (i32.const 1024))
        (call $get_message_caps (local.get $s) (i32.const 512))
        (call $destroy_signal (local.get $s))
        (br_if 1 (i32.eqz (local.get $n)))
        (call $send (i32.load (i32.const 512)) (i32.const 1024) (local.get $n)
                    (i32.const 516) (i32.sub (local.get $c) (i32.const 1)))
        (br $l)))""",
    "recv", "get_message_data_len", "get_message_caps_num", "get_message_data",
    "get_message_caps", "destroy_signal", "send",
)


def _pinger(n):
    """Spawned with (echo, reporter): waits for "go", then `n` times sends
    "x" to the echo with a capability to itself and waits for the reply
    (5 host calls); then tells the reporter."""
    return _module(
        '(data (i32.const 8) "x")'
        + """
        (func (export "run") (local $n i32) (local $s i32)
          (local.set $n (i32.const %d))
          (i32.store (i32.const 24) (call $make_capability (i32.const 0) (i32.const 1)))
          (drop (call $recv (i32.const 0)))
          (block $done (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (call $send (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 24) (i32.const 1))
            (local.set $s (call $recv (i32.const 0)))
            (drop (call $get_message_data_len (local.get $s)))
            (call $get_message_data (local.get $s) (i32.const 16))
            (call $destroy_signal (local.get $s))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
          (call $send (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0) (i32.const 0)))"""
        % n,
        "make_capability", "recv", "send", "get_message_data_len", "get_message_data",
        "destroy_signal",
    )


GUEST_GUEST_CALLS = 5 + 7  # the pinger's and the echo's host calls per round trip

# Sends an empty message to capability 0 as soon as it runs.
SAY_HI = _module(
    '(func (export "run") (call $send (i32.const 0) (i32.const 0) (i32.const 0)'
    " (i32.const 0) (i32.const 0)))",
    "send",
)

# Blocks in recv on mailbox 0 forever.
WAIT_FOREVER = _module(
    '(func (export "run") (loop $l (drop (call $recv (i32.const 0))) (br $l)))', "recv"
)


# -- round trips ----------------------------------------------------------------------------

RT_TRIPS = 20_000  # per repeat, for each throughput figure
RT_LATENCY_TRIPS = 5_000  # guest <-> Python, timed one by one


def _guest_python(n, timed=False):
    """Round trips a second (or each one's seconds) between this Python
    process and an echo guest."""
    from hearth.vm import spawn_guest

    rt = vm.Runtime()
    try:
        with rt.open_process():
            guest = spawn_guest(ECHO_TO_CAP0, vm.make_capability(SEND))
            send, recv = guest.send, vm.recv
            send(b"warm")
            recv()
            if timed:
                lat = []
                for _ in range(n):
                    t = _perf()
                    send(b"x")
                    recv()
                    lat.append(_perf() - t)
                guest.send(b"")
                return lat
            with Stopwatch() as sw:
                for _ in range(n):
                    send(b"x")
                    recv()
            guest.send(b"")
            return n / sw.seconds
    finally:
        rt.shutdown()


def _guest_guest(n):
    """Round trips a second between two guests (a pinger and an echo)."""
    from hearth.vm import spawn_guest

    rt = vm.Runtime()
    try:
        with rt.open_process():
            echo = spawn_guest(ECHO_VIA_REPLY_CAP)
            ping = spawn_guest(_pinger(n), echo, vm.make_capability(SEND))
            rt.wait_all_blocked()
            with Stopwatch() as sw:
                ping.send(b"go")
                vm.recv()
            echo.send(b"")
            return n / sw.seconds
    finally:
        rt.shutdown()


_BARE_LOOP = """(module (import "env" "f" (func $f (param i32) (result i32)))
  (func (export "run") (param $n i32)
    (loop $l (drop (call $f (local.get $n)))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l))))"""


def _bare_wasmtime(calls):
    """Host calls a second: a wasm loop calling a no-op Python host function
    through wasmtime-py's own `Linker.define_func` (its `Val` trampoline)."""
    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    ty = wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()])
    linker.define_func("env", "f", ty, lambda x: x)
    module = wasmtime.Module(engine, _BARE_LOOP)
    store = wasmtime.Store(engine)
    run = linker.instantiate(store, module).exports(store)["run"]
    with Stopwatch() as sw:
        run(store, calls)
    return calls / sw.seconds


def _bare_unchecked(calls):
    """The same loop through the raw host-call path the guest host uses
    (``wasmtime_linker_define_func_unchecked``, a ctypes callback on raw
    value slots): the fastest host call wasmtime-py's C API allows."""
    from hearth.vm._wasm import _ffi

    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    ty = wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()])
    callback = _ffi.HOST_CALLBACK(lambda env, caller, args, nargs: 0)  # the result slot keeps x
    _ffi.define_host_func(linker, "env", "f", ty, callback)
    module = wasmtime.Module(engine, _BARE_LOOP)
    store = wasmtime.Store(engine)
    run = linker.instantiate(store, module).exports(store)["run"]
    with Stopwatch() as sw:
        failure = _ffi.call_func(store, run, (calls,))
    assert failure is None, failure
    return calls / sw.seconds


def _raw_threads(n):
    """The substrate of a hand-off between guests: two native threads
    ping-ponging on native locks, no hub and no kernel; like guest threads,
    both run as SCHED_BATCH (`_bridge.as_batch_thread`)."""
    from hearth.vm._wasm._bridge import as_batch_thread

    a, b, done, ready = (_allocate_lock() for _ in range(4))
    for lock in (a, b, done, ready):
        lock.acquire()
    seconds = []

    def ping():
        as_batch_thread()
        ready.acquire()
        with Stopwatch() as sw:
            for _ in range(n):
                a.release()
                b.acquire()
        seconds.append(sw.seconds)
        done.release()

    def pong():
        as_batch_thread()
        ready.release()
        for _ in range(n):
            a.acquire()
            b.release()

    _start_new_thread(pong, ())
    _start_new_thread(ping, ())
    done.acquire()
    return n / seconds[0]


def _raw_bridge(n):
    """The substrate alone: two native threads ping-ponging through the hub
    (a gevent async watcher one way, native locks the other), no kernel."""
    hub = gevent.get_hub()
    watcher = hub.loop.async_()
    a, b, done = _allocate_lock(), _allocate_lock(), _allocate_lock()
    for lock in (a, b, done):
        lock.acquire()
    turn = []
    finished = gevent.event.Event()

    def on_wake():
        while turn:
            lock = turn.pop()
            if lock is done:
                finished.set()
            else:
                lock.release()

    def ping():
        for _ in range(n):
            turn.append(b)
            watcher.send()
            a.acquire()
        turn.append(b)
        watcher.send()

    def pong():
        for _ in range(n + 1):
            b.acquire()
            turn.append(a)
            watcher.send()
        turn.append(done)
        watcher.send()

    watcher.start(on_wake)
    try:
        with Stopwatch() as sw:
            _start_new_thread(pong, ())
            _start_new_thread(ping, ())
            finished.wait()
    finally:
        watcher.close()
    return n / sw.seconds


@contextlib.contextmanager
def _one_core(enabled=True):
    """Run the block (and every thread it starts) on one CPU.

    Linux's affinity is per thread and inherited by threads started later,
    so pinning the hub's thread pins the guest threads it starts too.
    """
    if not enabled:
        yield
        return
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(old)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, old)


def _pinned(fn, *args):
    with _one_core():
        return fn(*args)


def _alternate(i, *fns):
    out = {}
    for fn in fns if i % 2 == 0 else reversed(fns):
        gc.collect()
        out.update(fn())
    return out


@benchmark("wasm_rt", repeat=5)
def wasm_rt(repeat):
    """Guest<->Python and guest<->guest round trips vs the same guests bare, the bridge
    and bare threads."""

    def trial(i):
        n = RT_TRIPS
        out = _alternate(
            i,
            lambda: {"guest_python": _guest_python(n)},
            lambda: {"guest_guest": _guest_guest(n)},
            lambda: {"bare_guest_python": _bare_guests.guest_python(n, ECHO_TO_CAP0)},
            lambda: {"bare_guest_guest": _bare_guests.guest_guest(n, _pinger(n),
                                                                  ECHO_VIA_REPLY_CAP)},
            lambda: {"bare_guest_python_1cpu": _pinned(_bare_guests.guest_python, n,
                                                       ECHO_TO_CAP0)},
            lambda: {"bare_guest_guest_1cpu": _pinned(_bare_guests.guest_guest, n, _pinger(n),
                                                      ECHO_VIA_REPLY_CAP)},
            lambda: {"bare_calls": _bare_wasmtime(n * GUEST_GUEST_CALLS)},
            lambda: {"unchecked_calls": _bare_unchecked(n * GUEST_GUEST_CALLS)},
            lambda: {"bridge": _raw_bridge(n)},
            lambda: {"threads": _raw_threads(n)},
            lambda: {"guest_python_1cpu": _pinned(_guest_python, n)},
            lambda: {"guest_guest_1cpu": _pinned(_guest_guest, n)},
            lambda: {"bridge_1cpu": _pinned(_raw_bridge, n)},
            lambda: {"threads_1cpu": _pinned(_raw_threads, n)},
        )
        lat = sorted(_guest_python(RT_LATENCY_TRIPS, timed=True))
        out["p50"] = percentile(lat, 50) * 1e6
        out["p99"] = percentile(lat, 99) * 1e6
        # Microseconds per round trip, and for the same host calls bare.
        out["guest_python_us"] = 1e6 / out["guest_python"]
        out["guest_guest_us"] = 1e6 / out["guest_guest"]
        out["bare_guest_python_us"] = 1e6 / out["bare_guest_python"]
        out["bare_guest_guest_us"] = 1e6 / out["bare_guest_guest"]
        for key in ("guest_python_1cpu", "guest_guest_1cpu", "bare_guest_python_1cpu",
                    "bare_guest_guest_1cpu"):
            out[key + "_us"] = 1e6 / out[key]
        out["bare_5_us"] = ECHO_CALLS * 1e6 / out["bare_calls"]
        out["bare_12_us"] = GUEST_GUEST_CALLS * 1e6 / out["bare_calls"]
        out["unchecked_5_us"] = ECHO_CALLS * 1e6 / out["unchecked_calls"]
        out["unchecked_12_us"] = GUEST_GUEST_CALLS * 1e6 / out["unchecked_calls"]
        out["bare_5_rt"] = out["bare_calls"] / ECHO_CALLS
        out["bare_12_rt"] = out["bare_calls"] / GUEST_GUEST_CALLS
        return out

    s = trials(repeat, trial)
    bridge = "two native threads through the hub (raw bridge)"
    threads = "two native threads on native locks (raw hand-off)"
    goal_rt = "goal >= 30,000 rt/s"
    bare_guests = ("the same guests bare: Hearth's raw host-call path, a thread each,"
                   " native locks and the hub's async watcher")
    return [
        figure("wasm_rt.guest_guest", s, "guest_guest", "threads", unit="rt/s",
               baseline=threads, better="higher", goal=goal_rt,
               check=lambda f: f.value >= 30_000,
               extra={"repeats": s["guest_guest"], "baseline_repeats": s["threads"]}),
        figure("wasm_rt.guest_python", s, "guest_python", "bridge", unit="rt/s",
               baseline=bridge, better="higher", goal=goal_rt,
               check=lambda f: f.value >= 30_000,
               p50=median(s["p50"]), p99=median(s["p99"]), latency_unit="us",
               extra={"repeats": s["guest_python"], "baseline_repeats": s["bridge"]}),
        figure("wasm_rt.guest_guest.one_cpu", s, "guest_guest_1cpu", "threads_1cpu",
               unit="rt/s", baseline=threads + ", on one CPU", better="higher",
               goal="the 30,000 goal with the process pinned to one CPU",
               check=lambda f: f.value >= 30_000,
               extra={"repeats": s["guest_guest_1cpu"], "baseline_repeats": s["threads_1cpu"]}),
        figure("wasm_rt.guest_python.one_cpu", s, "guest_python_1cpu", "bridge_1cpu",
               unit="rt/s", baseline=bridge + ", on one CPU", better="higher",
               goal="the 30,000 goal with the process pinned to one CPU",
               check=lambda f: f.value >= 30_000,
               extra={"repeats": s["guest_python_1cpu"], "baseline_repeats": s["bridge_1cpu"]}),
        figure("wasm_rt.guest_guest.overhead", s, "guest_guest_us", "bare_guest_guest_us",
               unit="us/rt", baseline=bare_guests + " (guest <-> guest)", better="lower",
               goal="ratio <= 1.5", check=lambda f: f.ratio <= 1.5,
               extra={"repeats": s["guest_guest"], "baseline_repeats": s["bare_guest_guest"]}),
        figure("wasm_rt.guest_python.overhead", s, "guest_python_us", "bare_guest_python_us",
               unit="us/rt", baseline=bare_guests + " (guest <-> hub)", better="lower",
               goal="ratio <= 1.5", check=lambda f: f.ratio <= 1.5,
               extra={"repeats": s["guest_python"],
                      "baseline_repeats": s["bare_guest_python"]}),
        figure("wasm_rt.guest_guest.overhead.one_cpu", s, "guest_guest_1cpu_us",
               "bare_guest_guest_1cpu_us", unit="us/rt",
               baseline=bare_guests + " (guest <-> guest), on one CPU", better="lower",
               goal="reference: the overhead where a wake-up is a context switch",
               extra={"repeats": s["guest_guest_1cpu"],
                      "baseline_repeats": s["bare_guest_guest_1cpu"]}),
        figure("wasm_rt.guest_python.overhead.one_cpu", s, "guest_python_1cpu_us",
               "bare_guest_python_1cpu_us", unit="us/rt",
               baseline=bare_guests + " (guest <-> hub), on one CPU", better="lower",
               goal="reference: the overhead where a wake-up is a context switch",
               extra={"repeats": s["guest_python_1cpu"],
                      "baseline_repeats": s["bare_guest_python_1cpu"]}),
        figure("wasm_rt.guest_guest.vs_define_func", s, "guest_guest_us", "bare_12_us",
               unit="us/rt",
               baseline=f"sum of {GUEST_GUEST_CALLS} wasmtime-py define_func host calls",
               better="lower", goal="reference (the baseline before 2026-12-07)"),
        figure("wasm_rt.guest_python.vs_define_func", s, "guest_python_us", "bare_5_us",
               unit="us/rt", baseline=f"sum of {ECHO_CALLS} wasmtime-py define_func host calls",
               better="lower", goal="reference (the baseline before 2026-12-07)"),
        figure("wasm_rt.guest_guest.vs_unchecked", s, "guest_guest_us", "unchecked_12_us",
               unit="us/rt",
               baseline=f"bare unchecked host calls (the host's own path), {GUEST_GUEST_CALLS}",
               better="lower", goal="reference"),
        figure("wasm_rt.guest_python.vs_unchecked", s, "guest_python_us", "unchecked_5_us",
               unit="us/rt",
               baseline=f"bare unchecked host calls (the host's own path), {ECHO_CALLS}",
               better="lower", goal="reference"),
        figure("wasm_rt.bare_calls", s, "bare_calls", "unchecked_calls", unit="calls/s",
               baseline="bare unchecked host calls", better="higher",
               goal="reference: wasmtime-py's Val trampoline vs the raw path"),
    ]


# -- spawn ----------------------------------------------------------------------------------

SPAWN_COUNT = 300  # timed one by one, per repeat and per kind


def _hearth_spawn_times(n):
    """Seconds from `spawn_guest(lump id)` (compiled and cached) to the
    guest's first message, each spawn timed alone."""
    from hearth.vm import load_module, spawn_guest

    rt = vm.Runtime()
    try:
        with rt.open_process():
            me = vm.make_capability(SEND)
            lid = rt.lumps.put(SAY_HI.encode())
            load_module(lid)
            spawn_guest(lid, me)
            vm.recv()
            times = []
            for _ in range(n):
                t = _perf()
                spawn_guest(lid, me)
                vm.recv()
                times.append(_perf() - t)
            rt.wait_all_blocked()
            return times
    finally:
        rt.shutdown()


def _spawner_times(n):
    """The same through ``hearth.wasm.WasmProcessSpawner``: a request with
    the lump id, its reply, and the guest's first message."""
    from hearth.native._wasm_spawner import start_wasm_spawner
    from hearth.otp import request, start_registry

    rt = vm.Runtime()
    try:
        with rt.open_process():
            me = vm.make_capability(SEND)
            spawner = start_wasm_spawner(start_registry()).cap
            lid = rt.lumps.put(SAY_HI.encode())
            request(spawner, ["spawn", lid], [me]).release()  # compiles, and caches it
            vm.recv()
            times = []
            for _ in range(n):
                t = _perf()
                request(spawner, ["spawn", lid], [me]).release()
                vm.recv()
                times.append(_perf() - t)
            rt.wait_all_blocked()
            return times
    finally:
        rt.shutdown()


def _bare_spawn_times(n):
    """A bare wasmtime-py instance of the same module on a new native
    thread of the guest stack size: Store, instantiate, run (one host
    call), thread end; timed until a native lock says it ran."""
    from hearth.vm._wasm._settings import engine_settings, thread_stack_size

    settings = engine_settings()
    engine = vm.make_engine(settings)
    linker = wasmtime.Linker(engine)
    ran = _allocate_lock()
    ran.acquire()
    ty = wasmtime.FuncType([wasmtime.ValType.i32()] * 5, [])
    linker.define_func("hearth::table", "send", ty, lambda *a: ran.release())
    module = wasmtime.Module(engine, SAY_HI)
    pre = linker.instantiate_pre(module)

    def thread():
        store = wasmtime.Store(engine)
        store.set_epoch_deadline(1 << 40)
        pre.instantiate(store).exports(store)["run"](store)

    times = []
    old = _stack_size(thread_stack_size(settings))
    try:
        for _ in range(n + 1):
            t = _perf()
            _start_new_thread(thread, ())
            ran.acquire()
            times.append(_perf() - t)
    finally:
        _stack_size(old)
    return times[1:]


@benchmark("wasm_spawn", repeat=5)
def wasm_spawn(repeat):
    """Guest spawn from a cached lump to its first message (p50/p99) vs a bare instance."""

    def trial(i):
        n = SPAWN_COUNT
        raw = _alternate(
            i,
            lambda: {"hearth": sorted(_hearth_spawn_times(n))},
            lambda: {"spawner": sorted(_spawner_times(n))},
            lambda: {"bare": sorted(_bare_spawn_times(n))},
        )
        out = {}
        for key, times in raw.items():
            out[f"{key}_p50"] = percentile(times, 50) * 1e6
            out[f"{key}_p99"] = percentile(times, 99) * 1e6
        return out

    s = trials(repeat, trial)
    bare = "bare wasmtime-py instance on a new thread"
    return [
        figure("wasm_spawn", s, "hearth_p50", "bare_p50", unit="us (p50)", baseline=bare,
               better="lower", goal="p50 < 1 ms", check=lambda f: f.value < 1000,
               p50=median(s["hearth_p50"]), p99=median(s["hearth_p99"]),
               baseline_p50=median(s["bare_p50"]), baseline_p99=median(s["bare_p99"]),
               latency_unit="us"),
        figure("wasm_spawn.spawner", s, "spawner_p50", "bare_p50", unit="us (p50)",
               baseline=bare, better="lower",
               goal="reference: through hearth.wasm.WasmProcessSpawner",
               p50=median(s["spawner_p50"]), p99=median(s["spawner_p99"]),
               baseline_p50=median(s["bare_p50"]), baseline_p99=median(s["bare_p99"]),
               latency_unit="us"),
    ]


# -- idle guests (a fresh interpreter per measurement) --------------------------------------

IDLE_COUNT = 10_000


def _status():
    """(RSS bytes, lines of /proc/self/maps)."""
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/maps") as f:
        maps = sum(1 for _ in f)
    return rss, maps


def _probe_idle_guests(n):
    from hearth.vm import load_module, spawn_guest
    from hearth.vm._wasm import wasm_host

    rt = vm.Runtime()
    with rt.open_process():
        lid = rt.lumps.put(WAIT_FOREVER.encode())
        load_module(lid)
        spawn_guest(lid).kill()  # the host's one-time set-up
        rt.wait_all_blocked()
        gc.collect()
        rss0, maps0 = _status()
        with Stopwatch() as start:
            guests = [spawn_guest(lid) for _ in range(n)]
            rt.wait_all_blocked(timeout=300)
        gc.collect()
        rss1, maps1 = _status()
        threads = wasm_host(rt).bridge.n_threads
        live = sum(1 for p in rt.processes() if p.initial_call.startswith("wasm:"))
        with Stopwatch() as stop:
            for g in guests:
                g.kill()
            rt.wait_all_blocked(timeout=300)
        del guests
        gc.collect()
        rss2, maps2 = _status()
        left = wasm_host(rt).bridge.n_threads
    rt.shutdown(timeout=300)
    return {
        "count": live, "threads": threads, "threads_left": left,
        "start_s": start.seconds, "stop_s": stop.seconds,
        "rss_per": (rss1 - rss0) / n, "maps_per": (maps1 - maps0) / n,
        "maps_before": maps0, "maps_live": maps1, "maps_after": maps2,
        "rss_after_per": (rss2 - rss0) / n,
    }


def _probe_idle_threads(n):
    """n native threads of the guest stack size, each blocked on a native
    lock of its own: what an idle guest's thread costs with nothing on it."""
    from hearth.vm._wasm._settings import engine_settings, thread_stack_size

    gc.collect()
    rss0, maps0 = _status()
    locks, started = [], _allocate_lock()
    count = [0]
    started.acquire()

    def park(lock):
        count[0] += 1  # the GIL makes this increment safe enough for a count
        if count[0] == n:
            started.release()
        lock.acquire()

    old = _stack_size(thread_stack_size(engine_settings()))
    try:
        with Stopwatch() as start:
            for _ in range(n):
                lock = _allocate_lock()
                lock.acquire()
                locks.append(lock)
                _start_new_thread(park, (lock,))
            started.acquire()
    finally:
        _stack_size(old)
    gc.collect()
    rss1, maps1 = _status()
    with Stopwatch() as stop:
        for lock in locks:
            lock.release()
    return {
        "count": n, "threads": n, "threads_left": 0,
        "start_s": start.seconds, "stop_s": stop.seconds,
        "rss_per": (rss1 - rss0) / n, "maps_per": (maps1 - maps0) / n,
        "maps_before": maps0, "maps_live": maps1, "maps_after": None, "rss_after_per": None,
    }


def _run_probe(kind, n):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_wasm", kind, str(n)],
        cwd=root, check=True, capture_output=True, text=True, timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@benchmark("wasm_idle", repeat=3)
def wasm_idle(repeat):
    """10,000 idle guests at once: start time, RSS and memory maps per guest vs bare threads."""

    def trial(i):
        n = IDLE_COUNT
        raw = _alternate(
            i,
            lambda: {"guests": _run_probe("idle", n)},
            lambda: {"threads": _run_probe("threads", n)},
        )
        out = {}
        for who, d in raw.items():
            for key, value in d.items():
                out[f"{who}_{key}"] = value
            out[f"{who}_start_us"] = d["start_s"] / n * 1e6
        return out

    s = trials(repeat, trial)
    bare = "bare native threads, same stack size, on a lock"
    maps = {k: s[f"guests_{k}"] for k in ("maps_before", "maps_live", "maps_after",
                                          "threads", "threads_left", "stop_s")}
    return [
        figure("wasm_idle", s, "guests_count", "threads_count", unit="live guests",
               baseline=bare, better="higher", goal=">= 10,000 live guests",
               check=lambda f: f.value >= 10_000,
               extra={"maps_lines": {k: median(v) for k, v in maps.items()
                                     if None not in v}}),
        figure("wasm_idle.start", s, "guests_start_us", "threads_start_us", unit="us/guest",
               baseline=bare, better="lower",
               goal="reference: spawn until all are blocked in recv"),
        figure("wasm_idle.rss", s, "guests_rss_per", "threads_rss_per", unit="B/guest",
               baseline=bare, better="lower", goal="reference"),
        figure("wasm_idle.maps", s, "guests_maps_per", "threads_maps_per", unit="maps/guest",
               baseline=bare, better="lower",
               goal=f"reference: {IDLE_COUNT:,} guests must fit in vm.max_map_count"),
    ]


def _main(argv):
    kind, n = argv[0], int(argv[1])
    probe = {"idle": _probe_idle_guests, "threads": _probe_idle_threads}[kind]
    print(json.dumps(probe(n)))


if __name__ == "__main__":
    _main(sys.argv[1:])
