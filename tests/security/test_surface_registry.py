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
