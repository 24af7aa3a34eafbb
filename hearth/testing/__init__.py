"""Test support for Hearth and for programs built on it.

The pytest plugin (`hearth.testing.plugin`) is loaded automatically once
Hearth is installed; see its docstring for the fixtures it provides.
"""

__all__ = ["plugin"]
