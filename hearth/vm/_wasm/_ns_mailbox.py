"""``hearth::mailbox``: the guest's mailboxes and the signals they deliver.

Mailbox handles are indices of the process's mailboxes (0 is the parent
mailbox). Signal handles are the guest's own (`Guest.signals`): a received
`Message`, `Down` or `Exit`, whose capabilities were imported into the
guest's table when it was received (rule V5): they are the guest's
references, and destroying the signal does not release them.

Receiving takes a signal that is already queued straight from the guest
thread (`Guest.take`). On empty mailboxes, ``recv`` and ``poll`` park the
guest thread until a signal arrives (`_handoff.py`); a receive with a
timeout costs a trip to the hub, where the proxy blocks in the kernel's own
receive.
"""

from .._perms import ALL, MONITOR
from .._signals import Down, Exit, Message
from ._abi import I32, I64, NONE32, hostfunc
from ._errors import GuestTrap

__all__ = ["receive", "select", "signal_of"]

_NS = "hearth::mailbox"

KIND_MESSAGE = 0
KIND_DOWN = 1
KIND_EXIT = 2


@hostfunc(_NS, "create", (), (I32,))
def create(guest):
    return guest.call(_create)


def _create(guest):
    return guest.proc.create_mailbox().handle


@hostfunc(_NS, "destroy", (I32,), ())
def destroy(guest, handle):
    if handle == 0:
        raise GuestTrap("the parent mailbox (0) can't be destroyed")
    guest.call(_destroy, guest.mailbox(handle))


def _destroy(guest, mb):
    mb.destroy()


@hostfunc(_NS, "make_capability", (I32, I32), (I32,))
def make_capability(guest, handle, perms):
    mb = guest.mailbox(handle)
    if perms & ~ALL:
        raise GuestTrap(f"unknown permission bits {perms:#x}")
    return guest.table._import(mb, perms).handle


@hostfunc(_NS, "monitor", (I32, I32), ())
def monitor(guest, handle, cap_handle):
    watcher = guest.mailbox(handle)
    cap = guest.cap(cap_handle, MONITOR)
    guest.call(_monitor, watcher, cap._route)


def _monitor(guest, watcher, route):
    guest.proc._add_monitor(watcher, route)


def receive(guest, handle, timeout=None):
    """A signal handle from mailbox `handle`, waiting up to `timeout`
    seconds (None: forever); `NONE32` on timeout."""
    mb = guest.mailbox(handle)
    while True:
        sig = guest.take(mb)
        if sig is not None:
            break
        if timeout is not None and timeout <= 0:
            return NONE32
        if timeout is None and guest.park((mb,)):
            continue
        sig = guest.call(_recv, mb, timeout)
        if sig is None:
            return NONE32
        break
    return guest.signals.add(sig)


def _recv(guest, mb, timeout):
    return guest.kernel_wait(mb.recv, timeout)


@hostfunc(_NS, "recv", (I32,), (I32,))
def recv(guest, handle):
    return receive(guest, handle)


@hostfunc(_NS, "try_recv", (I32,), (I32,))
def try_recv(guest, handle):
    return receive(guest, handle, 0)


def select(guest, handles_ptr, handles_len, timeout=None):
    """``(index << 32) | signal`` for the first of several mailboxes to
    deliver, waiting up to `timeout` seconds; -1 on timeout."""
    mailboxes = tuple(guest.mailbox(h) for h in guest.memory.read_u32s(handles_ptr, handles_len))
    if not mailboxes:
        raise GuestTrap("needs at least one mailbox")
    while True:
        for index, mb in enumerate(mailboxes):
            sig = guest.take(mb)
            if sig is not None:
                return index << 32 | guest.signals.add(sig)
        if timeout is not None and timeout <= 0:
            return -1
        if timeout is None and guest.park(mailboxes):
            continue
        got = guest.call(_select, mailboxes, timeout)
        if got is None:
            return -1
        mb, sig = got
        return mailboxes.index(mb) << 32 | guest.signals.add(sig)


def _select(guest, mailboxes, timeout):
    return guest.kernel_wait(guest.proc.select, mailboxes, timeout)


@hostfunc(_NS, "poll", (I32, I32), (I64,))
def poll(guest, handles_ptr, handles_len):
    return select(guest, handles_ptr, handles_len)


@hostfunc(_NS, "destroy_signal", (I32,), ())
def destroy_signal(guest, handle):
    guest.signals.remove(handle)


def signal_of(guest, handle, *kinds):
    """The signal at `handle`, which must be of one of `kinds`."""
    sig = guest.signals.get(handle)
    if type(sig) not in kinds:
        wanted = " or ".join(k.__name__ for k in kinds)
        raise GuestTrap(f"signal {handle} is a {type(sig).__name__}, not a {wanted}")
    return sig


@hostfunc(_NS, "get_signal_kind", (I32,), (I32,))
def get_signal_kind(guest, handle):
    sig = guest.signals.get(handle)
    if type(sig) is Message:
        return KIND_MESSAGE
    return KIND_DOWN if type(sig) is Down else KIND_EXIT


@hostfunc(_NS, "get_down_capability", (I32,), (I32,))
def get_down_capability(guest, handle):
    return signal_of(guest, handle, Down, Exit).cap.handle


@hostfunc(_NS, "get_message_data_len", (I32,), (I32,))
def get_message_data_len(guest, handle):
    return len(signal_of(guest, handle, Message).data)


@hostfunc(_NS, "get_message_data", (I32, I32), ())
def get_message_data(guest, handle, dst_ptr):
    guest.memory.write(dst_ptr, signal_of(guest, handle, Message).data)


@hostfunc(_NS, "get_message_caps_num", (I32,), (I32,))
def get_message_caps_num(guest, handle):
    return len(signal_of(guest, handle, Message).caps)


@hostfunc(_NS, "get_message_caps", (I32, I32), ())
def get_message_caps(guest, handle, dst_ptr):
    caps = signal_of(guest, handle, Message).caps
    guest.memory.write_u32s(dst_ptr, [c.handle for c in caps])
