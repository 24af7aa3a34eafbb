"""``hearth::metadata``: what a guest says about itself, in its metadata
phase only (``_hearth_metadata``; any call later traps).

The fields are collected on the guest thread and set on the process when
the running phase begins; fields the spawner set win.
"""

from ._abi import I32, METADATA, hostfunc

__all__ = []

_NS = "hearth::metadata"


def _setter(abi_name, field):
    @hostfunc(_NS, abi_name, (I32, I32), (), phases=METADATA)
    def set_field(guest, ptr, length):
        guest.meta[field] = guest.memory.read_str(ptr, length)

    set_field.__name__ = abi_name
    return set_field


set_name = _setter("set_name", "name")
set_description = _setter("set_description", "description")
set_repository = _setter("set_repository", "repository")
set_homepage = _setter("set_homepage", "homepage")
set_license = _setter("set_license", "license")


@hostfunc(_NS, "add_author", (I32, I32), (), phases=METADATA)
def add_author(guest, ptr, length):
    guest.meta.setdefault("authors", []).append(guest.memory.read_str(ptr, length))
