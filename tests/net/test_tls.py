"""The client speaks wss:// itself (the server usually sits behind a TLS
proxy; here it terminates TLS itself, with a certificate made for the test)."""

import shutil
import ssl
import subprocess

import pytest

from hearth import otp, vm
from hearth.net import ConnectError, connect, listen

from .conftest import SECRET

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool")


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


def test_a_client_connects_over_wss(proc, certificate):
    cert, key = certificate
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    reg = otp.start_registry()
    otp.register(reg, "me", vm.make_capability(vm.SEND))
    with listen("127.0.0.1:0", secret=SECRET, root=reg, ssl_context=server_ctx) as lst:
        assert lst.url.startswith("wss://")
        with connect(lst.url, secret=SECRET, ssl_context=client_ctx) as peer:
            me = otp.lookup(peer.root, "me")
            me.send(b"over TLS")
            assert vm.recv(timeout=10).data == b"over TLS"
        # A client that does not trust the certificate refuses the server.
        with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            connect(lst.url, secret=SECRET)
