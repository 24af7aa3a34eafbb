"""Lumps larger than one message: the upload and download sessions of
``hearth.Inspector``.

A message over the network is bounded (``hearth.net``'s frame limit, 64
MiB), so `hearth-ctl lump put` and `lump get` move a large lump in chunks,
each a request to a *session*: a short-lived process the inspector starts
for one transfer and whose capability it hands to the tool.

Upload (``lump_upload`` to the inspector, answered with a capability to an
`Upload` session):

=====================================  =====================================
request                                ``ok`` value
=====================================  =====================================
``["chunk", offset, data]``            ``{"received": n}``: bytes so far;
                                       `offset` must be that count (chunks
                                       in order, none twice)
``["finish", expect]``                 the lump id: the bytes stored as a
                                       lump, checked against `expect` (the
                                       id the sender computed, or nil);
                                       the session ends
``"abort"``                            ``{"aborted": true}``; the session
                                       ends
=====================================  =====================================

Download (``lump_download``, answered with the lump's size and a
capability to a `Download` session):

=====================================  =====================================
``["read", offset, length]``           the bytes ``[offset, offset +
                                       length)`` of the lump (fewer at its
                                       end); `length` at most `MAX_CHUNK`
``"close"``                            ``{"closed": true}``; the session
                                       ends
=====================================  =====================================

Bounds: an upload spools to a temporary file (in the lump store's
directory, else the system's), never to memory, and may not grow past the
size declared when it began; a session ends after `IDLE` seconds without a
request, when the tool's capability given as the owner goes away (its
connection closed), or when it is finished; the inspector runs at most
`MAX_SESSIONS` at once. The data is hashed and stored (or read and
checked) on a native thread, off the hub.
"""

import logging
import tempfile

from hearth import vm
from hearth.vm import MONITOR, SEND, Down, LumpCorrupt, LumpNotFound

from ._service import INVALID_REQUEST, NOT_FOUND, Service, ServiceError
from ._wasm_spawner import run_off_hub

__all__ = ["Upload", "Download", "MAX_CHUNK", "IDLE", "MAX_SESSIONS", "MAX_UPLOAD"]

log = logging.getLogger("hearth.native")

MAX_CHUNK = 16 << 20  # bytes of one chunk, well under the network's frame limit
IDLE = 60.0  # seconds a session waits for its next request
MAX_SESSIONS = 4  # transfers at once, per inspector
MAX_UPLOAD = 1 << 30  # bytes one upload may declare (finish reads them whole, to store them)



def _invalid(message):
    return ServiceError(INVALID_REQUEST, message)


class _Session(Service):
    """What both sessions share: the idle deadline and the owner's Down."""

    def __init__(self, owner):
        super().__init__()
        self.deadline = self.clock.now() + IDLE
        self.owner_ref = owner.monitor() if owner is not None else None

    def touch(self):
        self.deadline = self.clock.now() + IDLE

    def next_deadline(self):
        return self.deadline

    def handle_deadline(self, now):
        log.info("%s (pid %s) ended: no request for %.0f s", self.name, self.proc.pid, IDLE)
        vm.exit("normal")

    def handle_info(self, sig):
        sig.cap.release()
        if type(sig) is Down and sig.ref == self.owner_ref:
            vm.exit("normal")  # the tool went away


class Upload(_Session):
    """One upload: chunks in order into a temporary file, then a lump.

    Args:
        size: the number of bytes the sender will send.
        owner: a capability (MONITOR) of the sender's; None for none.
    """

    name = schema = "hearth.Inspector.upload"

    def __init__(self, size, owner=None):
        super().__init__(owner)
        self.size = size
        self.received = 0
        lumps = self.proc.runtime.lumps
        self.file = tempfile.TemporaryFile(prefix=".upload-", dir=lumps.root)

    def serve(self):
        try:
            super().serve()
        finally:
            self.file.close()  # a temporary file: closing removes it

    def handle_request(self, request):
        op, fields = self.parse(request)
        self.touch()
        if op == "chunk":
            offset, data = fields["offset"], fields["data"]
            if offset != self.received:
                raise _invalid(f"expected the chunk at offset {self.received}, not {offset!r}")
            if self.received + len(data) > self.size:
                raise _invalid(f"{self.received + len(data)} bytes is more than the"
                               f" {self.size} declared")
            self.file.write(data)
            self.received += len(data)
            return {"received": self.received}
        if op == "abort":
            request.reply({"aborted": True})
            vm.exit("normal")
        expect = fields["expect"]
        if self.received != self.size:
            raise _invalid(f"{self.received} of the {self.size} declared bytes came")
        self.file.flush()
        result = run_off_hub(_store, self.file, self.proc.runtime.lumps, expect)
        if isinstance(result, LumpCorrupt):
            request.fail(INVALID_REQUEST, f"the data does not match the expected id: {result}")
        else:
            request.reply(result)
        vm.exit("normal")


def _store(file, lumps, expect):
    # On a native thread: read the spooled bytes back, hash and store them.
    file.seek(0)
    data = file.read()
    try:
        return bytes(lumps.put(data, expect=expect))
    except LumpCorrupt as e:
        return e


class Download(_Session):
    """One download: the lump read (and checked) once, then served by ranges.

    Args:
        lump: the lump's id.
        owner: a capability (MONITOR) of the reader's; None for none.
    """

    name = schema = "hearth.Inspector.download"

    def __init__(self, lump, owner=None):
        super().__init__(owner)
        self.lump = lump
        self.data = None

    def handle_request(self, request):
        op, fields = self.parse(request)
        self.touch()
        if op == "close":
            request.reply({"closed": True})
            vm.exit("normal")
        offset, length = fields["offset"], fields["length"]  # length <= MAX_CHUNK
        if self.data is None:
            got = run_off_hub(_load, self.proc.runtime.lumps, self.lump)
            if isinstance(got, Exception):
                raise ServiceError(NOT_FOUND, f"lump {self.lump.hex()}: {got}")
            self.data = got
        return self.data[offset:offset + length]


def _load(lumps, lid):
    # On a native thread: the lump's bytes, checked against its id.
    try:
        return lumps.get(lid)
    except (LumpNotFound, LumpCorrupt) as e:
        return e


def session_cap(cap):
    """The capability a tool gets to a session: SEND and MONITOR (it can
    neither kill nor link to it). Switches: never."""
    return cap.demote(SEND | MONITOR)
