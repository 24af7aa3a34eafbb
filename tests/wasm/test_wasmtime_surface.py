"""Canary of the wasmtime-py internals the guest host relies on.

`hearth/vm/_wasm/_ffi.py` calls wasmtime's C API below wasmtime-py (see
its docstring for why): it uses wasmtime-py's private `_ffi` module, the
private `_from_ptr`, `_context()`, `_func` and `_memory`, and raw C
signatures that wasmtime-py does not promise to keep. pyproject.toml pins
wasmtime to the releases these tests passed on; before moving the pin,
install the next release and run this file: each private name or raw
signature has its own test, so a release that breaks one fails one test
whose name says what moved (the fix goes into `_ffi.py`, nowhere else).

Each test drives the real library; none needs a runtime or a greenlet, and
nothing here switches greenlets while wasm is on the stack.
"""

import ctypes
import importlib.metadata
import re
from ctypes import c_size_t, c_void_p

import pytest
import wasmtime
import wasmtime._bindings as bindings
from wasmtime import _ffi as ffi

from hearth.vm._wasm import _ffi as host_ffi
from hearth.vm._wasm._settings import DEFAULT_ENGINE_SETTINGS, REQUIRED_ENGINE_SETTINGS


def _engine(**settings):
    config = wasmtime.Config()
    for name, value in settings.items():
        setattr(config, name, value)
    return wasmtime.Engine(config)


def _exports(store, instance):
    return instance.exports(store)


# -- the pin -------------------------------------------------------------------------------


def _pinned_range():
    for req in importlib.metadata.requires("hearth") or ():
        if re.match(r"wasmtime\b", req):
            return req
    raise AssertionError("hearth does not depend on wasmtime")


def test_installed_wasmtime_is_in_the_pinned_range():
    from packaging.requirements import Requirement

    req = Requirement(_pinned_range())
    assert req.specifier, f"wasmtime is not pinned to a range: {req}"
    assert any(s.operator == "<" for s in req.specifier), \
        f"wasmtime has no upper bound: {req}; a new release can break every guest"
    installed = importlib.metadata.version("wasmtime")
    assert req.specifier.contains(installed), \
        f"wasmtime {installed} is outside the tested range {req.specifier}"


# -- private modules and names --------------------------------------------------------------


def test_private_ffi_module_has_dll_and_types():
    assert isinstance(ffi.dll, ctypes.CDLL)
    for name in ("wasmtime_error_t", "wasm_trap_t", "wasmtime_val_raw"):
        assert hasattr(ffi, name), f"wasmtime._ffi.{name} is gone"


def test_val_raw_is_a_16_byte_slot_with_i32_first():
    # `_abi` reads host-call arguments as u32s at 16-byte strides.
    assert ctypes.sizeof(ffi.wasmtime_val_raw) == 16
    assert ffi.wasmtime_val_raw.i32.offset == 0


def test_wasmtime_error_from_ptr():
    err = host_ffi.new_error("canary error")
    exc = wasmtime.WasmtimeError._from_ptr(ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t)))
    assert isinstance(exc, wasmtime.WasmtimeError)
    assert "canary error" in str(exc)


def test_trap_from_ptr():
    trap = host_ffi.new_trap("canary trap")
    exc = wasmtime.Trap._from_ptr(ctypes.cast(trap, ctypes.POINTER(ffi.wasm_trap_t)))
    assert isinstance(exc, wasmtime.Trap)
    assert "canary trap" in exc.message


def test_store_context_and_ptr():
    store = wasmtime.Store(_engine())
    assert ctypes.cast(store._context(), c_void_p).value
    assert ctypes.cast(store.ptr(), c_void_p).value


def test_linker_and_functype_ptr():
    engine = _engine()
    linker = wasmtime.Linker(engine)
    ty = wasmtime.FuncType([wasmtime.ValType.i32()], [])
    assert ctypes.cast(linker.ptr(), c_void_p).value
    assert ctypes.cast(ty.ptr(), c_void_p).value


def test_func_has_its_c_struct_in_func():
    store = wasmtime.Store(_engine())
    module = wasmtime.Module(store.engine, '(module (func (export "f")))')
    func = _exports(store, wasmtime.Instance(store, module, []))["f"]
    assert isinstance(func, wasmtime.Func)
    assert isinstance(func._func, ctypes.Structure)
    assert ctypes.addressof(func._func)


def test_memory_has_its_c_struct_in_memory():
    store = wasmtime.Store(_engine())
    module = wasmtime.Module(store.engine, '(module (memory (export "memory") 1))')
    memory = _exports(store, wasmtime.Instance(store, module, []))["memory"]
    assert isinstance(memory._memory, ctypes.Structure)
    assert ctypes.addressof(memory._memory)


# -- raw C signatures, as wasmtime-py's own bindings declare them ---------------------------

_POINTER = ctypes.sizeof(c_void_p)


def _shape(types):
    """Each ctypes type as 'ptr', 'size', 'fn' or its name: what the host's
    own prototypes (all raw ints and void pointers) must line up with."""
    out = []
    for t in types:
        if t is None:
            out.append("void")
        elif isinstance(t, type) and issubclass(t, ctypes._CFuncPtr):
            out.append("fn")
        elif t in (c_void_p, ctypes.c_char_p) or (
                isinstance(t, type) and issubclass(t, ctypes._Pointer)):
            out.append("ptr")
        elif t is c_size_t or (t in (ctypes.c_ulong, ctypes.c_ulonglong)
                               and ctypes.sizeof(t) == ctypes.sizeof(c_size_t)):
            out.append("size")
        else:
            out.append(t.__name__)
    return out


def _signature(name):
    fn = getattr(bindings, "_" + name, None)
    assert fn is not None, f"wasmtime-py no longer binds {name}"
    return _shape([fn.restype]), _shape(fn.argtypes)


def _callback_signature(cfunctype):
    return _shape([cfunctype._restype_]), _shape(cfunctype._argtypes_)


def test_signature_wasmtime_linker_define_func_unchecked():
    assert _signature("wasmtime_linker_define_func_unchecked") == (
        ["ptr"], ["ptr", "ptr", "size", "ptr", "size", "ptr", "fn", "ptr", "fn"])


def test_signature_wasmtime_store_epoch_deadline_callback():
    assert _signature("wasmtime_store_epoch_deadline_callback") == (
        ["void"], ["ptr", "fn", "ptr", "fn"])


def test_signature_wasmtime_trap_new():
    assert _signature("wasmtime_trap_new") == (["ptr"], ["ptr", "size"])


def test_signature_wasmtime_error_new():
    assert _signature("wasmtime_error_new") == (["ptr"], ["ptr"])


def test_signature_wasmtime_func_call_unchecked():
    assert _signature("wasmtime_func_call_unchecked") == (
        ["ptr"], ["ptr", "ptr", "ptr", "size", "ptr"])


def test_signature_wasmtime_memory_data():
    assert _signature("wasmtime_memory_data") == (["ptr"], ["ptr", "ptr"])


def test_signature_wasmtime_memory_data_size():
    assert _signature("wasmtime_memory_data_size") == (["size"], ["ptr", "ptr"])


def test_signature_unchecked_host_callback():
    # (env, caller, args_and_results, nargs) -> wasm_trap_t*; the host's
    # HOST_CALLBACK returns the pointer as a size_t.
    theirs = bindings._wasmtime_linker_define_func_unchecked.argtypes[6]
    assert _callback_signature(theirs) == (["size"], ["ptr", "ptr", "ptr", "size"]) or \
        _callback_signature(theirs) == (["ptr"], ["ptr", "ptr", "ptr", "size"])
    ours = _callback_signature(host_ffi.HOST_CALLBACK)
    assert ours == (["size"], ["ptr", "ptr", "ptr", "size"])


def test_signature_epoch_deadline_callback():
    # (context, data, *epoch_deadline_delta (u64), *update_kind (u8)) -> wasmtime_error_t*
    theirs = bindings._wasmtime_store_epoch_deadline_callback.argtypes[1]
    restype, args = _callback_signature(theirs)
    assert restype in (["size"], ["ptr"])
    assert args == ["ptr", "ptr", "ptr", "ptr"]
    targets = [t._type_ for t in theirs._argtypes_[2:]]
    assert [ctypes.sizeof(t) for t in targets] == [8, 1], "delta is a u64, update kind a u8"


# -- the host's calls, end to end ----------------------------------------------------------

_ADDER = """
(module
  (import "canary" "add" (func $add (param i32 i32)))
  (import "canary" "fail" (func $fail))
  (memory (export "memory") 2)
  (func (export "call_add") (param i32 i32) (call $add (local.get 0) (local.get 1)))
  (func (export "call_fail") (call $fail))
  (func (export "crash") unreachable)
  (func (export "spin") (loop $l (br $l))))
"""


@pytest.fixture
def guest():
    """An instance of `_ADDER` whose host functions are defined unchecked
    through `hearth.vm._wasm._ffi`; `seen` collects add's arguments."""
    engine = _engine(epoch_interruption=True)
    linker = wasmtime.Linker(engine)
    seen = []
    i32 = wasmtime.ValType.i32()
    view = ctypes.c_uint32 * 8

    def add(env, caller, args, nargs):
        slots = view.from_address(args)
        seen.append((slots[0], slots[4]))  # 16-byte slots, i32 first
        return 0

    def fail(env, caller, args, nargs):
        return host_ffi.new_trap("canary host trap")

    keep = []
    for name, fn, params in (("add", add, [i32, i32]), ("fail", fail, [])):
        ty = wasmtime.FuncType(params, [])
        cb = host_ffi.HOST_CALLBACK(fn)
        host_ffi.define_host_func(linker, "canary", name, ty, cb)
        keep.append((ty, cb))
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1_000_000)
    instance = linker.instantiate(store, wasmtime.Module(engine, _ADDER))
    yield store, _exports(store, instance), seen, engine
    del keep


def test_define_host_func_and_call_func(guest):
    store, exports, seen, _ = guest
    assert host_ffi.call_func(store, exports["call_add"], (7, 35)) is None
    assert seen == [(7, 35)]


def test_a_trap_from_a_host_callback_reaches_call_func(guest):
    store, exports, _, _ = guest
    failure = host_ffi.call_func(store, exports["call_fail"])
    # 51 hands it back as a WasmtimeError carrying the trap; the host reads
    # only its text (`_host._failed`), and keeps its own copy of the message.
    assert isinstance(failure, (wasmtime.Trap, wasmtime.WasmtimeError))
    assert "canary host trap" in str(failure)


def test_a_wasm_trap_reaches_call_func(guest):
    store, exports, _, _ = guest
    failure = host_ffi.call_func(store, exports["crash"])
    assert isinstance(failure, wasmtime.Trap)
    assert "unreachable" in failure.message


def test_memory_base_and_size(guest):
    store, exports, _, _ = guest
    memory = exports["memory"]
    base, size = host_ffi.memory_base_and_size(store, memory)
    assert size == memory.data_len(store) == 2 * 65536
    assert base == ctypes.cast(memory.data_ptr(store), c_void_p).value


def test_epoch_callback_continues_then_ends_a_spinning_guest(guest):
    store, exports, _, engine = guest
    calls = []

    def on_epoch(context, data, delta, kind):
        calls.append(1)
        if len(calls) < 3:
            delta[0] = 0  # due again at once: the guest is still spinning
            kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
            return 0
        return host_ffi.new_error("canary epoch stop")

    cb = host_ffi.EPOCH_CALLBACK(on_epoch)
    host_ffi.set_epoch_callback(store, cb)
    store.set_epoch_deadline(1)
    engine.increment_epoch()
    failure = host_ffi.call_func(store, exports["spin"])
    assert len(calls) == 3
    assert isinstance(failure, (wasmtime.WasmtimeError, wasmtime.Trap))
    assert "canary epoch stop" in str(failure)


def test_engine_settings_are_config_properties():
    # `_modcache.make_engine` sets these as plain assignments.
    for name in {**REQUIRED_ENGINE_SETTINGS, **DEFAULT_ENGINE_SETTINGS}:
        assert isinstance(vars(wasmtime.Config).get(name), property), \
            f"wasmtime.Config has no setting {name!r}"
