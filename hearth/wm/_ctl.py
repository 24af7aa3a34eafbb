"""``hearth-ctl terminals``: the window manager's terminals, which has the
keyboard, and each one's screen text (docs/wm.md).

It asks the service registered as ``hearth.wm`` (the stock ``wm`` client
service) its ``"terminals"`` request. The command switches greenlets (it
waits for the answer); the rest never.
"""

from hearth.otp import ServiceError, lookup, request

__all__ = ["WM", "add_arguments", "cmd_terminals", "render"]

WM = "wm"  # init registers the stock service under its name
TIMEOUT = 10.0


def add_arguments(parser):
    """The options of ``hearth-ctl terminals`` (only ``--json``, the
    common one). Switches: never."""
    parser.add_argument("--no-screen", action="store_true",
                        help="leave out each terminal's screen text")


def render(rows, screens=True):
    """The text for people: one header line a terminal, then its screen.
    Switches: never."""
    if not rows:
        return "(no terminals)"
    out = []
    for r in rows:
        mark = "*" if r["focused"] else " "
        out.append(f"{mark} terminal {r['id']}: {r['columns']}x{r['rows']}"
                   f" pid {r.get('pid')} {' '.join(r.get('command') or ())}"
                   + ("  (has the keyboard)" if r["focused"] else ""))
        if screens:
            lines = list(r.get("lines") or ())
            while lines and not lines[-1].strip():
                lines.pop()
            out.extend("  | " + line.rstrip() for line in lines)
    return "\n".join(out)


def terminals(root, timeout=TIMEOUT):
    """The wm's answer to ``"terminals"``. Raises ServiceError
    (``not_found``: no wm). Switches: always."""
    wm = lookup(root, WM, timeout=timeout)
    if wm is None:
        raise ServiceError("not_found", f"no window manager is registered as {WM!r} (is the"
                           " wm service running in this client? `hearth-ctl services`)")
    try:
        return request(wm, "terminals", timeout=timeout)
    finally:
        wm.release()


def cmd_terminals(args, root, out):
    """``(data, text)`` for hearth-ctl's printer. Switches: always."""
    rows = terminals(root)
    data = {"terminals": rows, "focused": next((r["id"] for r in rows if r["focused"]), None)}
    return data, render(rows, screens=not getattr(args, "no_screen", False))
