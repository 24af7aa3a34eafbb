"""The registry service: names to capabilities (rules R1–R3).

A registry is a process. `start_registry` spawns one and returns its *root*
capability; guests and the Python clients in `_registry_client`
(`register`, `unregister`, `lookup`, `registered`, `registry_view`) speak
to it with the messages described here.

Wire format
-----------

Every request is one message: msgpack data (see `_codec`) whose caps[0] is
the reply capability (it needs SEND) and caps[1..] are arguments. The data
is a map or an array:

==============================================  ======================
map form                                        array form
==============================================  ======================
``{"op": "get", "name": N}``                    ``["get", N]``
``{"op": "register", "name": N}``               ``["register", N]``
``{"op": "unregister", "name": N}``             ``["unregister", N]``
``{"op": "list"}``                              ``["list"]``
``{"op": "view", "read_only": B, "names": L,    ``["view", B, L]``
"hide": H}`` (``hide`` only in the map form)
==============================================  ======================

register takes the capability to register as caps[1] (either form).
N is a str; B a bool (default false in the map form); L an array of str, or
nil for "every name the holder may see" (default nil in the map form).
Other keys of a map are ignored. The reply is one message, sent through
caps[0], whose data is a map: ``{"ok": value}`` or
``{"err": {"kind": K, "message": M}}``, M a str for people. There is no
request tag: send each request with a reply capability of its own, or wait
for each reply before the next request.

=============  ==========================================================
op             ``ok`` value
=============  ==========================================================
get            the capability, embedded as below; err ``not_found``
register       nil; err ``name_taken`` (M names the holder's debug pid,
               also given as an extra int field ``"pid"`` of the err
               map), ``noproc`` (caps[1] names a closed route)
unregister     nil; err ``not_found``
list           array of the names, sorted
view           a capability (SEND and MONITOR) to a new view (see R3)
=============  ==========================================================

A capability inside data is msgpack extension type 1 whose 4-byte payload
is its index into the message's caps, little-endian u32 (`_codec.CAP_EXT`).
So ``get "x"`` is the bytes ``82 a2 6f 70 a3 67 65 74 a4 6e 61 6d 65 a1 78``
with caps = [reply], and its answer ``81 a2 6f 6b d6 01 00 00 00 00`` with
caps = [the registered capability].

Error kinds: ``not_found``, ``name_taken``, ``noproc``,
``permission_denied`` (the view's rights forbid it), ``invalid_request``
(not msgpack, not a map or array, unknown op, missing or ill-typed field,
missing caps[1], capability index out of range) and ``internal_error`` (a
bug in the registry, logged with its traceback). A request whose caps[0]
is missing or lacks SEND gets no reply: it is logged and dropped. Either
way the registry goes on serving. It takes one reference to every
capability in a request and releases all of them except a registered one,
which it keeps until the name goes.

Names and deaths (R2)
---------------------

A name goes when it is unregistered, or when the process owning the
registered capability's route exits: registering hooks that process's exit
(`hearth.vm.on_exit`), which the kernel runs before it closes any route, so
the name is gone before any `Down` or `Exit` for that process is delivered,
and can be registered again at once. A name whose mailbox alone is
destroyed goes at the next request that touches it. Unlike Erlang, one
process may hold several names (say, capabilities with different
permissions to it).

Views (R3)
----------

Besides its root mailbox the registry has one mailbox per view; the rights
of each are kept here, never in the capability, and checked by which
mailbox a request arrived on. A view is read-only (get, list, view) and/or
scoped to a set of names: a scoped view lists only its names, finds only
its names (others are ``not_found``) and registers or unregisters only its
names (others are ``permission_denied``), and may *hide* names (a hidden
name is not listed, not found and not registered through that view, as if
outside its scope: for handing peers everything but the admin services). A
view made through a view gets the intersection of both, so no holder can
widen what it was given.
"""

from __future__ import annotations

import logging
from typing import Any

from hearth.vm import (
    MONITOR,
    SEND,
    Cap,
    Message,
    cancel_on_exit,
    current_process,
    on_exit,
    route_owner,
)
from hearth.vm._terms import brief

from ._codec import decode, encode
from ._droplog import DropLog
from ._errors import DecodeError, ServiceError
from ._schema import schema

REGISTRY_SCHEMA = "hearth.Registry"  # its protocol, in hearth/otp/protocols/registry.toml

__all__ = ["NameTable", "start_registry", "start_link_registry"]

log = logging.getLogger("hearth.otp.registry")


# The registry needs the `Process` owning a registered route
# (`hearth.vm.route_owner`) to hook its exit synchronously (R2): learning of
# a death from a monitor would put a `Down` in the registry's mailbox, which
# it reads only after other processes may already have seen theirs. Those
# `Process` objects stay inside the registry.
_route_owner = route_owner


class NameTable:
    """Names mapped to capabilities, for one registry process.

    The registry's greenlet does everything here except `_forget`, which a
    dying holder's exit hook calls from whatever greenlet is killing it.
    The hook only edits dicts and lists, so it never switches; capabilities
    of removed names wait in `_dropped` until the registry's own greenlet
    releases them (a `Cap` can only be released by its table's owner).
    """

    def __init__(self):
        self._caps = {}  # name -> Cap (in the registry's table)
        self._owner = {}  # name -> Process owning the Cap's route
        self._names_of = {}  # holder Process -> set of its names
        self._hooks = {}  # holder Process -> its exit hook
        self._dropped = []  # Caps of removed names, to release

    def lookup(self, name):
        """The capability registered as `name`, or None. Switches: never."""
        cap = self._caps.get(name)
        if cap is not None and _route_owner(cap) is None:
            # Its mailbox was destroyed with the process alive: no hook ran.
            self._remove(name)
            return None
        return cap

    def holder(self, name):
        """The live process holding `name`, or None. Switches: never."""
        return self._owner[name] if self.lookup(name) is not None else None

    def names(self):
        """The names, sorted. Switches: never."""
        return sorted(n for n in list(self._caps) if self.lookup(n) is not None)

    def register(self, name, cap):
        """Register `cap` as `name`, taking over the caller's reference.

        Returns:
            True, or False if the name is taken or `cap`'s route is closed
            (then the reference stays the caller's).

        Switches: never.
        """
        if self.lookup(name) is not None:
            return False
        owner = _route_owner(cap)
        if owner is None:
            return False
        self._caps[name] = cap
        self._owner[name] = owner
        names = self._names_of.get(owner)
        if names is None:
            names = self._names_of[owner] = set()
            self._hooks[owner] = on_exit(owner, self._make_hook())
        names.add(name)
        return True

    def unregister(self, name):
        """Remove `name`; return False if it was not registered.

        Switches: never.
        """
        if self.lookup(name) is None:
            return False
        self._remove(name)
        return True

    def take_dropped(self):
        """Return and forget the capabilities of removed names, for the
        registry's greenlet to release. Switches: never."""
        dropped, self._dropped = self._dropped, []
        return dropped

    def close(self):
        """Take every hook off its process and forget everything (the
        registry is exiting). Switches: never."""
        for proc, hook in self._hooks.items():
            _unhook(proc, hook)
        self._caps.clear()
        self._owner.clear()
        self._names_of.clear()
        self._hooks.clear()
        self._dropped.clear()

    def __len__(self):
        return len(self._caps)

    # -- internals ---------------------------------------------------------------

    def _make_hook(self):
        def on_exit(proc, reason):
            self._forget(proc)

        return on_exit

    def _forget(self, proc):
        """`proc` is exiting: drop all its names. The kernel has already
        taken the hook list off `proc`. Switches: never."""
        self._hooks.pop(proc, None)
        for name in self._names_of.pop(proc, ()):
            del self._owner[name]
            self._dropped.append(self._caps.pop(name))

    def _remove(self, name):
        self._dropped.append(self._caps.pop(name))
        owner = self._owner.pop(name)
        names = self._names_of[owner]
        names.discard(name)
        if not names:
            # No name left: a long-lived process mustn't collect dead hooks.
            del self._names_of[owner]
            _unhook(owner, self._hooks.pop(owner))


def _unhook(proc, hook):
    cancel_on_exit(proc, hook)


# -- rights (R3) ---------------------------------------------------------------------


class _Rights:
    """What requests on one mailbox of the registry may do."""

    __slots__ = ("read_only", "names", "hidden")

    def __init__(self, read_only=False, names=None, hidden=frozenset()):
        self.read_only = read_only
        self.names = names  # frozenset, or None for every name
        self.hidden = hidden  # names this view never sees

    def narrow(self, read_only, names, hide=None):
        """The intersection of these rights and the ones asked for."""
        if self.names is None:
            scope = None if names is None else frozenset(names)
        else:
            scope = self.names if names is None else self.names & frozenset(names)
        hidden = self.hidden | frozenset(hide) if hide else self.hidden
        return _Rights(self.read_only or read_only, scope, hidden)

    def sees(self, name):
        return (self.names is None or name in self.names) and name not in self.hidden


_ROOT = _Rights()


class _Refused(Exception):
    """A request answered with an error reply (`extra`: more err fields)."""

    def __init__(self, kind, message, **extra):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.extra = extra


def _invalid(message):
    return _Refused("invalid_request", message)


def _parse(term, args):
    """Return ``(op, fields)`` of a decoded request, checked against the
    ``hearth.Registry`` schema (hearth/otp/protocols/registry.toml), or
    raise `_Refused`."""
    try:
        return schema(REGISTRY_SCHEMA).parse(term, args)
    except ServiceError as e:
        raise _invalid(e.message) from None


class _Registry:
    """The service loop of one registry process."""

    def __init__(self, proc):
        self.proc = proc
        self.table = NameTable()
        root = proc.parent_mailbox()
        self.boxes = [root]  # root first, then views, in creation order
        self.rights = {root: (_ROOT, 0)}  # Mailbox -> (rights, index in boxes)
        self.next = 0  # where the next select starts, for fairness
        self.drops = DropLog(log)  # requests without a reply capability
        on_exit(proc, lambda p, r: self.table.close())

    def serve(self):
        while True:
            boxes = self.boxes
            mb, sig = self.proc.select(boxes[self.next :] + boxes[: self.next])
            rights, index = self.rights[mb]
            # Start the next select after this mailbox, so a busy one can't
            # starve the others (select prefers the first it is given).
            self.next = (index + 1) % len(boxes)
            if type(sig) is Message:
                self._handle(rights, sig)
            else:  # a Down or Exit nobody asked for: it holds one handle
                sig.cap.release()
            for cap in self.table.take_dropped():
                cap.release()

    def _handle(self, rights, sig):
        caps = sig.caps
        reply_to = caps[0] if caps and caps[0].permissions & SEND else None
        kept = minted = None
        try:
            if reply_to is None:
                self.drops.note(
                    self.proc.runtime.clock.now(),
                    "registry pid %s dropped a request without a reply capability (%d bytes)",
                    self.proc.pid,
                    len(sig.data),
                )
                return
            try:
                try:
                    op, fields = _parse(decode(sig.data, caps), caps[1:])
                except DecodeError as e:
                    raise _invalid(str(e)[:200]) from None
                if op == "view":
                    value = minted = self._view(rights, fields)
                elif op == "register":
                    value = self._register(rights, fields["name"], caps)
                    kept = caps[1]
                else:
                    value = getattr(self, "_" + op)(rights, fields)
                reply = {"ok": value}
            except _Refused as e:
                reply = {"err": {"kind": e.kind, "message": e.message, **e.extra}}
            except Exception as e:  # noqa: B902 - a bug here must not take every name down
                log.exception("registry pid %s failed on a request", self.proc.pid)
                reply = {"err": {"kind": "internal_error", "message": repr(e)[:200]}}
            data, out = encode(reply)
            reply_to.send(data, out)
        finally:
            # One reference per occurrence came with the message; a
            # registered capability keeps one of them.
            for cap in caps:
                if cap is kept:
                    kept = None
                else:
                    cap.release()
            if minted is not None:
                minted.release()

    # -- the operations ---------------------------------------------------------------

    def _get(self, rights, fields):
        name = fields["name"]
        cap = self.table.lookup(name) if rights.sees(name) else None
        if cap is None:
            raise _Refused("not_found", f"no process is registered as {brief(name)}")
        return cap

    def _list(self, rights, fields):
        return [n for n in self.table.names() if rights.sees(n)]

    def _check_write(self, rights, op, name):
        if rights.read_only:
            raise _Refused("permission_denied", f"this registry capability is read-only: no {op}")
        if not rights.sees(name):
            raise _Refused("permission_denied",
                           f"this registry capability can't {op} {brief(name)}")

    def _register(self, rights, name, caps):
        # The schema saw to caps[1].
        self._check_write(rights, "register", name)
        holder = self.table.holder(name)
        if holder is not None:
            raise _Refused("name_taken",
                           f"{brief(name)} is already registered by pid {holder.pid}",
                           pid=holder.pid)
        if not self.table.register(name, caps[1]):
            raise _Refused("noproc", f"the capability to register as {brief(name)} names a"
                           " closed route")
        return None

    def _unregister(self, rights, fields):
        name = fields["name"]
        self._check_write(rights, "unregister", name)
        if not self.table.unregister(name):
            raise _Refused("not_found", f"no process is registered as {brief(name)}")
        return None

    def _view(self, rights, fields):
        narrowed = rights.narrow(fields["read_only"], fields["names"], fields["hide"])
        mb = self.proc.create_mailbox()
        self.rights[mb] = (narrowed, len(self.boxes))
        self.boxes.append(mb)
        # MONITOR too, so a holder notices a dead registry at once; neither
        # bit lets it act on the registry beyond these requests.
        return mb.make_capability(SEND | MONITOR)


def _main():
    _Registry(current_process()).serve()


def start_registry(name: str = "registry", **options: Any) -> Cap:
    """Spawn a registry service; return its root capability (all rights).

    Args:
        name: the service process's debug name (metadata only).
        **options: spawn options (`trap_exit`, metadata fields).

    Returns:
        A `Cap` with every permission to the registry's root mailbox:
        requests through it may do anything (R3 views narrow it).

    Switches: never (the service runs later; requests queue meanwhile).
    """
    return current_process().spawn(_main, name=name, **options)


def start_link_registry(name: str = "registry", **options: Any) -> Cap:
    """Like `start_registry`, linked to the caller. Switches: never."""
    return current_process().spawn(_main, link=True, name=name, **options)
