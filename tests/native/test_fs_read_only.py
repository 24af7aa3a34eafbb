"""``start_filesystem(..., read_only=True)``: the same root, get and list
only, registered as ``hearth.fs.ReadOnlyFilesystem`` beside the writable
one."""

import os

import pytest

from hearth import vm
from hearth.native._fs import (
    FILESYSTEM,
    PATH_ESCAPES_ROOT,
    READ_ONLY,
    READ_ONLY_FILESYSTEM,
    start_filesystem,
)
from hearth.otp import ServiceError, lookup, request, start_registry


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    (root / "init").mkdir(parents=True)
    (root / "init" / "service.py").write_text("print('hello')\n")
    return root


def _fails(fs, term):
    with pytest.raises(ServiceError) as info:
        request(fs, term, timeout=30)
    return info.value.kind, info.value.message


def test_a_read_only_filesystem_reads_and_lists_but_never_writes(proc, root):
    registry = start_registry()
    start_filesystem(registry, root)
    start_filesystem(registry, root, read_only=True)
    ro = lookup(registry, READ_ONLY_FILESYSTEM)
    rw = lookup(registry, FILESYSTEM)
    lumps = vm.current_runtime().lumps
    assert lumps.get(request(ro, ["get", "init/service.py"])) == b"print('hello')\n"
    assert [e["name"] for e in request(ro, ["list", "init"])] == ["service.py"]
    lid = lumps.put(b"import os\n")
    for path in ("init/service.py", "init/new.py", "init", "../x", "/etc/passwd"):
        kind, message = _fails(ro, ["put", path, lid])
        assert kind == READ_ONLY, (path, kind)
        assert message.startswith(f"put {path!r}: this filesystem is read-only")
    assert _fails(ro, {"op": "put", "path": "a", "lump": bytes(lid)})[0] == READ_ONLY
    assert (root / "init" / "service.py").read_text() == "print('hello')\n"
    assert sorted(os.listdir(root / "init")) == ["service.py"]
    assert _fails(ro, ["get", "../root/init/service.py"])[0] == PATH_ESCAPES_ROOT
    # The writable one, beside it, still writes.
    assert request(rw, ["put", "init/new.py", lid]) is None
    assert lumps.get(request(ro, ["get", "init/new.py"])) == b"import os\n"
