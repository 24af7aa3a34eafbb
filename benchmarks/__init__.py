"""Hearth's benchmarks: ``python -m benchmarks [NAME ...] [--json] [--repeat N]``.

Every figure is measured beside a baseline (raw gevent, pykka) in the same
run and reported as a ratio; see docs/benchmarks.md. This package is never
collected by pytest, and it imports nothing here on purpose: the entry point,
`benchmarks.__main__`, must monkey-patch gevent before anything else loads.
"""
