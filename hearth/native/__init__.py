"""hearth.native — native services (time, filesystem, window, renderer, ...).

Layer 2: imports `hearth.vm` and `hearth.otp` only. The catalogue to cover
is PROTOCOLS.md. Built so far: the request/response service helper
(`Service`, `request`) and the time services (`start_time_services`).
"""

from ._service import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    PERMISSION_DENIED,
    Request,
    Service,
    parse_op,
    read_reply,
    request,
    send_request,
    spawn_service,
)
from ._time import (
    SLEEP,
    STOPWATCH_FACTORY,
    TIME_SERVICES,
    TIMER_FACTORY,
    UNIX_TIME,
    TimeServices,
    start_time_services,
)

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_REQUEST",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "Request",
    "Service",
    "parse_op",
    "read_reply",
    "request",
    "send_request",
    "spawn_service",
    "SLEEP",
    "TIMER_FACTORY",
    "STOPWATCH_FACTORY",
    "UNIX_TIME",
    "TIME_SERVICES",
    "TimeServices",
    "start_time_services",
]
