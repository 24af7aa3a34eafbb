"""hearth-tui driven for real in tmux: keys in, the screen read back, and
what a person would see asserted. The program runs its ``--demo`` runtime
(the live test against a daemon comes with hearth.net's IPC socket)."""

import re
import sys

import pytest

from .tmux import Tmux, have_tmux

pytestmark = pytest.mark.skipif(not have_tmux(), reason="tmux is not installed")

TUI = [sys.executable, "-m", "hearth.tui._main"]


def test_the_helper_reads_what_a_program_prints_and_its_exit_status():
    with Tmux(["sh", "-c", "read line; echo \"got $line\"; exit 3"], cols=40, rows=5) as t:
        t.send("hello", literal=True)
        t.send("Enter")
        screen = t.wait_for("[exited 3]")
        assert "got hello" in screen
        with pytest.raises(AssertionError, match="not shown within"):
            t.wait_for("never printed", timeout=0.3)


def test_demo_shows_processes_details_tree_and_log_and_kills_on_confirmation():
    with Tmux(TUI + ["--demo", "--refresh", "0.2", "--churn", "5"], cols=140, rows=40) as t:
        screen = t.wait_for("pinger")
        assert "Hearth  demo (in this process)" in screen
        assert re.search(r"PID NAME +STATE +MBOX +IN/s +OUT/s", screen)
        # Filter down to the process that crashes and is restarted.
        t.send("/")
        t.wait_for("\nfilter:")
        t.send("flaky", literal=True)
        t.send("Enter")
        t.wait_for("filter: 'flaky'")
        screen = t.wait_for("RuntimeError: flaky crashed", timeout=20)
        assert re.search(r"pid \d+  flaky", screen)
        assert "recent exits" in screen
        # The log pane follows the selected process; `a` shows everyone's.
        t.send("a")
        t.wait_for("Log (all processes)")
        t.wait_for(re.compile(r"\[\d+\] hearth.demo: chatter line \d+").search)
        # Kill it, with confirmation.
        t.send("k")
        screen = t.wait_for("Kill pid")
        assert "dies with reason killed" in screen
        t.send("y")
        t.wait_for(re.compile(r"killed pid \d+").search)
        # The supervision tree.
        t.send("t")
        screen = t.wait_for("Supervision tree")
        t.wait_for(lambda s: "demo [sup" in s and "flaky [wrk" in s)
        t.send("q")
        t.wait_for("[exited 0]")


def test_without_a_runtime_it_shows_disconnected_and_keeps_trying(tmp_path):
    sock = str(tmp_path / "nobody.sock")
    with Tmux(TUI + ["--socket", sock, "--refresh", "0.2"], cols=100, rows=20) as t:
        screen = t.wait_for("DISCONNECTED")
        assert "DISCONNECTED (reconnecting…)" in screen
        assert "no runtime is running" in screen or "no hearth.net" in screen
        t.send("q")
        t.wait_for("[exited 0]")
