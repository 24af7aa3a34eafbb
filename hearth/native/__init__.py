"""hearth.native — native services (time, filesystem, window, renderer, ...).

Layer 2. The catalogue to cover is PROTOCOLS.md; built by later issues.
"""

__all__ = []
