"""The helpers a Hibashi session's namespace starts with, named in Erlang's
manner; ``help()`` lists them, one line each.

Each runs in the shell's process (they use its capabilities) and switches
whenever it talks to a service; `c` and `r` are in `_code`.
"""

import io
import os
import pydoc

import gevent

from hearth import otp, vm, world as _world
from hearth.otp import decode, encode
from hearth.vm import MONITOR, SEND, Cap, Down, Exit, Message

from . import _code, _output

__all__ = ["HELP", "make_helpers", "WorldHandle"]

INSPECTOR = "hearth.Inspector"
TIMEOUT = 15.0

HELP = {
    "help": "help(): this list; help(x): the documentation of x",
    "ps": "ps(): the live processes (pid, name, state, mailbox, messages, links)",
    "i": "i(pid): one process in detail (a pid or a capability)",
    "tree": "tree(): the supervision tree",
    "lookup": "lookup(name): the registered capability `name`, or None",
    "send": "send(to, term): send a msgpack term to a capability or registered name",
    "call": "call(to, term, timeout=15): a request to a service; its answer (errors raise)",
    "self": "self(): a capability (SEND|MONITOR) to this shell's own mailbox",
    "receive": "receive(timeout=None): the next message of the shell's mailbox, decoded",
    "flush": "flush(): print and drop every message waiting in the shell's mailbox",
    "spawn": "spawn(fn, *args): run fn(*args) as a new process; its capability",
    "link": "link(cap): link the shell's process to cap's process (its death kills the shell's)",
    "monitor": "monitor(cap): a monitor ref; the Down lands in the shell's mailbox (flush())",
    "logs": "logs(pid=None, limit=50): the runtime's recent log records",
    "l": "l(path): put a file into the lump store; its lump id (hex)",
    "c": "c(path): build a C guest with the SDK and upgrade its service in place"
         " (or spawn it); compile errors leave the old code running",
    "r": "r(name): reload a Python service whose files changed (init's reload)",
    "world": "world: the world service's client (world.list(), .add, .update, .remove)",
}


def _resolve(session, to):
    """A capability from a `Cap` or a registered name."""
    if type(to) is Cap:
        return to
    if isinstance(to, str):
        cap = otp.lookup(session.registry, to, timeout=TIMEOUT)
        if cap is None:
            raise LookupError(f"no service is registered as {to!r}")
        return cap
    raise TypeError(f"a capability or a registered name, not {type(to).__name__}")


def _ctl(session, *argv):
    """Print what ``hearth-ctl ARGV`` prints, run against this runtime."""
    from hearth import ctl  # the command-line tool's formatting, reused

    out, err = io.StringIO(), io.StringIO()
    ctl.run(list(argv), session.registry, out=out, err=err)
    print((out.getvalue() + err.getvalue().replace("hearth-ctl: ", "")).rstrip("\n"))


def _pid_of(session, who):
    if type(who) is Cap:
        inspector = _resolve(session, INSPECTOR)
        return otp.request(inspector, "whois", [who], timeout=TIMEOUT)["pid"]
    if isinstance(who, int) and not isinstance(who, bool):
        return who
    raise TypeError(f"a pid (int) or a capability, not {type(who).__name__}")


def describe(sig):
    """One line for a signal of the shell's mailbox. Switches: never."""
    if type(sig) is Message:
        try:
            term = decode(sig.data, sig.caps)
        except otp.DecodeError:
            return f"message: {bytes(sig.data[:200])!r} (not msgpack, {len(sig.caps)} caps)"
        return f"message: {term!r}"
    if type(sig) is Down:
        return f"Down(ref={sig.ref}, reason={vm.format_reason(sig.reason)})"
    if type(sig) is Exit:
        return f"Exit(reason={vm.format_reason(sig.reason)})"
    return repr(sig)


def _value(sig):
    if type(sig) is Message:
        try:
            return decode(sig.data, sig.caps)
        except otp.DecodeError:
            return bytes(sig.data)
    return sig


class WorldHandle:
    """The world service's client, bound to what this runtime has: its own
    ``hearth.World``, or (a client connected to a server) the server's.
    Each call looks the world up again, so it follows reconnects."""

    def __init__(self, session):
        self._session = session

    def cap(self):
        """``hearth.World``'s capability, or None if there is none."""
        registry = self._session.registry
        found = otp.lookup(registry, _world.WORLD, timeout=TIMEOUT)
        if found is not None:
            return found
        server = otp.lookup(registry, "hearth.server", timeout=TIMEOUT)
        if server is None:
            return None
        try:
            return otp.lookup(server, _world.WORLD, timeout=TIMEOUT)
        finally:
            server.release()

    def _world(self):
        found = self.cap()
        if found is None:
            raise LookupError("this runtime has no world service (hearth.World)")
        return found

    def list(self):
        """Every entity: a list of maps (id, mesh, transform, label, ...)."""
        return _world.list_entities(self._world())

    def add(self, mesh, **fields):
        """Add an entity owned by the shell's process (it leaves with it);
        ``(id, entity capability)``. `fields`: transform, material, label."""
        owner = vm.make_capability(SEND | MONITOR)
        try:
            return _world.add(self._world(), owner, mesh, **fields)
        finally:
            owner.release()

    def update(self, entity, **changes):
        """Change an entity this shell added (its capability from `add`)."""
        return _world.update(entity, **changes)

    def remove(self, entity):
        """Remove an entity this shell added."""
        return _world.remove(entity)

    def __repr__(self):
        try:
            found = self.cap()
        except otp.CallError:
            found = None
        if found is None:
            return "<world: none in this runtime>"
        try:
            n = len(_world.list_entities(found))
        except (otp.CallError, otp.ServiceError) as e:
            return f"<world: hearth.World ({e})>"
        return f"<world: hearth.World, {n} entities>"


def make_helpers(session):
    """The helper functions bound to `session`: name -> function."""

    def help(thing=None):  # noqa: A001 - the shell's own help
        if thing is None:
            print("Hibashi helpers (help(x) for more):")
            for line in HELP.values():
                print("  " + line)
            print("  also: vm, otp (the kernel and OTP modules); Ctrl+C interrupts,"
                  " Ctrl+D leaves")
            return
        for name, fn in helpers.items():
            if thing is fn and name in HELP:
                print(HELP[name])
                return
        print(pydoc.render_doc(thing, renderer=pydoc.plaintext).rstrip())

    def ps():
        _ctl(session, "ps")

    def i(pid):
        _ctl(session, "info", str(_pid_of(session, pid)))

    def tree():
        _ctl(session, "tree")

    def logs(pid=None, limit=50):
        argv = ["logs", "--limit", str(int(limit))]
        if pid is not None:
            argv.append(str(_pid_of(session, pid)))
        _ctl(session, *argv)

    def lookup(name):
        return otp.lookup(session.registry, name, timeout=TIMEOUT)

    def send(to, term):
        cap = _resolve(session, to)
        data, caps = encode(term)
        cap.send(data, caps)

    def call(to, term, timeout=TIMEOUT):
        return otp.request(_resolve(session, to), term, timeout=timeout)

    def self():
        return vm.make_capability(SEND | MONITOR)

    def receive(timeout=None):
        sig = vm.recv(timeout=timeout)
        return None if sig is None else _value(sig)

    def flush():
        n = 0
        while True:
            sig = vm.try_recv()
            if sig is None:
                break
            print("Shell got " + describe(sig))
            n += 1
        if not n:
            print("(the shell's mailbox is empty)")

    def spawn(fn, *args, name=None):
        sink = session.sink

        def body(*a):
            _output.capture(gevent.getcurrent(), sink)
            return fn(*a)

        return vm.spawn(body, *args, name=name or getattr(fn, "__name__", "spawned"))

    def link(cap):
        vm.link(cap)

    def monitor(cap):
        return vm.monitor(cap)

    def l(path):  # noqa: E743 - Erlang's name
        with open(os.path.expanduser(path), "rb") as f:
            data = f.read()
        lid = vm.current_runtime().lumps.put(data)
        print(f"stored {len(data)} bytes as lump {bytes(lid).hex()}")
        return bytes(lid).hex()

    def c(path):
        _code.compile_and_load(session, path)

    def r(name):
        _code.reload_python(session, name)

    helpers = {
        "help": help, "ps": ps, "i": i, "tree": tree, "lookup": lookup, "send": send,
        "call": call, "self": self, "receive": receive, "flush": flush, "spawn": spawn,
        "link": link, "monitor": monitor, "logs": logs, "l": l, "c": c, "r": r,
    }
    for name, fn in helpers.items():
        fn.__doc__ = HELP.get(name, fn.__doc__)
    return dict(helpers, world=WorldHandle(session), vm=vm, otp=otp)
