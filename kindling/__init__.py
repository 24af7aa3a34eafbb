"""Kindling — Hearth's userland: init, stock services, the guest SDK.

Layer 4. Built by the kindling issue.
"""

__all__ = []
