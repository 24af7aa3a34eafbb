"""hearth.tui — the urwid inspector that attaches to a running runtime.

Layer 3. Built by the IPC/TUI issue.
"""

__all__ = []
