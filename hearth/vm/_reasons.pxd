# The compiled build of _reasons.py (setup.py; docs/design.md, section 4.1):
# its hot paths' C calls. The .py file stays the source.

cdef _safe_str(exc)
