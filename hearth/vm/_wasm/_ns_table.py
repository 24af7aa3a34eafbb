"""``hearth::table``: the guest's capability table (the process's `Table`).

Handle numbers are the process's `Cap.handle`s, so a guest and Python code
acting for the same process see the same numbers. Reference counting,
permissions and demotion only touch the guest's own table and run on the
guest thread; `send` checks and copies there too, then queues the message
itself if the target is a mailbox of another guest (`_handoff.py`), or
else hands the delivery to the hub without waiting (a send never blocks,
rule V8); `kill` waits for the hub, since it may take the caller down
through a link.
"""

from .._perms import ALL, KILL, SEND
from .._signals import Message
from ._abi import I32, hostfunc
from ._errors import GuestTrap

__all__ = []

_NS = "hearth::table"


@hostfunc(_NS, "inc_ref", (I32,), ())
def inc_ref(guest, handle):
    guest.cap(handle)._refs += 1


@hostfunc(_NS, "dec_ref", (I32,), ())
def dec_ref(guest, handle):
    guest.table._dec_ref(guest.cap(handle))


@hostfunc(_NS, "get_permissions", (I32,), (I32,))
def get_permissions(guest, handle):
    return guest.cap(handle)._perms


@hostfunc(_NS, "demote", (I32, I32), (I32,))
def demote(guest, handle, perms):
    cap = guest.cap(handle)
    if perms & ~ALL:
        raise GuestTrap(f"unknown permission bits {perms:#x}")
    cap = guest.cap(handle, perms)  # asking for more than it has traps (V3)
    return guest.table._import(cap._route, perms).handle


@hostfunc(_NS, "send", (I32,) * 5, ())
def send(guest, handle, data_ptr, data_len, caps_ptr, caps_len):
    cap = guest.cap(handle, SEND)
    data = guest.memory.read(data_ptr, data_len)
    routes = [(c._route, c._perms) for c in guest.caps(caps_ptr, caps_len)] if caps_len else ()
    message = Message(data, routes, guest.proc.account)  # who it acts for (`_accounts`)
    if not guest.send_direct(cap._route, message):
        guest.post(_deliver, cap._route, message)


def _deliver(guest, route, message):
    # The send takes effect here, on the hub. A guest that died since sent
    # nothing: delivering now would put the message after its Down (V9).
    proc = guest.proc
    if proc.reason is None:
        proc.n_out += 1
        route._deliver(message)


@hostfunc(_NS, "kill", (I32,), ())
def kill(guest, handle):
    guest.call(_kill, guest.cap(handle, KILL)._route)


def _kill(guest, route):
    guest.proc._kill(route._proc)
