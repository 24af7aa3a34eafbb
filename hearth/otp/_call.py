"""Request/response over the kernel: `call`, `cast`, `reply` (rules O2, O3).

The wire protocol, in msgpack terms (see `_codec`):

- call: ``("$call", tag, request)`` with the reply capability at caps[0];
- reply: ``("$reply", tag, value)`` sent through that capability;
- cast: ``("$cast", request)``.

A caller waits on a reply mailbox of its own (kept in its process
dictionary and reused), monitors the server from it (and keeps that
monitor for its next calls), and on timeout destroys it: a late reply then
goes to a closed route and is dropped by the kernel, so it can never show
up later (O2). It is destroyed too after a call to a peer's or a guest's
server, which may keep the reply capability to forge later replies.
"""

from __future__ import annotations

from typing import Any

import msgpack

from hearth.vm import (
    MONITOR,
    SEND,
    Cap,
    Down,
    Message,
    account_of,
    carrier_of,
    current_process,
    is_self,
    route_owner,
)
from hearth.vm._terms import MAX_DEPTH, MAX_ITEMS, measure as measure_term

from ._codec import decode, encode
from ._errors import CallError, CallTimeout, DecodeError, ServerExited

__all__ = ["call", "cast", "reply", "classify", "From", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 5.0
_KEY = "$otp.reply_mailbox"


class From:
    """Where a reply goes: the caller's reply capability and the call's tag.

    `handle_call` gets one; keep it to reply later (a deferred reply).
    """

    __slots__ = ("cap", "tag")

    def __init__(self, cap: Cap, tag: int) -> None:
        self.cap = cap
        self.tag = tag

    def __repr__(self):
        return f"<From tag={self.tag}>"


# -- the fast paths ----------------------------------------------------------------------
#
# Every call encodes two terms and decodes two. `_codec.encode` and `decode`
# build a closure (their capability hook) each time, and `msgpack.packb`
# allocates a 256 KiB buffer for each term it packs. The common term has no
# capability in it, so these try msgpack directly, with reused packers and
# hooks that give up at the first capability (or anything else only the
# codec's hooks handle): then the codec does the work, and the result is the
# same. A successful fast pack is byte for byte `encode`'s (same options,
# and its hook never ran); a fast unpack that meets no extension is
# `decode`'s term.


class _Fallback(Exception):
    """The term needs the codec's own hooks."""


def _fallback(*_):
    raise _Fallback


_idle_packers: list[Any] = []  # packers not in use; each `_pack` takes one of its own
_KEEP_BUFFER = 64 * 1024  # a packer that grew past this is not kept


def _pack(term):
    """`term` as `encode` would pack it, or None if it holds a capability,
    a set, or anything `encode` must handle (or refuse) itself.

    Each pack takes a packer from the idle list (list ``pop`` and ``append``
    are atomic), so neither another greenlet nor another thread can share
    one mid-pack. Switches: never.
    """
    try:
        packer = _idle_packers.pop()
    except IndexError:
        packer = msgpack.Packer(default=_fallback, use_bin_type=True, buf_size=1024)
    try:
        data = packer.pack(term)
    except Exception:  # _Fallback, or an error `encode` will raise itself
        _idle_packers.append(packer)
        return None
    if len(data) <= _KEEP_BUFFER:
        _idle_packers.append(packer)
    return data


_unpackb = msgpack.unpackb
# Data this short is under every limit of `measure` (it returns at once).
_SHORT = min(MAX_DEPTH, MAX_ITEMS)


def decode_fast(data, caps):
    """`decode(data, caps)`: the term, or `DecodeError`. Switches: never."""
    try:
        if len(data) > _SHORT:
            measure_term(data)  # over the limits: `decode` says why
        return _unpackb(data, use_list=False, raw=False, strict_map_key=False,
                        ext_hook=_fallback)
    except Exception:  # an extension (a capability?), or malformed data
        return decode(data, caps)


_decode = decode_fast

#: The first bytes of every call packed by `call`: a 3-array, then "$call".
CALL_HEAD = b"\x93\xa5$call"


_MONITORS_KEPT = 8  # servers whose monitor a caller keeps between calls


def _reply_box(proc):
    """The caller's reply mailbox entry: ``(mailbox, SEND capability to it,
    the call's capability list, kept monitors)``; the last maps a server's
    `Cap` to the reference of the monitor this mailbox holds on it."""
    d = proc.dictionary
    if d is None:
        d = proc.dictionary = {}
    entry = d.get(_KEY)
    if entry is None or entry[0].closed:
        mb = proc.create_mailbox()
        cap = mb.make_capability(SEND)
        entry = d[_KEY] = (mb, cap, (cap,), {})
    return entry


# -- kept monitors -------------------------------------------------------------------------
#
# A caller monitors a server from its reply mailbox, so that the server's
# death ends the call at once. Making and dropping that monitor on every
# call cost about a tenth of a call, so the monitor is kept between calls
# (up to `_MONITORS_KEPT` servers a caller, oldest dropped first) and only
# a `Down` or a timeout ends it:
#
# - a Down only ever lands in the reply mailbox, never in mailbox 0, and
#   the reply mailbox is drained of anything left over (a kept monitor's
#   Down, a late deferred reply) before each call sends; so nothing stale
#   is ever taken for the answer of a later call;
# - a server that died between two calls left its Down queued: the drain
#   forgets that monitor, and a fresh one reports the death at once, with
#   ``noproc`` as for a server that was never called;
# - a timeout destroys the reply mailbox and, with it, every monitor it
#   held (rule V11).


def _forget(mons, ref):
    """Drop the kept monitor `ref` (it fired). Switches: never."""
    for server, kept in mons.items():
        if kept == ref:
            del mons[server]
            return


def _drain_stale(mb, mons):
    """Take what earlier calls left in the reply mailbox: Downs of kept
    monitors (forgotten here) and late replies. Switches: never."""
    while True:
        sig = mb.try_recv()
        if sig is None:
            return
        if type(sig) is Down:
            sig.cap.release()
            _forget(mons, sig.ref)
        elif type(sig) is Message:
            _release(sig.caps)


def _monitor(proc, server, mb, mons):
    """A monitor of `server` from `mb`, kept for later calls (the oldest
    kept one is dropped if there are too many); None if `server` lacks
    MONITOR. Switches: never."""
    if not server.perms & MONITOR:
        return None
    ref = server.monitor(mb)
    if len(mons) >= _MONITORS_KEPT:
        oldest = next(iter(mons))
        proc.demonitor(mons.pop(oldest), flush=True)
    mons[server] = ref
    return ref


def call(server: Cap, request: Any, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
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
        CallError: reason ``calling_self``: `server` names a mailbox of the
            calling process, which could never answer while it waits (OTP
            fails such a call at once too); nothing is sent.

    The caller keeps its monitor of `server` for later calls (see "kept
    monitors" above), except for a peer's or a guest's server: after a call
    to one, the reply mailbox is retired with its monitors, so the reply
    capability that server may keep leads nowhere.

    Switches: always (never when it raises ``calling_self``).
    """
    proc = current_process()
    d = proc.dictionary
    entry = None if d is None else d.get(_KEY)
    if entry is None or entry[0].closed:
        entry = _reply_box(proc)
    mb, _, caps, mons = entry
    if len(mb):
        _drain_stale(mb, mons)
    ref = mons.get(server) if type(server) is Cap else None
    retire = False
    if ref is None:
        # Not called before (or its monitor fired): a server kept in `mons`
        # was checked already, and its route can't change.
        if type(server) is Cap and is_self(server):
            raise CallError(f"calling_self: {request!r} was sent to the calling process"
                            " itself, which can't answer while it waits"[:300], "calling_self")
        # A peer's or a guest's server may keep the reply capability: the
        # mailbox is retired after its call, so it can neither forge the
        # reply to a later call (tags count up) nor queue messages in it.
        retire = type(server) is Cap and (carrier_of(server) is not None
                                          or account_of(server) is not None)
        ref = _monitor(proc, server, mb, mons)
    rt = proc.runtime
    tag = rt.make_ref()
    term = ("$call", tag, request)
    data = _pack(term)
    if data is None:
        data, caps = encode(term, [entry[1]])
    server.send(data, caps)
    if timeout is None:
        deadline = remaining = None
    else:
        clock = rt.clock
        # Nothing switches before the first wait: its timeout is the whole.
        deadline = clock.now() + timeout
        remaining = timeout if timeout > 0 else 0.0
    try:
        while True:
            sig = mb.recv(remaining)
            if sig is None:
                retire = True  # drops every monitor it held, and any late reply
                raise CallTimeout(f"no reply to {request!r} within {timeout}s", "timeout")
            if type(sig) is Message:
                try:
                    got = _decode(sig.data, sig.caps)
                except DecodeError:
                    got = None
                if type(got) is tuple and len(got) == 3 and got[0] == "$reply" and got[1] == tag:
                    return got[2]
                _release(sig.caps)
            elif type(sig) is Down:
                sig.cap.release()
                _forget(mons, sig.ref)
                if sig.ref == ref:
                    raise ServerExited(f"server exited during call: {sig.reason!r}", sig.reason)
            if deadline is not None:
                remaining = max(0.0, deadline - clock.now())
    finally:
        if retire:
            mb.destroy()
            (proc.dictionary or {}).pop(_KEY, None)


# -- kept reply capabilities (the server's side) ---------------------------------------
#
# Every call brings the caller's reply capability, which the server's table
# imports and `reply` releases: a new handle made and freed per call, about
# half a microsecond. A caller sends the same reply capability call after
# call (its reply mailbox is reused), so a server that holds one reference
# of its own to those of up to 8 callers finds the handle already in its
# table and the import only counts a reference. Holding it grants the server nothing it
# did not have while it answered (a deferred reply may keep `From` longer),
# and the caller ignores anything in its reply mailbox that is not the
# answer to the call it waits for (O2). Only local routes of the operator's
# own processes are kept: a peer's or a guest's reply route stays
# accounted to its owner and released after each reply.

_REPLY_CAPS_KEPT = 8  # callers whose reply capability a server keeps
_SWEEP_EVERY = 16  # calls from callers not kept, while full, between sweeps


class ReplyCaps:
    """The reply capabilities a server loop keeps (`keep_reply_cap`).

    Attributes:
        caps: each kept `Cap` (mapped to None), first kept first.
        misses: calls from callers not kept since the last sweep.
    """

    __slots__ = ("caps", "misses")

    def __init__(self) -> None:
        self.caps: dict[Cap, None] = {}
        self.misses = 0


def keep_reply_cap(kept: ReplyCaps, cap: Cap) -> None:
    """Take a reference of the server's own to `cap`, the reply capability
    of a call from a caller not kept yet, for that caller's next calls.

    While `_REPLY_CAPS_KEPT` are kept, a new caller is not kept, so that
    many callers taking turns cost no churn; every `_SWEEP_EVERY` such
    calls the kept ones whose caller's mailbox closed (a timeout retired
    it, or the caller died) are dropped, which makes room. Switches: never.
    """
    held = kept.caps
    if len(held) >= _REPLY_CAPS_KEPT:
        kept.misses += 1
        if kept.misses < _SWEEP_EVERY:
            return
        kept.misses = 0
        # A handle the server's own code released (a reply sent twice, say)
        # is no longer ours to release.
        for old in [c for c in held if not c.refs or route_owner(c) is None]:
            del held[old]
            if old.refs:
                old.release()
        if len(held) >= _REPLY_CAPS_KEPT:
            return
    if carrier_of(cap) is not None or account_of(cap) is not None:
        return
    cap.inc_ref()
    held[cap] = None


def _release(caps):
    for cap in caps:
        cap.release()


def cast(server: Cap, request: Any) -> None:
    """Send `request` without waiting (rule O3). Never blocks, never raises
    for a dead server. Switches: never."""
    term = ("$cast", request)
    data = _pack(term)
    if data is None:
        data, caps = encode(term)
        server.send(data, caps)
    else:
        server.send(data)


def reply(from_: From, value: Any) -> None:
    """Answer a call (now or later) and release the reply capability.

    Switches: never.
    """
    cap = from_.cap
    term = ("$reply", from_.tag, value)
    data = _pack(term)
    caps: list[Cap] | tuple[()] = ()
    if data is None:
        data, caps = encode(term)
    try:
        cap.send(data, caps)
    finally:
        cap.release()


def classify(sig: Any) -> tuple[Any, ...]:
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
            term = _decode(sig.data, sig.caps)
        except DecodeError:
            return ("info", sig)
        if type(term) is tuple and term:
            kind = term[0]
            if kind == "$call" and len(term) == 3 and sig.caps and sig.caps[0].perms & SEND:
                return ("call", From(sig.caps[0], term[1]), term[2])
            if kind == "$cast" and len(term) == 2:
                return ("cast", term[1])
    return ("info", sig)


# msgpack array headers of 2 or 3 elements: fixarray 0x92, 0x93.
_ARRAY_HEADS = (b"\x92", b"\x93")
