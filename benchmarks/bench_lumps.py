"""Benchmarks of the lump store and the compiled-module cache.

The store is measured against bare file operations with the same durability
(write, fsync, rename, fsync the directory; read the file), so the ratio is
the cost of hashing, checking and locking. The module cache is measured
against a bare wasmtime compile of the same module: the ratio of a load
from the cache to a compile is what the cache saves at every spawn.
"""

import os
import shutil
import tempfile
import time

import wasmtime

from hearth.vm._lumps import LumpStore
from hearth.vm._modcache import ModuleCache

from ._harness import benchmark, figure, trials

_perf = time.perf_counter

PUT_COUNT = 300  # new 4 KiB lumps per repeat (each waits for two fsyncs)
HIT_COUNT = 100_000  # cache hits per repeat
BIG_LUMP = 16 << 20  # bytes of the lump read from disk


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _raw_put(folder, blobs):
    """Write each blob durably under a made-up name, as the store does, minus hashing."""
    t0 = _perf()
    for i, data in enumerate(blobs):
        sub = os.path.join(folder, "%02x" % (i % 256))
        if not os.path.isdir(sub):
            os.makedirs(sub)
            _fsync_dir(folder)
        tmp = os.path.join(sub, ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, os.path.join(sub, "%060d" % i))
        _fsync_dir(sub)
    return _perf() - t0


def _store_put(folder, blobs):
    store = LumpStore(folder)
    t0 = _perf()
    for data in blobs:
        store.put(data)
    return _perf() - t0


@benchmark("lumps", repeat=5)
def lumps(repeat):
    """Lump store: durable puts, cache hits and verified disk reads vs bare file I/O."""

    def trial(i):
        root = tempfile.mkdtemp(prefix="hearth-bench-lumps-")
        try:
            blobs = [os.urandom(4096) for _ in range(PUT_COUNT)]
            raw = _raw_put(os.path.join(root, "raw"), blobs)
            ours = _store_put(os.path.join(root, "store"), blobs)

            store = LumpStore(os.path.join(root, "store"))
            lid = store.put(blobs[0])
            table = {bytes(lid): blobs[0]}
            key = bytes(lid)
            t0 = _perf()
            for _ in range(HIT_COUNT):
                store.get(lid)
            hit = _perf() - t0
            t0 = _perf()
            for _ in range(HIT_COUNT):
                table.get(key)
            dict_hit = _perf() - t0

            big = os.urandom(BIG_LUMP)
            cold = LumpStore(os.path.join(root, "store"), cache_bytes=0)
            big_id = cold.put(big)
            path = os.path.join(root, "store", big_id.hex()[:2], big_id.hex()[2:])

            def read_ours():
                t0 = _perf()
                cold.get(big_id)
                return _perf() - t0

            def read_raw():
                t0 = _perf()
                with open(path, "rb", buffering=0) as f:
                    f.read()
                return _perf() - t0

            # Alternate, and keep the best of three: the first touch of a
            # fresh 16 MiB buffer costs page faults that land on whichever
            # read happens to allocate it.
            order = (read_ours, read_raw) if i % 2 == 0 else (read_raw, read_ours)
            best = {read_ours: float("inf"), read_raw: float("inf")}
            for _ in range(3):
                for fn in order:
                    best[fn] = min(best[fn], fn())
            read_ours, read_raw = best[read_ours], best[read_raw]
        finally:
            shutil.rmtree(root, ignore_errors=True)
        mb = BIG_LUMP / 1e6
        return {
            "put": PUT_COUNT / ours, "put_raw": PUT_COUNT / raw,
            "hit": HIT_COUNT / hit, "hit_dict": HIT_COUNT / dict_hit,
            "read": mb / read_ours, "read_raw": mb / read_raw,
        }

    s = trials(repeat, trial)
    return [
        figure("lumps.put_4k", s, "put", "put_raw", unit="puts/s",
               baseline="write+fsync+rename+fsync dir", better="higher"),
        figure("lumps.get_cached", s, "hit", "hit_dict", unit="gets/s",
               baseline="dict.get", better="higher"),
        figure("lumps.get_disk_16M", s, "read", "read_raw", unit="MB/s",
               baseline="read the file, unchecked", better="higher"),
    ]


def _many_functions(n):
    body = "".join(
        f'(func (export "f{k}") (param i32) (result i32)'
        f" local.get 0 i32.const {k} i32.add i32.const 3 i32.mul local.get 0 i32.xor)"
        for k in range(n)
    )
    return bytes(wasmtime.wat2wasm(f"(module {body})"))


MODULES = {"small": 1, "large": 5000}  # functions in the module


@benchmark("modules", repeat=5)
def modules(repeat):
    """Module cache: loading a compiled module vs compiling it, small and large."""
    wasm = {name: _many_functions(n) for name, n in MODULES.items()}

    def trial(i):
        engine = wasmtime.Engine()
        root = tempfile.mkdtemp(prefix="hearth-bench-modules-")
        out = {}
        try:
            store = LumpStore(os.path.join(root, "lumps"))
            for name, data in wasm.items():
                lid = store.put(data)
                t0 = _perf()
                wasmtime.Module(engine, data)
                out[f"{name}_bare_compile"] = (_perf() - t0) * 1e3
                t0 = _perf()
                ModuleCache(engine, store, root, max_modules=0).get(lid)
                out[f"{name}_compile"] = (_perf() - t0) * 1e3
                cache = ModuleCache(engine, store, root, max_modules=0)
                t0 = _perf()
                cache.get(lid)
                out[f"{name}_load"] = (_perf() - t0) * 1e3
                assert cache.cache_info().deserialized == 1
                t0 = _perf()
                cache.get(lid)  # max_modules=0: from disk again, no cache set-up
                out[f"{name}_load_again"] = (_perf() - t0) * 1e3
                with open(cache.path_of(lid), "rb") as f:
                    payload = f.read()[40:]
                t0 = _perf()
                wasmtime.Module.deserialize(engine, payload)
                out[f"{name}_bare_load"] = (_perf() - t0) * 1e3
                out[f"{name}_cwasm_kib"] = len(payload) / 1024
                out[f"{name}_wasm_kib"] = len(data) / 1024
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return out

    s = trials(repeat, trial)
    figs = []
    for name in MODULES:
        sizes = {"wasm_kib": round(s[f"{name}_wasm_kib"][0], 1),
                 "cwasm_kib": round(s[f"{name}_cwasm_kib"][0], 1)}
        figs += [
            # A cache load is a deserialize (plus reading and checking the
            # file): the fair peer is wasmtime's own Module.deserialize of
            # the same bytes. What the cache saves over compiling is a
            # reference beside it.
            figure(f"modules.load_{name}", s, f"{name}_load_again", f"{name}_bare_load",
                   unit="ms", baseline="Module.deserialize", better="lower",
                   goal="ratio <= 2", check=lambda f: f.ratio <= 2, extra=sizes),
            figure(f"modules.load_{name}_vs_compile", s, f"{name}_load_again",
                   f"{name}_bare_compile", unit="ms", baseline="wasmtime compile",
                   better="lower", goal="reference: what the cache saves"),
            figure(f"modules.compile_{name}", s, f"{name}_compile", f"{name}_bare_compile",
                   unit="ms", baseline="wasmtime compile", better="lower"),
        ]
    return figs
