"""hearth.gfx.text — text drawn from multi-channel signed distance fields.

By concern: `_msdf` generates a glyph's field from its FreeType outline
(edge coloring, per-channel pseudo-distances, numpy over pixels), `_atlas`
keeps the fields of a monospace font's four styles in one image, glyphs
added on first use, and `_cache` stores that atlas as a lump so a second
start loads it instead of generating it. `_grid` is the scene's grid of
cells the shader draws (a terminal's), `_label` a string in the world on
the same path (`Label`), and `_service` the ``hearth.text.TextFactory``
service that lets any process of the client draw one.
"""

import time
import weakref

from hearth import vm

from ._atlas import Atlas
from ._cache import load_or_build, save
from ._grid import TextGrid

__all__ = ["Atlas", "TextGrid", "Label", "shared_atlas", "keep_new_glyphs", "SAVE_EVERY"]

SAVE_EVERY = 30.0  # seconds at least between two saves of an atlas with new glyphs
_shared = weakref.WeakKeyDictionary()  # lump store -> its atlas
_store_of = weakref.WeakKeyDictionary()  # atlas -> [its store, when it was last saved]
_unstored = []  # the atlas of no store


def shared_atlas(store=None):
    """The atlas every text of this OS process draws from: loaded from (or
    built and saved into) `store`, a `hearth.vm.LumpStore`, once per
    store; with None, the current process's runtime's store if there is a
    current process, else one kept in memory only. Switches: never; the
    first call per store loads or builds (see `load_or_build`)."""
    if store is None:
        try:
            store = vm.current_runtime().lumps
        except vm.NotInProcess:
            store = None
    if store is None:
        if not _unstored:
            _unstored.append(load_or_build(None)[0])
        return _unstored[0]
    atlas = _shared.get(store)
    if atlas is None:
        atlas = _shared[store] = load_or_build(store)[0]
        _store_of[atlas] = [store, time.monotonic()]
    return atlas


def keep_new_glyphs(atlas, *, now=None):
    """Store `atlas` again (a new lump, indexed) if glyphs were added since
    it was last stored and `SAVE_EVERY` seconds have passed since then, so
    the glyphs a session used are there at the next start. Returns whether
    it saved. Switches: never; a save blocks the hub for the store's
    fsyncs (milliseconds), at most once per `SAVE_EVERY`."""
    entry = _store_of.get(atlas)
    now = time.monotonic() if now is None else now
    if entry is None or not atlas.added or now - entry[1] < SAVE_EVERY:
        return False
    save(entry[0], atlas)
    entry[1] = now
    return True


from ._label import Label  # noqa: E402 - it uses shared_atlas
