"""Python clients of the registry service (rules R1–R3).

Each function sends one request of the wire format described in
`_registry` and waits for its reply on a reply mailbox of the calling
process (kept in its process dictionary and reused, as `_call` does). The
registry capability is the root one from `start_registry` or a view; with
MONITOR on it (both have it) a dead registry is noticed at once.
"""

from hearth.vm import MONITOR, SEND, Cap, Down, Message, current_process

from ._call import DEFAULT_TIMEOUT
from ._codec import decode, encode
from ._errors import CallTimeout, DecodeError, NameTaken, RegistryError, ServerExited

__all__ = [
    "register",
    "unregister",
    "lookup",
    "registered",
    "registry_view",
    "RegistryError",
    "NameTaken",
]

_KEY = "$otp.registry_reply_mailbox"


def register(registry, name, cap, timeout=DEFAULT_TIMEOUT):
    """Register `cap` as `name` (like Erlang's ``register/2``; rule R1).

    The name goes when unregistered or when the process owning `cap`'s
    route exits, before anyone sees that process's Down (R2). The caller
    keeps its own reference to `cap`.

    Raises:
        NameTaken: the name is registered already.
        RegistryError: `cap`'s route is closed (``noproc``) or the registry
            capability may not register this name (``permission_denied``).
        CallTimeout, ServerExited: no reply (see `call`).

    Switches: always.
    """
    _check_name(name)
    if type(cap) is not Cap:
        raise TypeError(f"register needs a Cap, not {type(cap).__name__}")
    _request(registry, {"op": "register", "name": name}, [cap], timeout)


def unregister(registry, name, timeout=DEFAULT_TIMEOUT):
    """Remove `name` (like Erlang's ``unregister/1``).

    Raises:
        RegistryError: ``not_found``, or ``permission_denied``.
        CallTimeout, ServerExited: no reply.

    Switches: always.
    """
    _check_name(name)
    _request(registry, {"op": "unregister", "name": name}, (), timeout)


def lookup(registry, name, timeout=DEFAULT_TIMEOUT):
    """The capability registered as `name`, or None (like ``whereis/1``).

    The returned `Cap` holds one reference in the caller's table; release
    it when done with it (V1: looking the same name up twice gives the same
    handle with two references). A scoped view finds only its own names.

    Raises:
        CallTimeout, ServerExited: no reply.

    Switches: always.
    """
    _check_name(name)
    try:
        cap = _request(registry, {"op": "get", "name": name}, (), timeout)
    except RegistryError as e:
        if e.kind == "not_found":
            return None
        raise
    if type(cap) is not Cap:
        raise RegistryError("invalid_reply", f"get replied {cap!r}, not a capability")
    return cap


def registered(registry, timeout=DEFAULT_TIMEOUT):
    """The registered names the registry capability may see, sorted (like
    Erlang's ``registered/0``).

    Switches: always.
    """
    return list(_request(registry, {"op": "list"}, (), timeout))


def registry_view(registry, *, read_only=False, names=None, timeout=DEFAULT_TIMEOUT):
    """A narrower registry capability (rule R3).

    Args:
        read_only: the view can only get, list and make views.
        names: if given, the view sees and may change only these names.

    Returns:
        A `Cap` (SEND and MONITOR) to the new view. Its rights are those of
        `registry` intersected with the ones asked for: never wider.

    Switches: always.
    """
    if names is not None:
        if isinstance(names, str):
            raise TypeError("names is a collection of names, not one str")
        names = list(names)
        for n in names:
            _check_name(n)
    return _request(
        registry, {"op": "view", "read_only": bool(read_only), "names": names}, (), timeout
    )


# -- one request ------------------------------------------------------------------------


def _check_name(name):
    if type(name) is not str:
        raise TypeError(f"a registry name is a str, not {type(name).__name__}")


def _reply_box(proc):
    d = proc.dictionary
    if d is None:
        d = proc.dictionary = {}
    entry = d.get(_KEY)
    if entry is None or entry[0].closed:
        mb = proc.create_mailbox()
        entry = d[_KEY] = (mb, mb.make_capability(SEND))
    return entry


def _request(registry, term, args, timeout):
    """Send one request and return the ``ok`` value of its reply.

    Raises `RegistryError` (or `NameTaken`) for an ``err`` reply.
    """
    proc = current_process()
    mb, reply_cap = _reply_box(proc)
    data, caps = encode(term, [reply_cap, *args])
    ref = registry.monitor(mb) if registry.permissions & MONITOR else None
    done = False
    try:
        registry.send(data, caps)
        reply = _wait_reply(proc, mb, ref, timeout, term)
        done = True
    finally:
        if ref is not None:
            proc.demonitor(ref, flush=True)
        if not done:
            # A reply may still come: retire the mailbox (its route closes,
            # so the reply is dropped) rather than let the next request
            # read it as its own.
            mb.destroy()
            proc.dictionary.pop(_KEY, None)
    if "ok" in reply:
        return reply["ok"]
    err = reply["err"]
    kind, message = err["kind"], str(err.get("message"))
    if kind == "name_taken":
        pid = err.get("pid")
        raise NameTaken(kind, message, term.get("name"), pid if type(pid) is int else None)
    raise RegistryError(kind, message)


def _wait_reply(proc, mb, ref, timeout, term):
    clock = proc.runtime.clock
    deadline = None if timeout is None else clock.now() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - clock.now())
        sig = mb.recv(remaining)
        if sig is None:
            raise CallTimeout(f"the registry did not answer {term!r} within {timeout}s", "timeout")
        if type(sig) is Down:
            sig.cap.release()
            if sig.ref == ref:
                raise ServerExited(f"the registry exited: {sig.reason!r}", sig.reason)
            continue
        if type(sig) is Message:
            try:
                reply = decode(sig.data, sig.caps)
            except DecodeError:
                reply = None
            if _is_reply(reply):
                # Only a capability inside the reply (get, view) is kept.
                kept = reply.get("ok")
                for cap in sig.caps:
                    if cap is kept:
                        kept = None
                    else:
                        cap.release()
                return reply
            for cap in sig.caps:
                cap.release()


def _is_reply(term):
    if type(term) is not dict or len(term) != 1:
        return False
    if "ok" in term:
        return True
    err = term.get("err")
    return type(err) is dict and type(err.get("kind")) is str
