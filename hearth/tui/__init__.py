"""hearth.tui — the urwid inspector that attaches to a running runtime.

Layer 3. `hearth-tui` attaches to the IPC daemon's socket (the same rules
as `hearth-ctl`: ``$HEARTH_SOCK``, ``$XDG_RUNTIME_DIR/hearth.sock``, the
per-user fallback) and shows, live, the process table, the details of the
selected process, the supervision tree and the log; ``--demo`` shows a
small live runtime of its own instead. See docs/ctl.md.

Public: `InspectorApp` (the screen over a data source), `InspectorSource`
(the source that asks ``hearth.Inspector``), `Disconnected`,
`ActionFailed`, `GeventEventLoop` (urwid's event loop on gevent's hub),
`main`.
"""

__all__ = [
    "InspectorApp",
    "InspectorSource",
    "Disconnected",
    "ActionFailed",
    "GeventEventLoop",
    "HELP",
    "main",
]


_LAZY = {
    "InspectorApp": "._app",
    "HELP": "._app",
    "GeventEventLoop": "._loop",
    "InspectorSource": "._source",
    "Disconnected": "._source",
    "ActionFailed": "._source",
}


def __getattr__(name):
    # Lazy, so that `hearth-tui` (whose entry point is `main` here) can
    # monkey-patch gevent before anything imports gevent or the kernel.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hearth.tui' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


def main(argv=None):
    """The ``hearth-tui`` command. Returns the exit code."""
    from ._main import main as _main

    return _main(argv)
