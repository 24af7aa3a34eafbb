"""The compiled-module cache: which path each get takes (memory, a .cwasm file,
a compile), and that no damaged or foreign file is ever deserialized."""

import os
import shutil

import pytest
import wasmtime
from gevent import monkey

from hearth.vm import _modcache
from hearth.vm._lumps import LumpNotFound, LumpStore, lump_id
from hearth.vm._modcache import (
    ModuleCache,
    ModuleError,
    engine_fingerprint,
    make_engine,
)

_start_os_thread = monkey.get_original("_thread", "start_new_thread")
_NativeLock = monkey.get_original("threading", "Lock")

ANSWER = b'(module (func (export "answer") (result i32) i32.const 42))'


def many_functions(n):
    body = "".join(
        f'(func (export "f{k}") (param i32) (result i32)'
        f" local.get 0 i32.const {k} i32.add)"
        for k in range(n)
    )
    return wasmtime.wat2wasm(f"(module {body})")


def call_answer(engine, module):
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, module, [])
    return instance.exports(store)["answer"](store)


def counts(cache):
    info = cache.cache_info()
    return info.hits, info.deserialized, info.compiled, info.rejected


@pytest.fixture
def engine():
    return wasmtime.Engine()


@pytest.fixture
def lumps(tmp_path):
    return LumpStore(tmp_path / "lumps")


def test_a_module_is_compiled_once_and_then_loaded_by_a_fresh_cache(engine, lumps, tmp_path):
    lid = lumps.put(ANSWER)
    first = ModuleCache(engine, lumps, tmp_path)
    assert call_answer(engine, first.get(lid)) == 42
    assert counts(first) == (0, 0, 1, 0)
    assert os.path.exists(first.path_of(lid))

    fresh = ModuleCache(engine, lumps, tmp_path)
    assert call_answer(engine, fresh.get(lid)) == 42
    assert counts(fresh) == (0, 1, 0, 0)


def test_the_compiled_file_is_named_by_lump_and_engine_fingerprint(engine, lumps, tmp_path):
    lid = lumps.put(ANSWER)
    cache = ModuleCache(engine, lumps, tmp_path)
    cache.get(lid)
    name = f"{lid.hex()}-{cache.fingerprint}.cwasm"
    assert cache.path_of(lid) == os.path.join(tmp_path, "modules", name)


def test_a_second_get_returns_the_same_module_from_memory(engine, lumps, tmp_path):
    lid = lumps.put(ANSWER)
    cache = ModuleCache(engine, lumps, tmp_path)
    assert cache.get(lid) is cache.get(lid)
    assert counts(cache) == (1, 0, 1, 0)


def test_a_binary_lump_compiles_as_well_as_wat_text(engine, lumps, tmp_path):
    lid = lumps.put(bytes(wasmtime.wat2wasm(ANSWER)))
    cache = ModuleCache(engine, lumps, tmp_path)
    assert call_answer(engine, cache.get(lid)) == 42


def test_the_memory_cache_holds_at_most_max_modules(engine, lumps, tmp_path):
    cache = ModuleCache(engine, lumps, None, max_modules=2)
    ids = [lumps.put(b'(module (func (export "f%d")))' % i) for i in range(4)]
    for lid in ids:
        cache.get(lid)
    assert cache.cache_info().cached == 2
    cache.get(ids[3])
    cache.get(ids[0])  # evicted, and no disk cache: compiled again
    assert counts(cache) == (1, 0, 5, 0)


def test_a_cache_without_a_root_writes_no_files(engine, tmp_path):
    lumps = LumpStore(None)
    cache = ModuleCache(engine, lumps, None)
    cache.get(lumps.put(ANSWER))
    assert cache.path_of(lump_id(ANSWER)) is None
    assert os.listdir(tmp_path) == []


# -- lumps that are not modules ----------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"hello, world", b"\xff\xfe binary junk", b"\x00asm\x01\x00\x00\x00\xff", b"(module (func"],
)
def test_a_lump_that_is_not_wasm_raises_module_error_naming_the_lump(engine, lumps, tmp_path, data):
    lid = lumps.put(data)
    cache = ModuleCache(engine, lumps, tmp_path)
    with pytest.raises(ModuleError) as info:
        cache.get(lid)
    assert info.value.lump_id == lid
    assert lid.hex() in str(info.value)
    assert info.value.detail and info.value.detail in str(info.value)
    assert not os.path.exists(cache.path_of(lid))
    assert cache.cache_info().cached == 0


def test_a_missing_lump_raises_lump_not_found(engine, lumps, tmp_path):
    cache = ModuleCache(engine, lumps, tmp_path)
    with pytest.raises(LumpNotFound):
        cache.get(lump_id(b"not stored"))


# -- files this cache must not trust -----------------------------------------------------


def _damage(path, how):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        if how == "flip-payload":
            f.seek(size // 2)
            b = f.read(1)
            f.seek(size // 2)
            f.write(bytes([b[0] ^ 0x40]))
        elif how == "flip-mac":
            f.seek(10)
            b = f.read(1)
            f.seek(10)
            f.write(bytes([b[0] ^ 0x01]))
        elif how == "truncate":
            f.truncate(size // 3)
        elif how == "empty":
            f.truncate(0)
        elif how == "garbage":
            f.write(os.urandom(size))


@pytest.mark.parametrize("how", ["flip-payload", "flip-mac", "truncate", "empty", "garbage"])
def test_a_damaged_cwasm_file_is_recompiled_not_deserialized(engine, lumps, tmp_path, how):
    lid = lumps.put(ANSWER)
    path = ModuleCache(engine, lumps, tmp_path).path_of(lid)
    ModuleCache(engine, lumps, tmp_path).get(lid)
    _damage(path, how)

    cache = ModuleCache(engine, lumps, tmp_path)
    assert call_answer(engine, cache.get(lid)) == 42
    assert counts(cache) == (0, 0, 1, 1)
    assert "failed its check" in cache.cache_info().last_problem
    # The file was rewritten: the next fresh cache loads it.
    again = ModuleCache(engine, lumps, tmp_path)
    again.get(lid)
    assert counts(again) == (0, 1, 0, 0)


def test_a_cwasm_file_renamed_to_another_lump_is_rejected(engine, lumps, tmp_path):
    real = lumps.put(ANSWER)
    other = lumps.put(b'(module (func (export "other")))')
    cache = ModuleCache(engine, lumps, tmp_path)
    cache.get(real)
    shutil.copy(cache.path_of(real), cache.path_of(other))

    fresh = ModuleCache(engine, lumps, tmp_path)
    exports = [e.name for e in fresh.get(other).exports]
    assert exports == ["other"]
    assert counts(fresh) == (0, 0, 1, 1)


def test_a_cwasm_file_written_under_another_key_is_rejected(engine, lumps, tmp_path):
    lid = lumps.put(ANSWER)
    elsewhere = ModuleCache(engine, lumps, tmp_path / "elsewhere")
    elsewhere.get(lid)
    here = ModuleCache(engine, lumps, tmp_path / "here")
    shutil.copy(elsewhere.path_of(lid), here.path_of(lid))

    here.get(lid)
    assert counts(here) == (0, 0, 1, 1)


def test_a_lost_key_only_costs_a_recompile(engine, lumps, tmp_path):
    lid = lumps.put(ANSWER)
    ModuleCache(engine, lumps, tmp_path).get(lid)
    os.unlink(tmp_path / "modules" / "key")
    cache = ModuleCache(engine, lumps, tmp_path)
    cache.get(lid)
    assert counts(cache) == (0, 0, 1, 1)


def test_the_key_file_is_private_and_kept_across_restarts(engine, lumps, tmp_path):
    ModuleCache(engine, lumps, tmp_path)
    key = tmp_path / "modules" / "key"
    assert os.stat(key).st_mode & 0o777 == 0o600
    before = key.read_bytes()
    ModuleCache(engine, lumps, tmp_path)
    assert key.read_bytes() == before and len(before) == 32


def test_a_compiled_module_that_cannot_be_written_is_still_returned(
        engine, lumps, tmp_path, monkeypatch):
    def disk_full(path, data, mode):
        raise OSError(28, "No space left on device")

    lid = lumps.put(ANSWER)
    cache = ModuleCache(engine, lumps, tmp_path)
    monkeypatch.setattr(_modcache, "_write_new", disk_full)
    assert call_answer(engine, cache.get(lid)) == 42
    info = cache.cache_info()
    assert info.write_errors == 1 and "No space left" in info.last_problem
    assert not os.path.exists(cache.path_of(lid))
    assert [n for n in os.listdir(tmp_path / "modules") if n != "key"] == []


# -- engine fingerprints -----------------------------------------------------------------


def test_changing_engine_settings_changes_the_fingerprint_and_recompiles(lumps, tmp_path):
    lid = lumps.put(ANSWER)
    plain = {"cranelift_opt_level": "speed"}
    small = {"cranelift_opt_level": "speed_and_size"}
    first = ModuleCache(make_engine(plain), lumps, tmp_path, engine_settings=plain)
    first.get(lid)
    other = ModuleCache(make_engine(small), lumps, tmp_path, engine_settings=small)
    assert other.fingerprint != first.fingerprint
    other.get(lid)
    assert counts(other) == (0, 0, 1, 0)
    # Both files now exist side by side; each engine finds its own.
    again = ModuleCache(make_engine(plain), lumps, tmp_path, engine_settings=plain)
    again.get(lid)
    assert counts(again) == (0, 1, 0, 0)


def test_a_new_wasmtime_version_changes_the_fingerprint_and_recompiles(
        engine, lumps, tmp_path, monkeypatch):
    lid = lumps.put(ANSWER)
    ModuleCache(engine, lumps, tmp_path).get(lid)
    assert engine_fingerprint(wasmtime_version="999.0.0") != engine_fingerprint()
    monkeypatch.setattr(_modcache, "WASMTIME_VERSION", "999.0.0")
    upgraded = ModuleCache(engine, lumps, tmp_path)
    upgraded.get(lid)
    assert counts(upgraded) == (0, 0, 1, 0)


def test_the_fingerprint_does_not_depend_on_the_order_of_settings():
    a = engine_fingerprint({"epoch_interruption": True, "memory_reservation": 1 << 24})
    b = engine_fingerprint({"memory_reservation": 1 << 24, "epoch_interruption": True})
    assert a == b != engine_fingerprint({"epoch_interruption": True})


def test_a_file_wasmtime_refuses_is_recompiled(lumps, tmp_path):
    # Settings left out of the fingerprint: both caches write the same file
    # name, and wasmtime's own check catches the mismatch.
    lid = lumps.put(ANSWER)
    ModuleCache(wasmtime.Engine(), lumps, tmp_path).get(lid)
    epochs = make_engine({"epoch_interruption": True})
    cache = ModuleCache(epochs, lumps, tmp_path)
    cache.get(lid)
    assert counts(cache) == (0, 0, 1, 1)
    assert "wasmtime refused it" in cache.cache_info().last_problem


@pytest.mark.parametrize(
    "settings, error",
    [({"no_such_setting": True}, ValueError), ({"epoch_interruption": [True]}, TypeError)],
)
def test_make_engine_and_the_fingerprint_refuse_bad_settings(settings, error):
    with pytest.raises(error):
        make_engine(settings)
    with pytest.raises(error):
        engine_fingerprint(settings)


# -- real OS threads ---------------------------------------------------------------------


def test_os_threads_asking_for_one_module_at_once_compile_it_once(engine, lumps, tmp_path):
    lid = lumps.put(bytes(many_functions(300)))
    cache = ModuleCache(engine, lumps, tmp_path)
    got, errors, done = [], [], []
    gate = _NativeLock()
    gate.acquire()  # every thread starts, then they all go at once

    def worker(lock):
        try:
            with gate:
                pass
            got.append(cache.get(lid))
        except BaseException as e:
            errors.append(e)
        finally:
            lock.release()

    for _ in range(6):
        lock = _NativeLock()
        lock.acquire()
        done.append(lock)
        _start_os_thread(worker, (lock,))
    gate.release()
    for lock in done:
        assert lock.acquire(timeout=30), "an OS thread did not finish"
    assert errors == []
    assert len(got) == 6 and all(m is got[0] for m in got)
    hits, deserialized, compiled, rejected = counts(cache)
    assert (deserialized, compiled, rejected) == (0, 1, 0) and hits == 5
