"""The kernel's exceptions: one flat module, each saying when it is raised.

Every error a kernel call raises is raised *before* anything is queued or
changed, so a caller that catches it has lost nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HearthError",
    "InvalidHandle",
    "PermissionDenied",
    "ForeignCapability",
    "PayloadError",
    "BadReason",
    "MailboxClosed",
    "NotInProcess",
    "Misuse",
    "ProcessExit",
    "LumpNotFound",
    "LumpCorrupt",
    "ModuleError",
    "QuotaExceeded",
]


class HearthError(Exception):
    """Base class of every error the kernel raises on purpose."""


class InvalidHandle(HearthError, LookupError):
    """A capability or mailbox handle was released, destroyed or never existed.

    The caller's fault: it used a handle after giving up its last reference
    (rule V2), or a mailbox after destroying it.
    """


class PermissionDenied(HearthError):
    """The capability lacks a permission the operation needs (rules V3, V6).

    The caller's fault: it was handed a weaker capability than it assumed.
    """


class ForeignCapability(HearthError):
    """A capability or mailbox of another process's table was used.

    The caller's fault: handles mean nothing outside the table that holds
    them. Pass capabilities to another process inside a message instead.
    """


class PayloadError(HearthError, TypeError):
    """A message payload was not bytes, or a capability list held a non-capability.

    The caller's fault. Messages carry immutable bytes (rule V12) and
    capabilities of the sender's own table.
    """


class BadReason(HearthError, TypeError):
    """An exit reason was not plain data (str, int, float, bytes, bool, None,
    and tuples, lists or string-keyed dicts of these).

    The caller's fault: exit reasons cross the network and the guest ABI, so
    a live object such as an exception can't be one.
    """


class MailboxClosed(HearthError):
    """`recv` or `try_recv` found the mailbox closed and drained (rule V11).

    Nobody's fault: the mailbox was destroyed and every queued signal has been
    taken. It will never deliver again.
    """


class NotInProcess(HearthError):
    """A call that acts as the current process ran outside any process.

    The caller's fault: spawn a process, or attach the calling greenlet with
    `Runtime.open_process()`, first.
    """


class Misuse(HearthError):
    """A kernel call was made in a state where it makes no sense.

    The caller's fault; the message says what was wrong (for example
    destroying mailbox 0, or attaching a greenlet that already is a process).
    """


class LumpNotFound(HearthError, LookupError):
    """No lump with this id is in the store.

    The caller's fault when it names an id it never stored, or one that came
    from an untrusted source (a guest, a peer). Nobody's fault after a lump's
    file failed its check and was quarantined: `put` the data again to heal
    it. Lumps that live on a peer are fetched by the network layer (rule N6)
    before anyone asks the store for them. Carries the id as ``lump_id``.
    """

    def __init__(self, lump_id: bytes) -> None:
        super().__init__(f"no lump {lump_id.hex()}")
        self.lump_id = lump_id


class LumpCorrupt(HearthError):
    """Bytes did not hash to the id they were read or received as.

    Nobody's fault inside Hearth when a file on disk fails the check: the disk
    or something outside the store changed it (bit rot, a truncated copy, a
    hand edit). The file has been moved aside to ``quarantine_path`` (None if
    another thread or process moved or replaced it first); `put` the data
    again to heal the store. The sender's fault when it is raised by
    ``put(data, expect=id)``: a peer sent bytes that are not the lump it
    promised, and nothing was stored. Carries ``lump_id`` (the id expected)
    and ``actual_id`` (the digest of the bytes found).
    """

    def __init__(
        self,
        lump_id: bytes,
        actual_id: bytes,
        quarantine_path: str | None = None,
        what: str = "lump",
    ) -> None:
        where = f"; moved to {quarantine_path}" if quarantine_path else ""
        super().__init__(
            f"{what} {lump_id.hex()} is corrupt: its bytes hash to {actual_id.hex()}{where}"
        )
        self.lump_id = lump_id
        self.actual_id = actual_id
        self.quarantine_path = quarantine_path


class ModuleError(HearthError):
    """A lump could not be compiled as a WebAssembly module.

    The fault of whoever chose the lump to run (the spawner's caller): its
    bytes are not wasm, are malformed wasm, are WAT text that doesn't parse,
    or use features the engine doesn't enable. Carries ``lump_id`` and
    ``detail``, wasmtime's own message.
    """

    def __init__(self, lump_id: bytes, detail: str) -> None:
        super().__init__(f"lump {lump_id.hex()} is not a usable wasm module: {detail}")
        self.lump_id = lump_id
        self.detail = detail


class QuotaExceeded(HearthError):
    """A spawn or a store would take an account past its `GuestLimits`.

    The fault of the account's party (a peer, or the guests spawned for
    it): it holds as much as it may. The message says which limit and how
    to make room. Nothing was spawned or stored.
    """


class ProcessExit(BaseException):
    """Unwinds a process that is exiting; carries its exit reason.

    A `BaseException`, like gevent's `GreenletExit`, so that code catching
    `Exception` can't swallow a kill. Raise it through `hearth.vm.exit()`
    rather than directly. A process that swallows it anyway is still dead:
    the kernel raises it again at the process's next kernel call.
    """

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason
