"""The few wasmtime C calls the guest host makes itself, below wasmtime-py.

wasmtime-py's own `Func` trampoline converts every argument through `Val`
objects (about 8 µs a host call) and passes Python exceptions back through
a *process-global* `LAST_EXCEPTION`, which two guest threads trapping at the
same moment would swap. So host functions are defined here as "unchecked"
linker functions whose callbacks take raw addresses (about 1 µs a call) and
return a trap pointer themselves, and exported functions are called with
`wasmtime_func_call_unchecked`, whose trap comes back through an out
parameter. Everything else (engines, modules, stores, linkers) is plain
wasmtime-py.
"""

import ctypes
from ctypes import POINTER, c_char_p, c_size_t, c_uint8, c_uint64, c_void_p

from wasmtime import Trap, WasmtimeError, _ffi as ffi

__all__ = [
    "HOST_CALLBACK",
    "EPOCH_CALLBACK",
    "define_host_func",
    "set_epoch_callback",
    "new_trap",
    "new_error",
    "call_func",
    "memory_base_and_size",
]

# (env, caller, args_and_results, len) -> wasm_trap_t* or NULL. All raw ints:
# a ctypes POINTER argument would cost an object per call.
HOST_CALLBACK = ctypes.CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_void_p, c_size_t)

# (context, data, *delta, *update_kind) -> wasmtime_error_t* or NULL.
EPOCH_CALLBACK = ctypes.CFUNCTYPE(c_size_t, c_void_p, c_void_p, POINTER(c_uint64), POINTER(c_uint8))


def _bind(name, restype, argtypes):
    # dll[name] makes a fresh function object, so wasmtime-py's own
    # prototype for the same symbol stays untouched.
    fn = ffi.dll[name]
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


_define_unchecked = _bind(
    "wasmtime_linker_define_func_unchecked",
    c_void_p,
    [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, c_void_p, HOST_CALLBACK, c_void_p, c_void_p],
)
_set_epoch_callback = _bind(
    "wasmtime_store_epoch_deadline_callback",
    None,
    [c_void_p, EPOCH_CALLBACK, c_void_p, c_void_p],
)
_trap_new = _bind("wasmtime_trap_new", c_void_p, [c_char_p, c_size_t])
_error_new = _bind("wasmtime_error_new", c_void_p, [c_char_p])
_call_unchecked = _bind(
    "wasmtime_func_call_unchecked",
    c_void_p,
    [c_void_p, c_void_p, c_void_p, c_size_t, POINTER(c_void_p)],
)
_memory_data = _bind("wasmtime_memory_data", c_void_p, [c_void_p, c_void_p])
_memory_data_size = _bind("wasmtime_memory_data_size", c_size_t, [c_void_p, c_void_p])


def _addr(obj):
    return ctypes.cast(obj, c_void_p).value


def define_host_func(linker, module, name, functype, callback):
    """Define ``module::name`` on `linker` as an unchecked host function.

    The caller keeps `callback` (and `functype`) alive as long as the linker.

    Raises:
        WasmtimeError: the linker refused the definition.
    """
    m = module.encode()
    n = name.encode()
    err = _define_unchecked(
        _addr(linker.ptr()), m, len(m), n, len(n), _addr(functype.ptr()), callback, None, None
    )
    if err:
        raise WasmtimeError._from_ptr(ctypes.cast(err, POINTER(ffi.wasmtime_error_t)))


def set_epoch_callback(store, callback):
    """Call `callback` on the store's thread whenever its epoch deadline
    passes (instead of trapping at once)."""
    _set_epoch_callback(_addr(store.ptr()), callback, None, None)


def new_trap(message):
    """A fresh ``wasm_trap_t*`` (as an int) for a host callback to return."""
    data = message.encode("utf-8", "replace")
    return _trap_new(data, len(data))


def new_error(message):
    """A fresh ``wasmtime_error_t*`` (as an int) for an epoch callback."""
    return _error_new(message.encode("utf-8", "replace"))


def call_func(store, func, args=()):
    """Call an exported function that takes i32s and returns nothing.

    Returns:
        None if it returned; else a `wasmtime.Trap` (a wasm trap, or the
        trap a host callback returned) or a `WasmtimeError`.
    """
    n = len(args)
    raw = (ffi.wasmtime_val_raw * max(n, 1))()
    for i, value in enumerate(args):
        raw[i].i32 = value
    trap = c_void_p()
    err = _call_unchecked(
        _addr(store._context()), ctypes.addressof(func._func), raw, n, ctypes.byref(trap)
    )
    if err:
        return WasmtimeError._from_ptr(ctypes.cast(err, POINTER(ffi.wasmtime_error_t)))
    if trap.value:
        return Trap._from_ptr(ctypes.cast(trap.value, POINTER(ffi.wasm_trap_t)))
    return None


def memory_base_and_size(store, memory):
    """The host address of a linear memory's first byte, and its byte size."""
    ctx = _addr(store._context())
    ref = ctypes.addressof(memory._memory)
    return _memory_data(ctx, ref), _memory_data_size(ctx, ref)
