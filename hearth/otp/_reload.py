"""Hot code reload (rule O7): new versions of a module of servers.

`reload(module_name)` loads the module's source again into a *new* module
object and, only if that succeeds, makes it current (in `sys.modules`). A
running `GenServer` notices the new version at its next signal, finds the
class of the same qualified name in the new module, calls that class's
``code_change(old_vsn, state, extra)`` and goes on with the new class and the
migrated state: same process, same mailboxes. Servers idle in ``recv`` are
not woken; they switch when their next message arrives.

Why a new module object and not `importlib.reload`: `importlib.reload`
executes the new code in the old module's namespace, so a load that fails
half-way leaves a mix of both versions, and old code still running (servers
that have not switched yet) would see the new version's globals. Loading
into a fresh module keeps the old version whole, like Erlang's old and
current code. The source is compiled from the file, never from a cached
``.pyc``, whose mtime-based check can miss an edit made within one second.

The code table (module name → current module and version) is kept per OS
process, not per runtime as STYLE.md asks of registries: `sys.modules` is
process-wide, so a module has one current version for every runtime.

Versions: a class's version is its class attribute ``vsn`` if it defines
one, else the module's load counter (0 for the version first imported, 1
after the first successful `reload`, ...).

Failures are reported two ways: `reload` raises `ReloadFailed` when the
module fails to load, and every failure, including a server's failed
``code_change``, is recorded for tools in `reload_errors()` (the newest
last, at most 1,000) and logged.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import linecache
import logging
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hearth.vm import ProcessExit, error_reason, format_reason

from ._errors import ReloadFailed

__all__ = [
    "reload",
    "reload_errors",
    "clear_reload_errors",
    "ReloadResult",
    "ReloadFailure",
    "current_version",
]

log = logging.getLogger("hearth.otp.reload")


@dataclass(frozen=True)
class ReloadResult:
    """What a successful `reload` did.

    Attributes:
        module: the module's name.
        generation: its load counter now (1 after the first reload).
        versions: qualified name → version (``vsn`` or the counter) of each
            `GenServer` subclass defined in the new module.
    """

    module: str
    generation: int
    versions: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReloadFailure:
    """One reload that went wrong, as `reload_errors()` lists it.

    Attributes:
        kind: ``"load"`` (the module failed to load: every server keeps the
            old code) or ``"code_change"`` (one server could not switch and
            keeps its old code; it tries again at the next reload).
        module: the module's name.
        generation: the load counter of the version that failed to load or
            that the server could not switch to.
        reason: an exit-reason-like plain-data term: ``("error", type name,
            message, traceback)`` for an exception, else what ``code_change``
            returned with ``("error", reason)``, or a ``(tag, text)`` pair.
        time: wall-clock time (`time.time()`) of the failure.
        pid: the server's debug pid (``code_change`` failures only).
        server: the server's class qualified name (``code_change`` only).
        name: the server process's name, if it has one.
        old_vsn: the version the server keeps running.
        new_vsn: the version it could not switch to.
    """

    kind: str
    module: str
    generation: int
    reason: object
    time: float
    pid: int | None = None
    server: str | None = None
    name: str | None = None
    old_vsn: object = None
    new_vsn: object = None

    def __str__(self):
        where = f"pid {self.pid} ({self.server})" if self.pid is not None else "load"
        return f"{self.module} v{self.generation} {where}: {format_reason(self.reason)}"


class ModuleCode:
    """The current version of one module of servers. Servers keep a
    reference and compare `generation` with their own at each message,
    which is the whole cost of hot reload on the hot path."""

    __slots__ = ("name", "module", "generation", "extra")

    def __init__(self, name, module):
        self.name = name
        self.module = module
        self.generation = 0
        self.extra = None


_modules: dict[str, Any] = {}  # module name -> ModuleCode
_failures: deque[ReloadFailure] = deque(maxlen=1000)


def code_entry(module_name):
    """The `ModuleCode` of a module, made on first use. Switches: never."""
    entry = _modules.get(module_name)
    if entry is None:
        entry = _modules[module_name] = ModuleCode(module_name, sys.modules.get(module_name))
    return entry


def find_class(module, qualname):
    """The object at `qualname` in `module`, or None. Switches: never."""
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if isinstance(obj, type) else None


def current_class(cls):
    """``(entry, class, generation)``: the current version of `cls`.

    A class object from an older version of its module (one imported
    before a reload) resolves to the class of the same name in the current
    version, as Erlang's calls always reach current code. A class that
    can't be found by name (defined in a function, say) is used as given.
    Switches: never.
    """
    entry = code_entry(cls.__module__)
    if entry.module is not None:
        found = find_class(entry.module, cls.__qualname__)
        if found is not None and _is_server_class(found):
            cls = found
    return entry, cls, entry.generation


def _is_server_class(obj):
    from ._gen_server import GenServer

    return isinstance(obj, type) and issubclass(obj, GenServer)


def version_of(cls, generation):
    """A class's version: its ``vsn`` attribute, else the load counter."""
    return getattr(cls, "vsn", generation)


def current_version(module_name):
    """The load counter of a module (0 before any reload). Switches: never."""
    entry = _modules.get(module_name)
    return 0 if entry is None else entry.generation


def reload(module_name: str, extra: Any = None) -> ReloadResult:
    """Load a new version of a module; its servers switch at their next message.

    Each running `GenServer` whose class lives in the module, at its next
    message, calls the new class's ``code_change(old_vsn, state, extra)``
    and, if that returns ``("ok", new_state)``, handles the message (and
    every later one) with the new class. Servers idle in ``recv`` are not
    woken. Reloading twice before a server's next message takes it straight
    to the newest version (one ``code_change``). Servers started after the
    reload run the new version, even when given an old class object.

    Args:
        module_name: the dotted name of an importable module.
        extra: passed as ``extra`` to every ``code_change`` of this version.

    Returns:
        a `ReloadResult`.

    Raises:
        ReloadFailed: the module failed to load (also recorded in
            `reload_errors()`); the old version stays current.

    Switches: never, unless the module's own top-level code does.
    """
    entry = _modules.get(module_name)
    next_generation = 1 if entry is None else entry.generation + 1
    old = sys.modules.get(module_name)
    try:
        module = _load_fresh(module_name, old)
    except BaseException as e:  # noqa: B902 - any failure of user code
        if isinstance(e, (KeyboardInterrupt, SystemExit, ProcessExit)):
            raise
        reason = error_reason(e)
        _record(ReloadFailure("load", module_name, next_generation, reason, time.time()))
        log.error("reloading %s failed; the old version keeps running: %s",
                  module_name, format_reason(reason, traceback=True))
        raise ReloadFailed(
            f"reloading {module_name} failed: {format_reason(reason)}", module_name, reason
        ) from e
    if entry is None:
        entry = code_entry(module_name)
    entry.module = module
    entry.extra = extra
    entry.generation = next_generation
    versions = {}
    for obj in vars(module).values():
        if _is_server_class(obj) and obj.__module__ == module_name:
            versions[obj.__qualname__] = version_of(obj, entry.generation)
    return ReloadResult(module_name, entry.generation, versions)


def _load_fresh(name, old):
    """Execute the module's current source in a new module object and make
    it current; on failure restore `old`. Switches: never (unless the
    module's code does)."""
    importlib.invalidate_caches()
    parent, _, child = name.rpartition(".")
    path = importlib.import_module(parent).__path__ if parent else None
    spec = importlib.machinery.PathFinder.find_spec(name, path)
    if spec is None:
        spec = importlib.util.find_spec(name)
    if spec is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    # importlib puts a module in sys.modules while it executes (a module
    # may import itself, dataclasses look their module up there).
    sys.modules[name] = module
    try:
        if isinstance(loader, importlib.machinery.SourceFileLoader):
            linecache.checkcache(spec.origin)
            code = loader.source_to_code(loader.get_data(spec.origin), spec.origin)
            exec(code, module.__dict__)
        else:
            loader.exec_module(module)
    except BaseException:
        if old is not None:
            sys.modules[name] = old
        else:
            sys.modules.pop(name, None)
        raise
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def upgrade(entry, cls, generation, state, proc):
    """Switch one server to the current version of its module.

    Called by a server's loop (in the server's process) when it sees that
    `entry.generation` moved. Returns ``(class, instance, state)`` of the
    new version, or None if the switch failed, in which case the failure is
    recorded and logged and the server keeps its old class and state.

    Raises:
        ProcessExit: the server was killed meanwhile.

    Switches: only if the user's ``code_change`` does.
    """
    new_gen = entry.generation
    old_vsn = version_of(cls, generation)
    new_cls = find_class(entry.module, cls.__qualname__)
    if new_cls is None or not _is_server_class(new_cls):
        reason = ("no_class", f"{cls.__qualname__} is not a GenServer class of the new version")
        _code_change_failed(entry, cls, proc, reason, old_vsn, None)
        return None
    new_vsn = version_of(new_cls, new_gen)
    try:
        instance = new_cls()
        result = instance.code_change(old_vsn, state, entry.extra)
    except ProcessExit as e:
        if proc.reason is not None:
            raise
        result = ("error", e.reason)
    except Exception as e:
        _code_change_failed(entry, cls, proc, error_reason(e), old_vsn, new_vsn)
        return None
    if type(result) is tuple and len(result) == 2 and result[0] == "ok":
        return new_cls, instance, result[1]
    if type(result) is tuple and len(result) == 2 and result[0] == "error":
        reason = result[1]
    else:
        reason = ("bad_return_value", repr(result))
    _code_change_failed(entry, cls, proc, reason, old_vsn, new_vsn)
    return None


def _code_change_failed(entry, cls, proc, reason, old_vsn, new_vsn):
    failure = ReloadFailure(
        "code_change",
        entry.name,
        entry.generation,
        reason,
        time.time(),
        pid=proc.pid,
        server=cls.__qualname__,
        name=proc.name,
        old_vsn=old_vsn,
        new_vsn=new_vsn,
    )
    _record(failure)
    log.error(
        "server pid %s (%s) could not switch to %s v%s and keeps running %r: %s",
        proc.pid, cls.__qualname__, entry.name, entry.generation, old_vsn,
        format_reason(reason, traceback=True),
    )


def _record(failure):
    _failures.append(failure)


def reload_errors(module_name: str | None = None) -> list[ReloadFailure]:
    """Recorded reload failures, oldest first (at most the last 1,000).

    Args:
        module_name: only this module's failures.

    Returns:
        a list of `ReloadFailure`. Switches: never.
    """
    if module_name is None:
        return list(_failures)
    return [f for f in _failures if f.module == module_name]


def clear_reload_errors() -> None:
    """Forget the recorded failures (a tool does this once it showed them).

    Switches: never.
    """
    _failures.clear()
