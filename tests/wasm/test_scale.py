"""Many guests at once: each has its own OS thread, and idle ones cost little."""

import random
import time

from hearth import vm
from hearth.vm import SEND
from hearth.vm._wasm import load_module, spawn_guest, wasm_host

from .guests import ECHO_TO_CAP0

N = 1000


def test_a_thousand_guests_blocked_in_recv_at_once_all_answer_in_any_order(proc):
    runtime = proc.runtime
    me = vm.make_capability(SEND)
    echo = load_module(ECHO_TO_CAP0)
    started = time.perf_counter()
    guests = [spawn_guest(echo, me) for _ in range(N)]
    runtime.wait_all_blocked(timeout=30)
    spawned = time.perf_counter() - started
    assert wasm_host(runtime).bridge.n_threads == N  # all blocked at the same time
    assert sum(1 for p in runtime.processes() if p.state == "waiting") == N

    order = list(range(N))
    random.Random(4).shuffle(order)
    for i in order:
        guests[i].send(b"guest %d" % i)
    replies = sorted(vm.recv(timeout=30).data for _ in range(N))
    assert replies == sorted(b"guest %d" % i for i in range(N))
    woken = time.perf_counter() - started - spawned

    for g in guests:
        g.send(b"")  # an empty message ends an echo guest
    runtime.wait_all_blocked(timeout=30)
    assert wasm_host(runtime).bridge.n_threads == 0
    print(f"\n{N} guests: spawned and blocked in {spawned:.2f} s, all woken in {woken:.2f} s")
