"""A lump larger than one network message (64 MiB) goes into a real
``hearth-server`` with the real ``hearth-ctl lump put`` and comes back
intact with ``lump get``, in chunks, over the IPC socket."""

import filecmp
import os
import subprocess
import sys

import blake3
import pytest

from hearth.ctl import OK

from .daemon import Server

MIB = 1 << 20


@pytest.fixture
def server(tmp_path):
    srv = Server(str(tmp_path / "hearth.sock"), tmp_path / "server.log").start()
    try:
        yield srv
    finally:
        srv.stop()


def ctl(server, *argv):
    res = subprocess.run([sys.executable, "-m", "hearth.ctl", *argv],
                         env=dict(os.environ, HEARTH_SOCK=server.sock),
                         capture_output=True, text=True, timeout=50)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def test_a_200_mib_lump_goes_in_and_comes_out_intact(server, tmp_path):
    src = tmp_path / "big.bin"
    digest = blake3.blake3()
    block = os.urandom(MIB)
    with open(src, "wb") as f:
        for i in range(200):  # every MiB differs from the others
            piece = i.to_bytes(4, "little") + block[4:]
            digest.update(piece)
            f.write(piece)
    lid = digest.hexdigest()
    put = ctl(server, "lump", "put", str(src))
    assert put.returncode == OK, put.stderr
    assert put.stdout.strip() == lid
    dst = tmp_path / "back.bin"
    got = ctl(server, "lump", "get", lid, "-o", str(dst))
    assert got.returncode == OK, got.stderr
    assert f"wrote {200 * MIB} bytes" in got.stdout
    assert filecmp.cmp(src, dst, shallow=False)
