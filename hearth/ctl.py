"""hearth-ctl: see and steer a running Hearth runtime from the shell.

It attaches to the runtime's IPC daemon socket (``$HEARTH_SOCK``, else
``$XDG_RUNTIME_DIR/hearth.sock``, else ``/tmp/hearth-<uid>/hearth.sock``;
see `hearth._sockpath`), gets the root registry the daemon exports, and
talks to the services in it: ``hearth.Inspector`` for processes, the tree,
logs, reloads, upgrades and lumps; ``hearth.wasm.WasmProcessSpawner`` to
spawn; any registered name for ``send`` and ``call``. docs/ctl.md has the
details.

The command logic is `run`, which runs inside a Hearth process given the
root registry capability, so tests drive it in-process against a real
runtime; `main` finds the socket, connects and calls it.
"""

from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()  # an entry point: the only kind of module that may

import argparse  # noqa: E402
import datetime  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import blake3  # noqa: E402

from hearth import vm  # noqa: E402
from hearth._sockpath import client_socket_path, socket_path  # noqa: E402
from hearth.otp import (  # noqa: E402
    CallError,
    call,
    CallTimeout,
    DecodeError,
    ServerExited,
    ServiceError,
    decode,
    encode,
    is_reply,
    lookup,
    read_reply,
    register,
    registered,
    registry_view,
    request,
    send_request,
)
from hearth.vm import MONITOR, SEND, Cap, Down, HearthError, Message, lump_id  # noqa: E402
from hearth.world import _ctl as _world_ctl  # noqa: E402
from hearth.wm import _ctl as _wm_ctl  # noqa: E402

__all__ = [
    "main",
    "run",
    "build_parser",
    "OK",
    "ERROR",
    "USAGE",
    "NO_RUNTIME",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "INSPECTOR",
    "WASM_SPAWNER",
]

# Exit codes, one per kind of failure a script may want to tell apart.
OK = 0
ERROR = 1  # anything else: a timeout, a failed reload or upgrade, a bug
USAGE = 2  # bad input: unknown subcommand or option, malformed JSON or pid
NO_RUNTIME = 3  # no runtime listens on the socket (or the connection was lost)
NOT_FOUND = 4  # no such process, name, lump or file
PERMISSION_DENIED = 5  # the socket, a file, or the service refused

INSPECTOR = "hearth.Inspector"
INIT = "hearth.init"  # Kindling's init registers itself under this name
WASM_SPAWNER = "hearth.wasm.WasmProcessSpawner"
TIMEOUT = 15.0
CHUNK = 8 << 20  # bytes a request of a lump transfer carries (a message is at most 64 MiB)

_KIND_CODES = {
    "not_found": NOT_FOUND,
    "permission_denied": PERMISSION_DENIED,
    "invalid_request": USAGE,
}

EPILOG = f"""\
exit codes:
  {OK}  ok
  {ERROR}  error (a timeout, a failed reload or upgrade, ...)
  {USAGE}  bad input or usage
  {NO_RUNTIME}  no runtime running (nothing listens on the socket)
  {NOT_FOUND}  not found (process, name, lump, file)
  {PERMISSION_DENIED}  permission denied

The socket is --sock PATH, else $HEARTH_SOCK, else $XDG_RUNTIME_DIR/hearth.sock,
else /tmp/hearth-<uid>/hearth.sock; with --client, a hearth-client's:
$HEARTH_CLIENT_SOCK, else $XDG_RUNTIME_DIR/hearth-client.sock, else
/tmp/hearth-<uid>/hearth-client.sock.
"""


class Failed(Exception):
    """A command failed: `code` is the exit code, `kind` the error kind."""

    def __init__(self, code, message, kind="error"):
        super().__init__(message)
        self.code = code
        self.kind = kind


class _Exit(Exception):
    def __init__(self, code, message=None):
        super().__init__(code)
        self.code = code
        self.message = message


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that writes to given streams and never calls
    `sys.exit` (so `run` can be driven in-process)."""

    out = sys.stdout
    err = sys.stderr

    def _print_message(self, message, file=None):
        if message:
            (self.err if file is sys.stderr else self.out).write(message)

    def print_help(self, file=None):
        self.out.write(self.format_help())

    def exit(self, status=0, message=None):
        if message:
            self.err.write(message)
        raise _Exit(status)

    def error(self, message):
        self.print_usage(sys.stderr)
        self.err.write(f"{self.prog}: error: {message}\n")
        raise _Exit(USAGE, f"{self.prog}: {message}")


# -- the parser ---------------------------------------------------------------------------


def _pid(text):
    try:
        pid = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a pid is an integer, not {text!r}") from None
    if pid <= 0:
        raise argparse.ArgumentTypeError(f"a pid is positive, not {pid}")
    return pid


def _json_term(text):
    try:
        return json.loads(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not JSON ({e}): {text!r}") from None


def build_parser(out=None, err=None):
    """The argument parser of hearth-ctl. Switches: never."""
    # A class per parser: argparse makes the subparsers from the parser's class.
    P = type("_Parser", (_Parser,), {"out": out or sys.stdout, "err": err or sys.stderr})
    common = P(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON for scripts instead of text for people")
    parser = P(prog="hearth-ctl", description="See and steer a running Hearth runtime.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                     parents=[common])
    parser.add_argument("--sock", default=None, metavar="PATH",
                        help="the runtime's IPC socket (default: the server's, see below)")
    parser.add_argument("--client", action="store_true",
                        help="attach to the hearth-client on this machine ($HEARTH_CLIENT_SOCK,"
                             " else $XDG_RUNTIME_DIR/hearth-client.sock)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name, help_, **kw):
        return sub.add_parser(name, help=help_, description=help_, parents=[common],
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                              **kw)

    add("ps", "list live processes: pid, name, state, mailbox depth, messages in/out,"
              " links, monitors, restarts")
    add("tree", "show the supervision tree")
    add("services", "list the services: init's status table (state, why not running), then"
                    " the other registered names, with their processes")
    add("reload-services", "ask init to rescan its root: start new services, restart"
                           " changed ones, stop removed ones")
    p = add("info", "show one process: metadata, mailboxes, links, monitors, recent exits")
    p.add_argument("pid", type=_pid, metavar="PID")
    p = add("spawn", "load a wasm file as a lump and spawn it through the wasm spawner")
    p.add_argument("file", metavar="FILE.wasm")
    p.add_argument("--name", help="register the new guest under this name")
    p.add_argument("--entry", type=int, default=None, metavar="INDEX",
                   help="run _hearth_spawn_by_index(INDEX) instead of run()")
    p.add_argument("--wait", type=float, default=1.0, metavar="SECONDS",
                   help="watch the new guest this long and report it if it exits or traps"
                        " at once (default 1; 0: don't wait)")
    p = add("kill", "kill a process (untrappable)")
    p.add_argument("pid", type=_pid, metavar="PID")
    p = add("restart", "restart a supervised process through its supervisor")
    p.add_argument("pid", type=_pid, metavar="PID")
    p = add("send", "send a JSON value, as msgpack, to a registered name")
    p.add_argument("name", metavar="NAME")
    p.add_argument("term", type=_json_term, metavar="JSON")
    p = add("call", "send a request (JSON as msgpack) to a registered service and print"
                    " the reply")
    p.add_argument("name", metavar="NAME")
    p.add_argument("term", type=_json_term, metavar="JSON")
    p.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS")
    p = add("logs", "print the runtime's recent log records")
    p.add_argument("pid", type=_pid, nargs="?", metavar="PID", help="only this process's")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new records")
    p.add_argument("--limit", type=int, default=200, help="at most this many past records")
    p.add_argument("--max-records", type=int, default=None, metavar="N",
                   help="with --follow, stop after N new records")
    p = add("lump", "put a file into the runtime's lump store, or get a lump")
    lsub = p.add_subparsers(dest="lump_command", metavar="put|get")
    lsub.required = True
    lp = lsub.add_parser("put", help="store FILE; print its lump id", parents=[common])
    lp.add_argument("file", metavar="FILE")
    lg = lsub.add_parser("get", help="write lump ID to stdout (or -o FILE)", parents=[common])
    lg.add_argument("lump", metavar="ID")
    lg.add_argument("-o", "--output", metavar="FILE")
    p = add("reload", "hot-reload a Python module of behaviours (its servers switch at their"
                      " next message)")
    p.add_argument("module", metavar="MODULE")
    p = add("upgrade", "upgrade a guest service to a new wasm module")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("file", metavar="FILE.wasm")
    p = add("world", "list the shared world's entities, or remove one (operator only)")
    _world_ctl.add_arguments(p, common)
    add("shell", "Hibashi, the Hearth shell: Python inside the runtime (as `hibashi`)")
    p = add("terminals", "list the window manager's terminals: which has the keyboard, and"
                         " each one's screen text")
    _wm_ctl.add_arguments(p)
    _world_ctl.register_chat(add, common, _COMMANDS)
    return parser


def wants_json(argv):
    """Whether `argv` asks for ``--json`` (looked at before, or without,
    parsing it: a usage error under ``--json`` is JSON too). Switches: never."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def error_json(kind, message, code):
    """The one line ``--json`` prints on stdout for a failure. Switches: never."""
    return json.dumps({"error": {"kind": kind, "message": message, "code": code}}) + "\n"


def parse(argv, out=None, err=None):
    """Parse `argv`: the namespace, or the exit code if parsing ended the
    run (``--help``, bad usage; under ``--json`` a usage error also prints
    its JSON error on `out`). Switches: never."""
    try:
        args = build_parser(out, err).parse_args(argv)
    except _Exit as e:
        if e.code != OK and wants_json(argv):
            (out or sys.stdout).write(error_json("usage", e.message or "bad usage", e.code))
            (out or sys.stdout).flush()
        return e.code
    if not hasattr(args, "json"):
        args.json = False
    return args


# -- running a command ------------------------------------------------------------------------


def run(argv, root, out=None, err=None):
    """Run one hearth-ctl command inside a Hearth process.

    Args:
        argv: the arguments (without the program name).
        root: a `Cap` to the root registry (remote or local).
        out, err: text streams (default stdout and stderr).

    Returns:
        the exit code.

    Switches: always.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    args = parse(argv, out, err)
    if isinstance(args, int):
        return args
    try:
        result = _COMMANDS[args.command](args, root, out)
    except Failed as e:
        return _fail(args, out, err, e.code, e.kind, str(e))
    except ServiceError as e:
        return _fail(args, out, err, _KIND_CODES.get(e.kind, ERROR), e.kind, e.message)
    except CallTimeout as e:
        return _fail(args, out, err, ERROR, "timeout", str(e))
    except CallError as e:
        reason = getattr(e, "reason", None)
        code = NO_RUNTIME if reason == "noconnection" else ERROR
        return _fail(args, out, err, code, "exited", str(e))
    code = OK
    if result is not None:
        data, text, *rest = result  # a command may add an exit code
        if rest:
            code = rest[0]
        if args.json and data is not None:
            out.write(json.dumps(jsonable(data)) + "\n")
        elif text:
            out.write(text if text.endswith("\n") else text + "\n")
    out.flush()
    return code


def _fail(args, out, err, code, kind, message):
    if getattr(args, "json", False):
        out.write(error_json(kind, message, code))
        out.flush()
    err.write(f"hearth-ctl: {message}\n")
    return code


def jsonable(term):
    """`term` as JSON-ready data: bytes as ``{"hex": ...}``, capabilities as
    ``"<capability>"``, tuples as lists. Switches: never."""
    if isinstance(term, (bytes, bytearray)):
        return {"hex": bytes(term).hex()}
    if type(term) is Cap:
        return "<capability>"
    if isinstance(term, (list, tuple)):
        return [jsonable(t) for t in term]
    if isinstance(term, dict):
        return {k if isinstance(k, str) else json.dumps(jsonable(k)): jsonable(v)
                for k, v in term.items()}
    return term


def plain_reason(reason):
    """An exit reason as JSON-ready data (tuples as lists, the rest by
    `jsonable`). Switches: never."""
    return jsonable(reason)


def _service(root, name):
    cap = lookup(root, name, timeout=TIMEOUT)
    if cap is None:
        raise Failed(NOT_FOUND, f"no service is registered as {name!r}", "not_found")
    return cap


def _inspector(root):
    cap = lookup(root, INSPECTOR, timeout=TIMEOUT)
    if cap is None:
        raise Failed(ERROR, f"the runtime runs no {INSPECTOR} (start it with"
                            " hearth.native.start_inspector)", "no_inspector")
    return cap


def _ask(root, term, args=(), timeout=TIMEOUT):
    return request(_inspector(root), term, args, timeout=timeout)


def _read(path):
    with _open(path) as f:
        return f.read()


def _open(path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise Failed(NOT_FOUND, f"{path}: no such file", "not_found") from None
    except PermissionError:
        raise Failed(PERMISSION_DENIED, f"{path}: permission denied",
                     "permission_denied") from None
    except IsADirectoryError:
        raise Failed(USAGE, f"{path}: is a directory", "invalid_request") from None


def _put(root, data):
    if len(data) > CHUNK:
        return _upload(root, io.BytesIO(data), len(data))
    lid = lump_id(data)
    got = _ask(root, ["lump_put", data, bytes(lid)], timeout=max(TIMEOUT, len(data) / 1e6))
    return lid.hex() if bytes(got) == bytes(lid) else bytes(got).hex()


def _put_file(root, path):
    """Store the file at `path` as a lump, in chunks if it is large;
    ``(lump id hex, size)``. Switches: always."""
    with _open(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size <= CHUNK:
            data = f.read()
            return _put(root, data), len(data)
        return _upload(root, f, size, path), size


def _upload(root, f, size, what="the data"):
    """Send `size` bytes of the binary file `f` through an upload session
    of the inspector, `CHUNK` bytes a request, hashing them on the way;
    the session checks the id before storing. Switches: always."""
    box = vm.create_mailbox()  # the session ends if this goes away
    try:
        got = _ask(root, ["lump_upload", size], [box.make_capability(MONITOR)])
        session = got["upload"]
        try:
            digest = blake3.blake3()
            offset = 0
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    break
                if offset + len(chunk) > size:
                    raise Failed(ERROR, f"{what} grew while it was being sent", "changed")
                digest.update(chunk)
                request(session, ["chunk", offset, chunk], timeout=TIMEOUT)
                offset += len(chunk)
            if offset != size:
                raise Failed(ERROR, f"{what} shrank while it was being sent", "changed")
            lid = request(session, ["finish", digest.digest()],
                          timeout=max(TIMEOUT, size / 20e6))
        finally:
            session.release()
    finally:
        box.destroy()
    return bytes(lid).hex()


def _download(root, lid, sink):
    """Write the lump `lid` to the binary file `sink` in chunks through a
    download session of the inspector, checking its id; its size. `sink`
    may be a function that returns the file, called once the lump is
    known to exist. Switches: always."""
    box = vm.create_mailbox()
    try:
        got = _ask(root, ["lump_download", lid], [box.make_capability(MONITOR)])
        size, session = got["size"], got["download"]
        try:
            if callable(sink):
                sink = sink()
            digest = blake3.blake3()
            offset = 0
            while offset < size:
                data = request(session, ["read", offset, CHUNK], timeout=max(TIMEOUT, size / 20e6))
                if not data:
                    break
                digest.update(data)
                sink.write(data)
                offset += len(data)
            request(session, "close", timeout=TIMEOUT)
        finally:
            session.release()
    finally:
        box.destroy()
    if offset != size or digest.digest() != bytes(lid):
        raise Failed(ERROR, f"lump {bytes(lid).hex()} came back damaged ({offset} of {size}"
                            " bytes, or a wrong hash)", "corrupt")
    return size


def _table(rows, columns):
    """Text columns: `columns` is a list of (title, key, align)."""
    cells = [[str(r.get(k, "")) if r.get(k) is not None else "-" for _, k, _ in columns]
             for r in rows]
    widths = [max([len(t)] + [len(c[i]) for c in cells]) for i, (t, _, _) in enumerate(columns)]

    def line(values):
        parts = []
        for (title, _, align), w, v in zip(columns, widths, values):
            parts.append(v.rjust(w) if align == ">" else v.ljust(w))
        return "  ".join(parts).rstrip()

    return "\n".join([line([t for t, _, _ in columns])] + [line(c) for c in cells])


# -- the commands: each returns (data for --json, text for people) or raises --------------------

PS_COLUMNS = [("PID", "pid", ">"), ("NAME", "name", "<"), ("STATE", "state", "<"),
              ("MBOX", "mailbox_depth", ">"), ("IN", "messages_in", ">"),
              ("OUT", "messages_out", ">"), ("LINKS", "links", ">"), ("MON", "monitors", ">"),
              ("RESTARTS", "restarts", ">"), ("CALL", "initial_call", "<")]


def cmd_ps(args, root, out):
    rows = list(_ask(root, "ps")["processes"])
    return rows, _table(rows, PS_COLUMNS)


def cmd_tree(args, root, out):
    roots = list(_ask(root, "tree")["roots"])
    lines = []

    def walk(node, prefix, last, top):
        label = f"{node['id']}" if node["id"] is not None else (node["name"] or "supervisor")
        pid = f"pid {node['pid']}" if node["pid"] is not None else node["state"]
        extra = f", restarts {node['restarts']}" if node["restarts"] else ""
        state = "" if node["state"] == "running" else f", {node['state']}"
        name = (f" {node['name']}" if node["id"] is not None and node["name"]
                and node["name"] != node["id"] else "")
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{label}{name} ({node['type']}, {pid}{state}{extra})")
        kids = node["children"]
        for i, kid in enumerate(kids):
            walk(kid, prefix + ("" if top else ("   " if last else "│  ")), i == len(kids) - 1,
                 False)

    for r in roots:
        walk(r, "", True, True)
    return roots, "\n".join(lines) or "(no supervisors)"


def cmd_services(args, root, out):
    inspector = lookup(root, INSPECTOR, timeout=TIMEOUT)
    if inspector is None:
        rows = [{"name": n, "pid": None} for n in registered(root, timeout=TIMEOUT)]
    else:
        rows = [dict(r) for r in request(inspector, "services", timeout=TIMEOUT)]
    init = lookup(root, INIT, timeout=TIMEOUT)
    if init is None:
        return rows, _table(rows, [("NAME", "name", "<"), ("PID", "pid", ">")])
    # Init's status table first (in start order, with why a service is not
    # running), then the other names: native services and the like.
    pids = {r["name"]: r["pid"] for r in rows}
    table = []
    for r in call(init, "services", TIMEOUT):
        table.append({"name": r["name"], "state": r["state"], "kind": r.get("kind"),
                      "pid": pids.pop(r["name"], None), "reason": r.get("reason"),
                      "needs": list(r.get("needs") or ())})
    for r in rows:
        if r["name"] in pids:
            table.append({"name": r["name"], "state": "registered", "kind": None,
                          "pid": r["pid"], "reason": None, "needs": []})
    text_rows = [dict(r, reason=vm.format_reason(r["reason"]) if r["reason"] is not None
                      else None) for r in table]
    return table, _table(text_rows, [("NAME", "name", "<"), ("STATE", "state", "<"),
                                     ("KIND", "kind", "<"), ("PID", "pid", ">"),
                                     ("REASON", "reason", "<")])


def cmd_reload_services(args, root, out):
    init = lookup(root, INIT, timeout=TIMEOUT)
    if init is None:
        raise Failed(NOT_FOUND, f"the runtime runs no init ({INIT} is not registered)",
                     "not_found")
    changes = {k: list(v) for k, v in dict(call(init, "reload_services", 120.0)).items()}
    lines = [f"{k}: {', '.join(v)}" for k, v in changes.items() if v]
    return changes, "\n".join(lines) or "nothing changed"


def cmd_info(args, root, out):
    info = _ask(root, ["info", args.pid])
    if not info["alive"]:
        lines = [f"pid {info['pid']} ({info['name'] or 'no name'}) is dead: {info['text']}"]
    else:
        lines = [f"pid {info['pid']}  {info['name'] or '(no name)'}",
                 f"  state         {info['state']}" + ("  (traps exits)" if info["trap_exit"]
                                                        else ""),
                 f"  initial call  {info['initial_call']}",
                 f"  uptime        {info['now'] - info['started_at']:.1f} s",
                 f"  messages      {info['messages_in']} in, {info['messages_out']} out",
                 f"  restarts      {info['restarts']}",
                 f"  capabilities  {info['capabilities']}",
                 f"  links         {', '.join(map(str, info['links'])) or '-'}",
                 "  monitors      " + (", ".join(f"pid {p} (ref {r})" for r, p in
                                                  info["monitors"]) or "-"),
                 "  monitored by  " + (", ".join(f"pid {p} (ref {r})" for r, p in
                                                  info["monitored_by"]) or "-"),
                 "  mailboxes"]
        for m in info["mailboxes"]:
            lines.append(f"    {m['handle']}: route {m['route']}, {m['depth']} queued"
                         + (", closed" if m["closed"] else ""))
        if info["metadata"]:
            lines.append("  metadata")
            for k, v in info["metadata"].items():
                lines.append(f"    {k}: {v}")
    if info["exits"]:
        lines.append("  recent exits")
        for e in info["exits"]:
            lines.append(f"    {info['now'] - e['at']:.1f} s ago: pid {e['pid']}: {e['text']}")
    return info, "\n".join(lines)


def cmd_spawn(args, root, out):
    data = _read(args.file)
    lid = _put(root, data)
    spawner = _service(root, WASM_SPAWNER)
    view = registry_view(root, read_only=True, timeout=TIMEOUT)
    term = ["spawn", bytes.fromhex(lid)] + ([] if args.entry is None else [args.entry])
    guest = request(spawner, term, [view], timeout=TIMEOUT)
    box = vm.create_mailbox()
    try:
        ref = guest.monitor(box) if guest.permissions & MONITOR else None
        who = _ask(root, "whois", [guest])
        pid = who["pid"]
        exited = None
        if not who.get("alive", True):
            exited = (who.get("reason"), who.get("text"))
        elif ref is not None and args.wait > 0:
            # Watch the new guest for a moment: one that exits or traps at
            # once is reported with its reason.
            sig = box.recv(args.wait)
            while sig is not None and not (type(sig) is Down and sig.ref == ref):
                sig = box.recv(args.wait)
            if sig is not None:
                sig.cap.release()
                exited = (plain_reason(sig.reason), vm.format_reason(sig.reason))
    finally:
        box.destroy()
    if exited is not None:
        # The spawn happened; the guest has already exited (or trapped):
        # report both, and a crash as an error a script can see.
        reason, text = exited
        data = {"pid": pid, "lump": lid, "name": None,
                "exited": {"reason": reason, "text": text}}
        unnamed = f" (not registered as {args.name!r})" if args.name else ""
        text = (f"spawned pid {pid} from lump {lid}\n"
                f"pid {pid} exited at once{unnamed}: {text}")
        return data, text, (OK if reason == "normal" else ERROR)
    if args.name:
        public = guest.demote(SEND | MONITOR)
        try:
            register(root, args.name, public, timeout=TIMEOUT)
        except BaseException:
            guest.kill()  # nothing half-done is left running
            raise
    data = {"pid": pid, "lump": lid, "name": args.name}
    named = f" as {args.name!r}" if args.name else ""
    return data, f"spawned pid {pid}{named} from lump {lid}"


def cmd_kill(args, root, out):
    _ask(root, ["kill", args.pid])
    return {"pid": args.pid, "killed": True}, f"killed pid {args.pid}"


def cmd_restart(args, root, out):
    res = _ask(root, ["restart", args.pid])
    return res, f"restarted pid {args.pid} as pid {res['new_pid']}"


def cmd_send(args, root, out):
    cap = _service(root, args.name)
    try:
        data, caps = encode(args.term)
    except TypeError as e:
        raise Failed(USAGE, str(e), "invalid_request") from None
    cap.send(data, caps)
    return {"sent": len(data), "name": args.name}, f"sent {len(data)} bytes to {args.name}"


def cmd_call(args, root, out):
    cap = _service(root, args.name)
    reply = _call_service(cap, args.name, args.term, args.timeout)
    return {"reply": jsonable(reply)}, json.dumps(jsonable(reply))


def _call_service(cap, name, term, timeout):
    """`request`, on a mailbox of this call's own: the first message in it
    is the service's answer, so one that is not a well-formed reply fails
    the call at once, saying what arrived and why it was refused (rather
    than being dropped while the call waits out its timeout).
    Switches: always."""
    box = vm.create_mailbox()
    try:
        try:
            send_request(cap, term, box.make_capability(SEND))
        except TypeError as e:
            raise Failed(USAGE, str(e), "invalid_request") from None
        ref = cap.monitor(box) if cap.permissions & MONITOR else None
        sig = box.recv(timeout)
        if sig is None:
            raise CallTimeout(f"no reply from {name!r} within {timeout}s", "timeout")
        if type(sig) is Down:
            sig.cap.release()
            raise ServerExited(f"{name!r} exited before replying:"
                               f" {vm.format_reason(sig.reason)}", sig.reason)
        if ref is not None:
            vm.demonitor(ref, flush=True)
        try:
            answer = decode(sig.data, sig.caps)
        except DecodeError as e:
            for c in sig.caps:
                c.release()
            raise Failed(ERROR, f"{name!r} answered {len(sig.data)} bytes that are not a"
                                f" msgpack term ({e}): {bytes(sig.data[:40])!r}",
                         "invalid_reply") from None
        if not is_reply(answer):
            for c in sig.caps:
                c.release()
            raise Failed(ERROR, f"{name!r} answered {_short(jsonable(answer))}, which is not"
                                ' a reply: a reply is {"ok": VALUE} or'
                                ' {"err": {"kind": STR, "message": STR}}', "invalid_reply")
        return read_reply(sig)
    finally:
        box.destroy()


def _short(term, limit=200):
    text = json.dumps(term)
    return text if len(text) <= limit else text[:limit] + "..."


def _log_line(r):
    when = datetime.datetime.fromtimestamp(r["time"]).strftime("%H:%M:%S.%f")[:-3]
    pid = f"[{r['pid']}]" if r["pid"] is not None else "[-]"
    return f"{when} {r['level']:<7} {pid} {r['logger']}: {r['message']}"


def cmd_logs(args, root, out):
    inspector = _inspector(root)
    past = _ask(root, {"op": "logs", "pid": args.pid, "limit": max(0, args.limit)})
    records = list(past["records"])
    if not args.follow:
        return records, "\n".join(_log_line(r) for r in records)
    for r in records:
        _emit(args, out, r)
    box = vm.create_mailbox()
    sub = box.make_capability(SEND | MONITOR)
    ref = inspector.monitor(box)
    request(inspector, ["follow", args.pid], [sub], timeout=TIMEOUT)
    seen = past["last"]
    n = 0
    try:
        while args.max_records is None or n < args.max_records:
            sig = box.recv()
            if type(sig) is Down:
                sig.cap.release()
                if sig.ref == ref:
                    code = NO_RUNTIME if sig.reason == "noconnection" else ERROR
                    raise Failed(code, f"the inspector went away ({vm.format_reason(sig.reason)})",
                                 "exited")
                continue
            if type(sig) is not Message:
                continue
            for r in decode(sig.data, sig.caps).get("log", ()):
                if r["seq"] <= seen:
                    continue  # already printed from the past records
                seen = r["seq"]
                _emit(args, out, r)
                n += 1
                if args.max_records is not None and n >= args.max_records:
                    break
    finally:
        box.destroy()
    return None


def _emit(args, out, r):
    out.write((json.dumps(jsonable(r)) if args.json else _log_line(r)) + "\n")
    out.flush()


def cmd_lump(args, root, out):
    if args.lump_command == "put":
        lid, size = _put_file(root, args.file)
        return {"lump": lid, "size": size}, lid
    try:
        lid = bytes.fromhex(args.lump)
        if len(lid) != 32:
            raise ValueError
    except ValueError:
        raise Failed(USAGE, f"a lump id is 64 hex digits, not {args.lump!r}",
                     "invalid_request") from None
    if args.output:
        opened = []

        def file_bytes():  # opened once the lump is known to exist
            try:
                opened.append(open(args.output, "wb"))
            except PermissionError:
                raise Failed(PERMISSION_DENIED, f"{args.output}: permission denied",
                             "permission_denied") from None
            return opened[0]

        try:
            size = _download(root, lid, file_bytes)
        finally:
            for f in opened:
                f.close()
        return {"lump": args.lump, "size": size, "output": args.output}, \
            f"wrote {size} bytes to {args.output}"
    if args.json:
        sink = io.BytesIO()
        size = _download(root, lid, sink)
        return {"lump": args.lump, "size": size, "hex": sink.getvalue().hex()}, None
    def stdout_bytes():
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            raise Failed(USAGE, "this output takes no bytes: use -o FILE", "invalid_request")
        out.flush()
        return buffer

    _download(root, lid, stdout_bytes)
    out.flush()
    if getattr(out, "buffer", None) is not None:
        out.buffer.flush()
    return None


def cmd_reload(args, root, out):
    res = _ask(root, ["reload", args.module])
    return res, f"reloaded {res['module']} (generation {res['generation']})"


def cmd_upgrade(args, root, out):
    data = _read(args.file)
    lid = _put(root, data)
    res = _ask(root, ["upgrade", args.service, bytes.fromhex(lid)], timeout=60.0)
    return res, (f"upgraded {args.service} to version {res['version']} (lump {lid});"
                 f" the old guest exited: {vm.format_reason(res['old_exit'])}")


_COMMANDS = {
    "ps": cmd_ps,
    "tree": cmd_tree,
    "services": cmd_services,
    "reload-services": cmd_reload_services,
    "info": cmd_info,
    "spawn": cmd_spawn,
    "kill": cmd_kill,
    "restart": cmd_restart,
    "send": cmd_send,
    "call": cmd_call,
    "logs": cmd_logs,
    "lump": cmd_lump,
    "reload": cmd_reload,
    "upgrade": cmd_upgrade,
    "world": _world_ctl.cmd_world,
    "shell": lambda args, root, out: (None, None, _shell_interact(root)),
    "terminals": _wm_ctl.cmd_terminals,
}


def _shell_interact(root):
    from hearth.shell import interact

    return interact(root)


# -- the entry point ------------------------------------------------------------------------


def no_runtime_message(path, detail=None):
    """The text for "no runtime running". Switches: never."""
    why = f" ({detail})" if detail else ""
    return (f"hearth-ctl: no Hearth runtime is running: nothing listens on {path}{why}.\n"
            "Start one with `hearth-server`, or point $HEARTH_SOCK at its socket.\n")


def main(argv=None):
    """The ``hearth-ctl`` command. Returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if isinstance(args, int):
        return args
    # A command-line tool: Ctrl+C and a closed pipe (`| head`) end it
    # quietly, as they end cat or grep.
    if args.command != "shell":  # the shell's Ctrl+C interrupts, and never ends it
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    path = args.sock or (client_socket_path() if args.client else socket_path())

    def fail(code, kind, text):
        # Text for people on stderr; under --json also one JSON object on stdout.
        if args.json:
            sys.stdout.write(error_json(kind, " ".join(text.replace("hearth-ctl: ", "", 1)
                                                            .split()), code))
            sys.stdout.flush()
        sys.stderr.write(text)
        return code

    if not os.path.exists(path):
        return fail(NO_RUNTIME, "no_runtime", no_runtime_message(path, "no socket"))
    if not os.access(path, os.R_OK | os.W_OK):
        return fail(PERMISSION_DENIED, "permission_denied",
                    f"hearth-ctl: {path}: permission denied (the socket is its owner's)\n")
    try:
        from hearth.net import ConnectError, connect
    except ImportError:
        return fail(NO_RUNTIME, "no_runtime",
                    no_runtime_message(path, "this build of Hearth has no hearth.net"))
    rt = vm.Runtime()
    try:
        with rt.open_process(name="hearth-ctl"):
            try:
                peer = connect("unix://" + path)
            except PermissionError as e:
                return fail(PERMISSION_DENIED, "permission_denied",
                            f"hearth-ctl: {path}: permission denied ({e})\n")
            except (ConnectError, OSError, HearthError) as e:
                if "permission denied" in str(e).lower():
                    return fail(PERMISSION_DENIED, "permission_denied",
                                f"hearth-ctl: {path}: permission denied ({e})\n")
                # A socket file nobody listens on is a runtime that crashed.
                return fail(NO_RUNTIME, "no_runtime",
                            no_runtime_message(path, f"a stale socket? {e}"))
            try:
                return run(argv, peer.root)
            finally:
                peer.close()
    finally:
        rt.shutdown()


if __name__ == "__main__":
    sys.exit(main())
