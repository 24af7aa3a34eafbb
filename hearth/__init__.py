"""Hearth: an always-on, capability-secured actor runtime.

Layers (lower never import higher): `hearth.vm` (the kernel), `hearth.otp`
(behaviours), `hearth.net`, `hearth.native` and `hearth.gfx` (peers, headless native
services, the client's graphical services), `hearth.tui` and the entry
points. See docs/design.md.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
