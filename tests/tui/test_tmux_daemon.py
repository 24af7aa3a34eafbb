"""hearth-tui driven in tmux against a real hearth-server through its IPC
socket: the live process table, a kill with confirmation and the restart
that follows, the tree, and "disconnected" then reconnected when the
runtime restarts."""

import re
import sys

import pytest

from ..ctl.daemon import Server
from .tmux import Tmux, have_tmux

pytestmark = pytest.mark.skipif(not have_tmux(), reason="tmux is not installed")


def test_tui_follows_a_runtime_through_a_kill_and_a_restart(tmp_path):
    sock = str(tmp_path / "hearth.sock")
    server = Server(sock, tmp_path / "server.log").start()
    try:
        with Tmux([sys.executable, "-m", "hearth.tui._main", "--socket", sock,
                   "--refresh", "0.2"], cols=140, rows=40) as t:
            screen = t.wait_for("kindling.init")
            assert f"Hearth  unix://{sock}" in screen
            # The panic-test processes: its supervisor, then the service (a
            # guest since issue 16: its front, which owns the registered
            # mailbox, then the guest).
            t.send("/")
            t.wait_for("\nfilter:")
            t.send("panic", literal=True)
            t.send("Enter")
            screen = t.wait_for(lambda s: "Processes (3 of" in s and "filter: 'panic'" in s
                                and re.search(r"pid (\d+)  panic-test", s))
            sup = int(re.search(r"pid (\d+)  panic-test", screen).group(1))
            t.send("Down")
            screen = t.wait_for(lambda s: (m := re.search(r"pid (\d+)  panic-test", s))
                                and int(m.group(1)) != sup)
            pid = int(re.search(r"pid (\d+)  panic-test", screen).group(1))
            t.send("k")
            t.wait_for(f"Kill pid {pid} (panic-test)?")
            t.send("y")
            t.wait_for(f"killed pid {pid}")
            # Its supervisor starts it again: a new pid, whose details list
            # the earlier incarnation's death.
            screen = t.wait_for(lambda s: re.search(r"pid (\d+)  panic-test", s)
                                and f"pid {pid}: killed" in s)
            assert int(re.search(r"pid (\d+)  panic-test", screen).group(1)) != pid
            t.send("t")
            t.wait_for(lambda s: "Supervision tree" in s and "panic-test [sup" in s
                       and "↻1" in s)
            # The runtime goes away, and comes back on the same socket.
            server.stop()
            t.wait_for("DISCONNECTED (reconnecting…)")
            server.start()
            t.wait_for(f"Hearth  unix://{sock}")
            t.send("q")
            t.wait_for("[exited 0]")
    finally:
        server.stop()
