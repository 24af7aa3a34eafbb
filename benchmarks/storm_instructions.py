"""The crash storm in instructions, Hearth's and the plain monitor's.

``python -m benchmarks.storm_instructions [--crashes N]``

CPU seconds of a crash storm move with the machine's other jobs by a few
per cent from round to round, as much as one change to the exit path
gains. Instructions do not: this runs each side's storm once under
valgrind's callgrind, counting only from the first ``b"crash"`` sent to the
last reason taken (``callgrind_control`` switches counting on and off
around it), and prints the instructions a crash of each and their ratio.
Instructions are not time (a cache miss costs many of them, and the
kernel's work, such as unmapping a finished greenlet's stack, is not
counted), so the figure that judges the goal stays `crash_storm.cpu`; this
one tells whether a change to the path did less work. Needs valgrind
(``apt-get install valgrind``); runs about a minute for 20,000 crashes.
Nothing here is a `bench_*` module: ``python -m benchmarks`` never runs it.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Run in the interpreter under callgrind: one side's storm, counted.
_STORM = r"""
import os, subprocess, sys
import gevent
from benchmarks.bench_kernel import hearth_monitored, plain_monitored
from hearth import vm

def count(on):
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   capture_output=True, check=True)

def hearth(n):
    rt = vm.Runtime()
    with rt.open_process():
        caps = hearth_monitored(n)
        send, recv, Down, is_error = vm.send, vm.recv, vm.Down, vm.is_error
        count(True)
        for cap in caps:
            send(cap, b"crash")
        downs = errors = 0
        while downs < n:
            sig = recv()
            if type(sig) is Down:
                downs += 1
                errors += is_error(sig.reason)
                sig.cap.release()
        count(False)
        assert errors == n, (errors, n)
    rt.shutdown(timeout=300)

def plain(n):
    downs, queues, greenlets = plain_monitored(n)
    count(True)
    for q in queues:
        q.put(b"crash")
    errors = 0
    for _ in range(n):
        errors += downs.get()[0] == "_Crash"
    count(False)
    assert errors == n, (errors, n)
    gevent.joinall(greenlets)

(hearth if sys.argv[1] == "hearth" else plain)(int(sys.argv[2]))
"""

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def instructions(side, n):
    """Instructions callgrind counted for `side`'s storm of `n` crashes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, PYTHONPATH=_ROOT)
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}", sys.executable, "-c", _STORM, side, str(n)],
            env=env, cwd=_ROOT, capture_output=True, text=True, timeout=1800)
        if run.returncode != 0:
            raise SystemExit(f"{side}'s storm failed under callgrind:\n{run.stderr[-2000:]}")
        match = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
        if match is None:
            raise SystemExit(f"no instruction count in callgrind's output:\n{run.stderr[-2000:]}")
        return int(match.group(1).replace(",", ""))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storm_instructions")
    parser.add_argument("--crashes", type=int, default=20_000)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind and callgrind_control (apt-get install valgrind)")
    from hearth import vm

    print(f"kernel compiled: {vm.COMPILED}; instructions a crash, {args.crashes} crashes",
          file=sys.stderr)
    hearth = instructions("hearth", args.crashes) / args.crashes
    plain = instructions("plain", args.crashes) / args.crashes
    print(f"hearth {hearth:,.0f} | plain monitor {plain:,.0f} | ratio {hearth / plain:.3f}")


if __name__ == "__main__":
    main()
