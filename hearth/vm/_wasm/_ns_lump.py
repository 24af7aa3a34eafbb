"""``hearth::lump``: immutable blobs by BLAKE3 id, in the runtime's store.

A lump handle is the guest's own (`Guest.lumps`) and holds the lump's id
and bytes; freeing it leaves the lump in the store. The store is safe to
call from any OS thread and may read or write the disk, so these calls run
on the guest thread and never make the hub wait.
"""

from .._errors import LumpCorrupt, LumpNotFound
from .._lumps import ID_BYTES, LumpId, lump_id
from ._abi import I32, hostfunc
from ._errors import GuestTrap

__all__ = []

_NS = "hearth::lump"


def _store(guest):
    return guest.host.runtime.lumps


def _add(guest, lid, data):
    return guest.lumps.add((lid, data))


@hostfunc(_NS, "this_lump", (I32,), ())
def this_lump(guest, id_ptr):
    lid = guest.spec.module.lump_id
    if lid is None:
        raise GuestTrap("this guest's module was handed over compiled, not as a lump")
    guest.memory.write(id_ptr, lid)


@hostfunc(_NS, "load_by_id", (I32,), (I32,))
def load_by_id(guest, id_ptr):
    lid = LumpId(guest.memory.read(id_ptr, ID_BYTES))
    try:
        data = _store(guest).get(lid)
    except (LumpNotFound, LumpCorrupt) as e:
        raise GuestTrap(str(e)) from None
    except OSError as e:
        raise GuestTrap(f"the lump store failed: {e}") from None
    return _add(guest, lid, data)


@hostfunc(_NS, "load", (I32, I32), (I32,))
def load(guest, data_ptr, data_len):
    data = guest.memory.read(data_ptr, data_len)
    if guest.proc.account is not None:
        # A peer's guest: a new lump counts against the peer's account
        # (a trap names the limit), and goes when nothing holds it.
        guest.call(_charge, lump_id(data), len(data))
    try:
        lid = _store(guest).put(data, charged=guest.proc.account is not None)
    except OSError as e:
        raise GuestTrap(f"the lump store failed: {e}") from None
    return _add(guest, lid, data)


def _charge(guest, lid, size):
    # On the hub. A lump already in the store is someone else's: no charge.
    account = guest.proc.account
    if account is None or guest.host.runtime.lumps.has(lid):
        return
    account.admit_lump(lid, size)
    account.charge_lump(lid, size)


@hostfunc(_NS, "get_id", (I32, I32), ())
def get_id(guest, handle, id_ptr):
    guest.memory.write(id_ptr, guest.lumps.get(handle)[0])


@hostfunc(_NS, "get_len", (I32,), (I32,))
def get_len(guest, handle):
    return len(guest.lumps.get(handle)[1])


@hostfunc(_NS, "get_data", (I32, I32), ())
def get_data(guest, handle, data_ptr):
    guest.memory.write(data_ptr, guest.lumps.get(handle)[1])


@hostfunc(_NS, "free", (I32,), ())
def free(guest, handle):
    guest.lumps.remove(handle)
