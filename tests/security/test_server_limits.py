"""hearth-server's options for the limits on each peer reach the runtime:
an operator who lowers them sees a peer refused at the lower figure."""

import pytest

from hearth import otp, vm
from hearth.native import request
from hearth.net import connect
from hearth.otp import ServiceError

from tests.security.conftest import SECRET, Server
from tests.security.guest_modules import IDLE, wasm


@pytest.fixture
def strict_server(tmp_path):
    server = Server(tmp_path, extra_args=["--peer-guests", "2", "--peer-cpu-slice", "0.5"])
    yield server
    assert server.stop() == 0


def test_peer_guests_option_caps_a_peers_live_guests(strict_server, proc):
    lid = vm.current_runtime().lumps.put(wasm(IDLE))
    with connect(strict_server.url, secret=SECRET) as peer:
        spawner = otp.lookup(peer.root, "hearth.wasm.WasmProcessSpawner")
        guests = [request(spawner, ["spawn", bytes(lid)]) for _ in range(2)]
        with pytest.raises(ServiceError) as refused:
            request(spawner, ["spawn", bytes(lid)])
        assert refused.value.kind == "quota_exceeded"
        assert "max_guests=2" in refused.value.message
        for guest in guests:
            guest.release()


@pytest.mark.parametrize("args, complaint", [
    (["--peer-guests", "-1"], "must be 0 or more"),
    (["--peer-cpu-slice", "0"], "must be more than 0 seconds"),
    (["--handshake-timeout", "-3"], "must be more than 0 seconds"),
])
def test_a_bad_limit_is_a_usage_error(args, complaint):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "hearth.server", "--no-ipc", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert complaint in result.stderr
