"""clock: tells the time and echoes.

Requests (docs/protocols.md's request/response convention, any op form of
`hearth.native.parse_op`):

``"now"``, ``["now"]``, ``{"op": "now"}``
    ok: an int, nanoseconds since the epoch, read from ``hearth.UnixTime``
    (looked up in the service's registry; its only need).
``["echo", value]``, ``{"op": "echo", "value": v}`` (bare ``"echo"``: nil)
    ok: `value`, unchanged (capabilities in it come back too).

Errors: ``invalid_request`` for a malformed request; ``unavailable`` when
``hearth.UnixTime`` is not registered, does not answer or fails. The
service keeps serving either way.

The time service's capability is cached and monitored: when its process
goes (a restart, say), the next "now" looks it up again. Asking it blocks
this service for one round trip (at most `TIMEOUT` seconds).
"""

from hearth import vm
from hearth.native import Service, parse_op, request
from hearth.otp import CallTimeout, ServerExited, ServiceError, lookup

UNIX_TIME = "hearth.UnixTime"
UNAVAILABLE = "unavailable"
TIMEOUT = 5.0

OPS = {"now": (), "echo": ("value",)}


class Clock(Service):
    name = "clock"

    def __init__(self, registry):
        super().__init__()
        self.registry = registry
        self.unix_time = None  # cached capability of hearth.UnixTime
        self.unix_ref = None   # its monitor

    def handle_request(self, request):
        op, fields = parse_op(request.term, OPS, {"value": None})
        if op == "echo":
            return fields["value"]
        return self.now()

    def now(self):
        service = self._unix_time()
        try:
            value = request(service, "now", timeout=TIMEOUT)
        except (CallTimeout, ServerExited) as e:
            self._forget()
            raise ServiceError(UNAVAILABLE, f"{UNIX_TIME} did not answer: {e}") from None
        except ServiceError as e:
            raise ServiceError(UNAVAILABLE, f"{UNIX_TIME} failed: {e.kind}: {e.message}") from None
        if type(value) is not int:
            raise ServiceError(UNAVAILABLE, f"{UNIX_TIME} replied {value!r}, not an int")
        return value

    def _unix_time(self):
        if self.unix_time is None:
            try:
                cap = lookup(self.registry, UNIX_TIME, timeout=TIMEOUT)
            except (CallTimeout, ServerExited, ServiceError) as e:
                raise ServiceError(UNAVAILABLE, f"the registry did not answer: {e}") from None
            if cap is None:
                raise ServiceError(UNAVAILABLE, f"{UNIX_TIME} is not registered")
            self.unix_time = cap
            if cap.permissions & vm.MONITOR:
                self.unix_ref = cap.monitor()
        return self.unix_time

    def _forget(self):
        if self.unix_time is not None:
            if self.unix_ref is not None:
                self.proc.demonitor(self.unix_ref, flush=True)
            self.unix_time.release()
            self.unix_time = self.unix_ref = None

    def handle_info(self, sig):
        if type(sig) is vm.Down and sig.ref == self.unix_ref:
            self.unix_ref = None
            self._forget()
        sig.cap.release()


def main(registry):
    """The process body: serve requests on the parent mailbox."""
    Clock(registry).serve()
