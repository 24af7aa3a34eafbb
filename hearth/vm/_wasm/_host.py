"""A guest process: its OS thread running wasm, and its proxy on the hub.

A guest is an ordinary Hearth process (capability table, mailboxes, links,
monitors) whose greenlet is a *proxy*: it starts an OS thread for the
guest, then serves the kernel calls the guest makes through the bridge
(`_bridge.py`) until the thread says it is done. The thread creates the
guest's store, instantiates the module, runs the metadata phase
(``_hearth_metadata``), then the running phase (``_hearth_init``, then
``run`` or ``_hearth_spawn_by_index(i)``).

How a guest ends, and the exit reason its links and monitors see:

- its entry point returns: ``normal``;
- it calls ``hearth::process::exit``: the reason it gave;
- it traps (a wasm trap, or a host call it misused):
  ``("error", "Trap", message, text)``, where the message names the entry
  point or host call and why, and `text` is wasmtime's full report with the
  wasm backtrace;
- it is killed or taken down by a link: the kernel decides the reason at
  once (rule V15); the proxy is unwound by the scheduler like any process,
  answers the guest's outstanding call with DEAD, bumps the engine's epoch
  so that wasm busy in a loop traps at its next loop edge or call, and
  waits for the thread to finish before the process's table is cleared;
- it runs longer than its CPU slice in wasm without calling the host: it
  traps, and the reason's message says so (``cpu slice: ...``).

The CPU slice. A guest spawned with a `cpu_slice` (every guest charged to
a peer's account has one, from its `GuestLimits`) is watched through the
engine's epoch: while such guests live, the host bumps the epoch every
`EPOCH_TICK` seconds (`WasmHost`), and each guest in wasm then runs its
epoch callback on its own thread. The guest's `called` flag is set by
every host call; the callback clears it and notes the guest thread's CPU
time. Found clear (no host call since), and the thread's CPU time since
that note over the slice, and the guest traps. The callback never touches
gevent or the kernel (it runs on the guest thread, inside wasm): it reads a
flag and the thread's clock. CPU time, not wall time, so a guest waiting for
a CPU is never blamed; the check runs once a tick, so a guest is stopped
between one slice and one slice plus a tick of CPU after its last host call.
"""

import time

import wasmtime

from .._errors import HearthError, InvalidHandle, ProcessExit
from .._perms import Perm
from .._process import current_process
from .._reasons import NORMAL, error_reason
from . import _ffi
from ._abi import METADATA, RUNNING, current
from ._bridge import DONE, OK, TRAP, as_batch_thread
from ._errors import GuestTrap
from ._handles import HandleTable
from ._handoff import HandoffPort
from ._memory import GuestMemory, NoMemory

__all__ = ["Guest", "GuestSpec", "guest_main", "spawn_as", "trap_reason"]

TRAP_KIND = "Trap"


class GuestSpec:
    """What a guest process runs: a module, an entry point, its limits,
    the account it is charged to, and the account ids it starts with."""

    __slots__ = ("module", "index", "memory_limit", "cpu_slice", "account", "account_ids")

    def __init__(self, module, index, memory_limit, cpu_slice=None, account=None,
                 account_ids=None):
        self.module = module
        self.index = index  # None: run `run`; else `_hearth_spawn_by_index(index)`
        self.memory_limit = memory_limit
        self.cpu_slice = cpu_slice  # seconds of CPU in wasm between host calls, or None
        self.account = account  # the `Account` to charge, or None
        self.account_ids = account_ids  # an `AccountIds` shared with others, or None: its own

    def child(self, index):
        """The spec of a guest this one spawns: same module, limits and
        account; account ids of its own."""
        return GuestSpec(self.module, index, self.memory_limit, self.cpu_slice, self.account)

    def describe(self):
        """How `Runtime.processes()` shows what a guest runs."""
        lid = self.module.lump_id
        name = lid.hex()[:16] if lid is not None else "module"
        entry = "run" if self.index is None else f"_hearth_spawn_by_index({self.index})"
        return f"wasm:{name}:{entry}"


def trap_reason(message, text=""):
    """The exit reason of a guest that trapped: plain data, `is_error`."""
    return ("error", TRAP_KIND, message, text or message)


class _Stop(Exception):
    """Ends the guest thread's run with an outcome."""

    def __init__(self, outcome):
        self.outcome = outcome


class Guest(HandoffPort):
    """One guest process.

    The guest-thread half (its store, memory, signal and lump tables, phase)
    is touched only by the guest thread, or by the proxy while the guest
    thread waits for it; see `_bridge.py`.

    Attributes:
        host: the runtime's `WasmHost`.
        spec: the `GuestSpec`.
        table: the process's capability `Table`.
        phase: `METADATA` or `RUNNING` (bits of `_abi`).
        memory: a `GuestMemory` (or `NoMemory`).
        signals: the guest's `HandleTable` of received signals.
        lumps: the guest's `HandleTable` of loaded lumps, ``(id, bytes)``.
        accounts: its ids of the accounts it has met (`_ns_account`), or None.
        meta: metadata set in the metadata phase.
        trap: the message of the trap a host call raised, if any.
        exit_reason: the reason given to ``hearth::process::exit``.
    """

    __slots__ = (
        "host",
        "spec",
        "table",
        "phase",
        "memory",
        "signals",
        "lumps",
        "meta",
        "trap",
        "exit_reason",
        "argviews",
        "accounts",
        "called",
        "_cpu_mark",
        "_store",
    )

    def __init__(self, host, spec, proc):
        super().__init__(host.bridge, proc)
        self.host = host
        self.spec = spec
        self.table = proc.table
        self.phase = METADATA
        self.memory = NoMemory()
        self.signals = HandleTable("signal")
        self.lumps = HandleTable("lump")
        self.meta = {}
        self.trap = None
        self.exit_reason = None
        self.argviews = {}  # raw value slot address -> ctypes view (`_abi`)
        self.accounts = spec.account_ids  # its `AccountIds` (`_ns_account`), or None until used
        self.called = True  # a host call since the last epoch tick (guest thread only)
        self._cpu_mark = 0.0  # the thread's CPU time at the tick that cleared `called`
        self._store = None

    def stop(self):
        """The process is dead: stop the guest thread. Switches: never."""
        super().stop()
        self.host.interrupt()

    # -- handles, for the host calls (guest thread) -----------------------------------

    def cap(self, handle, needed=0):
        """The live `Cap` at `handle`, with the permissions `needed`.

        Raises:
            GuestTrap: no such capability, or it lacks a permission.
        """
        try:
            cap = self.table.get(handle)
        except InvalidHandle:
            raise GuestTrap(f"unknown capability handle {handle}") from None
        if needed & ~cap._perms:
            missing = Perm(needed & ~cap._perms)
            raise GuestTrap(f"capability {handle} lacks {missing.name}")
        return cap

    def caps(self, ptr, n):
        """The capabilities named by an array of `n` u32 handles at `ptr`."""
        return [self.cap(h) for h in self.memory.read_u32s(ptr, n)]

    def mailbox(self, handle):
        """The live mailbox at `handle`.

        Raises:
            GuestTrap: no such mailbox, or it was destroyed.
        """
        try:
            return self.proc.mailbox(handle)
        except InvalidHandle:
            raise GuestTrap(f"unknown mailbox handle {handle}") from None

    def take(self, mb):
        """A signal already queued in `mb`, received without a hub round
        trip; None if there is none.

        The one kernel structure a guest thread touches: its own mailbox's
        deque, whose ``popleft`` is atomic against the hub's ``append`` (and
        ``clear`` at death). Importing the signal's capabilities changes only
        the guest's own table, which the guest thread holds while it runs.
        """
        queue = mb._queue
        if not queue:  # the common miss, without the cost of an exception
            return None
        try:
            sig = queue.popleft()
        except IndexError:  # cleared by the hub since (the process died)
            return None
        sig._import(self.table)
        return sig

    # -- the guest thread ---------------------------------------------------------

    def thread_main(self):
        as_batch_thread()
        current.guest = self
        outcome = None
        try:
            outcome = self._run()
        except _Stop as stop:
            outcome = stop.outcome
        except BaseException as e:  # noqa: B902 - a host bug ends the guest with its reason
            outcome = error_reason(e)
        finally:
            self.memory = NoMemory()
            store, self._store = self._store, None
            try:
                if store is not None:
                    store.close()  # frees the linear memory now, on this thread
            finally:
                current.guest = None
                self.finish(outcome)  # whatever happened: the proxy waits for it

    def _run(self):
        spec = self.spec
        module = spec.module
        store = self._store = wasmtime.Store(self.host.engine)
        store.set_limits(memory_size=spec.memory_limit)
        _ffi.set_epoch_callback(store, _EPOCH_CALLBACK)
        store.set_epoch_deadline(1)
        self._check_killed()
        try:
            instance = module.pre.instantiate(store)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
            raise _Stop(self._failed("instantiate", e)) from None
        exports = instance.exports(store)
        memory = exports.get("memory")
        if isinstance(memory, wasmtime.Memory):
            self.memory = GuestMemory(store, memory)
        if module.has("_hearth_metadata"):
            self._call("_hearth_metadata", exports["_hearth_metadata"])
        self.phase = RUNNING
        if self.meta:
            self.post(_apply_metadata, self.meta)
        if module.has("_hearth_init"):
            self._call("_hearth_init", exports["_hearth_init"])
        if spec.index is None:
            self._call("run", exports["run"])
        else:
            self._call(f"_hearth_spawn_by_index({spec.index})", exports["_hearth_spawn_by_index"],
                       (spec.index,))
        return NORMAL

    def _check_killed(self):
        # Before every entry into wasm, after the store's epoch deadline is
        # set: a kill is either seen here, or it bumps the epoch past that
        # deadline and traps the wasm at its first check.
        if self.killed:
            raise _Stop(None)

    def _call(self, what, func, args=()):
        self._check_killed()
        failure = _ffi.call_func(self._store, func, args)
        if failure is not None:
            raise _Stop(self._failed(what, failure))

    def _failed(self, what, failure):
        """The outcome of a call into wasm that did not return."""
        if self.exit_reason is not None:
            return self.exit_reason
        if self.killed:
            return None  # the kernel already decided the reason
        text = str(failure)
        if self.trap is not None:
            return trap_reason(self.trap, text)
        return trap_reason(f"{what}: {_headline(failure, text)}", text)


def _headline(failure, text):
    """The line of wasmtime's report that says what went wrong."""
    if isinstance(failure, wasmtime.Trap):
        code = failure.trap_code
        for line in text.splitlines():
            if line.strip().startswith("wasm trap:"):
                return line.strip()
        if code is not None:
            return f"wasm trap: {code.name.lower().replace('_', ' ')}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if "Caused by:" in lines:
        return " ".join(lines[lines.index("Caused by:") + 1:])
    return lines[0] if lines else type(failure).__name__


def _on_epoch(context, data, delta, kind):
    # On a guest thread, in wasm, whenever the engine's epoch moves (a kill
    # somewhere, or a tick of the CPU slice): trap if this guest's process
    # is dead or it ran past its slice without a host call, else run on.
    # Never touches gevent or the kernel (see the Hazards in docs/design.md).
    guest = current.guest
    if guest is None or guest.killed:
        return _ffi.new_error("killed")
    cpu_slice = guest.spec.cpu_slice
    if cpu_slice is not None:
        now = _thread_time()
        if guest.called:
            guest.called = False
            guest._cpu_mark = now
        elif now - guest._cpu_mark > cpu_slice:
            guest.trap = (f"cpu slice: ran {now - guest._cpu_mark:.2f} s of CPU in wasm without"
                          f" a host call, over its slice of {cpu_slice:g} s")
            return _ffi.new_error(guest.trap)
    delta[0] = 1
    kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
    return 0


_EPOCH_CALLBACK = _ffi.EPOCH_CALLBACK(_on_epoch)
_thread_time = time.thread_time


def _apply_metadata(guest, fields):
    # Posted: runs on the hub. What the spawner chose wins.
    proc = guest.proc
    metadata = dict(proc.metadata or {})
    for key, value in fields.items():
        metadata.setdefault(key, tuple(value) if isinstance(value, list) else value)
    proc.metadata = metadata


# -- the proxy: the guest process's greenlet ------------------------------------------


def guest_main(host, spec, *caps):
    """The body of a guest's Hearth process (its proxy on the hub).

    `caps` are the capabilities it was spawned with, already at handles
    0..n-1 of its table.
    """
    proc = current_process()
    guest = proc.guest = Guest(host, spec, proc)
    if proc.at_exit is None:
        proc.at_exit = []
    proc.at_exit.append(guest.mark_dead)
    host.bridge.start_thread(guest.thread_main)
    try:
        while True:
            op, args = guest.wait_request()
            if op is DONE:
                outcome = args[0]
                break
            try:
                value = op(guest, *args)
            except GuestTrap as e:
                guest.answer(TRAP, str(e))
            except HearthError as e:
                guest.answer(TRAP, f"{type(e).__name__}: {e}")
            else:
                guest.answer(OK, value)
    except BaseException:
        # Killed, taken down by a link, or a host bug: the reason is set or
        # about to be; the thread must stop before the table is cleared.
        guest.stop()
        guest.wait_done()
        raise
    if outcome != NORMAL:
        raise ProcessExit(outcome)


def spawn_as(proc, spec, caps, *, link=False, monitor=False, mailbox=None, **options):
    """Spawn a guest process running `spec` as a child of `proc` (which must
    be the calling greenlet's process); return what `Process.spawn` returns.

    The guest is charged to `spec.account` (if any): refused past its
    `max_guests`, uncharged when it exits. Its lump counts as in use while
    it lives (the lump ledger never deletes it under a live guest).

    Raises:
        QuotaExceeded: the account may spawn no more guests now.

    Switches: never.
    """
    host = spec.module.host
    account = spec.account
    if account is not None:
        account.admit_guest()
    result = proc.spawn(guest_main, host, spec, *caps, link=link, monitor=monitor,
                        mailbox=mailbox, **options)
    cap = result[0] if monitor else result
    child = cap._route._proc
    child.initial_call = spec.describe()
    if account is not None:
        account.charge_guest(child)
    lid = spec.module.lump_id
    if lid is not None:
        ledger = host.runtime.accounts.ledger
        ledger.use(lid)
        _at_exit(child, lambda _p, _r: ledger.unuse(lid))
    if spec.cpu_slice is not None:
        host.start_ticking()
        _at_exit(child, lambda _p, _r: host.stop_ticking())
    return result


def _at_exit(proc, hook):
    if proc.at_exit is None:
        proc.at_exit = []
    proc.at_exit.append(hook)
