"""The init process: boot a root's services and keep them running.

`boot` starts `Init`, a gen_server linked to the caller. Its ``init``
callback starts a top supervisor (``one_for_one``) and, under it, one
supervisor per service, in dependency order. Each service supervisor has
one child, the service, with the restart type of its manifest; it allows
`SERVICE_INTENSITY` restarts in `SERVICE_PERIOD` seconds and then gives
up (exit ``shutdown``). The service supervisors are ``transient``
children of the top one, so a service that gives up stays down (its status
says so) and can't take its neighbours with it: one supervisor per service
isolates restart intensity, which one supervisor per restart policy would
share.

Every (re)start of a service runs a start function of this module inside
its supervisor (`start_python_service`, `start_wasm_service`): it starts the
service's process linked to the supervisor and registers a SEND|MONITOR
capability to it under the service's name in the root registry, as
`hearth.native.start_registered` does. The registry drops the name when
the process dies (rule R2), so a restart registers it again.

A service gets one capability: a read-only view of the root registry that
sees only the names in its ``needs`` (`hearth.otp.registry_view`).

Reload (`reload_services`): the root is scanned again and compared, by the
content hash of each service directory, with what runs. New services start,
removed ones stop (terminate and delete their supervisor, unregister their
name), changed wasm services whose manifest is the same are upgraded live
behind their front (`_upgrade`), other changed ones restart in place (their
supervisor is replaced, the new code loaded fresh); the others are not
touched. A running service whose
dependencies can no longer be met (one was removed, say) stops too. A
wasm service whose start failed (a junk module) is tried again only once
its directory or manifest changes, not on every reload.

Watching (`boot(..., watch=SECONDS)`): a watcher process linked to init
looks at the root's ``init`` directory every `watch` seconds (names, sizes
and modification times of every file: a few `stat` calls) and reloads when
anything changed, so saving a service's file is enough to restart it.

Call API of the `Init` process (`hearth.otp.call`): ``"services"`` -> the
status list; ``"reload_services"`` -> ``{"started", "upgraded", "stopped",
"failed"}`` lists of names; ``"exposed"`` -> the sorted names of the
services for this target whose manifests say ``expose = true`` (as the
root is now: hearth-server asks once, when it starts, to build the view
its peers get).
"""

import importlib.util
import logging
import sys

from hearth import otp, vm
from hearth.native import start_guest_service, upgrade_guest_service
from hearth.otp import ServiceError
from hearth.vm import MONITOR, SEND, format_reason

from ._manifest import scan_root
from ._order import plan

__all__ = [
    "INIT_NAME",
    "Init",
    "boot",
    "services",
    "reload_services",
    "start_python_service",
    "start_wasm_service",
    "load_service_module",
    "SERVICE_INTENSITY",
    "SERVICE_PERIOD",
]

log = logging.getLogger("kindling.init")

INIT_NAME = "hearth.init"
SERVICE_INTENSITY = 3
SERVICE_PERIOD = 5
MODULE_PREFIX = "kindling.services."


# -- start functions (run inside a service's supervisor) ------------------------------------


def load_service_module(name, path):
    """Load a Python service's file as module ``kindling.services.<name>``.

    Each call makes a fresh module object (and replaces the one in
    `sys.modules`), so a restart runs the file's current code.

    Switches: never (but runs the module's top-level code).
    """
    modname = MODULE_PREFIX + name
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"can't load {path!r} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if sys.modules.get(modname) is module:
            del sys.modules[modname]
        raise
    return module


def _register(registry, name, cap):
    return otp.register_linked(registry, name, cap)


def start_python_service(registry, name, path, function, view):
    """Supervisor start function of a Python service.

    Loads `path` afresh, spawns ``FUNCTION(view)`` linked to the caller and
    registers it as `name` in `registry`.

    Returns:
        the process's capability (all permissions).

    Raises:
        anything the module raises on load; AttributeError: no `function`;
        NameTaken: `name` is held by another process.

    Switches: always.
    """
    module = load_service_module(name, path)
    body = getattr(module, function)
    if not callable(body):
        raise TypeError(f"{name}: {function} is not callable")
    cap = vm.spawn_link(body, view, name=name)
    return _register(registry, name, cap)


def start_wasm_service(registry, name, path, index, view):
    """Supervisor start function of a wasm service.

    Reads the module from `path` (so a restart runs the file as it is now)
    and registers the service as `name` in `registry`. With the default
    entry point (`index` None) the service is an upgradable guest service
    (`hearth.native.start_guest_service`): a front process owns the
    registered mailbox and forwards to the guest, so a reload can swap the
    module without clients noticing (`_upgrade`). With an entry index the
    guest itself is the service (``_hearth_spawn_by_index(index)``).

    Returns:
        the front's (or the guest's) capability, all permissions.

    Switches: always.
    """
    with open(path, "rb") as fh:
        lump = vm.current_runtime().lumps.put(fh.read())
    if index is None:
        svc = start_guest_service(lump, view, link=True, name=name)
        try:
            otp.register(registry, name, svc.cap)
        except BaseException:
            svc.front.unlink()
            svc.front.kill()
            raise
        finally:
            svc.cap.release()
        return svc.front
    module = vm.load_module(lump)
    cap = vm.spawn_guest(module, view, index=index, link=True, name=name)
    return _register(registry, name, cap)


# -- the init server ------------------------------------------------------------------------


class Init(otp.GenServer):
    """The init process (see the module docstring)."""

    def init(self, root, registry, target, watch=None):
        if watch:
            me = vm.make_capability(SEND | MONITOR)
            vm.spawn(_watch_loop, me, root, watch, link=True, name="kindling.init.watch")
            me.release()
        top = otp.start_link_supervisor([], strategy="one_for_one", intensity=10,
                                        period=5, name="kindling.init")
        state = {
            "root": root,
            "registry": registry,
            "target": target,
            "top": top,
            # name -> {"manifest", "state", "reason", "kind", "needs"}
            "table": {},
            "order": [],
        }
        _sync(state)
        return ("ok", state)

    def handle_call(self, request, from_, state):
        # Its requests are the hearth.init schema's (hearth/otp/protocols/init.toml).
        try:
            op, _ = otp.schema(INIT_NAME).parse(request)
        except otp.ServiceError as e:
            return ("reply", ("error", e.message), state)
        if op == "services":
            return ("reply", _status(state), state)
        if op == "reload_services":
            return ("reply", _sync(state), state)
        return ("reply", _exposed(state), state)


def _exposed(state):
    """Names of this target's services whose manifests expose them."""
    manifests, _ = scan_root(state["root"])
    return sorted(n for n, m in manifests.items() if m.expose and state["target"] in m.targets)


def _service_child(sup):
    """Whether the one child of a service supervisor runs. Switches: always."""
    children = otp.which_children(sup)
    alive = False
    for info in children:
        if type(info.child) is vm.Cap:
            info.child.release()
            alive = True
        elif info.child == "restarting":
            alive = True
    return alive


def _status(state):
    alive = {}
    for info in otp.which_children(state["top"]):
        if type(info.child) is vm.Cap:
            try:
                alive[info.id] = "running" if _service_child(info.child) else "exited"
            except otp.CallError:
                alive[info.id] = "gave_up"  # it ended while we asked
            finally:
                info.child.release()
        else:
            alive[info.id] = "gave_up"
    out = []
    for name in state["order"]:
        entry = state["table"][name]
        row = {
            "name": name,
            "state": entry["state"],
            "reason": entry["reason"],
            "kind": entry["kind"],
            "needs": list(entry["needs"]),
        }
        if row["state"] == "running":
            now = alive.get(name, "gave_up")
            if now == "exited":
                row.update(state="stopped", reason=(
                    f"exited; its restart type ({entry['manifest'].restart}) "
                    "does not restart it"))
            elif now == "gave_up":
                row.update(state="failed", reason=(
                    f"restarted more than {SERVICE_INTENSITY} times in "
                    f"{SERVICE_PERIOD} s; its supervisor gave up"))
        out.append(row)
    return out


def _sync(state):
    """Bring what runs in line with the root; return what changed."""
    registry, target, table = state["registry"], state["target"], state["table"]
    manifests, problems = scan_root(state["root"])
    failed = dict(problems)
    skipped = {}
    for name, m in list(manifests.items()):
        if target not in m.targets:
            skipped[name] = m
            failed[name] = f"not for target {target!r} (targets {list(m.targets)})"
            del manifests[name]
    native = set(otp.registered(registry)) - set(manifests) - set(table)
    order, failures = plan(manifests, failed, native)
    failures.update(failed)
    changes = {"started": [], "upgraded": [], "stopped": [], "failed": []}

    # Stop first: removed services, and running ones that can't run now.
    for name in list(table):
        entry = table[name]
        if entry["state"] != "running":
            continue
        if name not in order:
            _stop(state, name)
            changes["stopped"].append(name)

    for name in order:
        m = manifests[name]
        entry = table.get(name)
        broken = [n for n in m.needs
                  if n in table and table[n]["state"] == "failed" and n in manifests]
        if broken:
            # A dependency failed in its start function, after planning.
            if entry is not None and entry["state"] == "running":
                _stop(state, name)
                changes["stopped"].append(name)
            reason = f"dependency {broken[0]} not started: {table[broken[0]]['reason']}"
            log.warning("service %s not started: %s", name, reason)
            table[name] = {"manifest": m, "state": "failed", "reason": reason,
                           "kind": m.kind, "needs": m.needs}
            changes["failed"].append(name)
            continue
        if _start_failed_unchanged(entry, m):
            continue  # a junk module fails the same way until its directory changes
        if entry is not None and entry["state"] == "running":
            if entry["manifest"].digest == m.digest and entry["manifest"] == m:
                continue
            if _upgradable(entry["manifest"], m):
                problem = _upgrade(state, m)
                if problem is None:
                    changes["upgraded"].append(name)
                else:
                    entry["reason"] = problem
                    changes["failed"].append(name)
                continue
            _stop(state, name)
            verb = "upgraded"
        else:
            verb = "started"
        if _start(state, m):
            changes[verb].append(name)
        else:
            changes["failed"].append(name)

    for name, reason in sorted(failures.items()):
        m = manifests.get(name) or skipped.get(name)
        old = table.get(name)
        if old is not None and old["state"] != "running" and old["reason"] == reason:
            continue
        excluded = name in failed and name not in problems
        if not excluded:
            log.warning("service %s not started: %s", name, reason)
            changes["failed"].append(name)
        table[name] = {
            "manifest": m,
            "state": "stopped" if excluded else "failed",
            "reason": reason,
            "kind": m.kind if m else (old["kind"] if old else None),
            "needs": m.needs if m else (old["needs"] if old else ()),
        }

    # Forget removed directories that no longer run.
    present = set(manifests) | set(failed)
    for name in list(table):
        if name not in present and table[name]["state"] != "running":
            del table[name]
    state["order"] = [n for n in order if n in table] + sorted(
        n for n in table if n not in order
    )
    changes["failed"] = sorted(set(changes["failed"]))
    return changes


def _start_failed_unchanged(entry, m):
    """Whether `entry` is a wasm service whose start failed with the very
    manifest and files of `m`: trying again would only compile the same
    bytes and fail the same way (its directory's digest must change)."""
    return (entry is not None and entry["state"] == "failed" and m.kind == "wasm"
            and (entry["reason"] or "").startswith(_START_FAILED)
            and entry["manifest"] is not None and entry["manifest"] == m
            and entry["manifest"].digest == m.digest)


_START_FAILED = "start failed: "


def _start(state, m):
    registry, table = state["registry"], state["table"]
    view = otp.registry_view(registry, read_only=True, names=list(m.needs))
    try:
        if m.kind == "python":
            child = otp.ChildSpec(
                m.name, start_python_service,
                args=(registry, m.name, m.file, m.function, view),
                restart=m.restart,
            )
        else:
            child = otp.ChildSpec(
                m.name, start_wasm_service,
                args=(registry, m.name, m.file, m.index, view),
                restart=m.restart,
            )
        spec = otp.supervisor_spec(
            m.name, [child], strategy="one_for_one",
            intensity=SERVICE_INTENSITY, period=SERVICE_PERIOD, restart="transient",
        )
        result = otp.start_child(state["top"], spec)
    except Exception as e:  # noqa: BLE001 - a bad service must not stop init
        result = ("error", e)
    finally:
        view.release()
    entry = {"manifest": m, "kind": m.kind, "needs": m.needs}
    if type(result) is tuple and result[0] == "ok":
        if type(result[1]) is vm.Cap:
            result[1].release()
        entry.update(state="running", reason=None)
        log.info("service %s started", m.name)
        table[m.name] = entry
        return True
    reason = result[1] if type(result) is tuple else result
    text = reason if isinstance(reason, str) else _describe(reason)
    entry.update(state="failed", reason=f"{_START_FAILED}{text}")
    log.warning("service %s failed to start: %s", m.name, text)
    table[m.name] = entry
    # A supervisor that failed to start its child leaves no running child,
    # but its spec may linger: forget it so a later reload can start again.
    otp.delete_child(state["top"], m.name)
    return False


def _upgradable(old, new):
    """A wasm service whose code changed and nothing else: swapped live."""
    return old.kind == new.kind == "wasm" and old.index is None and old == new


def _child(sup, child_id):
    """The capability of `sup`'s running child `child_id`, or None."""
    found = None
    for info in otp.which_children(sup):
        if type(info.child) is vm.Cap:
            if info.id == child_id and found is None:
                found = info.child
            else:
                info.child.release()
    return found


def _upgrade(state, m):
    """Swap a running wasm service to its new module in place: clients keep
    their capability and no request is lost (`hearth.native`'s guest
    upgrade). Returns None, or why it failed (the old module then runs on).
    Switches: always."""
    sup = _child(state["top"], m.name)
    front = _child(sup, m.name) if sup is not None else None
    if sup is not None:
        sup.release()
    if front is None:
        return "upgrade failed: the service is not running"
    try:
        with open(m.file, "rb") as fh:
            lump = vm.current_runtime().lumps.put(fh.read())
        upgrade_guest_service(front, lump)
    except (OSError, ServiceError, otp.CallError) as e:
        text = f"upgrade failed, the old module runs on: {e}"
        log.warning("service %s: %s", m.name, text)
        return text
    finally:
        front.release()
    state["table"][m.name]["manifest"] = m
    log.info("service %s upgraded in place", m.name)
    return None


def _describe(reason):
    # A supervisor_spec child whose own child failed to start exits with
    # ("shutdown", ("failed_to_start_child", id, reason)): show the reason.
    if (type(reason) is tuple and len(reason) == 2 and reason[0] == "shutdown"
            and type(reason[1]) is tuple and len(reason[1]) == 3
            and reason[1][0] == "failed_to_start_child"):
        reason = reason[1][2]
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}"
    try:
        return format_reason(reason)
    except Exception:  # noqa: BLE001 - any reason gets some text
        return repr(reason)


def _stop(state, name):
    top, registry = state["top"], state["registry"]
    otp.terminate_child(top, name)
    otp.delete_child(top, name)
    try:
        otp.unregister(registry, name)
    except otp.RegistryError:
        pass  # the name went with the process (rule R2)
    entry = state["table"].get(name)
    if entry is not None:
        entry.update(state="stopped", reason="stopped by reload")
    log.info("service %s stopped", name)


# -- watching the root ------------------------------------------------------------------------


def root_fingerprint(root):
    """What `_watch_loop` compares: (path, size, mtime) of every file and
    directory under ``root/init``, sorted. Switches: never (a few stats)."""
    import os

    top = os.path.join(root, "init")
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames) + dirnames:
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            out.append((os.path.relpath(path, top), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _watch_loop(init, root, period):
    """Reload `init` whenever the root's files change."""
    vm.set_metadata(description=f"reloads the services of {root} when their files change")
    seen = root_fingerprint(root)
    while True:
        vm.recv(timeout=period)
        now = root_fingerprint(root)
        if now == seen:
            continue
        seen = now
        changes = reload_services(init)
        log.info("files changed under %s: %s", root,
                 ", ".join(f"{k} {v}" for k, v in changes.items() if v) or "nothing to do")


# -- the public API -------------------------------------------------------------------------


def boot(root_dir, registry, target="server", watch=None):
    """Start init for the services of ``root_dir/init``, linked to the caller.

    Returns once every service that can start has started (or failed).

    Args:
        root_dir: the root directory.
        registry: the root registry capability; services register in it and
            their scoped views are made from it. Names registered in it
            before boot count as native services that satisfy needs.
        target: ``"server"`` or ``"client"``: services whose ``targets``
            leave it out are not started (state ``stopped``).
        watch: if given, reload whenever the root's files change, looking
            every `watch` seconds.

    Init registers itself in `registry` as ``hearth.init`` (SEND|MONITOR),
    so tools (`hearth-ctl services`, `reload-services`) reach it.

    Returns:
        a `Cap` to the `Init` process, for `services` and `reload_services`.

    Switches: always.
    """
    init = otp.start_link_server(Init, str(root_dir), registry, target, watch,
                                 name=None, timeout=None)
    public = init.demote(SEND | MONITOR)
    try:
        otp.register(registry, INIT_NAME, public)
    except otp.RegistryError as e:
        log.warning("init is not registered as %s: %s", INIT_NAME, e)
    finally:
        public.release()
    return init


def services(init, timeout=otp.DEFAULT_TIMEOUT):
    """The status table: a list of ``{"name", "state", "reason", "kind",
    "needs"}`` in start order (then the ones that did not start), `state`
    one of ``running``, ``failed``, ``stopped``. Switches: always."""
    # msgpack arrays come back as tuples: give callers lists again.
    return [dict(row, needs=list(row["needs"])) for row in otp.call(init, "services", timeout)]


def reload_services(init, timeout=None):
    """Rescan the root and apply the differences (see the module docstring).

    Returns:
        ``{"started", "upgraded", "stopped", "failed"}``: lists of names.

    Switches: always.
    """
    return {k: list(v) for k, v in otp.call(init, "reload_services", timeout).items()}
