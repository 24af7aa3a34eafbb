"""hearth.shell — Hibashi, the Hearth shell: Python inside a running runtime.

Layer 3. ``hearth.Shell`` (`start_shell`, started by ``hearth-server`` and
``hearth-client``) opens sessions: each evaluates Python source in a
Hearth process of its own, with its own mailbox, on a namespace that
outlives it (`hearth.shell._session`), with Erlang-named helpers (``ps()``,
``i(pid)``, ``c(path)``, ``r(name)``, ...: `HELP`). ``hibashi`` (`main`)
and ``hearth-ctl shell`` attach over the IPC socket and run `interact`.
Only the IPC socket's owner reaches the service: it is never in a peer's
view (`hearth._views.NEVER_EXPOSED`). docs/shell.md has the details.

Public: `SHELL`, `start_shell`, `Settings`, `interact`, `HELP`, `main`.
"""

__all__ = ["SHELL", "HELP", "Settings", "start_shell", "interact", "main"]

_LAZY = {
    "SHELL": "._service",
    "Settings": "._service",
    "start_shell": "._service",
    "interact": "._frontend",
    "HELP": "._helpers",
}


def __getattr__(name):
    # Lazy, so that `hibashi` (whose entry point is `main` here) can
    # monkey-patch gevent before anything imports gevent or the kernel.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hearth.shell' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


def main(argv=None):
    """The ``hibashi`` command. Returns the exit code."""
    from ._main import main as _main

    return _main(argv)
