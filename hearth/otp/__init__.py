"""hearth.otp — OTP behaviours on the kernel (gen_server, supervisor, ...).

Layer 1: imports `hearth.vm` only. Being built under issue 3.
"""

__all__ = []
