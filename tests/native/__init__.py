"""Tests of hearth.native: the native services (PROTOCOLS.md)."""
