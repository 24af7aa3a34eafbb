"""The files a peer may reach: at most a read-only view of the root, and
only when the operator publishes it (``hearth-server --publish-files``)."""

import os

import pytest

from hearth import otp
from hearth.native import request
from hearth.vm import LumpId

from tests.security.surface_helpers import (  # noqa: F401 - fixtures
    PEER_NAMES,
    error_kind,
    publishing_server,
    reader,
)

PUBLISHED = "hearth.fs.ReadOnlyFilesystem"


@pytest.fixture
def published(reader):
    cap = otp.lookup(reader.root, PUBLISHED)
    assert cap is not None
    yield cap
    cap.release()


def test_a_published_root_is_read_only_and_reading_works(publishing_server, reader, published,
                                                         proc):
    assert set(otp.registered(reader.root)) == PEER_NAMES | {PUBLISHED}
    assert otp.lookup(reader.root, "hearth.fs.Filesystem") is None
    before = publishing_server.snapshot()
    # Reading is what publishing is for.
    names = [e["name"] for e in request(published, ["list", "init"])]
    assert "clock" in names and "panic-test" in names
    lid = request(published, ["get", "init/chat/chat.c"])
    path = publishing_server.root / "init" / "chat" / "chat.c"
    assert proc.runtime.fetch_lump(LumpId(lid))
    assert proc.runtime.lumps.get(LumpId(lid)) == path.read_bytes()
    # Attack 1 again, through the published filesystem: refused, nothing written.
    evil = proc.runtime.lumps.put(b"import os\nos.system('touch /tmp/pwned')\n")
    for target in ("init/chat/chat.wasm", "init/evil/service.py", "new.txt", "init"):
        kind, message = error_kind(published, ["put", target, bytes(evil)])
        assert kind == "read_only", (target, kind, message)
        assert "read-only" in message
    publishing_server.assert_unchanged(before)


def test_no_path_leads_out_of_a_published_root(publishing_server, reader, published, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("the server's own file\n")
    os.symlink(secret, publishing_server.root / "escape")
    os.symlink(tmp_path, publishing_server.root / "escape-dir")
    before = publishing_server.snapshot()
    for path in ("../outside.txt", "init/../../outside.txt", "/etc/passwd", "escape",
                 "escape-dir/outside.txt", "init/clock/../../../outside.txt"):
        for op in ("get", "list"):
            kind, message = error_kind(published, [op, path])
            assert kind == "path_escapes_root", (op, path, kind, message)
            assert str(tmp_path) not in message  # never the host's path
    assert error_kind(published, ["get", "a\x00b"])[0] == "invalid_request"
    publishing_server.assert_unchanged(before)


def test_publish_files_needs_a_root(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "hearth.server", "--publish-files",
                             "--no-ipc"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--publish-files publishes --root DIR" in result.stderr
