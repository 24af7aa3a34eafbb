"""``hearth.fs.Filesystem``: files under one root directory, read into and
written from lumps (docs/protocols.md).

A process speaking the request/response envelope of `_service`: caps[0]
of a request is the reply capability (SEND), the data is msgpack, and the
reply is ``{"ok": value}`` or ``{"err": {"kind": K, "message": M}}``.
`start_filesystem` starts it under a supervisor and registers it as
``hearth.fs.Filesystem``.

Read-only
---------

``start_filesystem(..., read_only=True)`` serves the same root without
``put``: a put is answered ``read_only`` and touches nothing (get and list
work as below). It registers as ``hearth.fs.ReadOnlyFilesystem``
(`READ_ONLY_FILESYSTEM`), so a registry view can hand it out while the
writable one stays out of the view. hearth-server publishes it to peers
only when its operator asks (``--publish-files``); the writable service is
for the tools on the IPC socket and the root's own services.

Paths
-----

A path is a str, relative to the root, its parts separated by ``/``.
``""`` and ``"."`` are the root itself; empty and ``.`` parts are skipped
(``"a//b/./c"`` is ``"a/b/c"``), a trailing ``/`` is allowed. A path
that starts with ``/``, has a ``..`` part, or resolves (symlinks
followed, `os.path.realpath`) to a place outside the root is refused
with ``path_escapes_root``, so a symlink may point anywhere inside the
root but never out of it. A NUL in a path is ``invalid_request``.

The check and the file operation are two steps: a process *outside*
Hearth that swaps a directory for a symlink in between can redirect one
operation. Guests can't make symlinks, so they can't win that race.

Requests
--------

Ops in any of the forms of `_service` (array form shown; the map form
names the fields ``path`` and ``lump``):

``["get", path]``
    ok: the file's bytes, stored as a lump: its 32-byte id (bin).
``["list", path]``
    ok: the directory's entries, sorted by name, each a map
    ``{"name": str, "kind": "file" | "dir" | "symlink" | "other",
    "size": int, "mtime": float}``: ``size`` in bytes and ``mtime`` in
    seconds since the epoch, both of the entry itself (a symlink is not
    followed: its size is the length of its target's name). Names that
    are not valid UTF-8 are left out (no request could name them).
``["put", path, lump]``
    Writes the lump's bytes (`lump` a 32-byte id, bin) to the file,
    replacing it if it exists (keeping its permission bits) or creating
    it. The parent directory must exist. The write is atomic: the bytes
    go to a temporary file beside the target (``.<name>.hearth-tmp-<hex>``),
    which is fsynced and renamed over it; a reader sees the old file or
    the new one, never a part, and so does anyone after a crash. A put
    through a symlink replaces the file it points to.
    ok: nil.

Errors
------

Each message names the path (as the request gave it, never the host's
absolute path) or the lump.

``not_found``
    No such file or directory (for put: no such parent directory), or no
    such lump (or a corrupt one) for put.
``permission_denied``
    The operating system refused.
``is_a_directory``
    get or put of a directory (the root included).
``not_a_directory``
    list of a file, or a path that goes through a file (``"f.txt/x"``).
``not_a_file`` (this service's own)
    get or put of something that is neither a regular file nor a
    directory: a FIFO, socket or device, which could block a read forever
    or stream without end.
``path_escapes_root``
    See Paths.
``read_only`` (this service's own)
    put on a read-only filesystem.
``invalid_request``
    Not msgpack, an unknown op, a missing field, a path that is not a str
    or holds a NUL, a lump id that is not 32 bytes of bin, a name too long
    for the operating system.
``io_error`` (this service's own)
    Any other failure of the operating system (a full disk, an I/O
    error); the message gives its errno name.
``internal_error``
    A bug, logged with its traceback.

A request whose caps[0] is missing or lacks SEND is logged and dropped.
The service keeps serving after any of them.

Blocking
--------

Files of up to `off_hub_bytes` (1 MiB by default) are read and written in
the service's process, on the hub. A larger get or put is handed to a
short-lived *worker* process that reads or writes on a native thread
(`run_off_hub`), so the hub keeps running every other process meanwhile
and the service keeps answering; replies then come in the order requests
finish, as the envelope allows. Lists and path checks always run on the
hub (a few system calls each; a directory of very many entries takes as
long as reading it does).

Bytes
-----

``["get", "a.txt"]`` is ``92 a3 67 65 74 a5 61 2e 74 78 74``; its reply
is ``81 a2 6f 6b c4 20`` followed by the 32 bytes of the lump id.
``["put", "a.txt", lump]`` is ``93 a3 70 75 74 a5 61 2e 74 78 74 c4 20``
followed by the 32 bytes of the id; its reply is ``81 a2 6f 6b c0``.
"""

import errno
import logging
import os
import stat
from typing import NamedTuple

from hearth import vm
from hearth.otp import ServiceError
from hearth.vm import LumpCorrupt, LumpId, LumpNotFound
from hearth.vm._terms import brief

from ._service import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    PERMISSION_DENIED,
    Request,
    Service,
    start_supervised,
)
from ._wasm_spawner import run_off_hub

__all__ = [
    "FILESYSTEM",
    "READ_ONLY_FILESYSTEM",
    "READ_ONLY",
    "IS_A_DIRECTORY",
    "NOT_A_DIRECTORY",
    "PATH_ESCAPES_ROOT",
    "IO_ERROR",
    "NOT_A_FILE",
    "DEFAULT_OFF_HUB_BYTES",
    "Filesystem",
    "FilesystemService",
    "start_filesystem",
]

log = logging.getLogger("hearth.native")

FILESYSTEM = "hearth.fs.Filesystem"
READ_ONLY_FILESYSTEM = "hearth.fs.ReadOnlyFilesystem"
READ_ONLY = "read_only"
IS_A_DIRECTORY = "is_a_directory"
NOT_A_DIRECTORY = "not_a_directory"
PATH_ESCAPES_ROOT = "path_escapes_root"
IO_ERROR = "io_error"
NOT_A_FILE = "not_a_file"
DEFAULT_OFF_HUB_BYTES = 1 << 20

_TMP_MARK = ".hearth-tmp-"

_ERRNO_KINDS = {
    errno.ENOENT: NOT_FOUND,
    errno.EACCES: PERMISSION_DENIED,
    errno.EPERM: PERMISSION_DENIED,
    errno.EROFS: PERMISSION_DENIED,
    errno.EISDIR: IS_A_DIRECTORY,
    errno.ENOTDIR: NOT_A_DIRECTORY,
    errno.ENAMETOOLONG: INVALID_REQUEST,
    errno.ELOOP: NOT_FOUND,  # a symlink loop inside the root: nothing to find
}


def _fail(kind, message):
    return ServiceError(kind, message)


def _os_error(exc, what):
    """`ServiceError` for the `OSError` `exc` met on `what` (a description
    naming the request's path). Switches: never."""
    kind = _ERRNO_KINDS.get(exc.errno, IO_ERROR)
    reason = exc.strerror or type(exc).__name__
    if kind == IO_ERROR:
        reason = f"{errno.errorcode.get(exc.errno, exc.errno)}: {reason}"
    return _fail(kind, f"{what}: {reason}")


# -- paths ---------------------------------------------------------------------------------


def _check_path(path):
    """The parts of request path `path` (a str: the schema checked it), or
    `ServiceError`. Switches: never."""
    if "\x00" in path:
        raise _fail(INVALID_REQUEST, f"a path can't hold a NUL: {brief(path)}")
    if path.startswith("/"):
        raise _fail(PATH_ESCAPES_ROOT, f"{brief(path)} is absolute; paths are relative to the root")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _fail(PATH_ESCAPES_ROOT, f"{brief(path)} has a '..' part")
    return parts


def _resolve(root, path):
    """The host path that request path `path` names under `root` (a real
    path), symlinks resolved; `ServiceError` if it is outside. Switches: never."""
    parts = _check_path(path)
    real = os.path.realpath(os.path.join(root, *parts))
    if real != root and not real.startswith(root + os.sep):
        raise _fail(PATH_ESCAPES_ROOT,
                    f"{brief(path)} resolves (through a symlink) outside the root")
    return real


# -- the work (none of it touches gevent: it may run on a native thread) -------------------


class _NotAFile(Exception):
    """A FIFO, socket or device where a regular file was expected."""


def _read_into_lump(real, lumps):
    # O_NONBLOCK: a FIFO put in place since the caller's stat must not
    # block the open; it changes nothing for a regular file.
    fd = os.open(real, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    with open(fd, "rb", buffering=0) as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise _NotAFile()
        data = f.read()
    return bytes(lumps.put(data))


def _write_from_lump(real, lumps, lid):
    data = lumps.get(lid)
    folder, name = os.path.split(real)
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        mode = None
    tmp = os.path.join(folder, f".{name}{_TMP_MARK}{os.urandom(8).hex()}")
    # 0o666 less the umask, as for any new file; an existing one keeps its mode.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)  # else a crash after the rename may leave an empty file
        finally:
            os.close(fd)
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _lump_error(exc, lid):
    if isinstance(exc, LumpCorrupt):
        return _fail(NOT_FOUND, f"lump {lid.hex()} failed its digest check and was quarantined")
    return _fail(NOT_FOUND, f"no lump {lid.hex()}")


def _do_get(real, path, lumps, off_hub):
    try:
        if off_hub:
            return run_off_hub(_read_into_lump, real, lumps)
        return _read_into_lump(real, lumps)
    except IsADirectoryError:
        raise _fail(IS_A_DIRECTORY, f"get {brief(path)}: it is a directory (list it)") from None
    except _NotAFile:
        raise _not_a_file("get", path) from None
    except OSError as e:
        raise _os_error(e, f"get {brief(path)}") from None


def _not_a_file(op, path):
    return _fail(NOT_A_FILE, f"{op} {brief(path)}: not a regular file (a FIFO, socket or device)")


def _do_put(real, path, lumps, lid, off_hub):
    try:
        if off_hub:
            run_off_hub(_write_from_lump, real, lumps, lid)
        else:
            _write_from_lump(real, lumps, lid)
    except (LumpNotFound, LumpCorrupt) as e:
        raise _lump_error(e, lid) from None
    except FileNotFoundError:
        raise _fail(NOT_FOUND, f"put {brief(path)}: its parent directory does not exist") from None
    except OSError as e:
        raise _os_error(e, f"put {brief(path)}") from None


def _entry(entry):
    st = entry.stat(follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        kind = "symlink"
    elif stat.S_ISDIR(st.st_mode):
        kind = "dir"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    else:
        kind = "other"
    return {"name": entry.name, "kind": kind, "size": st.st_size, "mtime": st.st_mtime}


def _utf8(name):
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's surrogates for bytes that aren't UTF-8
        return False
    return True


# -- the service ---------------------------------------------------------------------------


class Filesystem(Service):
    """``hearth.fs.Filesystem``, serving the files under `root`.

    Args:
        root: an existing directory (resolved once, at start, with
            `os.path.realpath`).
        off_hub_bytes: gets and puts of more bytes than this run on a
            native thread, in a worker process (see Blocking).
        read_only: refuse every put (``read_only``), before looking at
            its path or lump.
    """

    name = schema = FILESYSTEM

    def __init__(self, root, off_hub_bytes=DEFAULT_OFF_HUB_BYTES, read_only=False):
        super().__init__()
        self.root = os.path.realpath(root)
        self.off_hub_bytes = off_hub_bytes
        self.read_only = read_only
        if read_only:
            self.name = READ_ONLY_FILESYSTEM  # for the log
        self.lumps = self.proc.runtime.lumps

    def handle_request(self, request):
        op, fields = self.parse(request)
        path = fields["path"]
        if op == "put" and self.read_only:
            raise _fail(READ_ONLY, f"put {brief(path)}: this filesystem is read-only")
        real = _resolve(self.root, path)
        if op == "list":
            return self._list(real, path)
        if op == "get":
            return self._get(request, real, path)
        return self._put(request, real, path, LumpId(fields["lump"]))

    def _list(self, real, path):
        try:
            with os.scandir(real) as it:
                entries = [_entry(e) for e in it if _utf8(e.name)]
        except FileNotFoundError:
            raise _fail(NOT_FOUND, f"list {brief(path)}: no such directory") from None
        except OSError as e:
            raise _os_error(e, f"list {brief(path)}") from None
        entries.sort(key=lambda e: e["name"])
        return entries

    def _get(self, request, real, path):
        try:
            st = os.stat(real)
        except OSError as e:
            raise _os_error(e, f"get {brief(path)}") from None
        if stat.S_ISDIR(st.st_mode):
            raise _fail(IS_A_DIRECTORY, f"get {brief(path)}: it is a directory (list it)")
        if not stat.S_ISREG(st.st_mode):
            raise _not_a_file("get", path)
        if st.st_size > self.off_hub_bytes:
            return self._hand_to_worker(request, _do_get, real, path, self.lumps, True)
        return _do_get(real, path, self.lumps, False)

    def _put(self, request, real, path, lid):
        try:
            size = self.lumps.size(lid)
        except (LumpNotFound, LumpCorrupt) as e:
            raise _lump_error(e, lid) from None
        try:
            mode = os.stat(real).st_mode
        except OSError:  # missing (a new file), or the write will say what is wrong
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            raise _fail(IS_A_DIRECTORY, f"put {brief(path)}: it is a directory")
        if mode is not None and not stat.S_ISREG(mode):
            raise _not_a_file("put", path)
        if size > self.off_hub_bytes:
            return self._hand_to_worker(request, _do_put, real, path, self.lumps, lid, True)
        return _do_put(real, path, self.lumps, lid, False)

    @staticmethod
    def _hand_to_worker(request, fn, *args):
        # The worker gets its own reference to the reply capability.
        vm.spawn(_worker, request.reply_to, fn, args, name="hearth.fs.worker")
        request.defer()
        request.reply_to.release()


def _worker(reply_to, fn, args):
    """A worker process: one get or put off the hub, reply, end."""
    request = Request(reply_to, ())
    try:
        try:
            request.reply(fn(*args))
        except ServiceError as e:
            request.fail(e.kind, e.message, e.details)
        except Exception as e:  # noqa: BLE001 - a bug answers, and the worker ends quietly
            log.exception("%s worker (pid %s) failed", FILESYSTEM, vm.self_pid())
            request.fail(INTERNAL_ERROR, f"{type(e).__name__}: {e}")
    finally:
        if not request.answered:
            reply_to.release()


# -- starting it ---------------------------------------------------------------------------


class FilesystemService(NamedTuple):
    """What `start_filesystem` returns.

    Attributes:
        supervisor: a capability (all permissions) to its supervisor,
            linked to the caller: the caller's exit stops the service.
        cap: the registered capability (SEND, MONITOR), in the caller's
            table.
    """

    supervisor: vm.Cap
    cap: vm.Cap


def start_filesystem(registry, root, *, off_hub_bytes=DEFAULT_OFF_HUB_BYTES, intensity=3,
                     period=5.0, read_only=False):
    """Start ``hearth.fs.Filesystem`` on `root` under a supervisor linked
    to the caller and register it in `registry` under that name (with
    `read_only`, a read-only one, as ``hearth.fs.ReadOnlyFilesystem``).

    A service that crashes is restarted and registered again; more than
    `intensity` restarts within `period` seconds stop the supervisor.

    Args:
        registry: a registry capability that may register the name.
        root: the directory served (str or path-like); it must exist.
        off_hub_bytes, read_only: see `Filesystem`.
        intensity, period: the supervisor's restart limit.

    Returns:
        a `FilesystemService`.

    Raises:
        NotADirectoryError: `root` is not an existing directory.
        StartError: the service could not start, say because the name is
            taken (nothing is left running).

    Switches: always.
    """
    root = os.path.realpath(os.fspath(root))
    if not os.path.isdir(root):
        raise NotADirectoryError(errno.ENOTDIR, "the filesystem root is not a directory", root)
    name = READ_ONLY_FILESYSTEM if read_only else FILESYSTEM
    sup, caps = start_supervised(
        registry, [(name, Filesystem, (root, off_hub_bytes, read_only))],
        name="hearth.fs.read_only" if read_only else "hearth.fs",
        intensity=intensity, period=period,
    )
    return FilesystemService(sup, caps[name])
