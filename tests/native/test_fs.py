"""``hearth.fs.Filesystem`` (docs/protocols.md): files under a root directory,
read into lumps, listed, and written from lumps.

Each test serves a fresh `tmp_path` and talks to the service through the
registry, as a guest would. The real clock is used: large files are read
on native threads, which the virtual clock can't see working.
"""

import logging
import os

import msgpack
import pytest

from hearth import vm
from hearth.native._fs import (
    FILESYSTEM,
    IO_ERROR,
    IS_A_DIRECTORY,
    NOT_A_DIRECTORY,
    NOT_A_FILE,
    PATH_ESCAPES_ROOT,
    start_filesystem,
)
from hearth.native._service import INVALID_REQUEST, NOT_FOUND, PERMISSION_DENIED
from hearth.otp import (
    ServiceError,
    StartError,
    lookup,
    read_reply,
    register,
    request,
    send_request,
    start_registry,
    which_children,
)
from hearth.vm import MONITOR, SEND, LumpId


@pytest.fixture
def registry(proc):
    return start_registry()


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def fs(registry, root):
    return start_filesystem(registry, root).cap


def _get(fs, path):
    return vm.current_runtime().lumps.get(request(fs, ["get", path], timeout=30))


def _put(fs, path, data):
    lid = vm.current_runtime().lumps.put(data)
    return request(fs, ["put", path, lid], timeout=30)


def _fails(kind, fs, term):
    with pytest.raises(ServiceError) as info:
        request(fs, term, timeout=30)
    assert info.value.kind == kind, info.value
    return info.value.message


def _names(entries):
    return [e["name"] for e in entries]


# -- registration --------------------------------------------------------------------------


def test_the_filesystem_is_registered_under_its_protocols_name(fs, registry):
    assert FILESYSTEM == "hearth.fs.Filesystem"
    found = lookup(registry, FILESYSTEM)
    assert found.same_route(fs) and found.permissions == SEND | MONITOR


def test_starting_on_a_missing_root_raises_and_starts_nothing(proc, registry, tmp_path):
    with pytest.raises(NotADirectoryError):
        start_filesystem(registry, tmp_path / "missing")
    assert lookup(registry, FILESYSTEM) is None


def test_starting_fails_cleanly_when_the_name_is_taken(proc, registry, root):
    register(registry, FILESYSTEM, vm.make_capability(SEND))
    before = {p.pid for p in proc.runtime.processes()}
    with pytest.raises(StartError):
        start_filesystem(registry, root)
    proc.runtime.wait_all_blocked()
    assert {p.pid for p in proc.runtime.processes()} == before


def test_a_killed_filesystem_is_restarted_and_registered_again(proc, registry, root):
    service = start_filesystem(registry, root)
    (root / "a.txt").write_bytes(b"still here")
    child = which_children(service.supervisor)[0].child
    ref = child.monitor()
    child.kill()
    assert vm.recv(timeout=5).ref == ref
    proc.runtime.wait_all_blocked()
    again = lookup(registry, FILESYSTEM)
    assert not again.same_route(child)
    assert _get(again, "a.txt") == b"still here"


# -- get, put, list ------------------------------------------------------------------------


def test_get_replies_the_id_of_a_lump_holding_the_file(fs, root):
    (root / "a.txt").write_bytes(b"hello")
    lid = request(fs, ["get", "a.txt"], timeout=30)
    assert type(lid) is bytes and len(lid) == 32
    assert vm.current_runtime().lumps.get(LumpId(lid)) == b"hello"


def test_a_put_file_gets_back_the_same_bytes_and_replaces_the_old(fs, root):
    assert _put(fs, "b.bin", bytes(range(256))) is None
    assert (root / "b.bin").read_bytes() == bytes(range(256))
    assert _get(fs, "b.bin") == bytes(range(256))
    _put(fs, "b.bin", b"")
    assert _get(fs, "b.bin") == b""


def test_put_keeps_an_existing_files_permissions_and_leaves_no_temporary_file(fs, root):
    target = root / "script.sh"
    target.write_bytes(b"old")
    target.chmod(0o751)
    _put(fs, "script.sh", b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o751
    assert os.listdir(root) == ["script.sh"]


def test_a_file_is_replaced_by_rename_so_an_open_reader_keeps_the_old_bytes(fs, root):
    target = root / "f"
    target.write_bytes(b"old")
    with open(target, "rb") as reader:
        _put(fs, "f", b"new")
        assert reader.read() == b"old"
    assert target.read_bytes() == b"new"


def test_paths_in_subdirectories_with_dots_and_slashes(fs, root):
    (root / "d" / "e").mkdir(parents=True)
    _put(fs, "d/e/x", b"x")
    for path in ["d/e/x", "./d//e/./x", "d//e//x"]:
        assert _get(fs, path) == b"x"
    assert _names(request(fs, ["list", "d/e/"], timeout=30)) == ["x"]


def test_list_gives_name_kind_size_and_mtime_sorted_by_name(fs, root):
    (root / "file.txt").write_bytes(b"12345")
    os.utime(root / "file.txt", (1_000_000_000.5, 1_000_000_000.5))
    (root / "dir").mkdir()
    (root / "link").symlink_to("file.txt")
    os.mkfifo(root / "pipe")
    entries = request(fs, ["list", ""], timeout=30)
    assert _names(entries) == ["dir", "file.txt", "link", "pipe"]
    by_name = {e["name"]: e for e in entries}
    assert {n: e["kind"] for n, e in by_name.items()} == {
        "dir": "dir", "file.txt": "file", "link": "symlink", "pipe": "other"}
    assert by_name["file.txt"]["size"] == 5
    assert by_name["file.txt"]["mtime"] == 1_000_000_000.5
    assert by_name["link"]["size"] == len("file.txt")
    for e in entries:
        assert set(e) == {"name", "kind", "size", "mtime"}
        assert type(e["size"]) is int and type(e["mtime"]) is float


def test_the_root_is_named_by_an_empty_path_or_a_dot(fs, root):
    (root / "a").write_bytes(b"")
    for path in ["", ".", "./", ".//."]:
        assert _names(request(fs, ["list", path], timeout=30)) == ["a"]


def test_every_request_form_is_understood(fs, root):
    (root / "a").write_bytes(b"A")
    lid = vm.current_runtime().lumps.put(b"B")
    assert request(fs, {"op": "put", "path": "b", "lump": lid}, timeout=30) is None
    got = request(fs, {"op": "get", "path": "b"}, timeout=30)
    assert vm.current_runtime().lumps.get(LumpId(got)) == b"B"
    assert _names(request(fs, {"op": "list", "path": "."}, timeout=30)) == ["a", "b"]


def test_a_symlink_inside_the_root_is_followed(fs, root):
    (root / "d").mkdir()
    (root / "d" / "real").write_bytes(b"real")
    (root / "alias").symlink_to("d")
    (root / "d" / "ln").symlink_to("real")
    assert _get(fs, "alias/real") == b"real"
    assert _get(fs, "d/ln") == b"real"
    assert _names(request(fs, ["list", "alias"], timeout=30)) == ["ln", "real"]


def test_the_documented_bytes_are_what_the_filesystem_speaks(fs, root):
    """The wire examples of `hearth.native._fs`'s docstring, byte for byte."""
    (root / "a.txt").write_bytes(b"doc")
    box = vm.create_mailbox()
    fs.send(bytes.fromhex("92 a3 67 65 74 a5 61 2e 74 78 74"), [box.make_capability(SEND)])
    reply = box.recv(timeout=30)
    assert reply.data[:6] == bytes.fromhex("81 a2 6f 6b c4 20")
    assert vm.current_runtime().lumps.get(LumpId(reply.data[6:])) == b"doc"
    lid = vm.current_runtime().lumps.put(b"new")
    fs.send(bytes.fromhex("93 a3 70 75 74 a5 61 2e 74 78 74 c4 20") + lid,
            [box.make_capability(SEND)])
    assert box.recv(timeout=30).data == bytes.fromhex("81 a2 6f 6b c0")
    assert (root / "a.txt").read_bytes() == b"new"
    read_reply(reply)


# -- large files ---------------------------------------------------------------------------


def test_large_files_are_read_and_written_by_workers_off_the_hub(proc, registry, root):
    fs = start_filesystem(registry, root, off_hub_bytes=1000).cap
    big = os.urandom(300_000)
    (root / "big").write_bytes(big)
    assert _get(fs, "big") == big
    _put(fs, "copy", big[::-1])
    assert (root / "copy").read_bytes() == big[::-1]
    assert _get(fs, "copy") == big[::-1]
    workers = [e for e in proc.runtime.exits() if e.name == "hearth.fs.worker"]
    assert len(workers) == 3
    assert _get(fs, "big") == big and _put(fs, "small", b"tiny") is None
    assert len([e for e in proc.runtime.exits() if e.name == "hearth.fs.worker"]) == 4


def test_a_worker_replies_with_errors_too(proc, registry, root):
    fs = start_filesystem(registry, root, off_hub_bytes=0).cap
    lid = vm.current_runtime().lumps.put(b"data")
    assert "parent directory" in _fails(NOT_FOUND, fs, ["put", "no/such/file", lid])
    (root / "f").write_bytes(b"f")
    _fails(NOT_A_DIRECTORY, fs, ["put", "f/x", lid])
    assert _get(fs, "f") == b"f"


def test_the_filesystem_answers_others_while_a_worker_waits(proc, registry, root, monkeypatch):
    from gevent import monkey

    from hearth.native import _fs

    lock = monkey.get_original("threading", "Lock")()
    lock.acquire()
    real_read = _fs._read_into_lump

    def slow_read(real, lumps):
        lock.acquire()  # on the native thread: only the test lets it go on
        return real_read(real, lumps)

    monkeypatch.setattr(_fs, "_read_into_lump", slow_read)
    fs = start_filesystem(registry, root, off_hub_bytes=2).cap
    (root / "big").write_bytes(b"big file")
    (root / "s").write_bytes(b"s")
    slow_box = vm.create_mailbox()
    send_request(fs, ["get", "big"], slow_box.make_capability(SEND))
    try:
        assert _names(request(fs, ["list", ""], timeout=30)) == ["big", "s"]
        assert slow_box.try_recv() is None
    finally:
        lock.release()  # never leave the thread blocked, even on a failure
    lid = read_reply(slow_box.recv(timeout=30))
    assert vm.current_runtime().lumps.get(LumpId(lid)) == b"big file"


# -- errors --------------------------------------------------------------------------------


def test_a_missing_file_or_directory_is_not_found(fs, root):
    assert "'nope'" in _fails(NOT_FOUND, fs, ["get", "nope"])
    assert "'nope/x'" in _fails(NOT_FOUND, fs, ["list", "nope/x"])
    (root / "dangling").symlink_to("missing")
    _fails(NOT_FOUND, fs, ["get", "dangling"])


def test_get_of_a_directory_is_is_a_directory(fs, root):
    (root / "d").mkdir()
    assert "'d'" in _fails(IS_A_DIRECTORY, fs, ["get", "d"])
    _fails(IS_A_DIRECTORY, fs, ["get", ""])
    lid = vm.current_runtime().lumps.put(b"x")
    _fails(IS_A_DIRECTORY, fs, ["put", "d", lid])
    _fails(IS_A_DIRECTORY, fs, ["put", ".", lid])


def test_a_fifo_is_not_a_file_and_is_never_opened(fs, root):
    os.mkfifo(root / "pipe")
    lid = vm.current_runtime().lumps.put(b"x")
    assert "'pipe'" in _fails(NOT_A_FILE, fs, ["get", "pipe"])
    _fails(NOT_A_FILE, fs, ["put", "pipe", lid])
    assert (root / "pipe").is_fifo()


def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(fs, root, monkeypatch):
    from hearth.native import _fs

    os.mkfifo(root / "pipe")
    real_stat = _fs.os.stat

    def regular_file_stat(path, *args, **kwargs):  # the check sees a file
        return real_stat(root / "decoy") if str(path).endswith("pipe") else real_stat(path)

    (root / "decoy").write_bytes(b"")
    monkeypatch.setattr(_fs.os, "stat", regular_file_stat)
    _fails(NOT_A_FILE, fs, ["get", "pipe"])


def test_list_of_a_file_or_a_path_through_a_file_is_not_a_directory(fs, root):
    (root / "f.txt").write_bytes(b"")
    assert "'f.txt'" in _fails(NOT_A_DIRECTORY, fs, ["list", "f.txt"])
    _fails(NOT_A_DIRECTORY, fs, ["get", "f.txt/x"])
    _fails(NOT_A_DIRECTORY, fs, ["list", "f.txt/x"])


def test_put_needs_its_parent_directory(fs, root):
    lid = vm.current_runtime().lumps.put(b"x")
    assert "parent directory" in _fails(NOT_FOUND, fs, ["put", "d/x", lid])
    assert not (root / "d").exists()


@pytest.mark.parametrize("path", ["..", "../x", "a/../../x", "a/..", "/etc/passwd", "/"])
def test_dot_dot_and_absolute_paths_escape_the_root(fs, root, path):
    (root / "a").mkdir()
    _fails(PATH_ESCAPES_ROOT, fs, ["get", path])
    _fails(PATH_ESCAPES_ROOT, fs, ["list", path])
    _fails(PATH_ESCAPES_ROOT, fs, ["put", path, vm.current_runtime().lumps.put(b"x")])


def test_symlinks_resolving_outside_the_root_escape_it(fs, root, tmp_path):
    (tmp_path / "secret").write_bytes(b"secret")
    (tmp_path / "outside").mkdir()
    (root / "to_secret").symlink_to(tmp_path / "secret")
    (root / "to_outside").symlink_to("../outside")
    (root / "to_slash").symlink_to("/")
    lid = vm.current_runtime().lumps.put(b"overwritten")
    assert "outside the root" in _fails(PATH_ESCAPES_ROOT, fs, ["get", "to_secret"])
    _fails(PATH_ESCAPES_ROOT, fs, ["put", "to_secret", lid])
    _fails(PATH_ESCAPES_ROOT, fs, ["list", "to_outside"])
    _fails(PATH_ESCAPES_ROOT, fs, ["put", "to_outside/new", lid])
    _fails(PATH_ESCAPES_ROOT, fs, ["get", "to_slash/etc/passwd"])
    assert (tmp_path / "secret").read_bytes() == b"secret"
    assert os.listdir(tmp_path / "outside") == []
    # Listing the root shows the links themselves, without following them.
    kinds = {e["name"]: e["kind"] for e in request(fs, ["list", ""], timeout=30)}
    assert kinds == {"to_secret": "symlink", "to_outside": "symlink", "to_slash": "symlink"}


def test_a_root_that_is_itself_a_symlink_serves_its_target(proc, registry, tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "f").write_bytes(b"f")
    (tmp_path / "link").symlink_to("target")
    fs = start_filesystem(registry, tmp_path / "link").cap
    assert _get(fs, "f") == b"f"


def test_an_unreadable_file_is_permission_denied(fs, root):
    (root / "locked").write_bytes(b"")
    (root / "locked").chmod(0)
    if os.geteuid() == 0:
        # Root reads any file (CI runs as root): the same check in a
        # process that drops to an unprivileged user after setting up.
        _as_nobody_the_locked_file_is_refused()
        return
    _fails(PERMISSION_DENIED, fs, ["get", "locked"])


AS_NOBODY = """
import json, os, pwd, sys
from gevent import monkey
monkey.patch_all()
from hearth import vm
from hearth.native._fs import start_filesystem
from hearth.otp import ServiceError, request, start_registry

root, nobody = sys.argv[1], pwd.getpwnam("nobody")
rt = vm.Runtime()  # everything is imported and set up before dropping root
os.setgroups([])
os.setgid(nobody.pw_gid)
os.setuid(nobody.pw_uid)
results = {"euid": os.geteuid()}
with rt.open_process():
    fs = start_filesystem(start_registry(), root).cap
    for name in ("readable", "locked"):
        try:
            request(fs, ["get", name], timeout=30)
            results[name] = "ok"
        except ServiceError as e:
            results[name] = [e.kind, e.message]
rt.shutdown()
print(json.dumps(results))
"""


def _as_nobody_the_locked_file_is_refused():
    import json
    import pwd
    import subprocess
    import sys
    import tempfile

    nobody = pwd.getpwnam("nobody")
    # A directory nobody may enter (pytest's tmp_path is root's own, 0700).
    where = tempfile.mkdtemp(prefix="hearth-fs-nobody-")
    try:
        os.chmod(where, 0o755)
        with open(os.path.join(where, "readable"), "wb") as f:
            f.write(b"anyone")
        os.chmod(os.path.join(where, "readable"), 0o644)
        with open(os.path.join(where, "locked"), "wb") as f:
            f.write(b"root only")
        os.chmod(os.path.join(where, "locked"), 0o600)
        done = subprocess.run([sys.executable, "-c", AS_NOBODY, where], capture_output=True,
                              text=True, timeout=50)
    finally:
        import shutil

        shutil.rmtree(where)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.splitlines()[-1])
    assert results["euid"] == nobody.pw_uid
    assert results["readable"] == "ok"  # the service works for this user...
    kind, message = results["locked"]  # ...and the OS's refusal is permission_denied
    assert kind == PERMISSION_DENIED and "locked" in message


@pytest.mark.parametrize("where", ["open", "scandir"])
def test_an_operating_system_refusal_is_permission_denied(fs, root, monkeypatch, where):
    """Tests often run as root, which the OS never refuses: fake the refusal."""
    from hearth.native import _fs

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    (root / "f").write_bytes(b"")
    if where == "open":
        monkeypatch.setattr(_fs, "open", refuse, raising=False)
        assert "'f'" in _fails(PERMISSION_DENIED, fs, ["get", "f"])
    else:
        monkeypatch.setattr(_fs.os, "scandir", refuse)
        _fails(PERMISSION_DENIED, fs, ["list", ""])


def test_other_operating_system_failures_are_io_errors_naming_the_errno(fs, root, monkeypatch):
    from hearth.native import _fs

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_fs.os, "fsync", full)
    lid = vm.current_runtime().lumps.put(b"x")
    assert "ENOSPC" in _fails(IO_ERROR, fs, ["put", "f", lid])
    monkeypatch.undo()
    assert os.listdir(root) == []  # the temporary file was removed


def test_a_put_of_an_unknown_lump_is_not_found_naming_the_lump(fs, root):
    missing = LumpId(b"\x11" * 32)
    assert missing.hex() in _fails(NOT_FOUND, fs, ["put", "f", missing])
    assert not (root / "f").exists()


@pytest.mark.parametrize(
    "term",
    [
        ["get", 7],
        ["get", b"a.txt"],
        ["get", None],
        ["get", "a\x00b"],
        ["get"],
        ["get", "a", "b"],
        ["list", ["a"]],
        ["put", "a", "11" * 32],
        ["put", "a", b"\x11" * 31],
        ["put", "a", 5],
        ["put", "a"],
        ["delete", "a"],
        {"op": "get"},
        {"op": "rm", "path": "a"},
        {"path": "a"},
        "get",
        "list",
        42,
        None,
        ["get", "x" * 5000],
    ],
)
def test_malformed_requests_are_invalid_request(fs, root, term):
    _fails(INVALID_REQUEST, fs, term)
    assert os.listdir(root) == []


@pytest.mark.parametrize(
    "data", [b"", b"\xc1", b"\x92\xa3get", b"\x92\xa3get\xa1a\x00", b"\xd6\x01\x07\x00\x00\x00"],
    ids=["empty", "never-used-byte", "truncated", "trailing-bytes", "cap-index-out-of-range"],
)
def test_garbage_bytes_get_invalid_request_and_the_filesystem_goes_on(fs, root, data):
    (root / "a").write_bytes(b"a")
    box = vm.create_mailbox()
    fs.send(data, [box.make_capability(SEND)])
    with pytest.raises(ServiceError) as info:
        read_reply(box.recv(timeout=30))
    assert info.value.kind == INVALID_REQUEST
    assert _get(fs, "a") == b"a"


def test_a_request_without_a_reply_capability_is_logged_and_dropped(fs, root, caplog):
    (root / "a").write_bytes(b"a")
    with caplog.at_level(logging.WARNING, logger="hearth.native"):
        fs.send(msgpack.packb(["get", "a"]))
        fs.send(msgpack.packb(["get", "a"]), [vm.make_capability(MONITOR)])
        assert _get(fs, "a") == b"a"
    assert sum("without a reply capability" in r.getMessage() for r in caplog.records) == 1  # the second within 10 s: counted, not logged (DropLog)
