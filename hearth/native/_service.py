"""The request/response service helper, now `hearth.otp`'s (`Service`,
`Request`, `parse_op`, the start helpers): re-exported here so services
written against ``hearth.native`` keep working. New code imports it from
`hearth.otp`."""

from hearth.otp._service import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    PERMISSION_DENIED,
    REGISTERED_PERMS,
    _ANSWERED,
    _DEFERRED,
    _OPEN,
    Request,
    Service,
    ServiceError,
    parse_op,
    read_reply,
    request,
    send_request,
    spawn_service,
    start_registered,
    start_supervised,
)

__all__ = [
    "INVALID_REQUEST",
    "INTERNAL_ERROR",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "REGISTERED_PERMS",
    "ServiceError",
    "Request",
    "Service",
    "parse_op",
    "spawn_service",
    "start_registered",
    "start_supervised",
    "send_request",
    "read_reply",
    "request",
]
