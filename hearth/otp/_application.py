"""Applications: supervision trees started with their dependencies (rule O6).

An `Application` describes a unit of code to start and stop as a whole: its
name, version, the names of the applications it depends on, and a `start`
function that starts its top supervisor. An *application controller*, a
process per runtime, loads descriptions and starts and stops them::

    def start_web(port):
        return start_link_supervisor([ChildSpec("http", (serve, (port,)))])

    ctl = start_link_application_controller()
    load_application(ctl, Application("db", start_db))
    load_application(ctl, Application("web", start_web, args=(8080,),
                                      applications=("db",), type="permanent"))
    start_application(ctl, "web")           # starts db, then web
    which_applications(ctl)                 # [("web", "", ""), ("db", "", "")]
    stop_application_controller(ctl)        # stops web, then db

Starting: `start_application` starts the named application's dependencies
first, depth first in the order they are listed, skipping the ones already
running; an application not loaded is an error naming it, and so is a
dependency cycle (found before anything starts). Dependencies start with
the type of their own description; the `type` argument overrides the named
application's only. If one fails to start, the ones this call started are
stopped again, in reverse order (as Erlang's ``ensure_all_started`` does).

Each running application has a *master*, a process the controller links to
(it traps exits): it runs ``start(*args)``, which must start the top
supervisor linked to the calling process (`start_link_supervisor` does) and
return a capability to it with MONITOR and KILL, or ``(cap, state)``. It
may raise instead: the start fails with that error.

Stopping: `stop_application` makes the master send its top supervisor the
exit signal ``shutdown`` (which stops the tree in reverse order), wait for
it to end, then call ``stop(state)`` if the description has one (`state`
is None unless `start` returned one). `stop_application_controller`, or an
exit signal from the controller's parent, stops every running application
in reverse start order, and then the controller. A stopped application
stays loaded; dependencies are not stopped with it.

When a top supervisor terminates on its own (not by `stop_application`),
the application's *type* decides, with Erlang's meaning:

- ``permanent``: the controller stops every other application, in reverse
  start order, and exits with ``("application_terminated", name,
  reason)`` (Erlang stops the node; here whoever is linked to the
  controller decides);
- ``transient``: the same if the reason is anything but ``normal`` (for
  applications, unlike supervisor children, ``shutdown`` is abnormal: it is
  what a top supervisor that gave up after too many restarts exits with);
  otherwise it is only reported (logged) and forgotten;
- ``temporary`` (the default): only reported, whatever the reason.

``stop`` is not called then: there is no tree left to stop.

Descriptions travel to the controller in a message, so `start` and `stop`
must be module-level functions; they travel as unforgeable references of
this OS process, as in `start_child` (see `_supervisor_spec`), and a
description naming a function any other way (``"os:system"``) is refused
``invalid_request``; `args` are plain data, capabilities and such
functions. Capabilities in `args` are kept by the controller while
the application is loaded and lent to each `start`.

Controller protocol (`call`; replies ``{"ok": value}`` or ``{"err":
{"kind", "message", "reason"}}``, `reason` an Erlang-like term):

===============================  ============================================
request                          ``ok`` value; error kinds
===============================  ============================================
``("load", description)``        None; ``already_loaded``, ``invalid_request``
``("unload", name)``             None; ``not_loaded``, ``running``
``("start", name, type|nil)``    None; ``not_loaded`` (names the missing
                                 one), ``dependency_cycle``,
                                 ``already_started``, ``start_failed``
``("stop", name)``               None; ``not_started``
``("which_applications",)``      ``[(name, description, version)]``, the most
                                 recently started first (as Erlang)
``("loaded_applications",)``     the same for every loaded one, by name
``("stop_all",)``                the names in the order they were stopped;
                                 then the controller exits ``normal``
===============================  ============================================
"""

from __future__ import annotations

import logging
from dataclasses import KW_ONLY, dataclass
from typing import Any

from hearth import vm
from hearth.vm import KILL, MONITOR, Cap, Down, Exit, Message, format_reason

from ._call import call
from ._depends import DependencyCycle, dependency_order
from ._errors import ApplicationError, CallError, StartError
from ._gen_server import GenServer, start as start_server, start_link as start_link_server
from ._patterns import INVALID, err, ok, reject, request
from ._supervisor_spec import (
    RESTART_TYPES,
    args_from_term,
    args_to_term,
    caps_in,
    fn_ref,
    replace_caps,
    resolve,
)

__all__ = [
    "Application",
    "ApplicationError",
    "APPLICATION_TYPES",
    "start_application_controller",
    "start_link_application_controller",
    "stop_application_controller",
    "load_application",
    "unload_application",
    "start_application",
    "stop_application",
    "which_applications",
    "loaded_applications",
]

log = logging.getLogger("hearth.otp.application")

APPLICATION_TYPES = RESTART_TYPES  # permanent, transient, temporary
_TAG = "$application"


@dataclass(frozen=True)
class Application:
    """An application's description.

    Attributes:
        name: unique among the controller's applications.
        start: ``start(*args)``, run in the application's master process;
            returns a capability (MONITOR and KILL) to the top supervisor
            it started linked to the caller, or ``(cap, state)``; or raises.
        args: the arguments of `start`.
        version, description: for people and `which_applications`.
        applications: names of the applications to start first.
        stop: ``stop(state)``, called after a requested stop has ended the
            tree; optional.
        type: ``"permanent"``, ``"transient"`` or ``"temporary"``: what the
            controller does when the tree terminates on its own.

    Raises:
        TypeError, ValueError: a malformed field (at construction).
    """

    name: str
    start: object
    _: KW_ONLY
    args: tuple = ()
    version: str = ""
    description: str = ""
    applications: tuple = ()
    stop: object = None
    type: str = "temporary"

    def __post_init__(self):
        if type(self.name) is not str or not self.name:
            raise TypeError(f"an application's name must be a non-empty str, not {self.name!r}")
        if not callable(self.start):
            raise TypeError(f"application {self.name!r}: start must be callable")
        if self.stop is not None and not callable(self.stop):
            raise TypeError(f"application {self.name!r}: stop must be callable or None")
        if self.type not in APPLICATION_TYPES:
            raise ValueError(f"application {self.name!r}: invalid type {self.type!r}")
        for field in ("version", "description"):
            if type(getattr(self, field)) is not str:
                raise TypeError(f"application {self.name!r}: {field} must be a str")
        deps = self.applications
        if isinstance(deps, str) or not all(type(d) is str for d in deps):
            raise TypeError(f"application {self.name!r}: applications must be a tuple of names")
        object.__setattr__(self, "applications", tuple(deps))
        object.__setattr__(self, "args", tuple(self.args))


def _to_term(app):
    """`app` as a msgpack term. Raises TypeError if a function can't be
    named."""
    return (
        _TAG,
        app.name,
        app.version,
        app.description,
        app.applications,
        fn_ref(app.start),
        args_to_term(app.args),
        None if app.stop is None else fn_ref(app.stop),
        app.type,
    )


def _from_term(term):
    """Rebuild an `Application`. Raises ValueError if `term` is malformed."""
    if type(term) is not tuple or len(term) != 9 or term[0] != _TAG:
        raise ValueError(f"not an application description: {term!r}")
    _, name, version, description, deps, start, args, stop, type_ = term
    try:
        start = resolve(start) if type(start) is str else None
        stop = resolve(stop) if type(stop) is str else None
        return Application(
            name, start, args=args_from_term(args) if type(args) is tuple else None,
            version=version, description=description, applications=deps or (),
            stop=stop, type=type_,
        )
    except (ValueError, TypeError) as e:
        raise ValueError(f"bad application description: {e}") from None


class _Refused(Exception):
    """A request the controller turns into an error reply."""

    def __init__(self, kind, message, reason):
        super().__init__(message)
        self.kind = kind
        self.reason = reason


# -- the controller ---------------------------------------------------------------------


class _Running:
    __slots__ = ("name", "type", "master")

    def __init__(self, name, type_, master):
        self.name = name
        self.type = type_
        self.master = master


class ApplicationController(GenServer):
    """The controller's server. State: ``{"loaded": {name: Application},
    "running": [_Running] in start order}``."""

    def init(self):
        vm.trap_exit(True)  # the masters' exits are how it learns of ends
        return ("ok", {"loaded": {}, "running": []})

    def handle_call(self, req, from_, state):
        if type(req) is not tuple or not req or req[0] not in _CALLS:
            return ("reply", err(INVALID, f"unknown request {req!r}"), state)
        op = req[0]
        method, arity = _CALLS[op]
        if len(req) != arity + 1:
            return ("reply", err(INVALID, f"{op} takes {arity} argument(s)"), state)
        if op == "stop_all":
            order = [r.name for r in reversed(state["running"])]
            return ("stop", "normal", ok(order), state)  # terminate stops them
        try:
            value = method(self, state, *req[1:])
        except _Refused as e:
            return ("reply", err(e.kind, str(e), reason=e.reason), state)
        return ("reply", ok(value), state)

    def handle_info(self, info, state):
        if type(info) is Exit:
            return self._exited(info, state)
        if type(info) is Message:
            reject("application controller", info, "not a call of the controller protocol")
        return ("noreply", state)

    def _exited(self, info, state):
        running = state["running"]
        for i, r in enumerate(running):
            if info.cap.same_route(r.master):
                break
        else:
            return ("noreply", state)  # a master we stopped ourselves
        del running[i]
        r.master.release()
        reason = info.reason
        if r.type == "permanent" or (r.type == "transient" and reason != "normal"):
            log.error(
                "application %s (%s) terminated: %s; stopping the others",
                r.name, r.type, format_reason(reason),
            )
            return ("stop", ("application_terminated", r.name, reason), state)
        level = logging.INFO if reason == "normal" else logging.WARNING
        log.log(level, "application %s exited: %s, type %s", r.name, format_reason(reason), r.type)
        return ("noreply", state)

    def terminate(self, reason, state):
        for r in reversed(list(state["running"])):
            _stop_one(state, r)
        for app in state["loaded"].values():
            _release_args(app)
        state["loaded"].clear()

    # -- calls --------------------------------------------------------------------------

    def _load(self, state, term):
        try:
            app = _from_term(term)
        except ValueError as e:
            raise _Refused(INVALID, str(e), (INVALID, str(e))) from None
        if app.name in state["loaded"]:
            raise _Refused(
                "already_loaded", f"application {app.name!r} is already loaded",
                ("already_loaded", app.name),
            )
        for cap in caps_in(app.args):
            cap.inc_ref()  # lent by the call; kept while loaded
        state["loaded"][app.name] = app

    def _unload(self, state, name):
        _check_name(name)
        if _find(state, name) is not None:
            raise _Refused("running", f"application {name!r} is running", ("running", name))
        app = state["loaded"].pop(name, None)
        if app is None:
            raise _not_loaded(name)
        _release_args(app)

    def _start(self, state, name, type_):
        _check_name(name)
        if type_ is not None and type_ not in APPLICATION_TYPES:
            raise _Refused(INVALID, f"invalid type {type_!r}", (INVALID, "type"))
        if name not in state["loaded"]:
            raise _not_loaded(name)
        if _find(state, name) is not None:
            raise _Refused(
                "already_started", f"application {name!r} is already started",
                ("already_started", name),
            )
        started = []
        for n in _start_order(state["loaded"], name):
            if _find(state, n) is not None:
                continue
            app = state["loaded"][n]
            try:
                caps = caps_in(app.args)
                master = start_link_server(ApplicationMaster, app, *caps, timeout=None)
            except StartError as e:
                for r in reversed(started):
                    if r in state["running"]:
                        _stop_one(state, r)
                raise _Refused(
                    "start_failed",
                    f"application {n!r} failed to start: {format_reason(e.reason)}",
                    ("start_failed", n, e.reason),
                ) from None
            r = _Running(n, type_ if n == name and type_ is not None else app.type, master)
            state["running"].append(r)
            started.append(r)

    def _stop(self, state, name):
        _check_name(name)
        r = _find(state, name)
        if r is None:
            raise _Refused("not_started", f"application {name!r} is not started",
                           ("not_started", name))
        _stop_one(state, r)

    def _which(self, state):
        loaded = state["loaded"]
        return [_info(loaded[r.name]) for r in reversed(state["running"])]

    def _loaded(self, state):
        return [_info(app) for _, app in sorted(state["loaded"].items())]


_CALLS = {
    "load": (ApplicationController._load, 1),
    "unload": (ApplicationController._unload, 1),
    "start": (ApplicationController._start, 2),
    "stop": (ApplicationController._stop, 1),
    "which_applications": (ApplicationController._which, 0),
    "loaded_applications": (ApplicationController._loaded, 0),
    "stop_all": (None, 0),
}


def _check_name(name):
    if type(name) is not str:
        raise _Refused(INVALID, f"an application name is a str, not {name!r}", (INVALID, "name"))


def _not_loaded(name, needed_by=None):
    by = f" (needed by {needed_by!r})" if needed_by is not None else ""
    return _Refused("not_loaded", f"application {name!r}{by} is not loaded", ("not_loaded", name))


def _find(state, name):
    for r in state["running"]:
        if r.name == name:
            return r
    return None


def _info(app):
    return (app.name, app.description, app.version)


def _release_args(app):
    for cap in caps_in(app.args):
        if cap.refs:
            cap.release()


def _start_order(loaded, name):
    """`name` and its dependencies, each after the ones it needs, depth
    first in the order they are listed (as Erlang's ``ensure_all_started``):
    `dependency_order` sorts them (and finds a cycle), ties broken by where
    a depth-first walk through the listed dependencies finishes them, which
    is that order whenever there is no cycle.

    Iterative (a long chain can't exhaust the stack).

    Raises:
        _Refused: a needed application is not loaded, or a cycle.
    """
    reached = {name: 0}  # application -> when the walk reached it
    finished = {}  # application -> when the walk finished it
    stack = [(name, iter(loaded[name].applications))]
    while stack:
        current, deps = stack[-1]
        dep = next(deps, None)
        if dep is None:
            stack.pop()
            finished[current] = len(finished)
            continue
        if dep in reached:
            continue
        if dep not in loaded:
            raise _not_loaded(dep, current)
        reached[dep] = len(reached)
        stack.append((dep, iter(loaded[dep].applications)))
    try:
        return dependency_order({n: loaded[n].applications for n in finished},
                                key=finished.__getitem__)
    except DependencyCycle as e:
        # Report it from where the walk entered it (from `name`'s side).
        chain = e.cycle[:-1]
        start = min(range(len(chain)), key=lambda i: reached[chain[i]])
        cycle = (*chain[start:], *chain[:start], chain[start])
        raise _Refused(
            "dependency_cycle",
            "applications depend on each other in a cycle: " + " -> ".join(cycle),
            ("dependency_cycle", cycle),
        ) from None


def _stop_one(state, r):
    """Stop one running application and wait until its master is gone."""
    if r in state["running"]:
        state["running"].remove(r)
    try:
        call(r.master, ("$stop",), None)
    except CallError:
        pass  # it ended on its own meanwhile: stopped all the same
    finally:
        r.master.release()


# -- the master ---------------------------------------------------------------------------


class ApplicationMaster(GenServer):
    """One running application: starts its tree in ``init``, stops it in
    ``terminate``. Traps exits, so the controller's exit (its parent) stops
    the tree too."""

    def init(self, app, *caps):
        vm.trap_exit(True)
        vm.set_metadata(description=f"application master of {app.name}")
        it = iter(caps)
        args = replace_caps(app.args, lambda _: next(it))
        result = app.start(*args)
        app_state = None
        if type(result) is tuple and len(result) == 2 and type(result[0]) is Cap:
            result, app_state = result
        if type(result) is not Cap:
            _release(caps)
            return ("stop", ("bad_return_value", repr(result)))
        needed = MONITOR | KILL
        if result.permissions & needed != needed:
            _release(caps)
            return ("stop", ("bad_return_value", "the top supervisor's capability needs "
                                                 "MONITOR and KILL"))
        ref = result.monitor()
        return ("ok", {"app": app, "sup": result, "ref": ref, "state": app_state,
                       "caps": caps, "ended": False})

    def handle_call(self, req, from_, state):
        if req == ("$stop",):
            return ("stop", "normal", ok(), state)
        return ("reply", err(INVALID, f"unknown request {req!r}"), state)

    def handle_info(self, info, state):
        ended = (type(info) is Down and info.ref == state["ref"]) or (
            type(info) is Exit and info.cap.same_route(state["sup"])
        )
        if ended:
            state["ended"] = True  # on its own: the controller decides (O6)
            return ("stop", info.reason, state)
        if type(info) is Message:
            reject("application master", info, "not a call of the master protocol")
        return ("noreply", state)

    def terminate(self, reason, state):
        try:
            if not state["ended"]:
                _shutdown_tree(state)
                stop = state["app"].stop
                if stop is not None:
                    try:
                        stop(state["state"])
                    except Exception:
                        log.exception("stop of application %s failed", state["app"].name)
        finally:
            _release(state["caps"])


def _shutdown_tree(state):
    """Send the top supervisor ``shutdown`` and wait for its Down."""
    sup, ref = state["sup"], state["ref"]
    sup.exit("shutdown")
    while True:
        sig = vm.recv()
        if type(sig) is Down:
            sig.cap.release()
            if sig.ref == ref:
                return
        elif type(sig) is Exit:
            sig.cap.release()
        else:
            _release(sig.caps)


def _release(caps):
    for cap in caps:
        if cap.refs:
            cap.release()


# -- clients ------------------------------------------------------------------------------


def start_application_controller(timeout: float | None = None) -> Cap:
    """Start an application controller; return a capability to it.

    Switches: always.
    """
    return start_server(ApplicationController, timeout=timeout)


def start_link_application_controller(timeout: float | None = None) -> Cap:
    """Start an application controller linked to the caller, its parent:
    the caller's death stops every application (in reverse start order),
    and a permanent application's end reaches the caller as the
    controller's exit. Switches: always."""
    return start_link_server(ApplicationController, timeout=timeout)


def _request(ctl, req, timeout):
    return request(ctl, req, timeout, error=ApplicationError)


def load_application(ctl: Cap, app: Application, timeout: float | None = None) -> Any:
    """Load `app` (an `Application`) into the controller.

    Raises:
        TypeError: `start`, `stop` or a function in `args` is not a
            module-level one (checked here, before anything is sent).
        ApplicationError: ``already_loaded``.

    Switches: always.
    """
    if not isinstance(app, Application):
        raise TypeError(f"load_application needs an Application, not {type(app).__name__}")
    _request(ctl, ("load", _to_term(app)), timeout)


def unload_application(ctl: Cap, name: str, timeout: float | None = None) -> Any:
    """Forget a stopped application. Raises `ApplicationError` (``not_loaded``,
    ``running``). Switches: always."""
    _request(ctl, ("unload", name), timeout)


def start_application(
    ctl: Cap, name: str, type: str | None = None, timeout: float | None = None
) -> Any:
    """Start `name` and, first, the dependencies not running yet.

    Args:
        type: ``"permanent"``, ``"transient"`` or ``"temporary"`` for this
            application; None for the one in its description.

    Raises:
        ApplicationError: ``not_loaded`` (naming the missing application),
            ``dependency_cycle``, ``already_started``, ``start_failed``.

    Switches: always.
    """
    _request(ctl, ("start", name, type), timeout)


def stop_application(ctl: Cap, name: str, timeout: float | None = None) -> Any:
    """Stop `name`'s tree, then call its ``stop``. Never triggers the type
    rules. Raises `ApplicationError` (``not_started``). Switches: always."""
    _request(ctl, ("stop", name), timeout)


def which_applications(ctl: Cap, timeout: float | None = None) -> list[tuple[Any, ...]]:
    """``[(name, description, version)]`` of the running applications, the
    most recently started first. Switches: always."""
    return [tuple(entry) for entry in _request(ctl, ("which_applications",), timeout)]


def loaded_applications(ctl: Cap, timeout: float | None = None) -> list[tuple[Any, ...]]:
    """``[(name, description, version)]`` of the loaded applications, by
    name. Switches: always."""
    return [tuple(entry) for entry in _request(ctl, ("loaded_applications",), timeout)]


def stop_application_controller(ctl: Cap, timeout: float | None = None) -> list[str]:
    """Stop every running application in reverse start order, then the
    controller (which exits ``normal``).

    Returns:
        the names, in the order they were stopped.

    Switches: always.
    """
    return list(_request(ctl, ("stop_all",), timeout))
