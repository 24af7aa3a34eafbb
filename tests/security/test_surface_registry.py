"""What an authenticated peer can name on hearth-server: an allow-list.

Before, peers got the registry minus a deny-list, so the writable
``hearth.fs.Filesystem`` was among what they saw: a peer put a file over
``init/clock/service.py`` and init's watch ran it in the server's process.
Now the view is `hearth._views.peer_view`: the time services, the wasm
spawner and the services whose manifests say ``expose = true``.
"""

import pytest

from hearth import otp, vm
from hearth.native import request

from tests.security.surface_helpers import ADMIN_NAMES, PEER_NAMES, error_kind


def test_a_peer_sees_exactly_the_allow_list(hearth_server, attacker):
    assert set(otp.registered(attacker.root)) == PEER_NAMES
    for name in ADMIN_NAMES:
        assert otp.lookup(attacker.root, name) is None, name
    # The operator still has everything, the writable filesystem included.
    with hearth_server.operator() as op:
        names = set(otp.registered(op.root))
    assert {"hearth.fs.Filesystem", "hearth.Inspector", "hearth.init", "panic-test"} <= names
    assert "hearth.fs.ReadOnlyFilesystem" not in names  # not published by default


def test_a_peer_cannot_put_a_service_file_it_cannot_name(hearth_server, attacker, proc):
    """Attack 1: the writable filesystem is not in the view, so there is
    nothing to put ``init/clock/service.py`` through; the clock runs on,
    unchanged."""
    before = hearth_server.snapshot()
    lump = proc.runtime.lumps.put(b"import os\nos.system('touch /tmp/pwned')\n")
    for name in ("hearth.fs.Filesystem", "hearth.fs.ReadOnlyFilesystem"):
        assert otp.lookup(attacker.root, name) is None
    # Every name it can reach refuses a put: none of them is a filesystem.
    for name in sorted(PEER_NAMES):
        cap = otp.lookup(attacker.root, name)
        try:
            kind, _ = error_kind(cap, ["put", "init/clock/service.py", bytes(lump)])
            assert kind == "invalid_request", name
        finally:
            cap.release()
    clock = otp.lookup(attacker.root, "clock")
    assert request(clock, ["echo", "still me"]) == "still me"
    clock.release()
    hearth_server.assert_unchanged(before)


def test_a_peer_cannot_register_unregister_or_widen_its_view(hearth_server, attacker):
    before = hearth_server.snapshot()
    mine = vm.make_capability(vm.SEND)
    with pytest.raises(otp.RegistryError) as info:
        otp.register(attacker.root, "clock2", mine)
    assert info.value.kind == "permission_denied"
    with pytest.raises(otp.RegistryError) as info:
        otp.register(attacker.root, "clock", mine)  # taking over a visible name
    assert info.value.kind == "permission_denied"
    with pytest.raises(otp.RegistryError) as info:
        otp.unregister(attacker.root, "clock")
    assert info.value.kind == "permission_denied"
    mine.release()
    # A view made through its view is never wider.
    wider = otp.registry_view(attacker.root, names=["hearth.Inspector", "hearth.fs.Filesystem",
                                                     "clock"])
    assert otp.registered(wider) == ["clock"]
    assert otp.lookup(wider, "hearth.Inspector") is None
    with pytest.raises(otp.RegistryError):
        otp.register(wider, "clock", otp.lookup(wider, "clock"))
    wider.release()
    hearth_server.assert_unchanged(before)


def _service(root, name, expose):
    d = root / "init" / name
    d.mkdir(parents=True)
    (d / "service.toml").write_text(
        f'name = "{name}"\nkind = "python"\nentry = "service.py:main"\n'
        + ("expose = true\n" if expose else ""))
    (d / "service.py").write_text(
        "from hearth import vm\n\ndef main(registry):\n    while True:\n        vm.recv()\n")


def test_the_operator_exposes_a_root_service_in_its_manifest_never_an_admin_name(tmp_path,
                                                                                 proc):
    from hearth.net import connect

    from tests.net.servers import Program
    from tests.security.conftest import SECRET

    root = tmp_path / "root"
    _service(root, "shown", True)
    _service(root, "hidden", False)
    _service(root, "hearth.terminal.TerminalFactory", True)  # a root service may not claim it
    server = Program("hearth.server", "--root", str(root), "--bind", "127.0.0.1:0",
                     "--ipc", str(tmp_path / "hearth.sock"), "--status-every", "3600",
                     env={"HEARTH_SECRET": SECRET})
    try:
        url = server.wait_for("peers connect at").split("peers connect at ")[1].strip()
        assert "hearth.terminal.TerminalFactory" in server.wait_for(
            "never exposed to peers, whatever the manifest says")
        with connect(url, secret=SECRET) as peer:
            names = set(otp.registered(peer.root))
        assert "shown" in names
        assert not names & {"hidden", "hearth.terminal.TerminalFactory", "hearth.fs.Filesystem"}
    finally:
        assert server.stop() == 0, "".join(server.lines[-40:])


def test_every_name_the_server_registers_is_classified(hearth_server, proc):
    """A native service added later must be put on the allow-list or on
    `NEVER_EXPOSED` on purpose: nothing is exposed by default, and nothing
    is left undecided."""
    from hearth._views import NEVER_EXPOSED, PEER_SERVICES

    services = {p.name for p in (hearth_server.root / "init").iterdir() if p.is_dir()}
    names = set(hearth_server.snapshot()["names"])
    assert names - set(PEER_SERVICES) - NEVER_EXPOSED - services == set()
    assert not set(PEER_SERVICES) & NEVER_EXPOSED
