"""``hearth.wasm.WasmProcessSpawner``: spawn wasm guests from lumps
(docs/protocols.md).

A process speaking the request/response envelope of `_service`: caps[0]
of a request is the reply capability (SEND), the data is msgpack, and the
reply is ``{"ok": value}`` or ``{"err": {"kind": K, "message": M}}``.
`start_wasm_spawner` starts it under a supervisor and registers it as
``hearth.wasm.WasmProcessSpawner``.

Request
-------

caps[1..] are the new guest's initial capabilities: it finds them at
handles 0..n-1 of its table, in order (by convention handle 0 is a
registry). The data names the lump and, optionally, the entry point, in
any of these forms:

=====================================================  ===========================
form                                                   entry point
=====================================================  ===========================
``["spawn", lump]``                                    ``run()``
``["spawn", lump, entrypoint]``                        see below
``{"op": "spawn", "lump": lump, "entrypoint": e}``     see below; ``e`` optional
``{"lump": lump, "entrypoint": e}``                    the original Rust Hearth's
                                                       ``WasmSpawnInfo``
=====================================================  ===========================

``lump`` is a lump id: 32 raw bytes, a msgpack bin (not hex text).
``entrypoint`` is nil (run ``run()``) or an int ``i``, 0 <= i < 2**32 (run
``_hearth_spawn_by_index(i)``).

ok: the new guest's capability, with all permissions (SEND, MONITOR,
KILL, LINK), to its parent mailbox. The guest is linked to nobody: killing
or restarting the spawner leaves it running.

Errors
------

``invalid_request``
    not msgpack, not one of the forms above, a lump id that is not 32
    bytes of bin, an entry point that is neither nil nor an int in range.
``not_found``
    the runtime's lump store has no such lump, nor any peer (or its copy
    failed its digest check and was quarantined).
``invalid_module``
    the lump is not a wasm module (nor WAT text), or it is one that can't
    run as a guest: it imports something the guest ABI doesn't define, it
    exports no ``memory``, it lacks the entry point asked for, or exports
    an entry point with the wrong signature. The message says which. A
    lump fetched from a peer that is neither a wasm binary nor WAT text
    is refused before it is stored; one that then fails to compile is not
    kept.
``quota_exceeded``
    the spawn is for a peer that has as many live guests as it may, or
    the lump would take it past its lump limits (see below). The message
    names the limit.
``internal_error``
    a bug in the spawner, logged with its traceback.

A request whose caps[0] is missing or lacks SEND is logged and dropped.
The spawner keeps serving after any of them.

Whom a spawn is for
-------------------

A spawn made on a peer's behalf is charged to the peer's account
(`hearth.vm.Account`, ``docs/design.md`` section 6.7): the account the
request message carries (its peer's connection stamps it, and so does a
guest charged to an account), or else the account of the reply
capability's owner (a peer's connection, or a charged guest). Requests of
host Python and of the operator's IPC tools are charged to nobody. The
account's `GuestLimits` then bound the guest, and everything it spawns:

==================  ==========================  ===================================
limit               default (hearth-server)     past it
==================  ==========================  ===================================
``max_guests``      64 live guests per peer     ``quota_exceeded`` (a loader that
                                                fetches and compiles holds a place)
``memory_pages``    256 pages (16 MiB)          ``memory.grow`` returns -1
``cpu_slice``       1 s of CPU in wasm without  the guest traps, its reason says
                    a host call                 ``cpu slice: ...``
``max_lumps``       64 lumps per peer           unused ones go first, oldest
                                                first; then ``quota_exceeded``
``max_lump_bytes``  64 MiB per peer             as ``max_lumps``
==================  ==========================  ===================================

Guests spawned for a peer stop with ``("shutdown", "noconnection")`` when
its connection closes, unless a local process of host Python is linked to
them then (the operator keeps them). Lumps fetched for a peer are deleted
once nothing holds them.

To know the account, the spawner looks at each request message before the
`Service` loop decodes it (`_handle_message`).

Compiling
---------

Modules come from ``runtime.modules`` (compiled once per lump, kept in
memory and on disk by lump id). The spawner keeps the last `max_modules`
modules it spawned from, linked against the guest ABI; a request for one
of them is answered at once, in the spawner's process. Any other lump is
handed to a short-lived *loader* process, which waits for
``runtime.modules.get`` on a native thread (`run_off_hub`; compiling a
large module takes up to seconds, during which the hub keeps running
every other process), then spawns the guest and replies. So a slow compile holds back neither
the hub nor the spawner: spawns of cached modules are answered while it
runs, and replies come in the order the spawns finish, as the envelope
allows (give concurrent requests reply capabilities of their own).
The guest's process is then a child of the loader, which ends at once;
nothing in Hearth ties a process to its parent's life.

Bytes
-----

``["spawn", lump]`` is ``92 a5 73 70 61 77 6e c4 20`` followed by the 32
bytes of the id; ``["spawn", lump, 3]`` starts ``93`` instead of ``92`` and
ends with ``03``. The reply is ``81 a2 6f 6b d6 01 00 00 00 00``
(``{"ok": caps[0]}``) with the guest's capability as the reply's caps[0].
"""

import logging
from collections import OrderedDict
from typing import NamedTuple

import gevent
import gevent.event
import wasmtime
from gevent import monkey

from hearth import vm
from hearth.otp import ServiceError, schema
from hearth.vm import (
    GuestModuleError,
    LumpCorrupt,
    LumpId,
    LumpNotFound,
    ModuleError,
    QuotaExceeded,
    foreign,
    load_module,
    spawn_guest,
)

from ._service import (
    INTERNAL_ERROR,
    NOT_FOUND,
    Request,
    Service,
    start_supervised,
)

__all__ = [
    "WASM_SPAWNER",
    "INVALID_MODULE",
    "QUOTA_EXCEEDED",
    "ENTRY",
    "SPAWN_ENTRY",
    "WasmProcessSpawner",
    "WasmSpawner",
    "start_wasm_spawner",
    "parse_spawn",
    "load_guest_module",
    "run_off_hub",
    "check_entry",
]

log = logging.getLogger("hearth.native")

WASM_SPAWNER = "hearth.wasm.WasmProcessSpawner"
INVALID_MODULE = "invalid_module"
QUOTA_EXCEEDED = "quota_exceeded"
WASM_MAGIC = b"\0asm"
ENTRY = "run"
SPAWN_ENTRY = "_hearth_spawn_by_index"
DEFAULT_MAX_MODULES = 64

_start_new_thread = monkey.get_original("_thread", "start_new_thread")



# -- requests ------------------------------------------------------------------------------


def parse_spawn(term):
    """``(lump_id, index)`` of a spawn request; `index` None means ``run``.
    The request is checked against the ``hearth.wasm.WasmProcessSpawner``
    schema (hearth/otp/protocols/wasm.toml).

    Raises:
        ServiceError: ``invalid_request`` (the message says what is wrong).

    Switches: never.
    """
    _, fields = schema(WASM_SPAWNER).parse(term)
    return LumpId(fields["lump"]), fields["entrypoint"]


# -- modules -------------------------------------------------------------------------------


def _require_wasm(data):
    """Refuse what a peer sends for a spawn, before it is stored, unless it
    is a wasm binary or WAT text that parses (`Runtime.fetch_lump`'s
    `accept`). Parsing runs off the hub. Switches: for WAT text."""
    if bytes(data[:4]) == WASM_MAGIC:
        return  # compiled (and checked in full) next; a failure is not kept
    try:
        text = bytes(data).decode("utf-8")
        run_off_hub(wasmtime.wat2wasm, text)
    except (UnicodeDecodeError, wasmtime.WasmtimeError) as e:
        what = "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else "not WAT text that parses"
        raise ServiceError(INVALID_MODULE,
                           f"the lump ({len(data)} bytes) is not a wasm module: no \\0asm header"
                           f" and {what}; it was not stored") from None


def load_guest_module(lump_id, account=None):
    """The `GuestModule` of lump `lump_id`, compiled (or read from the
    module cache's disk) on a native thread (`run_off_hub`); checked to
    export ``memory``.

    Must be called in a process. Compiling never runs on the hub thread:
    the calling process waits, every other one runs.

    A lump the store lacks is fetched from a peer, charged to `account`
    (or else to the peer it came from) and refused before it is stored
    unless it is a wasm binary or WAT text. A fetched lump that then fails
    to load is not kept.

    Raises:
        ServiceError: ``not_found`` (no such lump, or it is corrupt),
            ``invalid_module`` (not wasm, doesn't link against the guest
            ABI, a bad entry point signature, or no ``memory`` export) or
            ``quota_exceeded`` (the lump doesn't fit the account's limits).

    Switches: always.
    """
    runtime = vm.current_runtime()
    cache = runtime.modules  # made here, on the hub, never in the worker thread
    lid = LumpId(lump_id)
    try:
        # From a peer, if this store lacks it (N6).
        runtime.fetch_lump(lid, account=account, accept=_require_wasm)
    except QuotaExceeded as e:
        raise ServiceError(QUOTA_EXCEEDED, str(e)) from None
    try:
        return _load_guest_module(runtime, cache, lid)
    except ServiceError as e:
        if e.kind == INVALID_MODULE:
            _let_go(runtime, lid)
        raise


def _let_go(runtime, lid):
    """A lump stored for a peer that is no module is not kept."""
    runtime.accounts.ledger.drop(lid)


def _load_guest_module(runtime, cache, lid):
    try:
        compiled = run_off_hub(cache.get, lid)
        # A memory hit of the module cache now (the thread put it there, and
        # `compiled` keeps it alive): linking it against the ABI is quick
        # and stays on the hub.
        module = load_module(lid)
    except LumpNotFound:
        raise ServiceError(NOT_FOUND, f"no lump {lid.hex()}") from None
    except LumpCorrupt:
        raise ServiceError(NOT_FOUND, f"lump {lid.hex()} failed its digest check"
                                      " and was quarantined") from None
    except GuestModuleError as e:
        raise ServiceError(INVALID_MODULE, f"lump {lid.hex()[:16]}…: {e.detail}") from None
    except ModuleError as e:
        raise ServiceError(INVALID_MODULE, f"lump {lid.hex()[:16]}… is not a wasm module:"
                                           f" {e.detail}") from None
    del compiled
    if not _has_memory(module.module):
        raise ServiceError(INVALID_MODULE,
                           f"lump {lid.hex()[:16]}…: exports no memory named `memory`")
    return module


def run_off_hub(fn, *args):
    """Run ``fn(*args)`` on a native thread of its own; wait for it in the
    calling greenlet and return its result (or raise its exception).

    `fn` must not touch gevent or the kernel: it runs outside the hub's
    thread (`ModuleCache.get` is made for that: native locks, no logging).
    The hub keeps running every other greenlet meanwhile; an async watcher
    wakes it when the thread is done, and keeps its loop alive until then.
    If the caller is killed while it waits, the thread still runs to its
    end, and its result is dropped.

    Not gevent's threadpool: its workers are greenlets that outlive the
    work (the test plugin counts them as leaks), and gevent's DNS resolver
    shares it, so a few long compiles would stall name lookups.

    Switches: always.
    """
    hub = gevent.get_hub()
    watcher = hub.loop.async_()
    outcome = []
    done = gevent.event.Event()

    def on_done():  # on the hub
        watcher.close()
        done.set()

    def work():  # on the native thread
        try:
            outcome.append((True, fn(*args)))
        except BaseException as e:  # noqa: B902 - handed to the waiting greenlet
            outcome.append((False, e))
        finally:
            watcher.send()

    watcher.start(on_done)
    try:
        _start_new_thread(work, ())
    except BaseException:
        watcher.close()
        raise
    done.wait()
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def _has_memory(module):
    return any(e.name == "memory" and isinstance(e.type, wasmtime.MemoryType)
               for e in module.exports)


def check_entry(module, index):
    """Raise ``invalid_module`` unless `module` exports the entry point a
    spawn with `index` runs (``run``, or ``_hearth_spawn_by_index``).

    Switches: never.
    """
    entry = ENTRY if index is None else SPAWN_ENTRY
    if not module.has(entry):
        lid = module.lump_id
        raise ServiceError(INVALID_MODULE,
                           f"lump {lid.hex()[:16]}…: exports no function `{entry}`")


class _Modules:
    """The spawner's last modules, by lump id (an LRU by count).

    Shared by the spawner and its loaders: all run on the hub thread and
    none switches while touching it.
    """

    __slots__ = ("_max", "_lru")

    def __init__(self, max_modules):
        self._max = max_modules
        self._lru = OrderedDict()

    def get(self, lid):
        module = self._lru.get(lid)
        if module is not None:
            self._lru.move_to_end(lid)
        return module

    def put(self, lid, module):
        if self._max <= 0:
            return
        self._lru[lid] = module
        self._lru.move_to_end(lid)
        while len(self._lru) > self._max:
            self._lru.popitem(last=False)


def _spawn_and_reply(request, module, index, account):
    check_entry(module, index)
    try:
        child = spawn_guest(module, *request.args, index=index, account=account)
    except QuotaExceeded as e:
        raise ServiceError(QUOTA_EXCEEDED, str(e)) from None
    try:
        request.reply(child)
    finally:
        child.release()  # the requester has its own reference now


# -- the service ---------------------------------------------------------------------------


class WasmProcessSpawner(Service):
    """``hearth.wasm.WasmProcessSpawner``.

    Args:
        max_modules: how many linked modules to keep for spawns answered
            without a loader (0: every spawn goes through one).
    """

    name = schema = WASM_SPAWNER

    def __init__(self, max_modules=DEFAULT_MAX_MODULES):
        super().__init__()
        self._modules = _Modules(max_modules)
        self._account = None  # the account of the request being handled

    def _handle_message(self, sig):
        # Who the request is for: the message's stamp (a peer's connection,
        # or a guest charged to a peer), else its reply route's owner.
        caps = sig.caps
        try:
            reply = foreign.route_of(caps[0])[0] if caps else None
        except vm.HearthError:
            reply = None
        self._account = vm.current_runtime().accounts.of_request(sig, reply)
        try:
            super()._handle_message(sig)
        finally:
            self._account = None

    def handle_request(self, request):
        lid, index = parse_spawn(request.term)
        account = self._account
        module = self._modules.get(lid)
        if module is None or not vm.current_runtime().lumps.has(lid):
            if account is not None:
                try:
                    # Refused at once, before any lump is fetched; the loader
                    # holds its place meanwhile.
                    account.reserve_guest()
                except QuotaExceeded as e:
                    raise ServiceError(QUOTA_EXCEEDED, str(e)) from None
            # The loader gets its own references to the reply and argument
            # capabilities; the loop releases the arguments, we the reply.
            vm.spawn(_loader, self._modules, lid, index, account, request.reply_to,
                     *request.args, name="hearth.wasm.loader")
            request.defer()
            request.reply_to.release()
            return None
        _spawn_and_reply(request, module, index, account)
        return None


def _loader(modules, lid, index, account, reply_to, *args):
    """A loader process: load one module off the hub, spawn, reply, end."""
    request = Request(reply_to, args)
    reserved = account is not None
    try:
        try:
            module = load_guest_module(lid, account)
            modules.put(lid, module)
            if reserved:
                reserved = False
                account.unreserve_guest()  # no switch before the spawn takes it
            _spawn_and_reply(request, module, index, account)
        except ServiceError as e:
            request.fail(e.kind, e.message, e.details)
        except Exception as e:  # noqa: BLE001 - a bug answers, and the loader ends quietly
            log.exception("%s loader (pid %s) failed", WASM_SPAWNER, vm.self_pid())
            request.fail(INTERNAL_ERROR, f"{type(e).__name__}: {e}")
    finally:
        if reserved:
            account.unreserve_guest()
        if not request.answered:
            reply_to.release()
        for cap in args:
            cap.release()


# -- starting it ---------------------------------------------------------------------------


class WasmSpawner(NamedTuple):
    """What `start_wasm_spawner` returns.

    Attributes:
        supervisor: a capability (all permissions) to its supervisor,
            linked to the caller: the caller's exit stops the spawner.
        cap: the registered capability (SEND, MONITOR), in the caller's
            table.
    """

    supervisor: vm.Cap
    cap: vm.Cap


def start_wasm_spawner(registry, *, max_modules=DEFAULT_MAX_MODULES, intensity=3, period=5.0):
    """Start ``hearth.wasm.WasmProcessSpawner`` under a supervisor linked
    to the caller and register it in `registry` under that name.

    A spawner that crashes is restarted and registered again; more than
    `intensity` restarts within `period` seconds stop the supervisor.
    Guests it spawned are not linked to it and keep running.

    Args:
        registry: a registry capability that may register the name.
        max_modules: see `WasmProcessSpawner`.
        intensity, period: the supervisor's restart limit.

    Returns:
        a `WasmSpawner`.

    Raises:
        StartError: the spawner could not start, say because the name is
            taken (nothing is left running).

    Switches: always.
    """
    sup, caps = start_supervised(
        registry, [(WASM_SPAWNER, WasmProcessSpawner, (max_modules,))],
        name="hearth.wasm", intensity=intensity, period=period,
    )
    return WasmSpawner(sup, caps[WASM_SPAWNER])
