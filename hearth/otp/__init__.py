"""hearth.otp — OTP behaviours on the kernel.

Layer 1: imports `hearth.vm` only.
"""

from ._call import DEFAULT_TIMEOUT, From, call, cast, classify, reply
from ._codec import decode, encode
from ._errors import CallError, CallTimeout, DecodeError, ServerExited

__all__ = [
    "call",
    "cast",
    "reply",
    "classify",
    "From",
    "DEFAULT_TIMEOUT",
    "encode",
    "decode",
    "CallError",
    "CallTimeout",
    "ServerExited",
    "DecodeError",
]
