"""Child specifications of supervisors: the dataclass, its checks, and its
form inside a message.

A `ChildSpec` holds a Python callable, which can't cross a message. The
supervisor's process gets the specs of `start_link` as spawn arguments (one
OS process, no copy), but `start_child` sends its spec through the `call`
protocol. There a callable travels as an *unforgeable local reference*: the
caller's side enters it in a table of this OS process under a random token
(`fn_ref`, ``"$local:<32 hex digits>"``) and the supervisor, in the same OS
process, looks the token up (`resolve`). Nothing is ever imported by name
from a message: a token that is not in the table, or any other string, is
refused, unless it is one of the names the supervisor was given in advance
(``allowed_starts`` of `start_link`, a dict name -> callable, for start
functions a caller names with a plain str, ``ChildSpec(id, "name",
args=...)``).

The table keeps each callable for the life of the OS process, so only
module-level functions, classes and methods bound to a class may travel
(no lambda, closure or method bound to an instance): `fn_ref` says so at
once, in the caller. Classes and functions among a spec's arguments travel
the same way.
"""

from __future__ import annotations

import dataclasses
import inspect
import secrets
import sys
from dataclasses import KW_ONLY, dataclass
from typing import Any, NamedTuple

from hearth.vm import Cap
from hearth.vm._terms import brief

__all__ = [
    "ChildSpec",
    "ChildInfo",
    "RESTART_TYPES",
    "CHILD_TYPES",
    "STRATEGIES",
    "AUTO_SHUTDOWN",
    "check_spec",
    "check_flags",
    "check_significant",
    "spec_to_term",
    "spec_from_term",
    "caps_in",
    "replace_caps",
    "args_to_term",
    "args_from_term",
    "resolve",
    "fn_ref",
    "check_allowed_starts",
    "ChildRecord",
]

RESTART_TYPES = ("permanent", "transient", "temporary")
CHILD_TYPES = ("worker", "supervisor")
STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one")
AUTO_SHUTDOWN = ("never", "any_significant", "all_significant")

# Spawn options the supervisor sets itself.
_RESERVED_OPTIONS = frozenset({"link", "monitor", "mailbox", "restarts"})

# Erlang's default shutdown: 5 s for a worker, infinity for a supervisor
# (a subtree needs the time its own children's shutdowns take).
_DEFAULT_SHUTDOWN = {"worker": 5.0, "supervisor": "infinity"}


@dataclass(frozen=True)
class ChildSpec:
    """How a supervisor starts, restarts and stops one child.

    Two ways to start a child:

    - ``start=(fn, args)`` or ``start=(fn, args, options)``: a plain
      process. The supervisor calls ``vm.spawn_link(fn, *args,
      restarts=n, **options)`` itself (`n`, the restart count, lands in the
      process's metadata for tools; `options` are spawn options such as
      ``{"trap_exit": True, "name": "db"}``). `Cap` arguments must be at
      the top level of `args` (the kernel imports those into the child).
      Such a child counts as started once spawned; it first runs later, so
      it can't refuse to start, and an exit signal may reach it before its
      first instruction: a child that traps exits must say so in
      `options`, not by calling `trap_exit` itself.
    - ``start=fn, args=(...)``: a start function, such as a gen_server's
      ``start_link`` (``MyServer.start_link``) or `supervisor_spec`'s. The
      supervisor calls ``fn(*args)`` in its own process and waits for it,
      so the next child starts only once this one is ready. It must start
      a process linked to its caller and return a `Cap` to that process's
      parent mailbox (with KILL and MONITOR; and LINK, or the supervisor
      can't unlink it before stopping it), or ``("ok", cap)``, or
      ``"ignore"`` (nothing started), or ``("error", reason)``; raising
      means ``("error", reason)``, with the exception's `reason` if it is a
      Hearth error that has one (`StartError`), else the error itself.
      The supervisor links to the returned capability as well (a no-op if
      the function already did).

    In either form the callable may be a str instead: the name of one of
    the supervisor's ``allowed_starts`` (see `start_link`), the one way to
    name a start function that was not handed over in this OS process.

    Attributes:
        id: the child's name within its supervisor: plain, hashable data
            (str, int, bytes, or tuples of these).
        start: ``(fn, args)`` or a start function (see above).
        args: the start function's arguments (only with a start function).
        restart: ``"permanent"`` (always restarted), ``"transient"``
            (restarted only after an abnormal exit: any reason other than
            ``normal``, ``shutdown`` or ``("shutdown", term)``), or
            ``"temporary"`` (never restarted; removed once it stops).
        shutdown: ``"brutal_kill"``, a timeout in seconds (exit signal
            ``shutdown``, then a kill once it passes), or ``"infinity"``.
            None (the default) means Erlang's default: 5.0 for a worker,
            ``"infinity"`` for a supervisor.
        type: ``"worker"`` or ``"supervisor"`` (for `count_children`, and
            the default shutdown).
        significant: with the supervisor's `auto_shutdown`, this child's own
            exit may stop the supervisor. Only for transient and temporary
            children.
    """

    id: object
    start: object
    _: KW_ONLY
    args: tuple = ()
    restart: str = "permanent"
    shutdown: object = None
    type: str = "worker"
    significant: bool = False

    def __post_init__(self):
        if isinstance(self.args, list):
            object.__setattr__(self, "args", tuple(self.args))
        start = self.start
        if isinstance(start, list):
            object.__setattr__(self, "start", tuple(start))

    @property
    def kind(self) -> str:
        """``"spawn"`` for ``start=(fn, args)``, ``"call"`` for a start function."""
        return "spawn" if isinstance(self.start, tuple) else "call"

    @property
    def function(self) -> Any:
        """The callable that starts the child."""
        return self.start[0] if isinstance(self.start, tuple) else self.start

    @property
    def arguments(self) -> tuple[Any, ...]:
        """The arguments the callable gets."""
        return tuple(self.start[1]) if isinstance(self.start, tuple) else self.args

    @property
    def spawn_options(self) -> dict[str, Any]:
        """The spawn options of ``start=(fn, args, options)``, else {}."""
        start = self.start
        return dict(start[2]) if isinstance(start, tuple) and len(start) == 3 else {}

    @property
    def shutdown_value(self) -> Any:
        """`shutdown`, with None resolved to Erlang's default for `type`."""
        if self.shutdown is None:
            return _DEFAULT_SHUTDOWN.get(self.type, 5.0)
        return self.shutdown


class ChildInfo(NamedTuple):
    """One entry of `which_children`: Erlang's ``{Id, Child, Type, Modules}``
    with the restart count in place of the modules.

    Attributes:
        id: the child's id (None for a simple_one_for_one child).
        child: a `Cap` (SEND, MONITOR and KILL) to the running child,
            ``"restarting"`` while a failed restart waits to be retried, or
            None if the child is not running.
        type: ``"worker"`` or ``"supervisor"``.
        restarts: how many times the supervisor restarted this child.
    """

    id: object
    child: object
    type: str
    restarts: int


# -- checks -------------------------------------------------------------------------


def check_flags(strategy, intensity, period, auto_shutdown):
    """Raise ValueError if the supervisor flags are not Erlang's."""
    if strategy not in STRATEGIES:
        raise ValueError(f"invalid strategy {strategy!r}; one of {STRATEGIES}")
    if type(intensity) is not int or intensity < 0:
        raise ValueError(f"invalid intensity {intensity!r}: a non-negative int")
    if isinstance(period, bool) or not isinstance(period, (int, float)) or not period > 0:
        raise ValueError(f"invalid period {period!r}: a positive number of seconds")
    if auto_shutdown not in AUTO_SHUTDOWN:
        raise ValueError(f"invalid auto_shutdown {auto_shutdown!r}; one of {AUTO_SHUTDOWN}")


def _plain_id(value, depth=0):
    if isinstance(value, (str, int, bytes)) or value is None:
        return True
    if isinstance(value, tuple) and depth < 8:
        return all(_plain_id(v, depth + 1) for v in value)
    return False


def _startable(fn):
    # A callable, or the name of one of a supervisor's allowed starts.
    return callable(fn) or (type(fn) is str and fn != "" and not fn.startswith("$"))


def check_spec(spec):
    """Raise ValueError or TypeError if `spec` is malformed; return it.

    These are the checks that need no supervisor state; `check_significant`
    is the one that needs its `auto_shutdown`.
    """
    if not isinstance(spec, ChildSpec):
        raise TypeError(f"a child spec must be a ChildSpec, not {type(spec).__name__}")
    if not _plain_id(spec.id) or isinstance(spec.id, bool):
        raise ValueError(f"child id {spec.id!r} must be a str, int, bytes or tuple of these")
    start = spec.start
    if isinstance(start, tuple):
        if (
            len(start) not in (2, 3)
            or not _startable(start[0])
            or not isinstance(start[1], (tuple, list))
        ):
            raise ValueError(f"child {spec.id!r}: start must be (fn, args) or a start function")
        if len(start) == 3:
            options = start[2]
            if not isinstance(options, dict) or not all(type(k) is str for k in options):
                raise ValueError(f"child {spec.id!r}: spawn options must be a dict")
            reserved = _RESERVED_OPTIONS.intersection(options)
            if reserved:
                raise ValueError(f"child {spec.id!r}: the supervisor sets {sorted(reserved)}")
        if spec.args:
            raise ValueError(f"child {spec.id!r}: args go inside start=(fn, args)")
    elif not _startable(start):
        raise ValueError(f"child {spec.id!r}: start must be (fn, args) or a start function")
    if not isinstance(spec.args, tuple):
        raise ValueError(f"child {spec.id!r}: args must be a tuple")
    if spec.restart not in RESTART_TYPES:
        raise ValueError(f"child {spec.id!r}: invalid restart {spec.restart!r}")
    if spec.type not in CHILD_TYPES:
        raise ValueError(f"child {spec.id!r}: invalid type {spec.type!r}")
    shutdown = spec.shutdown_value
    if shutdown not in ("brutal_kill", "infinity") and (
        isinstance(shutdown, bool) or not isinstance(shutdown, (int, float)) or shutdown < 0
    ):
        raise ValueError(
            f"child {spec.id!r}: invalid shutdown {shutdown!r}: "
            "'brutal_kill', 'infinity' or seconds >= 0"
        )
    if not isinstance(spec.significant, bool):
        raise ValueError(f"child {spec.id!r}: significant must be a bool")
    if spec.significant and spec.restart == "permanent":
        raise ValueError(
            f"child {spec.id!r}: a permanent child can't be significant "
            "(bad_combination restart=permanent, significant=True)"
        )
    return spec


def check_significant(spec, auto_shutdown):
    """Return Erlang's ``bad_combination`` error term, or None if fine."""
    if spec.significant and auto_shutdown == "never":
        return ("bad_combination", (("auto_shutdown", "never"), ("significant", True)))
    if spec.significant and spec.restart == "permanent":
        return ("bad_combination", (("restart", "permanent"), ("significant", True)))
    return None


# -- in a message --------------------------------------------------------------------

_SPEC_TAG = "$childspec"
_SPEC_LEN = 10
_REF_TAG = "$ref"


def _describe(obj):
    """(module, qualname) naming `obj`: a class, a function, or a method
    bound to a class (such as a GenServer's ``MyServer.start_link``)."""
    if inspect.ismethod(obj) and isinstance(obj.__self__, type):
        owner = obj.__self__
        return owner.__module__, f"{owner.__qualname__}.{obj.__name__}"
    return getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)


_LOCAL = "$local:"
# callable -> its token (module-level callables only: a bounded table)
_TOKEN_OF: dict[Any, str] = {}
_BY_TOKEN: dict[str, Any] = {}  # token -> callable


def _lookup_loaded(module, qualname):
    """The object `module`:`qualname` names among the modules already
    loaded, or None. Imports nothing."""
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


def fn_ref(fn):
    """The unforgeable reference that names `fn` inside a message of this
    OS process: a random token, entered in a process-local table on first
    use. Switches: never.

    Raises:
        TypeError: `fn` is not a module-level function, class or method
            bound to a class (a lambda, a closure, a method bound to an
            instance, a partial, ...).
    """
    token = _TOKEN_OF.get(fn)
    if token is not None:
        return token
    module, qualname = _describe(fn)
    bound_to_instance = inspect.ismethod(fn) and not isinstance(fn.__self__, type)
    if bound_to_instance or not module or not qualname or "<" in qualname:
        raise TypeError(
            f"{fn!r} can't cross a message: start_child needs module-level "
            "functions and classes (no lambda, closure or bound method)"
        )
    found = _lookup_loaded(module, qualname)
    if found is None or _describe(found) != (module, qualname):
        raise TypeError(f"{fn!r} is not reachable as {module}:{qualname}, so it can't "
                        "cross a message")
    token = _LOCAL + secrets.token_hex(16)
    _TOKEN_OF[fn] = token
    _BY_TOKEN[token] = fn
    return token


def check_allowed_starts(allowed):
    """`allowed` (a supervisor's ``allowed_starts``) as a dict, checked:
    names are non-empty str not starting with ``$``, values callable.

    Raises:
        ValueError: what is wrong.
    """
    if allowed is None:
        return {}
    if not isinstance(allowed, dict):
        raise ValueError(f"allowed_starts is a dict of name -> callable, not {allowed!r}")
    for name, fn in allowed.items():
        if type(name) is not str or not name or name.startswith("$"):
            raise ValueError(f"allowed_starts: {name!r} is not a name (a str, not starting "
                             "with '$')")
        if not callable(fn):
            raise ValueError(f"allowed_starts: {name!r} names {fn!r}, which is not callable")
    return dict(allowed)


def resolve(ref, allowed=None):
    """The callable `ref` names: a token `fn_ref` made in this OS process,
    or a name in `allowed` (a supervisor's ``allowed_starts``). Imports
    nothing. Switches: never.

    Raises:
        ValueError: `ref` is neither.
    """
    if type(ref) is str and ref.startswith(_LOCAL):
        fn = _BY_TOKEN.get(ref)
        if fn is None:
            raise ValueError(f"{ref[:24]!r}... is not a function reference made in this "
                             "OS process")
        return fn
    if allowed and type(ref) is str and ref in allowed:
        return allowed[ref]
    names = sorted(allowed) if allowed else []
    raise ValueError(
        f"{brief(ref, 80)} is not a start function this supervisor allows (its allowed starts: "
        f"{names}); functions are never imported by name from a message")


def _by_name(value):
    return (
        isinstance(value, type)
        or inspect.isfunction(value)
        or inspect.isbuiltin(value)
        or _compiled_function(value)
        or inspect.ismethod(value) and isinstance(value.__self__, type)
    )


def _compiled_function(value):
    """True for a function of a module compiled by Cython (the hot paths of
    `hearth.vm` and `hearth.otp`, such as `vm.recv` or `otp.call`), which
    is neither `inspect.isfunction` nor `inspect.isbuiltin`."""
    return type(value).__name__ == "cython_function_or_method"


def args_to_term(value):
    """`value` with each `ChildSpec` in it replaced by its term form, and
    each class or function by its name (see `fn_ref`).

    Raises:
        TypeError: a callable in it can't be named.
    """
    if isinstance(value, ChildSpec):
        return spec_to_term(value)
    if _by_name(value):
        return (_REF_TAG, fn_ref(value))
    if isinstance(value, (tuple, list)):
        return tuple(args_to_term(v) for v in value)
    if isinstance(value, dict):
        return {k: args_to_term(v) for k, v in value.items()}
    return value


def args_from_term(value):
    """Undo `args_to_term`: callables only from tokens of this OS process;
    a nested spec's start function named by a str stays a name (see
    `spec_from_term`).

    Raises:
        ValueError: a nested spec is malformed, or a reference names nothing.
    """
    if type(value) is tuple:
        if len(value) == _SPEC_LEN and value[0] == _SPEC_TAG:
            return spec_from_term(value, None)
        if len(value) == 2 and value[0] == _REF_TAG:
            return resolve(value[1])
        return tuple(args_from_term(v) for v in value)
    if type(value) is dict:
        return {k: args_from_term(v) for k, v in value.items()}
    return value


def spec_to_term(spec):
    """`spec` as a msgpack term; nested specs in its arguments too.

    Raises:
        TypeError: a callable can't be named (see the module docstring).
    """
    check_spec(spec)
    return (
        _SPEC_TAG,
        spec.id,
        spec.kind,
        spec.function if type(spec.function) is str else fn_ref(spec.function),
        args_to_term(spec.arguments),
        spec.restart,
        spec.shutdown,
        spec.type,
        spec.significant,
        spec.spawn_options,
    )


def spec_from_term(term, allowed=None):
    """Rebuild a `ChildSpec` from `spec_to_term`'s output; its function
    from a token of this OS process or a name in `allowed` (see `resolve`).
    With `allowed` None (a spec nested in another's arguments, such as a
    child supervisor's children) a name stays a str: only the supervisor
    that starts that spec resolves it, against its own ``allowed_starts``.

    Raises:
        ValueError: the term is malformed or names no function it may.
    """
    if type(term) is not tuple or len(term) != _SPEC_LEN or term[0] != _SPEC_TAG:
        raise ValueError(f"not a child spec: {term!r}")
    _, id_, kind, ref, args, restart, shutdown, type_, significant, options = term
    if kind not in ("spawn", "call") or type(args) is not tuple or (
            options is not None and type(options) is not dict):
        raise ValueError(f"child {id_!r:.80}: malformed start")
    if allowed is None and type(ref) is str and _startable(ref):
        fn = ref  # a name, for the supervisor that will start this spec
    else:
        try:
            fn = resolve(ref, allowed)
        except ValueError as e:
            raise ValueError(f"child {id_!r:.80}: {e}") from None
    args = args_from_term(args)
    if kind == "spawn":
        start = (fn, args, options) if options else (fn, args)
    else:
        start = fn
    try:
        spec = ChildSpec(
            id_,
            start,
            args=() if kind == "spawn" else args,
            restart=restart,
            shutdown=shutdown,
            type=type_,
            significant=significant,
        )
        return check_spec(spec)
    except TypeError as e:
        raise ValueError(str(e)) from None


def caps_in(value, out=None, depth=0):
    """Every `Cap` in `value` (nested tuples, lists, dicts and specs), with
    repeats, in order."""
    if out is None:
        out = []
    if type(value) is Cap:
        out.append(value)
    elif depth > 32:
        pass
    elif isinstance(value, (tuple, list)):
        for v in value:
            caps_in(v, out, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            caps_in(v, out, depth + 1)
    elif isinstance(value, ChildSpec):
        caps_in(value.arguments, out, depth + 1)
    return out


def replace_caps(value, fn, depth=0):
    """A copy of `value` with each `Cap` replaced by ``fn(cap)``; containers
    that hold none are returned as they are."""
    if type(value) is Cap:
        return fn(value)
    if depth > 32:
        return value
    if isinstance(value, (tuple, list)):
        new = [replace_caps(v, fn, depth + 1) for v in value]
        if all(a is b for a, b in zip(new, value)):
            return value
        return tuple(new) if isinstance(value, tuple) else new
    if isinstance(value, dict):
        new = {k: replace_caps(v, fn, depth + 1) for k, v in value.items()}
        if all(new[k] is value[k] for k in value):
            return value
        return new
    if isinstance(value, ChildSpec):
        if value.kind == "spawn":
            args = value.start[1]
            new_args = replace_caps(tuple(args), fn, depth + 1)
            if new_args is args:
                return value
            start = (value.start[0], new_args) + tuple(value.start[2:])
            return dataclasses.replace(value, start=start)
        new_args = replace_caps(value.args, fn, depth + 1)
        if new_args is value.args:
            return value
        return dataclasses.replace(value, args=new_args)
    return value


class ChildRecord:
    """What a supervisor keeps of one child: its spec, its running
    capability, its restart count.

    The record owns one reference to each capability in its arguments (kept
    for restarts) and gives them back in `drop`.
    """

    __slots__ = ("spec", "key", "args", "cap", "restarting", "restarts")

    def __init__(self, spec, key, args):
        self.spec = spec
        self.key = key  # the spec's id; a serial number under simple_one_for_one
        self.args = args
        for cap in caps_in(args):
            cap.inc_ref()
        self.cap = None  # Cap while running
        self.restarting = False  # a failed restart waits for its retry
        self.restarts = 0

    def drop(self):
        for cap in caps_in(self.args):
            cap.release()
        self.args = ()
