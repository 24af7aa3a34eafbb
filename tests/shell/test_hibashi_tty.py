"""The real ``hibashi`` in a terminal (tmux), against a real hearth-server:
Ctrl+C interrupts a running evaluation (the namespace stays) and drops a
line at the prompt, Tab completes names and helpers, history is kept
across sessions in the runtime's data directory, and ``hearth-ctl shell``
is the same shell."""

import sys

import pytest

from tests.tui.tmux import have_tmux

from .shell_harness import Server, hibashi_argv, tmux_shell

PROMPT = "hibashi>"  # tmux drops the trailing space

pytestmark = pytest.mark.skipif(not have_tmux(), reason="tmux is not installed")


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    assert srv.stop() == 0, "".join(srv.program.lines[-40:])


def _line(t, text):
    t.send(text, literal=True)
    t.send("Enter")


def test_ctrl_c_interrupts_an_evaluation_and_the_bindings_stay(server):
    with tmux_shell(hibashi_argv(server.sock)) as t:
        t.wait_for(PROMPT)
        _line(t, "x = 5")
        _line(t, "receive()")  # waits for a message that never comes
        t.wait_for("hibashi> receive()")
        t.send("C-c")
        screen = t.wait_for("bindings kept")
        assert "KeyboardInterrupt" in screen
        assert "*** the shell's process (pid" in screen
        _line(t, "x * 2")
        t.wait_for("\n10\n")
        # At the prompt, Ctrl+C drops the line being typed.
        t.send("half a line", literal=True)
        t.send("C-c")
        t.wait_for(lambda s: s.count("KeyboardInterrupt") == 2)
        _line(t, "'still here'")
        t.wait_for("'still here'\n")
        t.send("C-d")
        t.wait_for("[exited 0]")


def test_tab_completes_names_and_helpers(server):
    with tmux_shell(hibashi_argv(server.sock)) as t:
        t.wait_for(PROMPT)
        _line(t, "my_long_variable = 41")
        t.send("my_lo", literal=True)
        t.send("Tab")
        t.wait_for("hibashi> my_long_variable")
        _line(t, " + 1")
        t.wait_for("\n42\n")
        t.send("flu", literal=True)
        t.send("Tab")
        t.wait_for("hibashi> flush()")  # a function of no arguments: closed, too
        t.send("Enter")
        t.wait_for("(the shell's mailbox is empty)")
        t.send("C-d")
        t.wait_for("[exited 0]")


def test_history_is_kept_across_sessions_in_the_data_directory(server):
    with tmux_shell(hibashi_argv(server.sock)) as t:
        t.wait_for(PROMPT)
        _line(t, "marker = 'from the first session'")
        t.wait_for(lambda s: s.count(PROMPT) == 2)
        _line(t, "exit()")
        t.wait_for("[exited 0]")
    history = server.data_dir / "hibashi_history"
    assert "marker = 'from the first session'" in history.read_text()
    with tmux_shell([sys.executable, "-m", "hearth.ctl", "--sock", server.sock, "shell"]) as t:
        t.wait_for(PROMPT)
        t.send("Up")
        t.send("Up")
        t.wait_for("hibashi> marker = 'from the first session'")
        t.send("Enter")
        t.wait_for(lambda s: s.count(PROMPT) == 2)
        _line(t, "marker")
        t.wait_for("'from the first session'\n")
        t.send("C-d")
        t.wait_for("[exited 0]")
