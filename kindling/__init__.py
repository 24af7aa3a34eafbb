"""Kindling — Hearth's userland: init, stock services, the guest SDK.

Layer 4. Built by the kindling issue. `kindling.sdk` is the C guest SDK and
its build command (``python -m kindling.sdk build FILE.c -o OUT.wasm``).
"""

__all__ = []
