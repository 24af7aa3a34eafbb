"""``hearth.Inspector``: see and steer a running runtime from outside.

A request/response service (the envelope of `_service`) built on the
kernel's introspection (`hearth.vm._introspect`). `hearth-ctl` and
`hearth-tui` talk to it through the root registry the IPC daemon exports;
tests talk to it in-process. Its capability is the power to kill any
process and to run code in this OS process (``reload``): hand it only to
the runtime's owner, never to a guest.

Requests
--------

Ops in any form (a bare str, ``[op, fields...]``, or a map ``{"op": op,
...}``; optional fields may be left out of the map form), checked against
the ``hearth.Inspector`` schema (hearth/otp/protocols/inspector.toml).
Pids are debug pids (ints). Times named ``at``/``started_at`` are readings
of the runtime's clock; every reply that has them also has ``now``.

=====================================  =====================================
request                                ``ok`` value
=====================================  =====================================
``"ps"``                               ``{"now", "processes": [row...]}``,
                                       a row per live process, by pid:
                                       ``pid, name, state, initial_call,
                                       mailbox_depth, messages_in,
                                       messages_out, links, monitors``
                                       (counts), ``restarts, trap_exit,
                                       started_at``
``["info", pid]``                      ``{"now", "pid", "alive", ...}``: a
                                       live process: its row plus
                                       ``metadata, mailboxes`` (``handle,
                                       route, depth, closed``), ``links``
                                       (pids), ``monitors``/``monitored_by``
                                       (``[ref, pid]``), ``capabilities``,
                                       ``exits``; a dead one still in the
                                       exit history: ``pid, name, alive
                                       false, reason, exits``. ``exits``:
                                       recent exits (``pid, name, reason,
                                       text, at, observed``) of this pid
                                       and of processes of the same name
                                       (earlier incarnations), oldest
                                       first. not_found otherwise
``"tree"``                             ``{"now", "roots": [node...]}``; a
                                       node is ``pid, name, id, type
                                       (supervisor|worker), state
                                       (running|restarting|stopped|busy),
                                       restarts, children``
``["kill", pid]``                      ``{"pid", "killed": true}``
``["restart", pid]``                   ``{"pid": old, "new_pid"}``: its
                                       supervisor's terminate_child then
                                       restart_child; not_found if no
                                       supervisor has it as a child
``"services"``                         ``[{"name", "pid"}...]``: the root
                                       registry's names, sorted; pid None
                                       if the name's process is gone
``["logs", pid, after, limit]``        ``{"records": [...], "last": seq}``:
                                       buffered log records newer than
                                       seq `after`, of process `pid` (nil:
                                       all), at most `limit` (the newest);
                                       all fields optional (map form)
``["follow", pid]`` + caps[1]          ``{"last": seq}``; then records are
                                       sent to caps[1] (SEND, MONITOR) as
                                       messages ``{"log": [record...]}``
                                       until its route closes or
                                       ``unfollow``
``"unfollow"`` + caps[1]               ``{"removed": n}``
``"whois"`` + caps[1]                  ``{"pid", "alive"}``: the debug
                                       pid of the process caps[1] names;
                                       if it has exited, also ``reason``
                                       and ``text`` (its exit reason);
                                       not_found if the mailbox closed
                                       while its process lives on
``["reload", module]``                 ``{"module", "generation",
                                       "versions"}`` (`hearth.otp.reload`)
``["upgrade", name, lump]``            the ``ok`` value of
                                       `hearth.native.upgrade_guest_service`
                                       for the guest service registered as
                                       `name`
``["lump_put", data, expect]``         the lump id (32 bytes); `expect`
                                       (optional) is the id the sender
                                       computed: a mismatch is refused
``["lump_get", lump]``                 the lump's bytes
``["lump_upload", size]`` + caps[1]    ``{"upload": cap}``: a session to
                                       send a lump of `size` bytes in
                                       chunks (`_lump_transfer`); caps[1]
                                       (optional, MONITOR) is the sender's:
                                       the session ends when it goes away
``["lump_download", lump]`` + caps[1]  ``{"size", "download": cap}``: a
                                       session to read the lump in chunks
=====================================  =====================================

A log record is ``{"seq", "time"`` (wall clock, seconds since the
epoch), ``"level", "logger", "pid"`` (the process that logged it, nil if
none), ``"message"}`` (with the traceback, if any). The buffer keeps the
last `log_capacity` records of the whole runtime, taken by a
`logging.Handler` on the root logger: records the loggers' levels let
through (configure those as usual).

Errors: ``invalid_request`` (malformed, wrong types, the inspector asked to
kill itself), ``busy`` (`MAX_SESSIONS` transfers already), ``not_found`` (no such pid, name, supervisor or lump),
``too_many_followers``, ``reload_failed`` (the module did not load; the old
version keeps running), ``not_upgradable`` (the name is not a guest
service started with `start_guest_service`), the upgrade's own errors
(``invalid_module``, ``upgrade_failed``) and ``internal_error``. The
service keeps serving after any of them.

Design notes
------------

- Lumps: ``lump put FILE`` sends the bytes in the request (``lump_put``)
  and the inspector checks them against the id the sender computed; a
  lump too big for one message goes in chunks through an upload session
  (and comes back through a download session), see `_lump_transfer`. That
  works over any transport that carries a message, with no help from the
  network's own lump transfer (which moves lumps by hash, on demand, when
  a peer needs one it lacks); ``lump_put`` could become "fetch this id from
  the caller" later without changing `hearth-ctl`'s commands.
- ``ps``, ``tree``, ``restart``, ``services`` and ``upgrade`` ask other
  processes (each supervisor's ``which_children``, the registry, a guest
  service's front). They run in a short-lived *job* process each, so a slow
  supervisor never holds the inspector back; a supervisor that does not
  answer within a second shows as ``busy``.
- Followers get new records by a poll of the buffer every
  `FOLLOW_PERIOD` seconds, and only while someone follows: records are
  taken in any thread (guest threads log too), where neither a kernel send
  nor a gevent primitive is safe, so the handler only appends to a deque.
"""

import itertools
import logging
from collections import deque
from typing import NamedTuple

from gevent import monkey

from hearth import vm
from hearth.otp import (
    CallError,
    ReloadFailed,
    ServiceError,
    encode,
    lookup,
    registered,
    reload,
    restart_child,
    supervisor_pids,
    terminate_child,
    which_children,
)
from hearth.vm import MONITOR, SEND, Down, LumpCorrupt, LumpId, LumpNotFound, format_reason
from hearth.vm._introspect import (
    capability_to_pid,
    kill_pid,
    last_owner,
    owner_pid,
)

from ._guest_upgrade import upgrade as upgrade_guest_service
from ._lump_transfer import MAX_SESSIONS, Download, Upload, session_cap
from ._service import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    Request,
    Service,
    spawn_service,
    start_supervised,
)
from ._wasm_spawner import run_off_hub

__all__ = [
    "INSPECTOR",
    "TOO_MANY_FOLLOWERS",
    "RELOAD_FAILED",
    "NOT_UPGRADABLE",
    "FOLLOW_PERIOD",
    "Inspector",
    "InspectorService",
    "LogBuffer",
    "start_inspector",
]

log = logging.getLogger("hearth.native")

INSPECTOR = "hearth.Inspector"
TOO_MANY_FOLLOWERS = "too_many_followers"
RELOAD_FAILED = "reload_failed"
NOT_UPGRADABLE = "not_upgradable"
BUSY = "busy"

FOLLOW_PERIOD = 0.1  # seconds between two flushes to followers
WALK_TIMEOUT = 1.0  # seconds a supervisor has to answer which_children
_BATCH = 500  # records per follow message
_OFF_HUB_BYTES = 1 << 20  # lump puts above this hash on a native thread

_FRONT_CALL = "_front_main"  # the initial call of a guest service's front

_NativeRLock = monkey.get_original("threading", "RLock")


def _invalid(message):
    return ServiceError(INVALID_REQUEST, message)


def _lump(value):
    """A lump id field (the schema checked its 32 bytes) as a `LumpId`."""
    return LumpId(value)


def plain(value, depth=0):
    """`value` made msgpack-safe: plain data stays, anything else becomes
    its repr (metadata and child ids may hold any Python object).
    Switches: never."""
    t = type(value)
    if value is None or t in (bool, int, float, str, bytes):
        if t is int and not -(2**63) <= value < 2**64:
            return repr(value)
        return value
    if depth < 16 and t in (tuple, list):
        return [plain(v, depth + 1) for v in value]
    if depth < 16 and t is dict:
        return {plain(k, depth + 1) if type(k) in (str, int) else repr(k): plain(v, depth + 1)
                for k, v in value.items()}
    if isinstance(value, bytes):
        return bytes(value)
    return repr(value)[:200]


# -- the log buffer -----------------------------------------------------------------------


class LogBuffer(logging.Handler):
    """A ring buffer of log records, each tagged with the debug pid of the
    process of `runtime` that logged it (None outside a process).

    `emit` may run in any thread (guest threads, the lump store's): it
    formats the record and appends it to a deque, nothing else. Its lock
    is a native one: gevent's patched locks deadlock outside the hub's
    thread, and `emit` never switches while holding it.
    """

    def __init__(self, runtime, capacity=2000):
        super().__init__(logging.NOTSET)
        self.runtime = runtime
        self.records = deque(maxlen=capacity)
        self._seq = itertools.count(1)
        self.last = 0
        self.setFormatter(logging.Formatter("%(message)s"))

    def createLock(self):
        self.lock = _NativeRLock()

    def emit(self, record):
        proc = vm.current_process_or_none()
        pid = None
        if proc is not None:
            if proc.runtime is not self.runtime:
                return  # another runtime of this OS process (tests make many)
            pid = proc.pid
        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 - a bad format string must not kill the logger
            message = f"{record.msg!r} % {record.args!r}"
        seq = next(self._seq)
        self.records.append({
            "seq": seq,
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "pid": pid,
            "message": message,
        })
        self.last = seq

    def since(self, after, pid=None, limit=None):
        """Records newer than seq `after` (of `pid` if given), oldest first;
        with `limit`, only the newest `limit`. Switches: never."""
        out = [r for r in list(self.records)
               if r["seq"] > after and (pid is None or r["pid"] == pid)]
        if limit is not None and len(out) > limit:
            out = out[len(out) - limit:]
        return out


# -- jobs: the ops that ask other processes -------------------------------------------------


def _walk_supervisors(runtime):
    """``{supervisor pid: [(id, child pid or None, type, restarts, state)]}``
    for every live supervisor, and the set of supervisors that did not
    answer. Switches: always."""
    out, busy = {}, set()
    for pid in supervisor_pids(runtime):
        cap = capability_to_pid(pid, SEND | MONITOR)
        if cap is None:
            continue
        try:
            children = which_children(cap, timeout=WALK_TIMEOUT)
        except CallError:
            busy.add(pid)
            continue
        finally:
            cap.release()
        rows = []
        for child in children:
            if type(child.child) is vm.Cap:
                child_pid, state = owner_pid(child.child), "running"
                child.child.release()
                if child_pid is None:
                    state = "stopped"
            else:
                child_pid = None
                state = "restarting" if child.child == "restarting" else "stopped"
            rows.append((plain(child.id), child_pid, child.type, child.restarts, state))
        out[pid] = rows
    return out, busy


def _job_ps(fields, registry):
    runtime = vm.current_runtime()
    walk, _ = _walk_supervisors(runtime)
    restarts = {}
    for rows in walk.values():
        for _id, pid, _type, n, _state in rows:
            if pid is not None:
                restarts[pid] = n
    now = runtime.clock.now()
    return {"now": now,
            "processes": [_row(p, restarts) for p in runtime.processes()]}


def _row(p, restarts):
    n = restarts.get(p.pid)
    if n is None:
        n = p.metadata.get("restarts", 0)
        if type(n) is not int:
            n = 0
    return {
        "pid": p.pid,
        "name": p.name,
        "state": p.state,
        "initial_call": p.initial_call,
        "mailbox_depth": p.mailbox_depth,
        "messages_in": p.messages_in,
        "messages_out": p.messages_out,
        "links": len(p.links),
        "monitors": len(p.monitors),
        "restarts": n,
        "trap_exit": p.trap_exit,
        "started_at": p.started_at,
    }


def _job_tree(fields, registry):
    runtime = vm.current_runtime()
    walk, busy = _walk_supervisors(runtime)
    names = {}
    for rows in walk.values():
        for _, pid, _, _, _ in rows:
            names[pid] = None
    for pid in list(names) + list(walk) + list(busy):
        info = None if pid is None else runtime.process_info(pid)
        names[pid] = info.name if info is not None else ""
    children_of = set()
    for rows in walk.values():
        children_of.update(pid for _, pid, _, _, _ in rows if pid is not None)

    def node(pid, id_, type_, restarts, state, depth):
        kids = []
        if pid is not None and pid in walk and depth < 64:
            kids = [node(c_pid, c_id, c_type, c_n, c_state, depth + 1)
                    for c_id, c_pid, c_type, c_n, c_state in walk[pid]]
        if pid in busy:
            state = "busy"
        return {"pid": pid, "name": names.get(pid, ""), "id": id_, "type": type_,
                "state": state, "restarts": restarts, "children": kids}

    roots = [node(pid, None, "supervisor", 0, "running", 0)
             for pid in sorted(set(walk) | busy) if pid not in children_of]
    return {"now": runtime.clock.now(), "roots": roots}


def _job_restart(fields, registry):
    pid = fields["pid"]
    runtime = vm.current_runtime()
    walk, _ = _walk_supervisors(runtime)
    for sup_pid, rows in walk.items():
        for id_, c_pid, _type, _n, _state in rows:
            if c_pid != pid:
                continue
            sup = capability_to_pid(sup_pid, SEND | MONITOR)
            if sup is None:
                break
            try:
                if id_ is None:
                    raise ServiceError(INVALID_REQUEST, f"process {pid} is a simple_one_for_one"
                                       " child: kill it instead (a permanent one comes back)")
                result = terminate_child(sup, id_, timeout=10.0)
                if result != "ok":
                    raise ServiceError(NOT_FOUND, f"terminate_child: {result!r}"[:160])
                result = restart_child(sup, id_, timeout=10.0)
            finally:
                sup.release()
            if type(result) is tuple and result and result[0] == "ok":
                new = result[1]
                new_pid = None
                if type(new) is vm.Cap:
                    new_pid = owner_pid(new)
                    new.release()
                return {"pid": pid, "new_pid": new_pid}
            raise ServiceError(INTERNAL_ERROR, f"restart_child: {plain(result)!r}"[:160])
    raise ServiceError(NOT_FOUND, f"process {pid} is no supervisor's child")


def _job_services(fields, registry):
    out = []
    for name in registered(registry):
        cap = lookup(registry, name)
        pid = None
        if cap is not None:
            pid = owner_pid(cap)
            cap.release()
        out.append({"name": name, "pid": pid})
    return out


def _job_upgrade(fields, registry):
    name, lid = fields["name"], fields["lump"]
    cap = lookup(registry, name)
    if cap is None:
        raise ServiceError(NOT_FOUND, f"no service registered as {name!r}")
    try:
        pid = owner_pid(cap)
    finally:
        cap.release()
    runtime = vm.current_runtime()
    info = None if pid is None else runtime.process_info(pid)
    if info is None:
        raise ServiceError(NOT_FOUND, f"the process of {name!r} is gone")
    if info.initial_call != _FRONT_CALL:
        raise ServiceError(NOT_UPGRADABLE, f"{name!r} (pid {pid}) is not a guest service"
                           " started with start_guest_service")
    front = capability_to_pid(pid, SEND | MONITOR)
    if front is None:
        raise ServiceError(NOT_FOUND, f"the process of {name!r} is gone")
    try:
        return upgrade_guest_service(front, lid)
    finally:
        front.release()


def _job_lump_put(fields, registry):
    data, expect = fields["data"], fields["expect"]
    lumps = vm.current_runtime().lumps
    return run_off_hub(_put, lumps, data, expect)


def _put(lumps, data, expect):
    # Returns the error instead of raising LumpCorrupt across the thread.
    try:
        return bytes(lumps.put(data, expect=expect))
    except LumpCorrupt as e:
        return e


def _run_job(job, fields, reply_to, registry):
    """A job process: run one op that asks other processes, reply, end."""
    req = Request(reply_to, ())
    try:
        try:
            value = job(fields, registry)
            if isinstance(value, Exception):
                raise value
            req.reply(value)
        except ServiceError as e:
            req.fail(e.kind, e.message, plain(e.details))
        except LumpCorrupt as e:
            req.fail(INVALID_REQUEST, f"the data does not match the expected id: {e}")
        except Exception as e:  # noqa: BLE001 - a bug answers; the job ends quietly
            log.exception("%s job %s (pid %s) failed", INSPECTOR, job.__name__, vm.self_pid())
            req.fail(INTERNAL_ERROR, f"{type(e).__name__}: {e}")
    finally:
        if not req.answered:
            reply_to.release()
        registry.release()


_JOBS = {
    "ps": _job_ps,
    "tree": _job_tree,
    "restart": _job_restart,
    "services": _job_services,
    "upgrade": _job_upgrade,
}


# -- the service -----------------------------------------------------------------------------


class Inspector(Service):
    """``hearth.Inspector``.

    Args:
        registry: the root registry capability (``services`` lists it,
            ``upgrade`` looks names up in it).
        log_capacity: how many log records the buffer keeps.
        max_followers: how many ``follow`` subscriptions at once.
    """

    name = schema = INSPECTOR

    def __init__(self, registry, log_capacity=2000, max_followers=64):
        super().__init__()
        self.registry = registry
        self.max_followers = max_followers
        self.followers = {}  # monitor ref -> [cap, pid filter, last seq sent]
        self.buffer = LogBuffer(self.proc.runtime, log_capacity)
        self._next_flush = None
        self.sessions = set()  # monitor refs of the running lump transfers

    def serve(self):
        root = logging.getLogger()
        root.addHandler(self.buffer)
        try:
            super().serve()
        finally:
            root.removeHandler(self.buffer)

    # -- requests ---------------------------------------------------------------------

    def handle_request(self, request):
        op, fields = self.parse(request)
        if op == "upgrade":
            fields["lump"] = _lump(fields["lump"])
        job = _JOBS.get(op)
        if op == "lump_put":
            job = self._check_put(fields)
            if job is None:
                return self._put_now(fields)
        if job is not None:
            vm.spawn(_run_job, job, fields, request.reply_to, self.registry,
                     name=f"{INSPECTOR}.{op}")
            request.defer()
            request.reply_to.release()
            return None
        return getattr(self, "_op_" + op)(request, fields)

    def _op_info(self, request, fields):
        pid = fields["pid"]
        rt = self.proc.runtime
        info = rt.process_info(pid)
        exits = rt.exits()
        name = info.name if info is not None else next(
            (e.name for e in reversed(exits) if e.pid == pid), None)
        if info is None and name is None:
            raise ServiceError(NOT_FOUND, f"no process {pid}, live or recently exited")
        mine = [_exit(e) for e in exits if e.pid == pid or (name and e.name == name)][-20:]
        now = self.clock.now()
        if info is None:
            last = next(e for e in reversed(exits) if e.pid == pid)
            return {"now": now, "pid": pid, "name": name, "alive": False,
                    "reason": plain(last.reason), "text": format_reason(last.reason),
                    "exits": mine}
        out = _row(info, {})
        out.update({
            "now": now,
            "alive": True,
            "metadata": plain(info.metadata),
            "mailboxes": [{"handle": m.handle, "route": m.route_id, "depth": m.depth,
                           "closed": m.closed} for m in info.mailboxes],
            "links": list(info.links),
            "monitors": [list(m) for m in info.monitors],
            "monitored_by": [list(m) for m in info.monitored_by],
            "capabilities": info.capabilities,
            "exits": mine,
        })
        return out

    def _op_kill(self, request, fields):
        pid = fields["pid"]
        if pid == self.proc.pid:
            raise _invalid("the inspector does not kill itself")
        if not kill_pid(pid):
            raise ServiceError(NOT_FOUND, f"no live process {pid}")
        return {"pid": pid, "killed": True}

    def _op_logs(self, request, fields):
        pid, after, limit = fields["pid"], fields["after"], fields["limit"]
        return {"records": self.buffer.since(after, pid, limit), "last": self.buffer.last}

    def _op_follow(self, request, fields):
        pid, cap = fields["pid"], fields["follower"]
        if len(self.followers) >= self.max_followers:
            raise ServiceError(TOO_MANY_FOLLOWERS,
                               f"{self.max_followers} followers already; one must go first")
        ref = cap.monitor()
        request.keep(cap)
        self.followers[ref] = [cap, pid, self.buffer.last]
        self._arm()
        return {"last": self.buffer.last}

    def _op_unfollow(self, request, fields):
        cap = fields["follower"]
        removed = 0
        for ref, entry in list(self.followers.items()):
            if entry[0].same_route(cap):
                self._drop(ref)
                removed += 1
        return {"removed": removed}

    def _op_whois(self, request, fields):
        cap = fields["cap"]
        pid = owner_pid(cap)
        if pid is not None:
            return {"pid": pid, "alive": True}
        pid, reason = last_owner(cap)
        if pid is None or reason is None:
            # A mailbox closed by a process that lives on (or is unwinding).
            raise ServiceError(NOT_FOUND, "that capability's route is closed")
        # The process exited: say so, with its reason.
        return {"pid": pid, "alive": False, "reason": plain(reason),
                "text": format_reason(reason)}

    def _op_reload(self, request, fields):
        module = fields["module"]
        try:
            result = reload(module)
        except ReloadFailed as e:
            raise ServiceError(RELOAD_FAILED, str(e), {"reason": plain(e.reason)}) from None
        return {"module": result.module, "generation": result.generation,
                "versions": plain(result.versions)}

    def _check_put(self, fields):
        data, expect = fields["data"], fields["expect"]
        fields["expect"] = None if expect is None else _lump(expect)
        return _job_lump_put if len(data) > _OFF_HUB_BYTES else None

    def _put_now(self, fields):
        try:
            return bytes(self.proc.runtime.lumps.put(fields["data"], expect=fields["expect"]))
        except LumpCorrupt as e:
            raise _invalid(f"the data does not match the expected id: {e}") from None

    def _op_lump_get(self, request, fields):
        lid = _lump(fields["lump"])
        try:
            return bytes(self.proc.runtime.lumps.get(lid))
        except (LumpNotFound, LumpCorrupt):
            raise ServiceError(NOT_FOUND, f"no lump {lid.hex()}") from None

    def _op_lump_upload(self, request, fields):
        return self._session(request, Upload, fields["size"], {})

    def _op_lump_download(self, request, fields):
        lid = _lump(fields["lump"])
        try:
            size = self.proc.runtime.lumps.size(lid)
        except LumpNotFound:
            raise ServiceError(NOT_FOUND, f"no lump {lid.hex()}") from None
        return self._session(request, Download, lid, {"size": size})

    def _session(self, request, cls, arg, reply):
        if len(self.sessions) >= MAX_SESSIONS:
            raise ServiceError(BUSY, f"{MAX_SESSIONS} lump transfers are running already;"
                                     " try again when one has finished")
        owner = request.args[0] if request.args else None  # the schema checked MONITOR
        cap = spawn_service(cls, arg, owner, name=cls.name)
        try:
            self.sessions.add(cap.monitor())
            key = "upload" if cls is Upload else "download"
            public = session_cap(cap)
            try:
                request.reply(dict(reply, **{key: public}))
            finally:
                public.release()
        finally:
            cap.release()
        return None

    # -- followers ----------------------------------------------------------------------

    def _arm(self):
        if self._next_flush is None:
            self._next_flush = self.clock.now() + FOLLOW_PERIOD

    def next_deadline(self):
        return self._next_flush

    def handle_deadline(self, now):
        self._next_flush = None
        if not self.followers:
            return
        self._flush()
        self._arm()

    def _flush(self):
        buffer = self.buffer
        for entry in list(self.followers.values()):
            cap, pid, last = entry
            if buffer.last <= last:
                continue
            records = buffer.since(last, pid)
            entry[2] = buffer.last
            for i in range(0, len(records), _BATCH):
                cap.send(*encode({"log": records[i:i + _BATCH]}))

    def handle_info(self, sig):
        if type(sig) is Down and sig.ref in self.followers:
            self._drop(sig.ref, monitor=False)
        elif type(sig) is Down:
            self.sessions.discard(sig.ref)
        sig.cap.release()

    def _drop(self, ref, monitor=True):
        entry = self.followers.pop(ref)
        if monitor:
            vm.demonitor(ref, flush=True)
        entry[0].release()


def _exit(e):
    return {"pid": e.pid, "name": e.name, "reason": plain(e.reason),
            "text": format_reason(e.reason), "at": e.at, "observed": e.observed}


# -- starting it -----------------------------------------------------------------------------


class InspectorService(NamedTuple):
    """What `start_inspector` returns.

    Attributes:
        supervisor: a capability (all permissions) to its supervisor,
            linked to the caller.
        cap: the registered capability (SEND, MONITOR), in the caller's
            table.
    """

    supervisor: vm.Cap
    cap: vm.Cap


def start_inspector(registry, *, log_capacity=2000, max_followers=64, intensity=3,
                    period=5.0):
    """Start ``hearth.Inspector`` under a supervisor linked to the caller
    and register it in `registry` under that name.

    Args:
        registry: the root registry capability: the inspector lists it and
            looks services up in it, and registers itself in it.
        log_capacity: log records kept.
        max_followers: ``follow`` subscriptions allowed at once.
        intensity, period: the supervisor's restart limit.

    Returns:
        an `InspectorService`.

    Raises:
        StartError: the name is taken, or the service could not start.

    Switches: always.
    """
    sup, caps = start_supervised(
        registry, [(INSPECTOR, Inspector, (registry, log_capacity, max_followers))],
        name="hearth.inspector", intensity=intensity, period=period,
    )
    return InspectorService(sup, caps[INSPECTOR])
