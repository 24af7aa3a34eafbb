"""Where the IPC daemon's Unix socket lives, for the daemon and its clients.

One rule, shared by the daemon (which binds the socket) and by
`hearth-ctl`, `hearth-tui` and `hibashi` (which connect to it):

1. ``$HEARTH_SOCK``, if set and not empty;
2. else ``$XDG_RUNTIME_DIR/hearth.sock``, if ``XDG_RUNTIME_DIR`` is set;
3. else ``/tmp/hearth-<uid>/hearth.sock`` (``tempfile.gettempdir()`` in
   place of ``/tmp``), a per-user directory made with mode 0700 by
   `prepare_socket_dir`.

A client (``hearth-client``) serves tools too, on a socket of its own so
that a client and a server on one machine never collide
(`client_socket_path`): ``$HEARTH_CLIENT_SOCK``, else
``$XDG_RUNTIME_DIR/hearth-client.sock``, else
``/tmp/hearth-<uid>/hearth-client.sock``.

Nothing here uses gevent or the kernel, so it is safe anywhere.
"""

import errno
import os
import socket
import stat
import tempfile

__all__ = [
    "SOCKET_NAME",
    "CLIENT_SOCKET_NAME",
    "socket_path",
    "client_socket_path",
    "fallback_dir",
    "prepare_socket_dir",
    "probe",
    "LIVE",
    "STALE",
    "ABSENT",
]

SOCKET_NAME = "hearth.sock"
CLIENT_SOCKET_NAME = "hearth-client.sock"

LIVE = "live"  # something accepts connections there
STALE = "stale"  # a socket file nobody listens on (a runtime that crashed)
ABSENT = "absent"  # no file there


def fallback_dir(uid=None):
    """The per-user directory of the last rule: ``<tmp>/hearth-<uid>``."""
    uid = os.getuid() if uid is None else uid
    return os.path.join(tempfile.gettempdir(), f"hearth-{uid}")


def socket_path(environ=None):
    """The socket's path by the rules above. Switches: never.

    Args:
        environ: a mapping to read instead of `os.environ` (tests).
    """
    return _path("HEARTH_SOCK", SOCKET_NAME, environ)


def client_socket_path(environ=None):
    """The socket a ``hearth-client`` serves tools on, by the rules above
    (``$HEARTH_CLIENT_SOCK`` in place of ``$HEARTH_SOCK``). Switches: never."""
    return _path("HEARTH_CLIENT_SOCK", CLIENT_SOCKET_NAME, environ)


def _path(variable, name, environ):
    env = os.environ if environ is None else environ
    explicit = env.get(variable)
    if explicit:
        return explicit
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime_dir or fallback_dir(), name)
    return os.path.join(fallback_dir(), CLIENT_SOCKET_NAME)


def prepare_socket_dir(path):
    """Make sure the directory of `path` exists and, for the per-user
    fallback, belongs to this user with mode 0700 (another user could
    otherwise put a socket there first). Switches: never.

    Raises:
        PermissionError: the fallback directory belongs to someone else or
            others may write to it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if directory == fallback_dir():
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        st = os.lstat(directory)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise PermissionError(errno.EPERM, "not a private directory of this user", directory)
    else:
        os.makedirs(directory, mode=0o700, exist_ok=True)  # new directories only
    return directory


def probe(path, timeout=1.0):
    """Whether a runtime listens at `path`: `LIVE`, `STALE` or `ABSENT`.

    A file that is not a socket counts as `LIVE` (it is not ours to
    replace). Blocks for at most `timeout` seconds (cooperatively, once
    gevent has patched `socket`).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ABSENT
    if not stat.S_ISSOCK(st.st_mode):
        return LIVE
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        return STALE
    except OSError:
        return LIVE  # permission denied, a timeout: someone's, not stale
    finally:
        s.close()
    return LIVE
