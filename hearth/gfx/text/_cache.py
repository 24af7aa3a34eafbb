"""The atlas kept as a lump, so a second start does not generate it again.

The lump store is content-addressed, so the atlas's lump is found through
a small index: for a store on disk, a file under ``<data dir>/text-atlas/``
named by the atlas's `key` (a digest of the font files and the generator's
parameters) holding the lump's id in hex; for a memory-only store, a table
kept beside the store for the life of the process. The lump is stored as
the operator's (an uncharged put, which the runtime's lump ledger marks
owned: never collected).

`load_or_build` is what the client calls; `save` writes the atlas again
when glyphs were added since (a new lump; the index then names it). None
of these switches greenlets, but a store's disk write blocks the hub for
its fsyncs (`hearth.vm.LumpStore`), and a cold build generates the
printable ASCII set (about a second of CPU).
"""

import os
import weakref

from hearth.vm import LumpId

from ._atlas import Atlas

__all__ = ["load_or_build", "save", "PRINTABLE"]

PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
_memory_index = weakref.WeakKeyDictionary()  # memory-only store -> {key: lump id}


def _index_path(store, key):
    return os.path.join(os.path.dirname(store.root), "text-atlas", key.hex())


def _lookup(store, key):
    if store.root is None:
        return _memory_index.get(store, {}).get(key)
    try:
        with open(_index_path(store, key)) as f:
            return LumpId(bytes.fromhex(f.read().strip()))
    except (OSError, ValueError, TypeError):
        return None


def _remember(store, key, lid):
    if store.root is None:
        _memory_index.setdefault(store, {})[key] = lid
        return
    path = _index_path(store, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(lid.hex())
    os.replace(tmp, path)


def load_or_build(store, paths=None, prefill=PRINTABLE):
    """An `Atlas` of the system's monospace font: the cached one from
    `store` (a `hearth.vm.LumpStore`, or None for no cache) if there is
    one for these fonts and parameters, else a new one with `prefill`
    generated, then saved. Returns ``(atlas, cached)``. Switches: never."""
    atlas = Atlas(paths)
    if store is not None:
        lid = _lookup(store, atlas.key)
        if lid is not None:
            try:
                data = store.get(lid)
            except Exception:  # noqa: BLE001 - gone or damaged: build it again
                data = None
            if data is not None and atlas.load_bytes(data):
                return atlas, True
    atlas.prefill(prefill)
    if store is not None:
        save(store, atlas)
    return atlas, False


def save(store, atlas):
    """Store `atlas` as a lump and index it; returns the lump's id.
    Resets ``atlas.added``. Switches: never (blocks for the disk)."""
    lid = store.put(atlas.to_bytes())
    _remember(store, atlas.key, lid)
    atlas.added = 0
    return lid
