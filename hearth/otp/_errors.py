"""The OTP layer's exceptions."""

from hearth.vm import HearthError

__all__ = ["CallError", "CallTimeout", "ServerExited", "DecodeError"]


class CallError(HearthError):
    """A `call` got no reply. `reason` says why (rule O2).

    Nobody's fault in particular: servers die and get slow. Callers that
    can't go on without the reply let it propagate and crash, as in OTP.
    """

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


class CallTimeout(CallError, TimeoutError):
    """No reply within the timeout; `reason` is ``"timeout"``. A reply that
    comes later is dropped, never seen by the caller."""


class ServerExited(CallError):
    """The server was dead (`reason` ``"noproc"``) or died during the call
    (`reason` is its exit reason)."""


class DecodeError(HearthError, ValueError):
    """A message was not a well-formed msgpack term of this protocol.

    The sender's fault; the receiver drops or error-replies and goes on.
    """
