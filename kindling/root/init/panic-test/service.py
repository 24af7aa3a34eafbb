"""panic-test: a service that crashes on purpose, to watch its supervisor
restart it.

Requests (docs/protocols.md's request/response convention, any op form of
`hearth.native.parse_op`):

``"ping"``
    ok: ``"pong"``.
``"pid"``
    ok: this incarnation's pid (a restart gives a new one).
``"panic"``, ``["panic", seconds]``, ``{"op": "panic", "seconds": s}``
    ok: ``"panicking"``; then, once `seconds` (default 0) have passed on
    the runtime's clock, the process crashes with a ``PanicTest`` error.
    The reply is sent first, so a client sees its answer and then the
    Down. Other requests are served until the crash is due.

Malformed requests get ``invalid_request`` replies.
"""

import math

from hearth import vm
from hearth.native import INVALID_REQUEST, Service, parse_op
from hearth.otp import ServiceError

OPS = {"ping": (), "pid": (), "panic": ("seconds",)}


class PanicTest(RuntimeError):
    """The crash panic-test was asked for."""


class PanicTestService(Service):
    name = "panic-test"

    def __init__(self):
        super().__init__()
        self.panic_at = None

    def handle_request(self, request):
        op, fields = parse_op(request.term, OPS, {"seconds": 0})
        if op == "ping":
            return "pong"
        if op == "pid":
            return self.proc.pid
        seconds = fields["seconds"]
        if (type(seconds) not in (int, float) or not math.isfinite(seconds) or seconds < 0):
            raise ServiceError(INVALID_REQUEST, "seconds is a finite number >= 0")
        at = self.clock.now() + seconds
        if self.panic_at is None or at < self.panic_at:
            self.panic_at = at
        return "panicking"

    def next_deadline(self):
        return self.panic_at

    def handle_deadline(self, now):
        raise PanicTest("panic-test crashed on purpose, as it was asked to")


def main(registry):
    """The process body: serve until asked to crash."""
    PanicTestService().serve()
