"""Every example script runs to completion and exits 0.

Each runs as its own Python process (an example monkey-patches gevent and
builds its own runtime, as a user's program would), with a bounded time.
"""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
SECONDS = 60


def test_there_are_examples_for_each_pattern():
    names = {p.stem for p in EXAMPLES}
    assert {
        "request_response", "ownership", "sink", "pubsub", "factory", "application",
        "registry", "supervisor_tree",
    } <= names


@pytest.mark.hearth_timeout(SECONDS + 30)
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_exits_0(script):
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=script.parent.parent,
            capture_output=True,
            text=True,
            timeout=SECONDS,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script.name} ran past {SECONDS}s; output so far:\n{e.stdout}\n{e.stderr}")
    assert done.returncode == 0, (
        f"{script.name} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    assert done.stdout.strip(), f"{script.name} printed nothing"
