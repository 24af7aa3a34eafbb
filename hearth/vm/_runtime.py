"""The runtime: one per OS process (tests make many).

It owns the live processes, the route and reference counters, the run
queue, the clock, and the history of recent exits. Routes of two runtimes
are never mixed: a capability only ever names a mailbox of its own runtime.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gevent
from gevent.event import Event
from greenlet import getcurrent

from ._accounts import Account, Accounts, GuestLimits
from ._clock import Clock, RealClock, VirtualClock
from ._errors import LumpCorrupt, Misuse, ProcessExit
from ._exit import link_exit, reap, terminate
from ._introspect import ExitRecord, ProcessInfo, process_info
from ._lumps import DEFAULT_CACHE_BYTES, LumpId, LumpStore, lump_id as lump_id_of
from ._modcache import ModuleCache, make_engine
from ._process import Process, _attached, _ProcessGreenlet, current_process_or_none
from ._reasons import KILL, KILLED, NORMAL, error_reason, format_reason
from ._scheduler import RUNNING, WAITING, Scheduler
from ._signals import Exit
from ._table import Cap
from ._wasm._settings import engine_settings as _guest_engine_settings

__all__ = ["Runtime"]

log = logging.getLogger("hearth.vm")


class Runtime:
    """A Hearth runtime.

    Args:
        clock: a `Clock`; defaults to the real monotonic clock.
        seed: if given, runnable processes are run in an order drawn from
            `random.Random(seed)`, so a failing interleaving can be replayed.
        exit_history: how many recent exits `exits()` remembers.
        data_dir: where lumps (``data_dir/lumps``) and compiled modules
            (``data_dir/modules``) are kept across restarts; None keeps them
            in memory only.
        lump_cache_bytes: bound of the lump store's in-memory cache.
        engine_settings: wasmtime `Config` settings for the wasm engine
            (they are part of the compiled-module cache's fingerprint). The
            guest host's own (epoch interruption, fixed small memory
            reservations; see `hearth/vm/_wasm/_settings.py`) are added, and
            win where they must.
        guest_limits: the `GuestLimits` of every peer's account (default
            `GuestLimits()`; see `hearth/vm/_accounts.py`).

    Attributes:
        lumps: the `LumpStore`.
        accounts: the `Accounts` (per peer) and the lump ledger.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int | None = None,
        exit_history: int = 1000,
        data_dir: str | None = None,
        lump_cache_bytes: int = DEFAULT_CACHE_BYTES,
        engine_settings: dict[str, Any] | None = None,
        guest_limits: GuestLimits | None = None,
    ) -> None:
        self.hub = gevent.get_hub()
        self.clock = clock if clock is not None else RealClock()
        self.clock._attach(self)
        self._sched = Scheduler(self.hub, self.clock, seed)
        if isinstance(self.clock, VirtualClock) and self.clock.autojump:
            self._sched.enable_autojump(self.clock.jump)
        self._processes: dict[int, Process] = {}  # pid -> Process whose greenlet has not finished
        self._new_pid = itertools.count(1).__next__
        self._new_route_id = itertools.count(1).__next__
        self._new_ref = itertools.count(1).__next__
        # (pid, name, reason, at, observed) of recent exits; see `exits()`
        self._exits: deque[tuple[int, str, Any, float, bool]] = deque(maxlen=exit_history)
        self._sched.exits = self._exits
        self._sched.processes = self._processes
        self.crashes: list[ExitRecord] = []  # ExitRecords of crashes nobody was told of
        self._closed = False
        self.data_dir = data_dir
        self.lumps = LumpStore(
            None if data_dir is None else os.path.join(data_dir, "lumps"),
            cache_bytes=lump_cache_bytes,
        )
        # Callables ``(lump_id, timeout) -> bytes or None`` that ask a peer
        # for a lump this store lacks: `fetch_lump` tries them in turn
        # (hearth.net's connections add themselves).
        self.lump_fetchers: list[Callable[..., Any]] = []
        self.accounts = Accounts(self, guest_limits if guest_limits is not None else GuestLimits())
        self.lumps.on_put = self.accounts.ledger.own
        self._engine_settings = _guest_engine_settings(engine_settings)
        self._engine: Any = None
        self._modules: ModuleCache | None = None

    def make_ref(self) -> int:
        """A fresh reference, an int unique in this runtime (see
        `hearth.vm.make_ref`). Switches: never."""
        return self._new_ref()

    def fetch_lump(
        self,
        lump_id: bytes,
        timeout: float = 30.0,
        *,
        account: Account | None = None,
        accept: Callable[[bytes], object] | None = None,
    ) -> bool:
        """Make sure the lump store holds `lump_id`, asking the peers in
        `lump_fetchers` for it if not (rule N6). What a peer sends is stored
        only if it hashes to `lump_id`, passes `accept`, and fits the
        account it is charged to.

        A fetched lump is charged to `account` if given, else to the
        account of the carrier it came from (a fetcher that is a bound
        method of a carrier, as `hearth.net`'s are); the lump ledger
        deletes it once nothing holds it (`hearth/vm/_accounts.py`).

        Args:
            account: the `Account` the lump is fetched for, or None.
            accept: ``accept(data)``, called before anything is stored; it
                raises to refuse the data (the error propagates).

        Returns:
            True if the store holds the lump now.

        Raises:
            QuotaExceeded: the lump doesn't fit its account's limits
                (nothing is stored).
            whatever `accept` raises.

        Switches: only when it has to ask a peer.
        """
        lid = LumpId(lump_id)
        if self.lumps.has(lid):
            return True
        for fetch in list(self.lump_fetchers):
            try:
                data = fetch(lid, timeout)
            except Exception:
                log.exception("fetching lump %s from %r failed", lid.hex(), fetch)
                continue
            if data is None:
                continue
            actual = lump_id_of(data)
            if actual != lid:
                log.warning("a peer sent a lump that failed its check: %s",
                            LumpCorrupt(lid, actual, what="received lump"))
                continue
            if self.lumps.has(lid):  # stored by someone else meanwhile: theirs
                return True
            charged = account
            if charged is None:
                carrier = getattr(fetch, "__self__", None)
                charged = self.accounts.of_carrier(carrier) if carrier is not None else None
            if charged is not None:
                charged.admit_lump(lid, len(data))  # before `accept` spends on it
            if accept is not None:
                accept(data)
                if charged is not None:  # `accept` may have switched: check again
                    charged.admit_lump(lid, len(data))
            self.lumps.put(data, expect=lid, charged=charged is not None)
            if charged is not None:
                charged.charge_lump(lid, len(data))
            return True
        return False

    # -- wasm (made on first use: runtimes that run no guest make no engine) --

    @property
    def engine(self) -> Any:
        """The runtime's wasmtime `Engine`, made on first use."""
        if self._engine is None:
            self._engine = make_engine(self._engine_settings)
        return self._engine

    @property
    def modules(self) -> ModuleCache:
        """The compiled-module cache (by lump id), made on first use."""
        if self._modules is None:
            self._modules = ModuleCache(
                self.engine, self.lumps, self.data_dir, engine_settings=self._engine_settings
            )
        return self._modules

    # -- creating processes -----------------------------------------------------------

    def _new_process(self, fn, args, options, parent=None):
        if self._closed:
            raise Misuse("this runtime is shut down")
        if not callable(fn):
            raise TypeError(f"spawn needs a callable, not {type(fn).__name__}")
        trap = bool(options.pop("trap_exit", False))
        metadata = {k: v for k, v in options.items() if v is not None} or None
        g = _ProcessGreenlet(parent=self.hub)
        proc = Process(self, self._new_pid(), g, metadata)
        g._hearth_process = proc
        g.run = proc._main
        proc.trap_exit_flag = trap
        proc.initial_call = getattr(fn, "__qualname__", None) or repr(fn)
        if parent is not None and any(type(a) is Cap for a in args):
            parent_table = parent.table
            routes = parent_table._routes_of([a for a in args if type(a) is Cap])
            it = iter(routes)
            imp = proc.table._import
            args = tuple(imp(*next(it)) if type(a) is Cap else a for a in args)
            del parent_table
        proc._start = (fn, args, {})
        self._processes[proc.pid] = proc
        return proc

    def spawn(self, fn: Callable[..., object], *args: Any, **options: Any) -> int:
        """Spawn a process from outside any process; return its debug pid.

        For boot code (init) and embedding. Inside a process use
        `hearth.vm.spawn`, which returns a capability. Switches: never.
        """
        proc = self._new_process(fn, args, options)
        self._sched.start(proc)
        return proc.pid

    @contextmanager
    def open_process(self, **options: Any) -> Iterator[Process]:
        """Attach the calling greenlet as a process for the `with` block.

        Tests and embedding code use this to act as a process: spawn, send,
        receive. Leaving the block exits the process (``normal``, or the
        error that escaped). If the process is killed meanwhile, the block
        is unwound and the `ProcessExit` is not propagated.

        Yields:
            the `Process`.
        """
        g = getcurrent()
        if current_process_or_none() is not None:
            raise Misuse("this greenlet already is a Hearth process")
        if g is self.hub:
            raise Misuse("the hub can't be a process")
        trap = bool(options.pop("trap_exit", False))
        metadata = {k: v for k, v in options.items() if v is not None} or None
        proc = Process(self, self._new_pid(), g, metadata)
        proc.trap_exit_flag = trap
        proc.initial_call = "open_process"
        self._processes[proc.pid] = proc
        self._sched.n_live += 1
        _attached[g] = proc
        try:
            # current_process() then finds it on its fast path, as it finds a
            # spawned process, instead of after a failed attribute lookup.
            g._hearth_process = proc
        except AttributeError:  # a greenlet class without a __dict__
            pass
        try:
            yield proc
        except ProcessExit as e:
            if proc.reason is None:
                self._terminate(proc, e.reason)
        except BaseException as e:
            if proc.reason is None:
                self._terminate(proc, error_reason(e))
            raise
        else:
            if proc.reason is None:
                self._terminate(proc, NORMAL)
        finally:
            _attached.pop(g, None)
            if getattr(g, "_hearth_process", None) is proc:
                del g._hearth_process
            proc.throw_pending = False
            self._reap(proc)

    # -- the exit path --------------------------------------------------------------

    # `_terminate`, `_link_exit` and `_reap` are `_exit.py`'s functions (see
    # the class's end): the exit path runs compiled with the kernel.

    def _exit_signal(self, sender, target, reason, link):
        """An exit signal from `sender` to `target` (rules V16, V17, V20)."""
        if target.reason is not None:
            return
        if link:
            work = []
            self._link_exit(sender, target, reason, work)
            for p, r in work:
                self._terminate(p, r, linked=True)
            return
        if reason == KILL:
            self._terminate(target, KILLED)
        elif target.trap_exit_flag:
            target.mailboxes[0]._deliver(Exit(sender.mailboxes[0], reason))
        elif reason != NORMAL or target is sender:
            self._terminate(target, reason)

    def _report_crash(self, proc, reason):
        record = ExitRecord(proc.pid, proc.name or "", reason, self.clock.now(), False)
        self.crashes.append(record)
        log.error(
            "process %s%s crashed and nobody was told (no monitor, no link trapping exits): %s",
            proc.pid,
            f" ({proc.name})" if proc.name else "",
            format_reason(reason, traceback=True),
        )

    # -- waiting ------------------------------------------------------------------

    def _excluded(self):
        me = current_process_or_none()
        if me is not None and me.runtime is self and me.state is RUNNING:
            return 1
        return 0

    def wait_all_blocked(self, timeout: float = 10.0) -> None:
        """Wait until every process (but the caller, if it is one) is blocked
        in a kernel receive, with nothing runnable.

        Exact, not a sleep: it returns at the first moment the condition
        holds. A process blocked outside the kernel (gevent I/O, a sleep)
        counts as running. Switches: always.

        Raises:
            TimeoutError: the condition did not hold within `timeout`
                seconds of real time; the message lists who still runs.
        """
        sched = self._sched
        excluded = self._excluded()
        if sched.all_blocked(excluded):
            return
        event = Event()
        entry = sched.add_idle_watcher(event.set, excluded)
        try:
            with gevent.Timeout(timeout, False):
                while not sched.all_blocked(excluded):
                    event.clear()
                    event.wait()
                return
        finally:
            sched.remove_idle_watcher(entry)
        running = [p for p in self._processes.values() if p.state is not WAITING]
        raise TimeoutError(f"processes still running after {timeout}s: {running[:20]!r}")

    # -- shutting down -----------------------------------------------------------------

    def shutdown(self, timeout: float = 5.0) -> list[Process]:
        """Kill every process (``killed``) and wait for their greenlets to end.

        The runtime accepts no new process afterwards. Switches: always.

        Returns:
            the processes that failed to unwind in time (normally empty).
        """
        self._closed = True
        me = current_process_or_none()
        for proc in sorted(self._processes.values(), key=lambda p: -p.pid):
            if proc.reason is None and proc is not me:
                self._terminate(proc, KILLED)
        sched = self._sched
        excluded = 1 if me is not None and me.runtime is self else 0
        event = Event()
        entry = sched.add_idle_watcher(event.set, excluded)
        try:
            with gevent.Timeout(timeout, False):
                while sched.n_live > excluded:
                    event.clear()
                    event.wait()
        finally:
            sched.remove_idle_watcher(entry)
        return [p for p in self._processes.values() if p is not me]

    @property
    def closed(self) -> bool:
        return self._closed

    # -- introspection ------------------------------------------------------------------

    @property
    def seed(self) -> int:
        """The scheduler's seed, or None."""
        return self._sched.seed

    def processes(self) -> list[ProcessInfo]:
        """Snapshots of every live process, by pid. Switches: never."""
        return [process_info(p) for p in sorted(self._processes.values(), key=lambda p: p.pid)]

    def process_info(self, pid: int) -> ProcessInfo | None:
        """A snapshot of one process, or None if it is gone. Switches: never."""
        proc = self._processes.get(pid)
        return None if proc is None else process_info(proc)

    def exits(self) -> list[ExitRecord]:
        """The recent exits, oldest first (bounded). Switches: never."""
        return [ExitRecord(*t) for t in self._exits]

    def __len__(self):
        """Live processes (including ones still unwinding)."""
        return len(self._processes)

    # The exit path (`_exit.py`), as methods.
    _terminate = terminate
    _link_exit = staticmethod(link_exit)
    _reap = reap

    def __repr__(self):
        return f"<Runtime processes={len(self._processes)}>"
