"""gen_server: a generic server process with class-based callbacks (O1–O4).

A user subclasses `GenServer` and starts it with `start` or `start_link`;
clients talk to it with `call` and `cast` (from `_call`). The callbacks and
their return values follow OTP's, as Python tuples:

- ``init(self, *args)`` → ``("ok", state)``, ``("ok", state, timeout)``
  (if no signal arrives within `timeout` seconds of the runtime's clock,
  ``handle_info("timeout", state)`` runs, as OTP's ``{ok, State,
  Timeout}``; a signal that comes first cancels it), ``("stop", reason)``
  or ``"ignore"``;
- ``handle_call(self, request, from_, state)`` → ``("reply", value,
  state)``, ``("noreply", state)`` (answer later with ``reply(from_,
  value)``), ``("stop", reason, value, state)`` or ``("stop", reason,
  state)``;
- ``handle_cast(self, request, state)`` and ``handle_info(self, info,
  state)`` → ``("noreply", state)`` or ``("stop", reason, state)``;
- ``terminate(self, reason, state)``, return value ignored;
- ``code_change(self, old_vsn, state, extra)`` → ``("ok", state)`` or
  ``("error", reason)`` (see `_reload`).

`stop(server, reason)` stops a server synchronously, as OTP's
``gen_server:stop``: the server runs ``terminate(reason, state)`` and
exits with `reason`, and `stop` returns once it has exited. It needs KILL
on the server's capability (the power `kill` needs): the request carries a
capability with KILL to the server's own mailbox, which the server checks,
so holding SEND alone never lets a client stop a server.

Any other return value stops the server with ``("bad_return_value",
repr)``. An exception in a callback, or ``exit(reason)`` called in one,
stops the server with the error's reason (or that reason) after running
``terminate``, as in OTP. ``terminate`` also runs when a server that traps
exits gets an exit signal from its parent (the process that called
`start_link`, usually a supervisor shutting it down), and never when the
server is killed (rule O4).

Capability ownership: the capabilities that arrive with a signal are *lent*
to the callback that handles it — the request of a call or cast, a message
that goes to ``handle_info``, the ``cap`` of a `Down` or an `Exit`. The
server releases them when the callback returns. To keep one, take your own
reference with ``cap.inc_ref()`` (or ``cap.demote(perms)``) and release it
when done. Never release a lent capability yourself. The reply capability
inside ``from_`` belongs to the `From` until ``reply(from_, value)``
releases it (a deferred reply keeps it alive as long as it is needed).
The loop itself keeps a reference of its own to the reply capabilities of
its last few local callers (`_call.keep_reply_cap`), so that a caller's next
call finds the handle in the table; that reference is the loop's, and
changes nothing about what ``from_`` holds.

Naming: ``start(..., name=n, registry=r)`` registers the server as `n`
inside the new process, before ``init`` (as OTP does), so ``init`` never
runs when the name is taken, and the name belongs to the server's process
(the registry drops it when that process dies, rule R2). `r` is either

- a capability to a registry service (`start_registry`): it is imported
  into the server's table and used with `_registry_client.register`; or
- any object with ``register(name, cap)`` (duck typed, for tests and
  embedders). It is called in the new server's process with a capability
  (all permissions) of that process's table, so it must work from any
  process. It takes what it keeps from `cap` during the call
  (``cap.inc_ref()``, or the capability travels in a message); the server
  releases its own reference afterwards.

Either way a taken name is an exception with a ``holder`` attribute naming
the holder (`_registry_client.NameTaken`, or `AlreadyStarted(name,
holder)`, which a registry object may raise); the holder is plain data (a
debug pid) or a `Cap` of the registering process's table (the starter then
gets its own handle to it). The starter gets `AlreadyStarted`, whose
message names the holder. Any other exception fails the start with that
error as the reason.

Instances: each version of a server class is instantiated once per server,
with no arguments, and the instance is replaced on a hot code switch. Keep
what must survive in ``state``, not on ``self``.
"""

from __future__ import annotations

import logging
import types
from typing import Any

from hearth.vm import (
    ALL,
    KILL,
    LINK,
    SEND,
    Cap,
    Down,
    Exit,
    Message,
    Misuse,
    ProcessExit,
    current_process,
    error_reason,
    exit as vm_exit,
    format_reason,
    is_normal_exit,
    is_self,
)

from ._call import (
    CALL_HEAD,
    DEFAULT_TIMEOUT,
    From,
    ReplyCaps,
    call,
    cast,
    classify,
    decode_fast,
    keep_reply_cap,
    reply,
)
from ._codec import decode, encode
from ._errors import (
    AlreadyStarted,
    CallError,
    CallTimeout,
    DecodeError,
    ServerExited,
    StartError,
    StartTimeout,
)
from ._reload import current_class, upgrade

__all__ = ["GenServer", "start", "start_link", "stop", "call", "cast", "reply", "From"]

log = logging.getLogger("hearth.otp.gen_server")

_ACK_KEY = "$otp.start_mailbox"


class GenServer:
    """Base class of servers: subclass it and override the callbacks.

    Every callback has a default: ``init`` makes its argument the state
    (None without arguments, a tuple with several); ``handle_call`` and
    ``handle_cast`` raise (a server that gets a request it does not
    handle crashes, as in OTP); ``handle_info`` logs the unexpected signal
    and keeps going; ``terminate`` does nothing; ``code_change`` keeps the
    state as it is.

    A class attribute ``vsn`` names the version for hot code reload; without
    it the version is the module's load counter.

    ``MyServer.start(*args, ...)`` and ``MyServer.start_link(*args, ...)``
    are `start` and `start_link` of this class.
    """

    @classmethod
    def start(
        cls,
        *args: Any,
        name: Any = None,
        registry: Any = None,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> Cap:
        """`start` this class. Switches: always."""
        return _start(cls, args, name, registry, timeout, False)

    @classmethod
    def start_link(
        cls,
        *args: Any,
        name: Any = None,
        registry: Any = None,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> Cap:
        """`start_link` this class. Switches: always."""
        return _start(cls, args, name, registry, timeout, True)

    def init(self, *args: Any) -> Any:
        """Set up the server; runs in the new process before `start` returns."""
        return ("ok", args[0] if len(args) == 1 else (args or None))

    def handle_call(self, request: Any, from_: From, state: Any) -> Any:
        """Answer a `call`."""
        raise NotImplementedError(f"{type(self).__qualname__} does not handle calls: {request!r}")

    def handle_cast(self, request: Any, state: Any) -> Any:
        """Handle a `cast`."""
        raise NotImplementedError(f"{type(self).__qualname__} does not handle casts: {request!r}")

    def handle_info(self, info: Any, state: Any) -> Any:
        """Handle any other signal: a `Down`, an `Exit`, a foreign `Message`."""
        log.warning("%s got an unexpected signal: %r", type(self).__qualname__, info)
        return ("noreply", state)

    def terminate(self, reason: Any, state: Any) -> Any:
        """Clean up before the server exits with `reason` (rule O4)."""

    def code_change(self, old_vsn: Any, state: Any, extra: Any) -> Any:
        """Migrate `state` from version `old_vsn` to this class's (rule O7)."""
        return ("ok", state)


class _Setup:
    """What the starter hands the new process besides capabilities."""

    __slots__ = ("cls", "name", "registry", "tag")

    def __init__(self, cls, name, registry, tag):
        self.cls = cls
        self.name = name
        self.registry = registry
        self.tag = tag


def _server_class(target):
    if isinstance(target, type):
        if issubclass(target, GenServer):
            return target
        raise TypeError(f"{target.__qualname__} is not a GenServer subclass")
    if isinstance(target, types.ModuleType):
        found = [
            obj
            for obj in vars(target).values()
            if isinstance(obj, type)
            and issubclass(obj, GenServer)
            and obj is not GenServer
            and obj.__module__ == target.__name__
        ]
        if len(found) == 1:
            return found[0]
        raise TypeError(
            f"module {target.__name__} defines {len(found)} GenServer classes;"
            " pass the class itself"
        )
    raise TypeError(f"start needs a GenServer subclass or a module, not {type(target).__name__}")


def start(
    module_or_class: Any,
    *args: Any,
    name: Any = None,
    registry: Any = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Cap:
    """Start a server and return once its ``init`` has finished (rule O1).

    The server runs ``init(*args)`` in its own new process while the caller
    waits for its acknowledgement (and monitors it, so an ``init`` that
    dies is noticed at once). `Cap` arguments are imported into the new
    process's table, as with `spawn`; ``init`` owns them.

    Args:
        module_or_class: a `GenServer` subclass, or a module defining exactly
            one. An old class object (from before a `reload`) starts the
            current version of the class.
        *args: the arguments of ``init``.
        name: register the server under this name in `registry` before
            ``init`` runs (see "Naming" in the module docstring); also the process's debug name if
            it is a `str`.
        registry: a capability to a registry service, or an object with
            ``register(name, cap)``; needed with `name`.
        timeout: seconds (runtime clock) ``init`` may take; None for no limit.

    Returns:
        a capability (all permissions) to the server; or the string
        ``"ignore"`` if ``init`` returned ``"ignore"``, as OTP's start
        returns ``ignore``: the process exited ``normal`` and nothing runs
        (a supervisor given this start function skips the child).

    Raises:
        StartError: ``init`` returned ``("stop", reason)`` or a bad value,
            raised, or the process died before finishing ``init``;
            `reason` is the server's exit reason (OTP's ``{error, Reason}``).
        AlreadyStarted: `name` is taken; the error names the holder (OTP's
            ``{error, {already_started, Pid}}``); ``init`` did not run.
        StartTimeout: ``init`` ran past `timeout`; the server was killed.
        Misuse: `name` without `registry`.

    Switches: always.
    """
    return _start(module_or_class, args, name, registry, timeout, False)


def start_link(
    module_or_class: Any,
    *args: Any,
    name: Any = None,
    registry: Any = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Cap:
    """Like `start`, and link the server to the caller atomically.

    The caller becomes the server's parent: if the server traps exits, an
    exit signal from the parent stops it with that reason after running
    ``terminate`` (rule O4, a supervisor's shutdown). A failed start is
    reported by the exception alone: the server unlinks itself before it
    exits, so the caller is never killed by it and a trapping caller finds
    no `Exit` left behind (like OTP 26's ``proc_lib``, which flushes it).

    Switches: always.
    """
    return _start(module_or_class, args, name, registry, timeout, True)


def _ack_box(proc):
    """The caller's start mailbox and a SEND capability to it, reused by
    every start like `call`'s reply mailbox, so that starts don't create and
    destroy a mailbox each."""
    d = proc.dictionary
    if d is None:
        d = proc.dictionary = {}
    entry = d.get(_ACK_KEY)
    if entry is None or entry[0].closed:
        mb = proc.create_mailbox()
        entry = d[_ACK_KEY] = (mb, mb.make_capability(SEND))
    return entry


def _start(target, args, name, registry, timeout, link):
    cls = _server_class(target)
    if name is not None and registry is None:
        raise Misuse("naming a server needs a registry (registry=...)")
    proc = current_process()
    rt = proc.runtime
    mb, ack_cap = _ack_box(proc)
    tag = rt.make_ref()
    setup = _Setup(cls, name, registry, tag)
    parent_cap = proc.make_capability(LINK) if link else None
    # A registry service's capability travels to the server's table; a
    # registry object is shared as it is.
    registry_cap = registry if name is not None and type(registry) is Cap else None
    options = {"name": name} if isinstance(name, str) else {}
    try:
        server, ref = proc.spawn(
            _server_main,
            setup,
            ack_cap,
            parent_cap,
            registry_cap,
            *args,
            link=link,
            monitor=True,
            mailbox=mb,
            **options,
        )
    finally:
        if parent_cap is not None:
            parent_cap.release()
    clock = rt.clock
    deadline = None if timeout is None else clock.now() + timeout
    failure = None  # set by a nack; the Down that follows ends the wait
    ignored = False
    while True:
        remaining = None if deadline is None else max(0.0, deadline - clock.now())
        sig = mb.recv(remaining)
        if sig is None:
            return _start_timed_out(proc, mb, server, link, timeout)
        if type(sig) is Message:
            try:
                term = decode(sig.data, sig.caps)
            except DecodeError:
                term = None
            if type(term) is tuple and len(term) >= 3 and term[0] == "$ack" and term[1] == tag:
                if term[2] == "ok":
                    proc.demonitor(ref, flush=True)
                    return server
                if term[2] == "ignore":
                    ignored = True
                elif term[2] == "already_started":
                    failure = AlreadyStarted(term[3], term[4])
                continue  # the Down follows
            _release(sig.caps, 0)
        elif type(sig) is Down:
            sig.cap.release()
            if sig.ref != ref:
                continue
            server.release()
            if ignored:
                return "ignore"
            if failure is not None:
                raise failure
            raise StartError(
                f"{cls.__qualname__} failed to start: {format_reason(sig.reason)}", sig.reason
            )


def _start_timed_out(proc, mb, server, link, timeout):
    # OTP: unlink, kill, drop the Exit. Unlinking first keeps the kill from
    # reaching us through the link; destroying the start mailbox drops the
    # Down and any late acknowledgement.
    if link:
        server.unlink()
    server.kill()
    server.release()
    mb.destroy()
    proc.dictionary.pop(_ACK_KEY, None)
    raise StartTimeout(f"init did not finish within {timeout}s; the server was killed", "timeout")


# -- the server's process ---------------------------------------------------------


def _server_main(setup, ack, parent, registry_cap, *args):
    proc = current_process()
    entry, cls, generation = current_class(setup.cls)
    proc.initial_call = f"{cls.__module__}.{cls.__qualname__}"
    tag = setup.tag
    if setup.name is not None:
        _register(proc, setup, ack, parent, registry_cap)
    try:
        instance = cls()
        result = instance.init(*args)
    except ProcessExit as e:
        if proc.reason is not None:
            raise
        _init_failed(parent, e.reason)
    except Exception as e:
        _init_failed(parent, error_reason(e))
    first_timeout = None
    if type(result) is tuple and len(result) == 2 and result[0] == "ok":
        state = result[1]
    elif (
        type(result) is tuple
        and len(result) == 3
        and result[0] == "ok"
        and (result[2] is None or (type(result[2]) in (int, float) and result[2] >= 0))
    ):
        state, first_timeout = result[1], result[2]
    elif result == "ignore":
        ack.send(*encode(("$ack", tag, "ignore")))
        _init_failed(parent, "normal")
    elif type(result) is tuple and len(result) == 2 and result[0] == "stop":
        _init_failed(parent, result[1])
    else:
        _init_failed(parent, ("bad_return_value", repr(result)))
    ack.send(*encode(("$ack", tag, "ok")))
    ack.release()
    del setup, ack, result
    _serve(proc, parent, entry, cls, generation, instance, state, first_timeout)


def _register(proc, setup, ack, parent, registry_cap):
    me = proc.make_capability(ALL)
    try:
        if registry_cap is not None:
            from ._registry_client import register

            try:
                register(registry_cap, setup.name, me)
            finally:
                registry_cap.release()
        else:
            setup.registry.register(setup.name, me)
    except ProcessExit as e:
        if proc.reason is not None:
            raise
        _init_failed(parent, e.reason)
    except Exception as e:
        holder = getattr(e, "holder", _MISSING)
        if holder is _MISSING:
            _init_failed(parent, error_reason(e))
        _nack_taken(ack, setup, holder)
        _init_failed(parent, "normal")  # OTP: a name clash exits normal
    finally:
        if me.refs:
            me.release()


_MISSING = object()


def _nack_taken(ack, setup, holder):
    for name in (setup.name, repr(setup.name)):
        for who in (holder, repr(holder)):
            try:
                ack.send(*encode(("$ack", setup.tag, "already_started", name, who)))
                return
            except Exception:  # a term msgpack can't carry, or a foreign Cap
                continue


def _init_failed(parent, reason):
    """Leave without ever having served: unlink first, so the failure is
    reported to the starter by the start protocol only."""
    if parent is not None:
        parent.unlink()
    vm_exit(reason)


def _release(caps, start):
    """Release the lent capabilities ``caps[start:]`` after a callback."""
    for i in range(start, len(caps)):
        cap = caps[i]
        if cap.refs:
            cap.release()


def _bad_return(result):
    return ("bad_return_value", repr(result))


def _serve(proc, parent, entry, cls, generation, instance, state, first_timeout=None):
    """The receive loop. Kept flat and allocation-free beyond what `classify`
    and `reply` need: this is the path every call takes."""
    recv = proc.mailboxes[0].recv
    handle_call = instance.handle_call
    handle_cast = instance.handle_cast
    handle_info = instance.handle_info
    pending = None  # (from_, value) to send after terminate
    kept = ReplyCaps()  # reply capabilities held between calls (`keep_reply_cap`)
    held = kept.caps
    try:
        while True:
            if first_timeout is None:
                sig = recv()
            else:
                # init's ("ok", state, timeout): only the first wait is bounded.
                sig = recv(first_timeout)
                first_timeout = None
                if sig is None:
                    result = handle_info("timeout", state)
                    if type(result) is tuple and len(result) == 2 and result[0] == "noreply":
                        state = result[1]
                        continue
                    if type(result) is tuple and len(result) == 3 and result[0] == "stop":
                        reason = result[1]
                        state = result[2]
                        break
                    reason = _bad_return(result)
                    break
            if entry.generation != generation:
                # A new version was loaded: switch now, at the next message
                # (rule O7); a failed switch keeps the old code.
                switched = upgrade(entry, cls, generation, state, proc)
                generation = entry.generation
                if switched is not None:
                    cls, instance, state = switched
                    handle_call = instance.handle_call
                    handle_cast = instance.handle_cast
                    handle_info = instance.handle_info
            if type(sig) is Message:
                # A call, the usual message, is taken apart here: `classify`
                # would build a tuple and pass it back. The prefix is a
                # 3-array whose first element is "$call", so a term that
                # decodes is a call; anything else goes through `classify`.
                from_ = None
                caps = sig.caps
                data = sig.data
                # A kept reply capability had SEND when it was kept, and a
                # handle's permissions never change.
                if caps and data[:7] == CALL_HEAD and (caps[0] in held or caps[0].perms & SEND):
                    try:
                        term = decode_fast(data, caps)
                        # From(caps[0], term[1]), without a frame for __init__.
                        from_ = _new(From)
                        from_.cap = caps[0]
                        from_.tag = term[1]
                        request = term[2]
                    except DecodeError:
                        pass
                    else:
                        if caps[0] not in held:
                            keep_reply_cap(kept, caps[0])
                if from_ is None:
                    kind = classify(sig)
                    what = kind[0]
                    if what == "call":
                        from_ = kind[1]
                        request = kind[2]
                if from_ is not None:
                    result = handle_call(request, from_, state)
                    if len(sig.caps) > 1:
                        _release(sig.caps, 1)
                    if type(result) is tuple:
                        n = len(result)
                        what = result[0] if n else None
                        if what == "reply" and n == 3:
                            reply(from_, result[1])
                            state = result[2]
                            continue
                        if what == "noreply" and n == 2:
                            state = result[1]
                            continue
                        if what == "stop" and n == 4:
                            reason = result[1]
                            pending = (from_, result[2])
                            state = result[3]
                            break
                        if what == "stop" and n == 3:
                            reason = result[1]
                            state = result[2]
                            break
                    reason = _bad_return(result)
                    break
                if what == "cast":
                    result = handle_cast(kind[1], state)
                    if sig.caps:
                        _release(sig.caps, 0)
                else:
                    stop = _stop_request(proc, sig)
                    if stop is not None:
                        reason = stop
                        break
                    result = handle_info(sig, state)
                    if sig.caps:
                        _release(sig.caps, 0)
            elif parent is not None and type(sig) is Exit and sig.cap.same_route(parent):
                # The parent (a supervisor) shuts us down; we trap exits, so
                # run terminate (rule O4).
                sig.cap.release()
                reason = sig.reason
                break
            else:
                result = handle_info(sig, state)
                if sig.cap.refs:
                    sig.cap.release()
            if type(result) is tuple:
                n = len(result)
                what = result[0] if n else None
                if what == "noreply" and n == 2:
                    state = result[1]
                    continue
                if what == "stop" and n == 3:
                    reason = result[1]
                    state = result[2]
                    break
            reason = _bad_return(result)
            break
    except ProcessExit as e:
        if proc.reason is not None:
            raise  # killed, or taken down by a link: no terminate (rule O4)
        reason = e.reason  # a callback called exit(reason)
    except Exception as e:
        reason = error_reason(e)
    _stop(proc, cls, instance, reason, state, pending)


_STOP = "$stop"
_new = object.__new__


def _stop_request(proc, sig):
    """The reason of a `stop` request in `sig`, or None if `sig` is not one.
    A stop request is ``("$stop", reason)`` carrying one capability with
    KILL to this process's own mailbox 0: proof that the sender may kill
    the server (releases it). Switches: never."""
    caps = sig.caps
    if len(caps) != 1 or sig.data[:1] != b"\x92":
        return None
    cap = caps[0]
    if not cap.names(proc.mailboxes[0]) or not cap.perms & KILL:
        return None
    try:
        term = decode(sig.data, caps)
    except DecodeError:
        return None
    if type(term) is not tuple or len(term) != 2 or term[0] != _STOP:
        return None
    _release(caps, 0)
    return term[1]


def stop(server: Cap, reason: Any = "normal", timeout: float | None = None) -> str:
    """Stop the server `server` synchronously, as OTP's ``gen_server:stop``.

    The server finishes the signal it is handling, then runs
    ``terminate(reason, state)`` and exits with `reason`; `stop` returns
    once it has exited (a `Down` tells it).

    Args:
        server: a `Cap` to the server with SEND, MONITOR and KILL.
        reason: the exit reason (plain data).
        timeout: seconds (runtime clock) to wait, or None for no limit. On
            a timeout the server is left running (it may still stop).

    Returns:
        ``"ok"``.

    Raises:
        ServerExited: the server was not running (reason ``noproc``), or
            it exited with another reason than `reason` (``terminate``
            failed; the error's `reason` is the one it exited with).
        CallTimeout: it had not exited within `timeout`.
        CallError: reason ``calling_self``: `server` is the caller itself.
        PermissionDenied: `server` lacks KILL (or MONITOR).

    Switches: always (never for ``calling_self`` or missing permissions).
    """
    proc = current_process()
    if is_self(server):
        raise CallError(
            "calling_self: a server can't stop itself with stop; return"
            " ('stop', reason, state) from its callback",
            "calling_self",
        )
    proof = server.demote(KILL)  # raises PermissionDenied without KILL
    mb = proc.create_mailbox()
    try:
        ref = server.monitor(mb)
        try:
            data, caps = encode((_STOP, reason), [proof])
        except TypeError:
            proc.demonitor(ref, flush=True)
            raise
        server.send(data, caps)
        sig = mb.recv(timeout)
        while sig is not None and not (type(sig) is Down and sig.ref == ref):
            held = getattr(sig, "cap", None)
            if held is not None:
                held.release()
            for cap in getattr(sig, "caps", ()) or ():
                cap.release()
            sig = mb.recv(timeout)
        if sig is None:
            raise CallTimeout(f"the server did not stop within {timeout}s", "timeout")
        sig.cap.release()
        if sig.reason != reason:
            raise ServerExited(
                f"the server exited with {format_reason(sig.reason)}, not {format_reason(reason)}",
                sig.reason,
            )
        return "ok"
    finally:
        proof.release()
        mb.destroy()


def _stop(proc, cls, instance, reason, state, pending):
    try:
        instance.terminate(reason, state)
    except ProcessExit as e:
        if proc.reason is not None:
            raise
        reason = e.reason
    except Exception as e:
        reason = error_reason(e)
    finally:
        if pending is not None:
            reply(*pending)
    if not is_normal_exit(reason):
        log.error(
            "server pid %s (%s) terminating: %s",
            proc.pid,
            cls.__qualname__,
            format_reason(reason, traceback=True),
        )
    vm_exit(reason)
