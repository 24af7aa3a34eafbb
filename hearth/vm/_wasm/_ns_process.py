"""``hearth::process``: the Hearth extensions of the original ABI.

Links, trapping exits, exit reasons, receive timeouts, a Down's reason, and
spawning a function of the guest's own module as a new guest. Every call is
documented in docs/abi.md. Reasons cross this boundary as msgpack.
"""

import msgpack

from .._errors import BadReason
from .._perms import KILL, LINK
from .._reasons import check_reason
from .._signals import Down, Exit
from ._abi import I32, I64, hostfunc
from ._engine import SPAWN_ENTRY
from ._errors import GuestExit, GuestTrap
from ._host import spawn_as
from ._ns_mailbox import receive, select, signal_of

__all__ = ["decode_reason", "encode_reason"]

_NS = "hearth::process"


def encode_reason(reason):
    """An exit reason as msgpack (tuples become arrays)."""
    return msgpack.packb(reason, use_bin_type=True)


def decode_reason(data):
    """A reason from msgpack; anything else traps."""
    try:
        reason = msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True)
    except Exception as e:  # msgpack raises several types for bad input
        raise GuestTrap(f"the reason is not msgpack: {type(e).__name__}: {e}") from None
    try:
        return check_reason(reason)
    except BadReason as e:
        raise GuestTrap(f"bad reason: {e}") from None


def _timeout(nanos):
    if nanos < 0:
        raise GuestTrap(f"a timeout can't be negative ({nanos} ns)")
    return nanos / 1e9


# -- links and exits --------------------------------------------------------------


@hostfunc(_NS, "link", (I32,), ())
def link(guest, handle):
    guest.call(_link, guest.cap(handle, LINK)._route)


def _link(guest, route):
    guest.proc._link(route._proc)


@hostfunc(_NS, "unlink", (I32,), ())
def unlink(guest, handle):
    guest.call(_unlink, guest.cap(handle, LINK)._route)


def _unlink(guest, route):
    guest.proc._unlink(route._proc)


@hostfunc(_NS, "trap_exit", (I32,), (I32,))
def trap_exit(guest, flag):
    return guest.call(_trap_exit, bool(flag))


def _trap_exit(guest, flag):
    return int(guest.proc.trap_exit(flag))


@hostfunc(_NS, "pid", (), (I64,))
def pid(guest):
    # A pid never changes: read here, on the guest's thread, without a hop.
    return guest.proc.pid


@hostfunc(_NS, "now", (), (I64,))
def now(guest):
    # The runtime's clock (monotonic; a test's virtual clock), read here:
    # a clock read touches nothing of the kernel's.
    return int(guest.host.runtime.clock.now() * 1e9)


@hostfunc(_NS, "exit", (I32, I32), ())
def exit(guest, reason_ptr, reason_len):
    guest.exit_reason = decode_reason(guest.memory.read(reason_ptr, reason_len))
    raise GuestExit


@hostfunc(_NS, "exit_with", (I32, I32, I32), ())
def exit_with(guest, handle, reason_ptr, reason_len):
    route = guest.cap(handle, KILL)._route
    reason = decode_reason(guest.memory.read(reason_ptr, reason_len))
    guest.call(_exit_with, route, reason)


def _exit_with(guest, route, reason):
    guest.proc._send_exit(route._proc, reason)


# -- receiving with a timeout, and a Down's reason --------------------------------------


@hostfunc(_NS, "recv_timeout", (I32, I64), (I32,))
def recv_timeout(guest, handle, nanos):
    return receive(guest, handle, _timeout(nanos))


@hostfunc(_NS, "poll_timeout", (I32, I32, I64), (I64,))
def poll_timeout(guest, handles_ptr, handles_len, nanos):
    return select(guest, handles_ptr, handles_len, _timeout(nanos))


@hostfunc(_NS, "get_down_reason_len", (I32,), (I32,))
def get_down_reason_len(guest, handle):
    return len(encode_reason(signal_of(guest, handle, Down, Exit).reason))


@hostfunc(_NS, "get_down_reason", (I32, I32), ())
def get_down_reason(guest, handle, dst_ptr):
    guest.memory.write(dst_ptr, encode_reason(signal_of(guest, handle, Down, Exit).reason))


# -- spawning ------------------------------------------------------------------------------


def _spawner(abi_name, link=False, monitor=False):
    params = (I32, I32, I32, I32) if monitor else (I32, I32, I32)

    @hostfunc(_NS, abi_name, params, (I32,))
    def spawn(guest, index, caps_ptr, caps_len, mailbox=None):
        if not guest.spec.module.has(SPAWN_ENTRY):
            raise GuestTrap(f"the module exports no function `{SPAWN_ENTRY}`")
        watcher = guest.mailbox(mailbox) if monitor else None
        caps = guest.caps(caps_ptr, caps_len)
        return guest.call(_spawn, index, caps, link, watcher)

    spawn.__name__ = abi_name
    return spawn


def _spawn(guest, index, caps, link, watcher):
    spec = guest.spec.child(index)  # same limits, charged to the same account
    monitor = watcher is not None
    result = spawn_as(guest.proc, spec, caps, link=link, monitor=monitor, mailbox=watcher)
    return (result[0] if monitor else result).handle


spawn_by_index = _spawner("spawn_by_index")
spawn_link_by_index = _spawner("spawn_link_by_index", link=True)
spawn_monitor_by_index = _spawner("spawn_monitor_by_index", monitor=True)
