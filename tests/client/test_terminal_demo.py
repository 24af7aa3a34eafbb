"""kindling/root/init/terminal-demo: a guest that opens terminals in the
world through ``hearth.terminal.TerminalFactory``, on a real window with
real shells in real ptys. Nothing sleeps: the tests poll the terminals'
screens a frame at a time and wait for Down messages."""

import pathlib
import time

import pytest

import kindling
from hearth import vm
from hearth.native import request, start_guest_service, upgrade_guest_service
from hearth.otp import ServiceError, registry_view

INIT = pathlib.Path(kindling.__file__).parent / "root" / "init"
WASM = INIT / "terminal-demo" / "terminal-demo.wasm"
PATIENCE = 10.0


@pytest.fixture
def demo(client, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/sh")  # the factory's default command
    lump = vm.current_runtime().lumps.put(WASM.read_bytes())
    view = registry_view(client.registry, read_only=True,
                         names=["hearth.terminal.TerminalFactory"])
    svc = start_guest_service(lump, view, name="terminal-demo")
    view.release()
    yield svc, lump
    svc.front.kill()


def _until_printed(client, term, text):
    deadline = time.monotonic() + PATIENCE
    while True:
        lines = [line.rstrip() for line in request(term, "screen")["lines"]]
        if text in lines:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} never printed: {lines!r}")
        client.screenshot()


def _downs(mb, n):
    reasons = []
    for _ in range(n):
        sig = mb.recv(timeout=10)
        assert sig is not None, "no Down in 10 s"
        sig.cap.release()
        reasons.append(sig.reason)
    return reasons


def test_it_opens_terminals_types_into_them_and_closes_them(client, demo):
    svc, _ = demo
    assert request(svc.cap, "count") == 0  # nothing opened on its own
    terms = request(svc.cap, ["open", 2])
    assert len(terms) == 2
    deadline = time.monotonic() + PATIENCE
    while len(client.display.scene.canvases) != 2:  # each terminal is a quad in the world
        assert time.monotonic() < deadline, len(client.display.scene.canvases)
        client.screenshot()
    assert all(t.permissions == vm.SEND | vm.MONITOR for t in terms)
    assert request(svc.cap, ["type", "echo guest-was-$((40 + 2))\n"]) == 2
    for term in terms:
        _until_printed(client, term, "guest-was-42")  # the shell ran it
    mb = vm.current_process().create_mailbox()
    for term in terms:
        term.monitor(mb)
    assert request(svc.cap, "close") == 2
    _downs(mb, 2)
    assert request(svc.cap, "count") == 0


def test_it_refuses_bad_requests_and_keeps_serving(client, demo):
    svc, _ = demo
    for term in (["open", 9], ["open", 0], ["open", "two"], ["type", 5], "explode"):
        with pytest.raises(ServiceError) as info:
            request(svc.cap, term)
        assert info.value.kind == "invalid_request", term
    assert request(svc.cap, "count") == 0


def test_a_terminal_whose_shell_exits_is_forgotten(client, demo):
    svc, _ = demo
    [term] = request(svc.cap, ["open", 1])
    mb = vm.current_process().create_mailbox()
    term.monitor(mb)
    request(svc.cap, ["type", "exit\n"])
    assert _downs(mb, 1) == ["normal"]
    deadline = time.monotonic() + PATIENCE
    while request(svc.cap, "count") != 0:  # its monitor reached the guest
        assert time.monotonic() < deadline
        client.screenshot()


def test_its_terminals_close_with_it_on_an_upgrade(client, demo):
    svc, lump = demo
    terms = request(svc.cap, ["open", 1])
    mb = vm.current_process().create_mailbox()
    terms[0].monitor(mb)
    assert upgrade_guest_service(svc.front, lump)["old_exit"] == "normal"
    _downs(mb, 1)  # owned by the old guest: gone with it
    assert request(svc.cap, "count") == 0  # the new version starts with none
