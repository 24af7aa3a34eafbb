"""Service manifests: read and check ``DIR/init/<name>/service.toml``.

The format (docs/services.md)::

    name = "echo"              # required; equals the directory name
    description = "..."        # optional
    kind = "python"            # "python" or "wasm"
    entry = "service.py:main"  # python: FILE.py:FUNCTION; wasm: FILE.wasm[:INDEX]
    needs = ["hearth.Sleep"]   # registry names the service may look up
    restart = "permanent"      # permanent | transient | temporary
    targets = ["server"]       # default ["server", "client"]
    expose = false             # true: the runtime's peers may look it up
    [settings]                 # optional: the service's own settings; init
                               # only checks it is a table (the service reads it)

Everything here is plain file work: nothing switches greenlets.
"""

import hashlib
import os
from dataclasses import dataclass, field

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

__all__ = [
    "MANIFEST",
    "KINDS",
    "RESTARTS",
    "TARGETS",
    "Manifest",
    "ManifestError",
    "load_manifest",
    "scan_root",
    "content_hash",
]

MANIFEST = "service.toml"
KINDS = ("python", "wasm")
RESTARTS = ("permanent", "transient", "temporary")
TARGETS = ("server", "client")
_FIELDS = {"name", "description", "kind", "entry", "needs", "restart", "targets", "expose",
           "settings"}


class ManifestError(Exception):
    """A service directory's manifest can't be used: malformed TOML, a
    missing or wrong field, or a missing entry file. The service author's
    fault; the message says what to fix."""


@dataclass(frozen=True)
class Manifest:
    """One checked service manifest.

    Attributes:
        name: the service's name, its directory's name and its registry name.
        directory: the service directory (absolute path).
        kind: ``"python"`` or ``"wasm"``.
        file: the entry file's absolute path.
        function: python: the function run as the process body; wasm: None.
        index: wasm: the ``_hearth_spawn_by_index`` index, or None for ``run``.
        needs: registry names the service may look up, in manifest order.
        restart: the supervisor restart type.
        targets: where it runs.
        expose: whether the registry view this runtime hands its peers
            (hearth-server's peers; for hearth-client, the server) may
            see the service's name. Written by the operator; default
            false.
        description: free text.
        digest: hash of the manifest and every file of the directory: a
            change of any of them is a change of the service.
    """

    name: str
    directory: str
    kind: str
    file: str
    function: object = None
    index: object = None
    needs: tuple = ()
    restart: str = "permanent"
    targets: tuple = TARGETS
    expose: bool = False
    description: str = ""
    digest: str = field(default="", compare=False)


def content_hash(directory):
    """A hex digest of every regular file under `directory` (names and bytes).

    Python caches (``__pycache__``) are skipped: loading a service must not
    make it look changed. Switches: never.
    """
    h = hashlib.blake2b(digest_size=16)
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            path = os.path.join(root, f)
            rel = os.path.relpath(path, directory)
            h.update(rel.encode() + b"\0")
            try:
                with open(path, "rb") as fh:
                    h.update(fh.read())
            except OSError:
                h.update(b"<unreadable>")
            h.update(b"\0")
    return h.hexdigest()


def _str_list(value, what):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ManifestError(f"{what} must be a list of non-empty strings, not {value!r}")
    return tuple(value)


def load_manifest(directory):
    """Read and check the manifest of one service directory.

    Returns:
        a `Manifest`.

    Raises:
        ManifestError: what is wrong with it.

    Switches: never.
    """
    directory = os.path.abspath(directory)
    dirname = os.path.basename(directory)
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ManifestError(f"no {MANIFEST}") from None
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"malformed {MANIFEST}: {e}") from None
    except OSError as e:
        raise ManifestError(f"can't read {MANIFEST}: {e}") from None

    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ManifestError(f"unknown field(s) {unknown}")
    for required in ("name", "kind", "entry"):
        if required not in data:
            raise ManifestError(f"missing field {required!r}")
    name = data["name"]
    if not isinstance(name, str) or not name:
        raise ManifestError(f"name must be a non-empty string, not {name!r}")
    if name != dirname:
        raise ManifestError(f"name {name!r} is not the directory's name {dirname!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ManifestError(f"description must be a string, not {description!r}")
    kind = data["kind"]
    if kind not in KINDS:
        raise ManifestError(f"unknown kind {kind!r}; one of {list(KINDS)}")
    restart = data.get("restart", "permanent")
    if restart not in RESTARTS:
        raise ManifestError(f"unknown restart {restart!r}; one of {list(RESTARTS)}")
    needs = _str_list(data.get("needs", []), "needs")
    if name in needs:
        raise ManifestError("a service can't need itself")
    targets = _str_list(data.get("targets", list(TARGETS)), "targets")
    bad = [t for t in targets if t not in TARGETS]
    if bad:
        raise ManifestError(f"unknown target(s) {bad}; each one of {list(TARGETS)}")
    expose = data.get("expose", False)
    if type(expose) is not bool:
        raise ManifestError(f"expose must be true or false, not {expose!r}")
    if type(data.get("settings", {})) is not dict:
        raise ManifestError("settings must be a table ([settings]), read by the service itself")

    entry = data["entry"]
    if not isinstance(entry, str) or not entry:
        raise ManifestError(f"entry must be a non-empty string, not {entry!r}")
    function = index = None
    if kind == "python":
        file, sep, function = entry.rpartition(":")
        if not sep or not file.endswith(".py") or not function.isidentifier():
            raise ManifestError(f"a python entry is FILE.py:FUNCTION, not {entry!r}")
    else:
        file, sep, idx = entry.rpartition(":")
        if not sep:
            file = entry
        else:
            try:
                index = int(idx)
            except ValueError:
                raise ManifestError(f"a wasm entry is FILE.wasm[:INDEX], not {entry!r}") from None
        if not file.endswith(".wasm"):
            raise ManifestError(f"a wasm entry is FILE.wasm[:INDEX], not {entry!r}")
    full = os.path.normpath(os.path.join(directory, file))
    if os.path.commonpath([full, directory]) != directory:
        raise ManifestError(f"entry file {file!r} is outside the service directory")
    if not os.path.isfile(full):
        raise ManifestError(f"missing entry file {file!r}")

    return Manifest(
        name=name,
        directory=directory,
        kind=kind,
        file=full,
        function=function,
        index=index,
        needs=needs,
        restart=restart,
        targets=targets,
        expose=expose,
        description=description,
        digest=content_hash(directory),
    )


def scan_root(root):
    """Read every service directory of ``root/init``.

    Returns:
        ``(manifests, problems)``: name -> `Manifest` for the good ones, and
        directory name -> reason text for the bad ones. A root without an
        ``init`` directory has no services. Directories whose names start
        with ``.`` or ``_`` are ignored.

    Switches: never.
    """
    base = os.path.join(root, "init")
    manifests, problems = {}, {}
    try:
        entries = sorted(os.listdir(base))
    except FileNotFoundError:
        return manifests, problems
    for entry in entries:
        directory = os.path.join(base, entry)
        if entry.startswith((".", "_")) or not os.path.isdir(directory):
            continue
        try:
            manifests[entry] = load_manifest(directory)
        except ManifestError as e:
            problems[entry] = str(e)
    return manifests, problems
