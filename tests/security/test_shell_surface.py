"""Who can reach Hibashi and a client's files: only the IPC socket's owner.

``hearth.Shell`` runs any Python in the runtime, so it is in
`hearth._views.NEVER_EXPOSED`: no peer of hearth-server can name it, not
even through a manifest that exposes the name, and a hearth-client hands
the server neither its shell nor its writable ``hearth.fs.Filesystem``
(the server looks at the client's root through ``hearth.net.Peers``).
"""

import pytest

from hearth import otp, vm
from hearth._views import NEVER_EXPOSED, client_view, exposed_services, peer_view
from hearth.native import start_inspector
from hearth.net import connect, listen
from hearth.shell import SHELL, start_shell
from tests.net.conftest import SECRET as NET_SECRET, Side
from tests.security.conftest import SECRET
from tests.shell.shell_harness import Client, run_hibashi

OPERATOR_ONLY = ("hearth.Shell", "hearth.fs.Filesystem", "hearth.Inspector", "hearth.init")


def test_a_peer_cannot_name_the_shell(hearth_server, attacker):
    before = hearth_server.snapshot()
    assert SHELL not in otp.registered(attacker.root)
    assert otp.lookup(attacker.root, SHELL) is None
    with hearth_server.operator() as op:
        assert SHELL in otp.registered(op.root)  # the operator has it
    hearth_server.assert_unchanged(before)


def test_a_peer_cannot_open_a_session_by_registering_the_name(hearth_server, attacker):
    before = hearth_server.snapshot()
    mine = vm.make_capability(vm.SEND)
    with pytest.raises(otp.RegistryError) as info:
        otp.register(attacker.root, SHELL, mine)
    assert info.value.kind == "permission_denied"
    mine.release()
    hearth_server.assert_unchanged(before)


def test_no_view_holds_the_shell_even_if_a_manifest_exposes_it(proc):
    registry = otp.start_registry()
    start_inspector(registry)
    start_shell(registry)
    assert SHELL in NEVER_EXPOSED and "hearth.fs.Filesystem" in NEVER_EXPOSED
    for view in (peer_view(registry, exposed=[SHELL]), client_view(registry, exposed=[SHELL])):
        assert otp.lookup(view, SHELL) is None
        assert SHELL not in otp.registered(view)
        view.release()
    assert exposed_services(registry) == ()  # no init: nothing exposed


def test_the_server_never_sees_a_clients_shell_or_files(hearth_server, tmp_path, proc):
    """A real client, with a --root (so it serves hearth.fs.Filesystem to
    its own tools), connected to a real server: what the server can reach
    of it, looked at from the server's own shell."""
    client = Client(tmp_path, root=hearth_server.root, server=hearth_server.url, secret=SECRET)
    try:
        client.program.wait_for("connected to")
        code, out = run_hibashi(client.sock, "lookup('hearth.fs.Filesystem') is not None")
        assert "hibashi> True\n" in out, out  # its own tools have it
        code, out = run_hibashi(
            hearth_server.sock,
            "peer = call('hearth.net.Peers', 'list')[0]['id']",
            "root = call('hearth.net.Peers', ['root', peer])",
            "names = otp.registered(root)",
            "'hearth.Sleep' in names",
            f"[n for n in {OPERATOR_ONLY!r} if n in names or otp.lookup(root, n) is not None]")
        assert code == 0, out
        assert "hibashi> True\n" in out, out  # the client's view, reached
        assert "hibashi> []\n" in out, out  # none of the operator's services in it
    finally:
        assert client.stop() == 0


def _misconfigured_server(held):
    """A runtime whose listener hands peers its whole registry, shell
    included (what a careless ``hearth.init.Server`` hook could do)."""
    registry = otp.start_registry()
    start_shell(registry)
    held["registry"] = registry
    held["listener"] = lst = listen("127.0.0.1:0", secret=NET_SECRET, root=registry)
    return lst.url


def test_the_shell_refuses_a_peer_that_a_view_let_through(proc):
    rt = vm.Runtime()
    side = Side(rt, _misconfigured_server)
    try:
        with connect(side.info, secret=NET_SECRET) as peer:
            shell = otp.lookup(peer.root, SHELL)
            assert shell is not None  # the view let it through ...
            owner = vm.make_capability(vm.SEND | vm.MONITOR)
            with pytest.raises(otp.ServiceError) as info:
                otp.request(shell, ["open", owner], timeout=10)
            assert info.value.kind == "permission_denied"  # ... the shell did not
            assert "a peer never gets one" in info.value.message
    finally:
        side.stop()
        rt.shutdown(timeout=5)
