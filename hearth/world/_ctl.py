"""``hearth-ctl world``: list the shared world's entities, or remove one.

Registered by `hearth.ctl` (``add_arguments`` and ``cmd_world``); like the
other commands, `cmd_world` runs inside a Hearth process with the root
registry the IPC socket exports, and returns ``(data for --json, text for
people)``. Removing goes through ``hearth.World.Admin``, which only the
operator's registry holds. Errors are `ServiceError`s, which hearth-ctl
turns into its exit codes (``not_found`` is 4). Switches: always.
"""

from hearth.otp import ServiceError, lookup, request

from ._chat_ctl import register as register_chat
from ._world import WORLD, WORLD_ADMIN

__all__ = ["add_arguments", "cmd_world", "register_chat"]

TIMEOUT = 15.0
COLUMNS = [("ID", "id", ">"), ("OWNER", "owner", "<"), ("LABEL", "label", "<"),
           ("POSITION", "position", "<"), ("PERSISTENT", "persistent", "<")]


def add_arguments(parser, common):
    """Add ``list`` (the default) and ``remove ID`` to `parser`; `common`
    is hearth-ctl's parent parser (``--json``). Switches: never."""
    sub = parser.add_subparsers(dest="world_command", metavar="list|remove")
    sub.add_parser("list", help="list the entities: id, owner, label, position",
                   parents=[common])
    rm = sub.add_parser("remove", help="remove entity ID (through hearth.World.Admin)",
                        parents=[common])
    rm.add_argument("id", type=int, metavar="ID")


def _service(root, name):
    cap = lookup(root, name, timeout=TIMEOUT)
    if cap is None:
        raise ServiceError("not_found", f"no service is registered as {name!r}: this runtime"
                           " runs no world, or its registry does not show it to you")
    return cap


def _position(entity):
    x, y, z = entity["transform"][12:15]
    return f"{x:g} {y:g} {z:g}"


def cmd_world(args, root, out):
    if getattr(args, "world_command", None) == "remove":
        request(_service(root, WORLD_ADMIN), ["remove", args.id], timeout=TIMEOUT)
        return {"removed": args.id}, f"removed entity {args.id}"
    entities = list(request(_service(root, WORLD), "list", timeout=TIMEOUT))
    rows = []
    for e in entities:
        row = dict(e)
        row["position"] = list(e["transform"][12:15])
        rows.append(row)
    text_rows = [dict(r, position=_position(r), persistent="yes" if r["persistent"] else "no")
                 for r in rows]
    return rows, _table(text_rows) if rows else "the world is empty"


def _table(rows):
    cells = [["-" if r.get(k) is None else str(r[k]) for _, k, _ in COLUMNS] for r in rows]
    widths = [max([len(t)] + [len(c[i]) for c in cells]) for i, (t, _, _) in enumerate(COLUMNS)]

    def line(values):
        return "  ".join(v.rjust(w) if a == ">" else v.ljust(w)
                         for (_, _, a), w, v in zip(COLUMNS, widths, values)).rstrip()

    return "\n".join([line([t for t, _, _ in COLUMNS])] + [line(c) for c in cells])
