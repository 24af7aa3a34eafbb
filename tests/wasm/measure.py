"""Figures of the guest host (not a test: ``python -m tests.wasm.measure``).

Prints guest<->Python and guest<->guest round trips a second beside the
substrate's own (two native threads ping-ponging through the hub), a bare
wasmtime-py loop making the same number of host calls, the spawn time of a
guest from a compiled module, and the cost of an idle guest. A candidate
for benchmarks/ (bench_wasm.py) once the benchmark harness takes it.
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import wasmtime  # noqa: E402

from hearth import vm  # noqa: E402
from hearth.vm import SEND  # noqa: E402
from hearth.vm._wasm import load_module, spawn_guest, wasm_host  # noqa: E402

from .guests import ECHO_TO_CAP0, ECHO_VIA_REPLY_CAP  # noqa: E402
from .wat import data, module  # noqa: E402

# Host calls per round trip of ECHO_TO_CAP0: recv, get_message_data_len,
# get_message_data, destroy_signal, send.
CALLS_PER_ROUND_TRIP = 5


def pinger(n):
    """A guest spawned with (echo, reporter): waits for "go", then $n times
    sends "x" to the echo carrying a capability to itself and waits for the
    reply; then tells the reporter."""
    return module(
        data(8, "x")
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


def guest_python(n):
    me = vm.make_capability(SEND)
    guest = spawn_guest(ECHO_TO_CAP0, me)
    guest.send(b"warm")
    vm.recv()
    lat = []
    started = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        guest.send(b"x")
        vm.recv()
        lat.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    guest.send(b"")
    lat.sort()
    return n / elapsed, lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def guest_guest(n):
    echo = spawn_guest(ECHO_VIA_REPLY_CAP)
    ping = spawn_guest(pinger(n), echo, vm.make_capability(SEND))
    vm.current_process().runtime.wait_all_blocked()
    started = time.perf_counter()
    ping.send(b"go")
    vm.recv()
    elapsed = time.perf_counter() - started
    echo.send(b"")
    return n / elapsed


def bare_wasmtime(calls):
    """A wasm loop calling a no-op Python host function through wasmtime-py's
    own Linker.define_func (its Val-converting trampoline)."""
    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    ty = wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()])
    linker.define_func("env", "f", ty, lambda x: x)
    mod = wasmtime.Module(engine, """(module (import "env" "f" (func $f (param i32) (result i32)))
      (func (export "run") (param $n i32)
        (loop $l (drop (call $f (local.get $n)))
          (local.tee $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l))))""")
    store = wasmtime.Store(engine)
    run = linker.instantiate(store, mod).exports(store)["run"]
    started = time.perf_counter()
    run(store, calls)
    return calls / (time.perf_counter() - started)


def spawn_times(runtime, n):
    me = vm.make_capability(SEND)
    say_hi = module(
        '(func (export "run") (call $send (i32.const 0) (i32.const 0) (i32.const 0)'
        " (i32.const 0) (i32.const 0)))",
        "send",
    )
    compiled = load_module(say_hi)
    spawn_guest(compiled, me)
    vm.recv()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        spawn_guest(compiled, me)
        vm.recv()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def idle_cost(runtime, n):
    def status():
        fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
        maps = sum(1 for _ in open("/proc/self/maps"))
        return int(fields["VmRSS"].split()[0]), int(fields["VmSize"].split()[0]), maps

    echo = load_module(ECHO_TO_CAP0)
    me = vm.make_capability(SEND)
    gc.collect()
    rss0, vsz0, maps0 = status()
    started = time.perf_counter()
    guests = [spawn_guest(echo, me) for _ in range(n)]
    runtime.wait_all_blocked(timeout=120)
    elapsed = time.perf_counter() - started
    rss1, vsz1, maps1 = status()
    threads = wasm_host(runtime).bridge.n_threads
    for g in guests:
        g.kill()
    runtime.wait_all_blocked(timeout=120)
    return elapsed / n, (rss1 - rss0) / n, (vsz1 - vsz0) / n / 1024, (maps1 - maps0) / n, threads


def raw_bridge(n):
    """The substrate alone: two native threads ping-ponging through the hub
    (a gevent async watcher one way, native locks the other), no kernel."""
    hub = gevent.get_hub()
    watcher = hub.loop.async_()
    allocate_lock = monkey.get_original("_thread", "allocate_lock")
    start_thread = monkey.get_original("_thread", "start_new_thread")
    a, b, done = allocate_lock(), allocate_lock(), allocate_lock()
    for lock in (a, b, done):
        lock.acquire()
    turn = []

    def on_wake():
        while turn:
            turn.pop().release()

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
        done.release()

    watcher.start(on_wake)
    started = time.perf_counter()
    start_thread(pong, ())
    start_thread(ping, ())
    while not done.acquire(False):
        gevent.sleep(0.001)
    elapsed = time.perf_counter() - started
    watcher.close()
    return n / elapsed


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    runtime = vm.Runtime()
    with runtime.open_process():
        raw = raw_bridge(n)
        print(f"substrate: two threads through the hub: {raw:,.0f} round trips/s")
        rate, p50, p99 = guest_python(n)
        print(f"guest<->Python: {rate:,.0f} round trips/s"
              f" (p50 {p50 * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us)")
        rate = guest_guest(n)
        print(f"guest<->guest: {rate:,.0f} round trips/s ({rate / raw:.2f} x the substrate)")
        calls = bare_wasmtime(n * CALLS_PER_ROUND_TRIP)
        print(f"bare wasmtime-py loop: {calls:,.0f} host calls/s"
              f" = {calls / CALLS_PER_ROUND_TRIP:,.0f}/s in groups of {CALLS_PER_ROUND_TRIP}"
              " (the host calls of one echo round trip)")
        spawn = spawn_times(runtime, 200)
        print(f"spawn from a compiled module to its first message: {spawn * 1e6:.0f} us (median)")
        for count in (1000, 5000):
            per, rss, vsz, maps, threads = idle_cost(runtime, count)
            print(f"{count} idle guests ({threads} threads): {per * 1e6:.0f} us each to start"
                  f" and block; each {rss:.1f} KiB RSS, {vsz:.1f} MiB of address space,"
                  f" {maps:.1f} memory maps")
    runtime.shutdown()


if __name__ == "__main__":
    main()
