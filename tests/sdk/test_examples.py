"""examples/guests/run.py builds the example guests and runs them."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[2]


def test_the_example_guests_build_run_and_exit_0(build_guest):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "guests" / "run.py")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "ping-pong: ping 2 -> pong 2" in lines
    assert "counter: get -> 12" in lines
    assert "counter: divide -> ServiceError invalid_request: unknown op" in lines
    assert sorted(line for line in lines if "squared" in line) == [
        "workers: 12 squared is 144", "workers: 3 squared is 9", "workers: 4 squared is 16",
    ]
    exits = [line for line in lines if "exited" in line]
    assert len(exits) == 4 and sum("wasm trap" in line for line in exits) == 1
