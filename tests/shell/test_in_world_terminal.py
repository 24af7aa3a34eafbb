"""Hibashi in the in-world terminal (``hearth.terminal.TerminalFactory`` on
a real window under Xvfb): the same program as in an ordinary terminal,
attached to a real hearth-server, with its prompt, evaluation, Tab
completion and Ctrl+C on the terminal's screen."""

import sys
import time

import pytest

from hearth.native._service import request
from tests.client.conftest import client, owner, xvfb  # noqa: F401 - the fixtures

from .shell_harness import Server

FACTORY = "hearth.terminal.TerminalFactory"
POSITION = {"origin": [0.0, 0.0, -1.0], "orientation": [0.0, 0.0, 0.0, 1.0],
            "half_size": [1.2, 0.9]}
PATIENCE = 30.0  # seconds: the shell attaches over a real socket to a real server


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    assert srv.stop() == 0, "".join(srv.program.lines[-40:])


def _poll(client, term, text):  # noqa: F811 - `client` is the fixture's value
    """The terminal's lines once one holds `text`; a real frame between polls."""
    deadline = time.monotonic() + PATIENCE
    while True:
        lines = [line.rstrip() for line in request(term, "screen")["lines"]]
        if any(text in line for line in lines):
            return lines
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} never showed; the screen: {lines!r}")
        client.screenshot()


def test_hibashi_in_the_in_world_terminal(server, client, owner):  # noqa: F811
    terminals = client.services.caps[FACTORY]
    state = {"position": POSITION, "units_per_em": 12, "columns": 70, "rows": 14,
             "command": [sys.executable, "-m", "hearth.shell._main", "--sock", server.sock]}
    term = request(terminals, ["create", state], [owner])
    _poll(client, term, "hibashi>")
    request(term, ["input", "answer = 6 * 7\r"])
    request(term, ["input", "answ\t"])
    _poll(client, term, "hibashi> answer")  # completed from the session's namespace
    request(term, ["input", "\r"])
    _poll(client, term, "42")
    request(term, ["input", "receive()\r"])
    _poll(client, term, "hibashi> receive()")
    request(term, ["input", "\x03"])  # Ctrl+C, through the pty's line discipline
    _poll(client, term, "bindings kept")
    request(term, ["input", "answer + 1\r"])
    _poll(client, term, "43")
