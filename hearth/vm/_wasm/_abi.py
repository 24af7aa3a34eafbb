"""The guest ABI's registry of host functions, and the trampoline around each.

Each namespace module (`_ns_log`, `_ns_table`, ...) declares its functions
with `@hostfunc(module, name, params, results)`. A host function is plain
Python, ``fn(guest, *args)`` with the arguments already decoded (i32 as
unsigned ints, i64 as signed), returning an int or None. It runs on the
guest's own thread, so it may only do guest-local work itself and hands
kernel work to the hub through `guest.call` or `guest.post`.

The trampoline is the single place where a host call's failure becomes a
wasm trap: it checks the phase, calls the function, and turns `GuestTrap`
(the guest's misuse) into a trap whose message names the call, `GuestExit`
into a plain unwind, and anything else into a trap naming the host's own
bug. No Python exception ever crosses into wasmtime.
"""

import ctypes
import logging
import operator
import struct

from gevent.monkey import get_original
from wasmtime import FuncType, ValType

from . import _ffi
from ._errors import GuestExit, GuestTrap

__all__ = [
    "I32",
    "I64",
    "METADATA",
    "RUNNING",
    "ANY_PHASE",
    "NONE32",
    "HostFunc",
    "hostfunc",
    "registry",
    "current",
    "define_all",
]

log = logging.getLogger("hearth.wasm")

I32 = "i32"
I64 = "i64"

# Phases, as bits so a function's allowed phases are one mask.
METADATA = 1
RUNNING = 2
ANY_PHASE = METADATA | RUNNING
PHASE_NAMES = {METADATA: "metadata", RUNNING: "running"}

# "No signal" / "no handle" in i32 results.
NONE32 = 0xFFFFFFFF

# The guest running on this OS thread (set by the guest thread itself).
# The original _thread._local: gevent's patched one is greenlet-local.
current = get_original("_thread", "_local")()

_VALTYPES = {I32: ValType.i32, I64: ValType.i64}
_FIELD = {I32: "I12x", I64: "q8x"}  # each raw value slot is 16 bytes
_string_at = ctypes.string_at
_memmove = ctypes.memmove
_PACK_RESULT = {I32: struct.Struct("<I").pack, I64: struct.Struct("<q").pack}


class HostFunc:
    """One host function of the ABI."""

    __slots__ = ("module", "name", "params", "results", "fn", "phases")

    def __init__(self, module, name, params, results, fn, phases):
        self.module = module
        self.name = name
        self.params = tuple(params)
        self.results = tuple(results)
        self.fn = fn
        self.phases = phases

    @property
    def qualname(self):
        return f"{self.module}::{self.name}"

    def functype(self):
        return FuncType(
            [_VALTYPES[p]() for p in self.params], [_VALTYPES[r]() for r in self.results]
        )

    def signature(self):
        """The wasm signature as text, e.g. ``(i32, i32) -> i32``."""
        return f"({', '.join(self.params)}) -> {self.results[0] if self.results else '()'}"


registry: list = []  # every HostFunc, in declaration order


def hostfunc(module, name, params=(), results=(), phases=RUNNING):
    """Declare `fn` as the host function ``module::name``.

    Args:
        params: `I32` / `I64` for each parameter.
        results: at most one result type.
        phases: the phases in which the guest may call it; a call in any
            other phase traps.
    """

    def register(fn):
        registry.append(HostFunc(module, name, params, results, fn, phases))
        return fn

    return register


# Host calls whose parameters and result are all i32 (nearly all of them)
# read and write the raw value slots through a ctypes array laid over them,
# made once per slot address and guest: wasmtime passes the same address
# for calls from the same wasm stack depth, so this saves a copy of the
# slots and a struct (un)packing per call.
_ARGVIEW = ctypes.c_uint32 * (4 * 8)  # 8 slots of 16 bytes
_ARGVIEWS_MAX = 64  # addresses remembered per guest (deep recursion adds more)


def _argview(views, address):
    """The u32 view of the raw value slots at `address`, from `views` (a
    guest's dict) or made and remembered there."""
    if len(views) >= _ARGVIEWS_MAX:
        views.clear()
    view = views[address] = _ARGVIEW.from_address(address)
    return view


def _trampoline(hf):
    fn = hf.fn
    qualname = hf.qualname
    phases = hf.phases
    n = len(hf.params)
    # All-i32 calls (nearly all) use the slot view; the rest copy and unpack.
    i32 = all(p == I32 for p in hf.params) and hf.results in ((), (I32,)) and n <= 8
    get = operator.itemgetter(*range(0, 4 * n, 4)) if n > 1 else None
    size = 16 * n
    unpack = struct.Struct("<" + "".join(_FIELD[p] for p in hf.params)).unpack
    pack = _PACK_RESULT[hf.results[0]] if hf.results else None
    width = 4 if hf.results and hf.results[0] == I32 else 8

    def callback(env, caller, args, nargs):
        guest = current.guest
        guest.called = True  # the CPU slice restarts at every host call (`_host`)
        try:
            if not guest.phase & phases:
                raise GuestTrap(f"not allowed in the {PHASE_NAMES[guest.phase]} phase")
            if guest.killed:
                raise GuestExit
            if not i32:
                result = fn(guest, *unpack(_string_at(args, size))) if n else fn(guest)
                if pack is not None:
                    _memmove(args, pack(result), width)
                return 0
            view = guest.argviews.get(args)
            if view is None:
                view = _argview(guest.argviews, args)
            if get is not None:
                result = fn(guest, *get(view))
            elif n:
                result = fn(guest, view[0])
            else:
                result = fn(guest)
            if pack is not None:
                view[0] = result
            return 0
        except BaseException as e:  # noqa: B902 - no exception may cross into wasm
            return _failed(guest, qualname, e)

    return _ffi.HOST_CALLBACK(callback)


def _failed(guest, qualname, exc):
    """The trap (a ``wasm_trap_t*``) a host call that raised `exc` returns."""
    if isinstance(exc, GuestExit):
        return _ffi.new_trap("guest exited")
    if isinstance(exc, GuestTrap):
        guest.trap = f"{qualname}: {exc}"
    else:  # a host bug: the guest traps, the log says why
        guest.trap = f"{qualname}: host error: {type(exc).__name__}: {exc}"
        guest.post(_log_host_bug, qualname, exc)
    return _ffi.new_trap(guest.trap)


def _log_host_bug(guest, qualname, exc):
    log.error("host call %s of pid %s failed", qualname, guest.proc.pid, exc_info=exc)


def define_all(linker):
    """Define every registered host function on `linker`.

    Returns:
        what must stay alive as long as the linker (callbacks, types).
    """
    keep = []
    for hf in registry:
        ty = hf.functype()
        cb = _trampoline(hf)
        _ffi.define_host_func(linker, hf.module, hf.name, ty, cb)
        keep.append((ty, cb))
    return keep
