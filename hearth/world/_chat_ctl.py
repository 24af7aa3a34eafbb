"""``hearth-ctl chat``: post to the bundled chat room and read its log.

``hearth-ctl chat say TEXT [--as NAME]`` posts TEXT (from NAME, default
the login name); ``hearth-ctl chat log`` prints the last lines. Against a
server's IPC socket it reaches the server's ``chat`` service; against a
client's, which has no chat of its own, it reaches the chat of the server
the client is connected to (``hearth.server`` in the client's registry),
through the client's connection: the post is then the client's peer's,
and the room holds it to a peer's bounds and the name its connection
posts as (kindling/root/init/chat). Like the other commands, `cmd_chat`
runs in a Hearth process and returns ``(data for --json, text for
people)``; errors are `ServiceError`s (``not_found``: no chat in sight).
Switches: always.
"""

import getpass

from hearth.otp import ServiceError, lookup, request

__all__ = ["register", "add_arguments", "cmd_chat", "find_chat"]

CHAT = "chat"
SERVER = "hearth.server"  # a client's connection to its server, in its registry
TIMEOUT = 15.0


def add_arguments(parser, common):
    """``say TEXT [--as NAME]`` and ``log``. Switches: never."""
    sub = parser.add_subparsers(dest="chat_command", metavar="say|log")
    sub.required = True
    say = sub.add_parser("say", help="post TEXT to the chat room", parents=[common])
    say.add_argument("text", metavar="TEXT")
    say.add_argument("--as", dest="name", default=None, metavar="NAME",
                     help="the name to post as (default: your login name); a client's"
                          " connection keeps the first name it posts as")
    sub.add_parser("log", help="print the chat room's last lines", parents=[common])


def register(add, common, commands):
    """hearth-ctl's registration: the ``chat`` parser (through its `add`)
    and command. Switches: never."""
    add_arguments(add(CHAT, "post to the chat room, or read its last lines (a server's,"
                            " or the one of the server a client is connected to)"), common)
    commands[CHAT] = cmd_chat


def find_chat(root):
    """The chat room in sight of `root`: its own ``chat``, else the one of
    the server a client's registry is connected to. Switches: always."""
    chat = lookup(root, CHAT, timeout=TIMEOUT)
    if chat is not None:
        return chat
    server = lookup(root, SERVER, timeout=TIMEOUT)
    if server is not None:
        try:
            chat = lookup(server, CHAT, timeout=TIMEOUT)
        finally:
            server.release()
        if chat is not None:
            return chat
        raise ServiceError("not_found", "the server this client is connected to runs no"
                           f" {CHAT!r} service")
    raise ServiceError("not_found", f"no {CHAT!r} service here, and no server connection"
                       f" ({SERVER!r}) to reach one through")


def cmd_chat(args, root, out):
    chat = find_chat(root)
    try:
        if args.chat_command == "say":
            name = args.name or getpass.getuser()
            members = request(chat, ["post", args.text, name], timeout=TIMEOUT)
            return {"posted": args.text, "from": name, "members": members}, \
                f"posted as {name} ({members} member(s) got it)"
        lines = list(request(chat, "log", timeout=TIMEOUT))
        text = "\n".join(f"{ln['from'] or '-'}: {ln['text']}" for ln in lines)
        return lines, text or "nothing posted yet"
    finally:
        chat.release()
