"""Request/response over the kernel: `call`, `cast`, `reply` (rules O2, O3).

The wire protocol, in msgpack terms (see `_codec`):

- call: ``("$call", tag, request)`` with the reply capability at caps[0];
- reply: ``("$reply", tag, value)`` sent through that capability;
- cast: ``("$cast", request)``.

A caller waits on a reply mailbox of its own (kept in its process
dictionary and reused), monitors the server from it, and on timeout
destroys it: a late reply then goes to a closed route and is dropped by the
kernel, so it can never show up later (O2).
"""

from hearth.vm import MONITOR, SEND, Down, Message, current_process

from ._codec import decode, encode
from ._errors import CallTimeout, DecodeError, ServerExited

__all__ = ["call", "cast", "reply", "classify", "From", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 5.0
_KEY = "$otp.reply_mailbox"


class From:
    """Where a reply goes: the caller's reply capability and the call's tag.

    `handle_call` gets one; keep it to reply later (a deferred reply).
    """

    __slots__ = ("cap", "tag")

    def __init__(self, cap, tag):
        self.cap = cap
        self.tag = tag

    def __repr__(self):
        return f"<From tag={self.tag}>"


def _reply_box(proc):
    d = proc.dictionary
    if d is None:
        d = proc.dictionary = {}
    entry = d.get(_KEY)
    if entry is None or entry[0].closed:
        mb = proc.create_mailbox()
        entry = d[_KEY] = (mb, mb.make_capability(SEND))
    return entry


def call(server, request, timeout=DEFAULT_TIMEOUT):
    """Send `request` to `server` and wait for its reply (rule O2).

    Args:
        server: a `Cap` with SEND (and MONITOR, to notice the server's death
            at once; without it a dead server is only noticed by timeout).
        request: a term; capabilities inside it travel with the message.
        timeout: seconds on the runtime's clock, or None to wait forever.

    Returns:
        the reply term.

    Raises:
        CallTimeout: no reply within `timeout`.
        ServerExited: the server was dead or died during the call; its
            `reason` is the server's exit reason (``noproc`` if already dead).

    Switches: always.
    """
    proc = current_process()
    mb, reply_cap = _reply_box(proc)
    tag = proc.runtime._new_ref()
    data, caps = encode(("$call", tag, request), [reply_cap])
    ref = server.monitor(mb) if server._perms & MONITOR else None
    server.send(data, caps)
    clock = proc.runtime.clock
    deadline = None if timeout is None else clock.now() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - clock.now())
        sig = mb.recv(remaining)
        if sig is None:
            if ref is not None:
                proc.demonitor(ref, flush=True)
            mb.destroy()
            proc.dictionary.pop(_KEY, None)
            raise CallTimeout(f"no reply to {request!r} within {timeout}s", "timeout")
        if type(sig) is Down:
            sig.cap.release()
            if sig.ref == ref:
                raise ServerExited(f"server exited during call: {sig.reason!r}", sig.reason)
            continue
        if type(sig) is Message:
            try:
                term = decode(sig.data, sig.caps)
            except DecodeError:
                _release(sig.caps)
                continue
            if type(term) is tuple and len(term) == 3 and term[0] == "$reply" and term[1] == tag:
                if ref is not None:
                    proc.demonitor(ref, flush=True)
                return term[2]
            _release(sig.caps)


def _release(caps):
    for cap in caps:
        cap.release()


def cast(server, request):
    """Send `request` without waiting (rule O3). Never blocks, never raises
    for a dead server. Switches: never."""
    data, caps = encode(("$cast", request))
    server.send(data, caps)


def reply(from_, value):
    """Answer a call (now or later) and release the reply capability.

    Switches: never.
    """
    cap = from_.cap
    data, caps = encode(("$reply", from_.tag, value))
    try:
        cap.send(data, caps)
    finally:
        cap.release()


def classify(sig):
    """Sort a received signal the way a server loop needs it.

    Returns one of:
        ``("call", From, request)`` for a well-formed call (the `From` holds
        the reply capability; answer with `reply`);
        ``("cast", request)`` for a cast;
        ``("info", sig)`` for anything else: Down, Exit, or a message that is
        not of this protocol (its capabilities are left to the receiver).

    Switches: never.
    """
    if type(sig) is Message and sig.data[:1] in _ARRAY_HEADS:
        try:
            term = decode(sig.data, sig.caps)
        except DecodeError:
            return ("info", sig)
        if type(term) is tuple and term:
            kind = term[0]
            if kind == "$call" and len(term) == 3 and sig.caps and sig.caps[0]._perms & SEND:
                return ("call", From(sig.caps[0], term[1]), term[2])
            if kind == "$cast" and len(term) == 2:
                return ("cast", term[1])
    return ("info", sig)


# msgpack array headers of 2 or 3 elements: fixarray 0x92, 0x93.
_ARRAY_HEADS = (b"\x92", b"\x93")
