"""Where the IPC socket lives (hearth._sockpath): the daemon and the tools
must agree."""

import os
import socket

import pytest

from hearth._sockpath import (
    ABSENT,
    LIVE,
    STALE,
    fallback_dir,
    prepare_socket_dir,
    probe,
    socket_path,
)


def test_hearth_sock_wins_then_xdg_runtime_dir_then_the_per_user_fallback():
    assert socket_path({"HEARTH_SOCK": "/x/h.sock", "XDG_RUNTIME_DIR": "/run/u"}) == "/x/h.sock"
    assert socket_path({"HEARTH_SOCK": "", "XDG_RUNTIME_DIR": "/run/u"}) == "/run/u/hearth.sock"
    assert socket_path({}) == os.path.join(fallback_dir(), "hearth.sock")
    assert fallback_dir(1234).endswith("hearth-1234")


def test_the_fallback_directory_is_made_private_and_a_shared_one_refused(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = os.path.join(fallback_dir(), "hearth.sock")
    directory = prepare_socket_dir(path)
    assert os.stat(directory).st_mode & 0o777 == 0o700
    assert prepare_socket_dir(path) == directory  # again: fine
    os.chmod(directory, 0o777)
    with pytest.raises(PermissionError):
        prepare_socket_dir(path)
    other = tmp_path / "elsewhere" / "deep" / "h.sock"
    assert prepare_socket_dir(str(other)) == str(other.parent)


def test_probe_tells_absent_stale_and_live_apart(tmp_path):
    path = str(tmp_path / "s.sock")
    assert probe(path) == ABSENT
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    try:
        assert probe(path) == STALE  # bound, not listening: as if its runtime crashed
        s.listen(1)
        assert probe(path) == LIVE
    finally:
        s.close()
