"""Tests of hearth.native: the native services (docs/protocols.md)."""
