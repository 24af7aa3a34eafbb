"""The lump store: content addressing, verification, quarantine, the cache bound,
restarts and real OS threads."""

import os

import blake3
import pytest
from gevent import monkey

from hearth.vm._lumps import LumpCorrupt, LumpId, LumpNotFound, LumpStore, lump_id

_start_os_thread = monkey.get_original("_thread", "start_new_thread")
_NativeLock = monkey.get_original("threading", "Lock")


def run_in_os_threads(fns, timeout=30):
    """Run each of `fns` on its own real OS thread; return their exceptions.

    Waits with native locks, each bounded by `timeout`: gevent's patched
    primitives must not be touched from those threads.
    """
    errors = []
    done = []
    for fn in fns:
        lock = _NativeLock()
        lock.acquire()
        done.append(lock)

        def main(fn=fn, lock=lock):
            try:
                fn()
            except BaseException as e:  # reported to the test below
                errors.append(e)
            finally:
                lock.release()

        _start_os_thread(main, ())
    for lock in done:
        assert lock.acquire(timeout=timeout), "an OS thread did not finish"
    return errors


def path_of(root, lid):
    h = lid.hex()
    return os.path.join(root, h[:2], h[2:])


def lump_files(root):
    return sorted(
        os.path.join(root, top, name)
        for top in os.listdir(root)
        if len(top) == 2
        for name in os.listdir(os.path.join(root, top))
    )


def flip_a_byte(path, at=0):
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x01]))


# -- ids ---------------------------------------------------------------------------------


def test_a_lump_id_is_the_blake3_digest_of_the_data():
    assert lump_id(b"hello") == blake3.blake3(b"hello").digest()
    assert isinstance(lump_id(b"hello"), LumpId)
    assert len(lump_id(b"")) == 32


def test_a_lump_id_round_trips_through_hex():
    lid = lump_id(b"hello")
    assert LumpId.from_hex(lid.hex()) == lid
    assert LumpId.from_hex(str(lid).upper()) == lid
    assert eval(repr(lid), {"LumpId": LumpId}) == lid


@pytest.mark.parametrize("bad", [b"short", b"x" * 33, "ab" * 32, 32, None])
def test_a_lump_id_must_be_32_bytes(bad):
    with pytest.raises((TypeError, ValueError)):
        LumpId(bad)


@pytest.mark.parametrize("bad", ["ab", "zz" * 32, b"ab" * 32])
def test_hex_that_is_not_64_hex_digits_is_refused(bad):
    with pytest.raises(ValueError):
        LumpId.from_hex(bad)


# -- put and get -------------------------------------------------------------------------


def test_put_then_get_returns_the_same_bytes(tmp_path):
    store = LumpStore(tmp_path)
    lid = store.put(b"some bytes")
    assert lid == lump_id(b"some bytes")
    assert store.get(lid) == b"some bytes"
    assert store.has(lid) and lid in store
    assert store.size(lid) == 10


def test_an_empty_lump_is_a_lump(tmp_path):
    store = LumpStore(tmp_path)
    lid = store.put(b"")
    assert LumpStore(tmp_path).get(lid) == b""


def test_lumps_are_laid_out_by_hex_id(tmp_path):
    store = LumpStore(tmp_path)
    lid = store.put(b"layout")
    with open(path_of(tmp_path, lid), "rb") as f:
        assert f.read() == b"layout"


def test_putting_the_same_data_twice_stores_one_file(tmp_path):
    store = LumpStore(tmp_path)
    a = store.put(b"twice")
    inode = os.stat(path_of(tmp_path, a)).st_ino
    b = store.put(bytearray(b"twice"))
    c = LumpStore(tmp_path).put(b"twice")
    assert a == b == c
    assert os.stat(path_of(tmp_path, a)).st_ino == inode  # not even rewritten
    assert lump_files(tmp_path) == [path_of(tmp_path, a)]


def test_put_copies_a_bytearray_so_changing_it_later_changes_no_lump(tmp_path):
    store = LumpStore(tmp_path)
    data = bytearray(b"mutable")
    lid = store.put(data)
    data[0] = ord("M")
    assert store.get(lid) == b"mutable"
    assert LumpStore(tmp_path).get(lid) == b"mutable"


@pytest.mark.parametrize("bad", ["text", 42, None, [1, 2]])
def test_put_refuses_data_that_is_not_bytes(tmp_path, bad):
    store = LumpStore(tmp_path)
    with pytest.raises(TypeError):
        store.put(bad)
    assert list(store.ids()) == []


def test_a_missing_lump_raises_lump_not_found(tmp_path):
    store = LumpStore(tmp_path)
    lid = lump_id(b"never stored")
    with pytest.raises(LumpNotFound) as info:
        store.get(lid)
    assert info.value.lump_id == lid
    assert isinstance(info.value, LookupError)
    assert lid.hex() in str(info.value)
    with pytest.raises(LumpNotFound):
        store.size(lid)
    assert not store.has(lid)


def test_a_new_store_on_the_same_root_finds_earlier_lumps(tmp_path):
    first = LumpStore(tmp_path)
    ids = {first.put(b"lump %d" % i) for i in range(20)}
    again = LumpStore(tmp_path)
    assert set(again.ids()) == ids
    for i in range(20):
        lid = lump_id(b"lump %d" % i)
        assert again.has(lid)
        assert again.size(lid) == len(b"lump %d" % i)
        assert again.get(lid) == b"lump %d" % i
    assert again.cache_info().misses == 20


def test_put_with_the_expected_id_stores_the_data(tmp_path):
    store = LumpStore(tmp_path)
    lid = lump_id(b"from a peer")
    assert store.put(b"from a peer", expect=lid) == lid
    assert store.get(lid) == b"from a peer"


def test_put_with_an_expected_id_refuses_bytes_that_do_not_hash_to_it(tmp_path):
    store = LumpStore(tmp_path)
    promised = lump_id(b"the real thing")
    with pytest.raises(LumpCorrupt) as info:
        store.put(b"something else", expect=promised)
    assert info.value.lump_id == promised
    assert info.value.actual_id == lump_id(b"something else")
    assert list(store.ids()) == []


# -- verification and quarantine ---------------------------------------------------------


def test_a_flipped_byte_on_disk_raises_lump_corrupt_and_the_file_is_quarantined(tmp_path):
    lid = LumpStore(tmp_path).put(b"precious data")
    path = path_of(tmp_path, lid)
    flip_a_byte(path, at=3)

    store = LumpStore(tmp_path)  # a fresh store: nothing cached
    with pytest.raises(LumpCorrupt) as info:
        store.get(lid)
    err = info.value
    assert err.lump_id == lid and err.actual_id == lump_id(b"prebious data")
    assert not os.path.exists(path)
    assert os.path.dirname(err.quarantine_path) == os.path.join(tmp_path, "quarantine")
    with open(err.quarantine_path, "rb") as f:
        assert f.read() == b"prebious data"  # kept as evidence, not deleted
    assert store.cache_info().quarantined == 1
    assert list(store.ids()) == []
    with pytest.raises(LumpNotFound):
        store.get(lid)


def test_putting_the_data_again_heals_a_quarantined_lump(tmp_path):
    lid = LumpStore(tmp_path).put(b"precious data")
    flip_a_byte(path_of(tmp_path, lid))
    store = LumpStore(tmp_path)
    with pytest.raises(LumpCorrupt):
        store.get(lid)
    store.put(b"precious data")
    assert LumpStore(tmp_path).get(lid) == b"precious data"


def test_a_truncated_file_is_replaced_by_the_next_put_of_its_data(tmp_path):
    lid = LumpStore(tmp_path).put(b"0123456789")
    path = path_of(tmp_path, lid)
    os.chmod(path, 0o644)
    os.truncate(path, 4)
    store = LumpStore(tmp_path)
    store.put(b"0123456789")
    assert LumpStore(tmp_path).get(lid) == b"0123456789"
    assert store.cache_info().quarantined == 1


def test_put_repairs_a_file_of_the_right_size_with_corrupt_bytes(tmp_path):
    # Issue 17: a same-size corrupt file used to be taken as the lump, and
    # the put reported success while the store kept the bad bytes.
    lid = LumpStore(tmp_path).put(b"precious data")
    path = path_of(tmp_path, lid)
    flip_a_byte(path, at=3)
    store = LumpStore(tmp_path)
    assert store.put(b"precious data") == lid
    with open(path, "rb") as f:
        assert f.read() == b"precious data"
    assert store.cache_info().quarantined == 1
    assert LumpStore(tmp_path).get(lid) == b"precious data"  # a fresh store reads the disk


def test_put_of_data_already_stored_intact_writes_nothing(tmp_path):
    lid = LumpStore(tmp_path).put(b"precious data")
    before = os.stat(path_of(tmp_path, lid))
    store = LumpStore(tmp_path)
    store.put(b"precious data")
    after = os.stat(path_of(tmp_path, lid))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert store.cache_info().quarantined == 0


def test_a_failed_write_leaves_neither_the_lump_nor_a_temporary_file(tmp_path, monkeypatch):
    store = LumpStore(tmp_path)

    def fsync_fails(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync_fails)
    with pytest.raises(OSError):
        store.put(b"never lands")
    monkeypatch.undo()
    assert lump_files(tmp_path) == []
    assert not store.has(lump_id(b"never lands"))


def test_ids_list_only_lumps_not_temporary_or_quarantined_files(tmp_path):
    store = LumpStore(tmp_path)
    good = store.put(b"good")
    bad = store.put(b"bad")
    flip_a_byte(path_of(tmp_path, bad))
    with pytest.raises(LumpCorrupt):
        LumpStore(tmp_path).get(bad)
    with open(os.path.join(os.path.dirname(path_of(tmp_path, good)), ".tmp-0123"), "wb"):
        pass
    assert list(LumpStore(tmp_path).ids()) == [good]


# -- the memory cache --------------------------------------------------------------------


def test_the_memory_cache_never_holds_more_than_cache_bytes(tmp_path):
    store = LumpStore(tmp_path, cache_bytes=10_000)
    ids = []
    for i in range(50):
        ids.append(store.put(bytes([i]) * 1_000))
        assert store.cache_info().cached_bytes <= 10_000
    for lid in reversed(ids):
        store.get(lid)
        assert store.cache_info().cached_bytes <= 10_000
    info = store.cache_info()
    assert info.cached == 10 and info.cached_bytes == 10_000


def test_lumps_evicted_from_the_cache_still_load_from_disk(tmp_path):
    store = LumpStore(tmp_path, cache_bytes=3_000)
    ids = [store.put(bytes([i]) * 1_000) for i in range(10)]
    before = store.cache_info()
    assert store.get(ids[0]) == bytes([0]) * 1_000  # long evicted
    assert store.cache_info().misses == before.misses + 1
    assert store.get(ids[0]) == bytes([0]) * 1_000  # cached again
    assert store.cache_info().hits == before.hits + 1


def test_the_cache_keeps_the_recently_used_lumps(tmp_path):
    store = LumpStore(tmp_path, cache_bytes=3_000)
    a, b, c = (store.put(bytes([i]) * 1_000) for i in range(3))
    store.get(a)  # now b is the least recently used
    store.put(b"\x09" * 1_000)
    misses = store.cache_info().misses
    store.get(a)
    store.get(c)
    assert store.cache_info().misses == misses
    store.get(b)
    assert store.cache_info().misses == misses + 1


def test_a_lump_larger_than_the_cache_is_served_from_disk_and_never_cached(tmp_path):
    store = LumpStore(tmp_path, cache_bytes=1_000)
    small = store.put(b"s" * 500)
    big = store.put(b"B" * 5_000)
    assert store.get(big) == b"B" * 5_000
    info = store.cache_info()
    assert info.cached_bytes == 500 and info.misses == 1
    assert store.get(small) == b"s" * 500  # the big one evicted nothing


def test_a_zero_byte_cache_reads_everything_from_disk(tmp_path):
    store = LumpStore(tmp_path, cache_bytes=0)
    lid = store.put(b"uncached")
    assert store.get(lid) == b"uncached"
    assert store.cache_info().cached_bytes == 0 and store.cache_info().misses == 1


def test_a_negative_cache_bound_is_refused(tmp_path):
    with pytest.raises(ValueError):
        LumpStore(tmp_path, cache_bytes=-1)


def test_a_memory_only_store_keeps_every_lump_whatever_the_cache_bound():
    store = LumpStore(None, cache_bytes=10)
    ids = [store.put(bytes([i]) * 1_000) for i in range(20)]
    assert [store.get(lid) for lid in ids] == [bytes([i]) * 1_000 for i in range(20)]
    assert set(store.ids()) == set(ids)
    assert store.size(ids[3]) == 1_000
    assert store.root is None and store.cache_info().max_bytes is None
    with pytest.raises(LumpNotFound):
        store.get(lump_id(b"absent"))
    with pytest.raises(LumpNotFound):
        store.size(lump_id(b"absent"))


# -- real OS threads ---------------------------------------------------------------------


def test_concurrent_puts_and_gets_from_os_threads_agree(tmp_path):
    # A cache smaller than the working set, so threads race through eviction
    # and disk reads as well as cache hits; half the data is shared, so they
    # race to store the same lump too.
    store = LumpStore(tmp_path, cache_bytes=20_000)
    n_threads, per_thread = 6, 40

    def data(t, i):
        owner = t if i % 2 else "shared"
        return (b"%s:%d:" % (str(owner).encode(), i)) * 100

    def worker(t):
        def run():
            mine = [store.put(data(t, i)) for i in range(per_thread)]
            for _ in range(3):
                for i, lid in enumerate(mine):
                    assert store.get(lid) == data(t, i)
                    assert store.cache_info().cached_bytes <= 20_000
        return run

    errors = run_in_os_threads([worker(t) for t in range(n_threads)])
    assert errors == []
    expected = {lump_id(data(t, i)) for t in range(n_threads) for i in range(per_thread)}
    assert len(expected) == n_threads * per_thread // 2 + per_thread // 2
    assert set(store.ids()) == expected
    assert len(lump_files(tmp_path)) == len(expected)
    fresh = LumpStore(tmp_path)
    for t in range(n_threads):
        for i in range(per_thread):
            assert fresh.get(lump_id(data(t, i))) == data(t, i)


def test_a_runtime_keeps_lumps_and_compiled_modules_in_its_data_dir(tmp_path):
    from hearth import vm

    first = vm.Runtime(data_dir=str(tmp_path))
    module_id = first.lumps.put(b'(module (func (export "run")))')
    first.modules.get(module_id)
    assert first.modules.cache_info().compiled == 1
    assert first.shutdown() == []

    second = vm.Runtime(data_dir=str(tmp_path))
    assert second.lumps.get(module_id).startswith(b"(module")
    second.modules.get(module_id)
    info = second.modules.cache_info()
    assert (info.compiled, info.deserialized) == (0, 1)
    assert second.shutdown() == []
