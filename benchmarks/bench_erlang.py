"""Erlang/OTP reference figures: Hearth beside the system it takes its names from.

``erlang`` runs the same five programs on Hearth (the functions of
`bench_kernel` and `bench_otp`) and on the BEAM (``benchmarks/erlang_ref.escript``,
one ``escript`` run per figure and repeat, printing JSON): ping-pong round
trips between two processes, ``gen_server:call`` to an echo server, spawning
processes that return at once, resident memory per idle process, and a
crash storm of 100,000 monitored processes. The figures are references, not
goals: Erlang is the yardstick Hearth's design borrows from, compiled to
native code with a per-process heap, and Hearth is Python on greenlets.

Skipped (with a message on stderr, and no figures) when ``escript`` is not
on the PATH: the suite never depends on Erlang. On Debian,
``apt-get install erlang-base`` provides it.
"""

import json
import os
import shutil
import subprocess
import sys

from ._harness import benchmark, figure, trials
from .bench_kernel import (
    CRASH_COUNT,
    MEMORY_COUNT,
    PINGPONG_TRIPS,
    SPAWN_COUNT,
    _alternate,
    _hearth_crash_storm,
    _hearth_pingpong,
    _hearth_spawn,
    _probe,
)
from .bench_otp import CALL_TRIPS, _hearth_call

_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "erlang_ref.escript")


def _erlang(kind, n):
    """The JSON object ``escript erlang_ref.escript kind n`` prints."""
    out = subprocess.run([shutil.which("escript"), _SCRIPT, kind, str(n)], check=True,
                         capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


@benchmark("erlang", repeat=3)
def erlang(repeat):
    """Reference: ping-pong, gen_server call, spawn, memory and crash storm vs Erlang/OTP."""
    if shutil.which("escript") is None:
        print("  erlang: skipped, no escript on the PATH (apt-get install erlang-base)",
              file=sys.stderr, flush=True)
        return []
    release = subprocess.run(
        ["erl", "-noshell", "-eval",
         'io:format("~s", [erlang:system_info(otp_release)]), halt().'],
        capture_output=True, text=True, timeout=60).stdout.strip()

    def trial(i):
        out = {}
        out.update(_alternate(
            i,
            lambda: {"pingpong": PINGPONG_TRIPS / _hearth_pingpong(PINGPONG_TRIPS, False)},
            lambda: {"pingpong_erl":
                     PINGPONG_TRIPS / _erlang("pingpong", PINGPONG_TRIPS)["seconds"]}))
        out.update(_alternate(
            i,
            lambda: {"call": CALL_TRIPS / _hearth_call(CALL_TRIPS, False)},
            lambda: {"call_erl": CALL_TRIPS / _erlang("call", CALL_TRIPS)["seconds"]}))
        out.update(_alternate(
            i,
            lambda: {"spawn": _hearth_spawn(SPAWN_COUNT) / SPAWN_COUNT * 1e6},
            lambda: {"spawn_erl": _erlang("spawn", SPAWN_COUNT)["seconds"] / SPAWN_COUNT * 1e6}))
        out.update(_alternate(
            i,
            lambda: {"memory": _probe("hearth", MEMORY_COUNT)},
            lambda: {"memory_erl": _erlang("memory", MEMORY_COUNT)["bytes_per_process"]}))
        out.update(_alternate(
            i,
            lambda: {"crash": _hearth_crash_storm(CRASH_COUNT)},
            lambda: {"crash_erl": _erlang("crash", CRASH_COUNT)["seconds"]}))
        return out

    s = trials(repeat, trial)
    otp = f"Erlang/OTP {release}"
    ref = "reference: Hearth beside Erlang"
    return [
        figure("erlang.pingpong", s, "pingpong", "pingpong_erl", unit="rt/s",
               baseline=f"{otp}, two processes, ! and receive", better="higher", goal=ref),
        figure("erlang.call", s, "call", "call_erl", unit="rt/s",
               baseline=f"{otp}, gen_server:call to an echo server", better="higher",
               goal=ref),
        figure("erlang.spawn", s, "spawn", "spawn_erl", unit="us/process",
               baseline=f"{otp}, spawn_monitor x {SPAWN_COUNT:,} until every DOWN",
               better="lower", goal=ref),
        figure("erlang.memory", s, "memory", "memory_erl", unit="B/process",
               baseline=f"{otp}, RSS per process blocked in receive ({MEMORY_COUNT:,})",
               better="lower", goal=ref),
        figure("erlang.crash_storm", s, "crash", "crash_erl", unit="s",
               baseline=f"{otp}, {CRASH_COUNT:,} monitored processes crash at once",
               better="lower", goal=ref),
    ]
