"""Benchmark of Hibashi's ``c(path)`` in a real client: edit to pixels.

- ``shell_edit_to_pixels``: a real ``hearth-client`` (a window under Xvfb
  when there is no display, 60 frames a second) runs a copy of the bundled
  root; the benchmark edits the debug grid's C source (its grid lines get
  a new color, and a comment unique to the trial, so no compiler cache
  answers), asks a Hibashi session of the client's (``hearth.Shell``, over
  the client's IPC socket) for ``c(path)``, and asks the window for frames
  meanwhile until one shows the new color. The time is from sending the
  ``c(...)`` to the first frame that shows the change, compile included:
  p50 and p99 over the trials. Goal: p99 under 2 s. The baseline, measured
  in the same run: the compile alone (``kindling.sdk.build`` of the same
  edit, no runtime).

  The stock debug grid returns when an upgrade's exit signal reaches it
  (since 2026-12-07; before, each upgrade waited out the drain deadline,
  5 s, and the figure was about 5.6 s).

Run it alone with ``python -m benchmarks shell_edit_to_pixels``.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from hearth import otp, vm
from hearth.otp import read_reply, send_request

from ._harness import benchmark, figure, median, percentile, trials, x_display

SIZE = "320x200"
TRIALS = 10  # edits a repeat
GRID_LINE = "uint8_t r = k == 0 ? 230 : 90, g = k == 0 ? 40 : 90, b = k == 0 ? 40 : 90;"
COLORS = [(40, 230, 40), (230, 40, 230), (40, 230, 230), (230, 230, 40)]
MIN_PIXELS = 40  # pixels of the new color that count as "the frame shows it"


@contextlib.contextmanager
def _client(root, sock):
    """A real hearth-client on `root`, serving tools at `sock`."""
    from hearth._sockpath import probe

    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "hearth.client", "--root", root, "--ipc", sock,
                             "--watch", "0", "--size", SIZE, "--fps", "60"],
                            stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, SDL_VIDEODRIVER="x11"))
    try:
        deadline = time.monotonic() + 60
        while probe(sock) != "live":
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("the client did not start:\n" + log.read().decode()[-2000:])
            vm.recv(timeout=0.1)  # a bounded poll of the socket's state
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _shows(shot, color):
    rgba = np.frombuffer(shot["rgba"], np.uint8).reshape(-1, 4).astype(np.int16)
    near = np.abs(rgba[:, :3] - np.array(color, np.int16)).max(axis=1) < 24
    return int(near.sum()) >= MIN_PIXELS


def _edit(source, original, trial):
    color = COLORS[trial % len(COLORS)]
    line = GRID_LINE.replace(": 90, g", f": {color[0]}, g").replace(
        ": 90, b", f": {color[1]}, b").replace(": 90;", f": {color[2]};")
    with open(source, "w") as f:
        f.write(original.replace(GRID_LINE, line) + f"\n/* edit {trial} {time.time()} */\n")
    return color


def _hearth_trials(root, sock, n):
    """Seconds from c(...) to the first frame showing the edit, `n` times."""
    from hearth.net import connect

    source = os.path.join(root, "init", "debug-grid", "grid.c")
    with open(source) as f:
        original = f.read()
    assert GRID_LINE in original, "the debug grid's source changed: update GRID_LINE"
    out = []
    with connect("unix://" + sock) as peer:
        window = otp.lookup(peer.root, "hearth.Window")
        shell = otp.lookup(peer.root, "hearth.Shell")
        owner_box = vm.create_mailbox()
        owner = owner_box.make_capability(vm.SEND | vm.MONITOR)
        session = otp.request(shell, ["open", owner], timeout=30)["session"]
        for i in range(n):
            color = _edit(source, original, i)
            box = vm.create_mailbox()
            t0 = time.perf_counter()
            send_request(session, {"op": "eval", "source": f"c({source!r})"},
                         box.make_capability(vm.SEND))
            while not _shows(otp.request(window, "screenshot", timeout=30), color):
                if time.perf_counter() - t0 > 60:
                    raise RuntimeError("the grid never changed color")
            out.append(time.perf_counter() - t0)
            answer = read_reply(box.recv(60))
            sys.stderr.write(f"  trial {i}: {out[-1]:.2f} s to pixels;"
                             f" {answer['output'].strip()}\n")
            box.destroy()
            if "upgraded debug-grid in place" not in answer["output"]:
                raise RuntimeError(f"c() said: {answer['output']}")
        with open(source, "w") as f:
            f.write(original)
        owner_box.destroy()
    return out


def _compile_trials(root, n):
    from kindling.sdk import build

    source = os.path.join(root, "init", "debug-grid", "grid.c")
    with open(source) as f:
        original = f.read()
    out = []
    scratch = tempfile.mkdtemp(prefix="bench-build-")
    try:
        for i in range(n):
            edited = os.path.join(scratch, "grid.c")
            with open(edited, "w") as f:
                f.write(original.replace(GRID_LINE, GRID_LINE.replace(": 90;", f": {i};"))
                        + f"\n/* bare {i} {time.time()} */\n")
            t0 = time.perf_counter()
            build([edited], os.path.join(scratch, "grid.wasm"))
            out.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


@benchmark("shell_edit_to_pixels", repeat=1)
def shell_edit_to_pixels(repeat):
    """From c(...) of an edited C guest to the first frame showing it, vs the compile alone."""
    from hearth._entry import bundled_root

    work = tempfile.mkdtemp(prefix="bench-shell-")
    root = os.path.join(work, "root")
    shutil.copytree(bundled_root(), root, ignore=shutil.ignore_patterns("__pycache__"))
    sock = os.path.join(work, "client.sock")
    rt = vm.Runtime()
    try:
        with x_display(), rt.open_process(name="bench"), _client(root, sock):

            def trial(i):
                edits = sorted(_hearth_trials(root, sock, TRIALS))
                builds = sorted(_compile_trials(root, TRIALS))
                return {"hearth_p50": median(edits), "hearth_p99": percentile(edits, 99),
                        "bare_p50": median(builds), "bare_p99": percentile(builds, 99)}

            s = trials(repeat, trial)
    finally:
        rt.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return [figure("shell_edit_to_pixels", s, "hearth_p99", "bare_p99", unit="s",
                   baseline="the compile alone (kindling.sdk.build of the same edit)",
                   better="lower", goal="p99 < 2 s", check=lambda f: f.value < 2.0,
                   p50=median(s["hearth_p50"]), p99=median(s["hearth_p99"]),
                   baseline_p50=median(s["bare_p50"]), baseline_p99=median(s["bare_p99"]),
                   latency_unit="s")]
