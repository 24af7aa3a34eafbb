"""Ownership via links: resources that die with the process that owns them.

docs/protocols.md: a resource a process creates belongs to it and goes when the
owner dies, unless ownership was handed on explicitly. `spawn_owned` runs a
resource as a process owned by the caller (or by `owner`); `transfer` hands
it on::

    lamp, deed = spawn_owned(lamp_loop, color)     # owned by this process
    lamp.send(*encode(("on",)))
    transfer(deed, other_owner)                     # now other_owner's
    # ... our death no longer touches the lamp; other_owner's does

How it works: a link can only be made by one of its own two processes (a
`link` acts on the caller, rule V18), and a plain link is not enough anyway:
an owner that exits ``normal`` sends nothing along its links (V19), yet its
resources must go. So each resource gets a *warden*, a small process that
traps exits and is linked to both the owner and the resource:

    owner ──link── warden ──link── resource

- the owner exits, whatever the reason: the warden exits with that reason
  (``shutdown`` if it was ``normal``), and the link takes the resource down;
- the resource exits: the warden exits with the same reason, which reaches
  the owner along its link as with a plain link: an abnormal exit kills a
  non-trapping owner, a trapping one gets an `Exit` whose ``cap`` names the
  warden (``exit.cap.same_route(deed)``); a ``normal`` exit goes unnoticed;
- `transfer` asks the warden to move its owner link from the old owner to
  the new one, in one step (no exit can come in between), so the resource
  is never left without an owner;
- `dispose` ends the resource without its exit reaching the owner.

The *deed* (SEND and MONITOR to the warden) is the authority to hand the
resource on or dispose of it; give it along with ownership. Killing the
resource's capability ends it too, but a kill reaches the owner through the
warden as ``killed``: use `dispose` to remove a resource you own.

A resource that traps exits gets the warden's exit signal as an `Exit` and
must exit itself (as a supervisor's child must).

Owner capabilities need LINK (a link is a power to kill: giving one to a
factory gives it that power over you) and should name the owner's parent
mailbox, as ``vm.make_capability(LINK)`` does: the warden recognises exit
signals by route, and exit signals come from parent mailboxes.

Warden protocol (`call` through the deed; replies as in `_patterns`):
``("transfer", new_owner)`` → ``{"ok": None}``, or err ``invalid_request``
(not a Cap, or the resource itself) or ``permission_denied`` (no LINK);
``("dispose", seconds)`` → ``{"ok": reason}`` (the resource's exit reason)
once the resource is gone, after which the warden exits ``normal``.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from hearth import vm
from hearth.vm import (
    LINK,
    MONITOR,
    NORMAL,
    SEND,
    SHUTDOWN,
    Cap,
    Down,
    Exit,
    Message,
    current_process,
)

from ._call import DEFAULT_TIMEOUT, classify, reply
from ._codec import decode, encode
from ._errors import DecodeError, StartError
from ._patterns import INVALID, err, ok, reject, request

__all__ = ["Owned", "spawn_owned", "transfer", "dispose", "DEED_PERMS"]

log = logging.getLogger("hearth.otp.ownership")

DEED_PERMS = SEND | MONITOR
_BOX_KEY = "$otp.owned_start_box"
_tags = itertools.count(1)


class Owned(NamedTuple):
    """What `spawn_owned` returns.

    Attributes:
        resource: a capability (all permissions) to the resource process.
        deed: a capability (SEND, MONITOR) to its warden: the authority to
            `transfer` or `dispose` of it.
    """

    resource: Cap
    deed: Cap


def spawn_owned(
    fn: Callable[..., object], *args: Any, owner: Cap | None = None, **options: Any
) -> Owned:
    """Spawn ``fn(*args)`` as a resource owned by the caller or `owner`.

    The resource dies when its owner exits for any reason (see the module
    docstring). `Cap` arguments are imported into the resource's table, as
    with `spawn`.

    Args:
        fn: the resource's function.
        owner: a capability with LINK to the owner's parent mailbox;
            default the caller.
        **options: spawn options of the resource (`name`, `trap_exit`,
            metadata).

    Returns:
        an `Owned` ``(resource, deed)``.

    Raises:
        TypeError: `fn` is not callable, or `owner` is not a `Cap`.
        PermissionDenied: `owner` lacks LINK.
        StartError: the owner is already dead (`reason` ``noproc``); no
            resource was started.

    Switches: always (it waits for the warden to start the resource).
    """
    if not callable(fn):
        raise TypeError(f"spawn_owned needs a callable, not {type(fn).__name__}")
    reserved = {"link", "monitor", "mailbox"}.intersection(options)
    if reserved:
        raise TypeError(f"spawn_owned sets {sorted(reserved)} itself")
    proc = current_process()
    if owner is None:
        owner = proc.make_capability(LINK)
        minted = True
    else:
        if type(owner) is not Cap:
            raise TypeError(f"owner must be a Cap, not {type(owner).__name__}")
        if not owner.permissions & LINK:
            raise vm.PermissionDenied("an owner capability needs LINK")
        minted = False
    box = _start_box(proc)
    tag = next(_tags)
    ack = box.make_capability(SEND)
    try:
        warden, ref = vm.spawn_monitor(
            _warden_main, ack, owner, tag, fn, options, *args,
            mailbox=box, trap_exit=True, description=f"warden of {_name_of(fn, options)}",
        )
    finally:
        ack.release()
        if minted:
            owner.release()
    while True:
        sig = box.recv()
        if type(sig) is Down:
            sig.cap.release()
            if sig.ref == ref:
                warden.release()
                raise StartError(
                    f"the warden died before starting the resource: {sig.reason!r}", sig.reason
                )
            continue
        if type(sig) is Message:
            try:
                term = decode(sig.data, sig.caps)
            except DecodeError:
                term = None
            if type(term) is tuple and len(term) == 3 and term[0] == "$owned" and term[1] == tag:
                proc.demonitor(ref, flush=True)
                deed = warden.demote(DEED_PERMS)
                warden.release()
                return Owned(term[2], deed)
            for cap in sig.caps:
                cap.release()


def _name_of(fn, options):
    return options.get("name") or getattr(fn, "__qualname__", None) or repr(fn)


def _start_box(proc):
    # One mailbox per process, reused (like `call`'s reply mailbox).
    d = proc.dictionary
    if d is None:
        d = proc.dictionary = {}
    box = d.get(_BOX_KEY)
    if box is None or box.closed:
        box = d[_BOX_KEY] = proc.create_mailbox()
    return box


def transfer(deed: Cap, new_owner: Cap, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
    """Hand the resource of `deed` on to `new_owner`.

    When this returns, the resource dies with `new_owner` and no longer
    with the old owner. The caller keeps its `deed`; pass a copy to the new
    owner (in a message) if it may hand the resource on again, and release
    yours. A `new_owner` already dead takes the resource with it.

    Args:
        deed: the deed from `spawn_owned` (or a factory).
        new_owner: a capability with LINK to the new owner's parent mailbox.

    Raises:
        ServiceError: `new_owner` is not a capability, or lacks LINK
            (``permission_denied``).
        ServerExited: the resource (and so its warden) is gone.
        CallTimeout: no answer in time.

    Switches: always.
    """
    request(deed, ("transfer", new_owner), timeout)


def dispose(deed: Cap, shutdown: float | None = 5.0, timeout: float | None = None) -> Any:
    """End the resource of `deed` without its exit reaching the owner.

    The resource gets the exit signal ``shutdown`` and, if it is still
    running after `shutdown` seconds (runtime clock), a kill.

    Returns:
        the resource's exit reason.

    Raises:
        ServerExited: the resource (and so its warden) was already gone.

    Switches: always.
    """
    return request(deed, ("dispose", shutdown), timeout)


# -- the warden -------------------------------------------------------------------------


def _warden_main(ack, owner, tag, fn, options, *args):
    """Link the owner, start the resource, then watch both (traps exits)."""
    owner.link()
    mb0 = current_process().mailboxes[0]
    early = mb0.try_recv()  # nothing but the owner can have signalled us yet
    if type(early) is Exit:
        vm.exit(early.reason)  # the owner is dead (noproc): start nothing
    resource = vm.spawn_link(fn, *args, **options)
    for arg in args:
        if type(arg) is Cap:
            arg.release()  # the resource has its own references now
    del args
    ack.send(*encode(("$owned", tag, resource)))
    ack.release()
    pending = deque() if early is None else deque([early])
    me = mb0.make_capability(0)  # to refuse "transfer to the warden itself"
    while True:
        sig = pending.popleft() if pending else mb0.recv()
        if type(sig) is Exit:
            if sig.cap.same_route(resource):
                vm.exit(sig.reason)  # as a link would: the owner hears of it
            # The owner exited. A normal exit sends nothing along a link,
            # so make it one the resource can't ignore unless it traps.
            vm.exit(SHUTDOWN if sig.reason == NORMAL else sig.reason)
        if type(sig) is Down:
            sig.cap.release()
            continue
        kind = classify(sig)
        if kind[0] != "call":
            reject("warden", sig, "not a call of the warden protocol")
            _release(sig.caps)
            continue
        from_, req = kind[1], kind[2]
        if type(req) is tuple and len(req) == 2 and req[0] == "transfer":
            owner = _transfer(owner, req[1], resource, me, from_, mb0, pending)
        elif type(req) is tuple and len(req) == 2 and req[0] == "dispose":
            _dispose(owner, resource, req[1], from_, mb0)
            return
        else:
            reply(from_, err(INVALID, f"unknown warden request {req!r}"))
        _release(sig.caps[1:])


def _transfer(owner, new_owner, resource, me, from_, mb0, pending):
    """Link `new_owner`, unlink `owner`; return the owner now in charge."""
    if type(new_owner) is not Cap or new_owner.same_route(resource) or new_owner.same_route(me):
        reply(from_, err(INVALID, "transfer needs a capability to the new owner"))
        return owner
    if not new_owner.permissions & LINK:
        reply(from_, err("permission_denied", "the new owner's capability needs LINK"))
        return owner
    if new_owner.same_route(owner):
        reply(from_, ok())
        return owner
    new_owner.inc_ref()
    # Unlink first: if both capabilities name the same process, linking
    # first would be a no-op and the unlink would leave no owner. Neither
    # call switches, so no exit can slip in between.
    owner.unlink()
    new_owner.link()
    # An Exit the old owner sent before the unlink may be queued already:
    # it no longer concerns us (Erlang's unlink-then-flush).
    while (sig := mb0.try_recv()) is not None:
        if type(sig) is Exit and sig.cap.same_route(owner):
            sig.cap.release()
        else:
            pending.append(sig)
    owner.release()
    reply(from_, ok())
    return new_owner


def _dispose(owner, resource, shutdown, from_, mb0):
    if isinstance(shutdown, bool) or not isinstance(shutdown, (int, float)) or shutdown < 0:
        shutdown = 5.0
    owner.unlink()
    resource.exit(SHUTDOWN)
    reason = _wait_exit(resource, mb0, shutdown)
    if reason is None:
        resource.kill()
        reason = _wait_exit(resource, mb0, None)
    reply(from_, ok(reason))


def _wait_exit(resource, mb0, timeout):
    """The resource's exit reason, or None if `timeout` passed first. Other
    signals that come meanwhile are dropped: the warden is about to go."""
    clock = vm.current_runtime().clock
    deadline = None if timeout is None else clock.now() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - clock.now())
        sig = mb0.recv(remaining)
        if sig is None:
            return None
        if type(sig) is Exit and sig.cap.same_route(resource):
            return sig.reason
        if type(sig) is Message:
            kind = classify(sig)
            if kind[0] == "call":
                reply(kind[1], err("noproc", "the resource is being disposed of"))
            _release(sig.caps)
        else:
            sig.cap.release()


def _release(caps):
    for cap in caps:
        if cap.refs:
            cap.release()

