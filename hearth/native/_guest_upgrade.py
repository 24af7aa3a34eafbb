"""Guest services that can be upgraded to a new module while they run.

The issue: "clients that hold its capability keep working and no request
is lost". A client's capability names a mailbox, and a mailbox belongs to
one process for its whole life, so a capability can never start naming a
new guest. The service's public mailbox therefore belongs to a process that
stays: a small Python *front*, which forwards each request to the guest
that currently runs the service's code. An upgrade replaces that guest,
never the front.

Shape
-----

::

    clients --(public cap: SEND | MONITOR)--> front --(forward)--> guest vN
       ^                                                              |
       +------------------- reply, straight from the guest -----------+

- The front owns the public mailbox. Each message arriving there is sent
  on, bytes and capabilities unchanged, to the current guest's mailbox 0;
  the guest answers through the request's own reply capability (caps[0],
  docs/protocols.md), so replies never pass through the front.
- The front holds the service's initial capabilities (a registry, say) and
  spawns every version with them, at handles 0..n-1 in order, and with
  its *handover capability* right after them (see "Handing state over").
- Every version names accounts (``hearth::account``) with one table the
  front shares among them (`AccountIds`): an id means the same account to
  every version of the service, so state keyed by ids can be handed over.
  The table is still this service's alone, never reuses an id, and is
  pruned as a guest's own is.
- The front is linked to its guests, and both sides trap exits: a guest's
  end reaches the front as an `Exit`, and the front's death (a kill
  through its capability, say) reaches each guest as an `Exit` too, which
  tells it to finish (see below). The front spawns every guest with
  ``trap_exit`` already set, so no exit signal can arrive before the guest
  traps exits.

An upgrade, step by step
------------------------

1. The new module is loaded: from ``runtime.modules``, compiled off the hub
   (`load_guest_module`; the Python `upgrade` compiles it in the caller's
   process first, so the front itself finds it compiled). A lump that is
   missing or can't run as a guest is refused (``not_found``,
   ``invalid_module``) and nothing changes.
2. The front spawns the new guest. It runs its ``_hearth_init`` and waits
   in ``recv``; it has no request yet.
3. **The switch, at a message boundary.** The front sends the old guest an
   exit signal with reason ``("shutdown", "upgrade")`` and from then on
   forwards to nobody: it stops reading its public mailbox, so requests
   that arrive during the switch wait there, in order.
4. The old guest finishes what it has. Signals from one process to one
   mailbox arrive in order (rule V9), and the guest traps exits, so the
   exit signal reaches it as an `Exit` signal (kind 2) in mailbox 0 after
   every request the front forwarded to it: it answers those, then returns
   from its entry point. (A guest that turned ``trap_exit`` off dies at
   once with that reason, and the requests still queued in its mailbox are
   lost. A guest that doesn't look at signal kinds answers them all, then
   traps on the `Exit`, which also ends the switch.)
5. When the old guest has exited, the switch is done: the upgrade is
   answered, and the front reads its public mailbox again, forwarding what
   queued there, in order, to the new guest. Clients kept their capability
   throughout; every request was handled by exactly one version; and every
   request the front received before the switch was handled by the old
   version, every later one by the new.

Limits, each chosen on purpose:

- A drain has a deadline (`drain_timeout`, default 5 s of the runtime's
  clock). An old guest that has not exited by then is killed, and what it
  had not answered is lost; the upgrade's reply says so (``old_exit``
  ``killed``).
- If the new guest exits before the switch is done (it traps in
  ``_hearth_init``, say), the front spawns a fresh guest of the old module
  instead (it has received no request yet, so nothing is lost), and the
  upgrade fails with ``upgrade_failed``. What the old guest leaves while
  it drains goes to that fresh guest (below), as it would have to the new.
- State goes only as far as a version hands it over (below): a guest that
  leaves nothing starts its successor from nothing.
- Upgrade requests that arrive during a switch queue and run one after the
  other.
- While a guest runs outside a switch, its exit ends the front too, with
  the same reason (a supervisor above may start the service again, with a
  new public capability); clients see the front's `Down`.
- Forwarding costs one more message per request (a kernel send from the
  front) but nothing on the reply path.

Handing state over
------------------

A guest's memory goes with it, so the front carries one message from a
version to the next:

- Each version is spawned with a capability (SEND) to a mailbox of the
  front's made for that version alone, at handle n, right after the
  service's n capabilities (n counts distinct ones: a capability given
  twice is one handle). Only that guest holds it (and whatever it hands it
  to): clients and peers never see it, and the front reads it only while
  that version runs or drains.
- To *leave* its state, a version sends there a request: its bytes are
  the state, caps[0] a reply capability, caps[1..] the state's
  capabilities (members of a room, say). The front keeps it, replacing
  anything that version left before, and answers ``{"ok": true}``; past
  `HANDOVER_MAX_BYTES` (4 MiB) or `HANDOVER_MAX_CAPS` (4096 capabilities)
  it keeps nothing and answers ``limit_reached`` ("a handover is at most
  4194304 bytes and 4096 capabilities, not N bytes and M capabilities:
  nothing was kept", with fields ``bytes`` and ``caps``), so the old guest
  knows, and logs it (the SDK's ``hearth_handover_leave`` does). A message
  there without a reply capability is dropped. One message is kept per
  version: memory the front holds for it is bounded by those limits.
- When the old version has exited (normally, or killed at the drain
  deadline: what it left and was told was kept still goes), the front
  sends what it left to the version that now runs, **before forwarding
  any request to it**: bytes `HANDOVER_MARK` (``0xc1`` — a byte msgpack
  never uses — then ``hearth.handover`` and a zero byte) followed by the
  state; caps[0] a capability (SEND) of a route already closed, standing
  where a request's reply capability stands, so a guest that knows
  nothing of handovers and answers it as a malformed request sends
  nothing anywhere; caps[1..] the state's capabilities. The front never
  forwards a client's message whose bytes start with the mark (it answers
  ``invalid_request``, "not a request: a message starting with the
  handover mark goes from the front to its guest only"), so a message
  with the mark in a version's mailbox 0 is its predecessor's state. At
  most one arrives per version, as its first message; a version whose
  predecessor left nothing gets nothing, as before handovers existed.
- A rolled-back upgrade (the new guest died before taking over) hands
  what the old version left to the fresh guest of the old module; what
  the dead new guest left is dropped.

The SDK's ``hearth_handover_leave`` and ``hearth_handover_take``
(``kindling/sdk/hearth_patterns.h``, docs/sdk.md) wrap both ends; the chat
room (``kindling/root/init/chat/chat.c``) hands over its members, names,
rate buckets and log.

Wire format of the front
------------------------

The front's mailbox 0 (the capability `start_guest_service` returns as
``front``, with all permissions, for its owner) speaks the request/response
envelope of `_service`:

``["upgrade", lump]`` or ``{"op": "upgrade", "lump": lump}``
    ``lump`` is a lump id, 32 bytes of msgpack bin. Answered once the
    switch is done: ``{"ok": {"version": n, "lump": new id, "previous":
    old id, "old_exit": the old guest's exit reason}}``. ``version`` counts
    the versions the front has run, from 1. Errors: ``invalid_request``,
    ``not_found``, ``invalid_module``, ``upgrade_failed`` (the new guest
    exited before taking over; fields ``reason``: its exit reason, and
    ``version``: the version running again).
``"status"``
    ``{"ok": {"version": n, "lump": id, "switching": bool, "forwarded":
    count of requests forwarded so far}}``.

Killing the front (its capability has KILL) stops the service: its guests
die with it.

Writing an upgradable guest
---------------------------

For each signal of mailbox 0: a message is a request (answer it through
caps[0]), unless it bears the handover mark (the predecessor's state); an
`Exit` (kind 2) means "finish up": leave the state through handle n if
there is any, and return from the entry point. The guest already traps
exits when it starts. The WAT guests of
``tests/native/test_guest_upgrade.py`` are complete examples (they call
``trap_exit(1)`` too, which is harmless; ``keeper`` hands state over).
"""

import logging
from typing import NamedTuple

from hearth import vm
from hearth.otp import DEFAULT_TIMEOUT, ServiceError, StartError, StartTimeout, read_reply, request
from hearth.vm import MONITOR, SEND, Exit, LumpId, Message, spawn_guest
from hearth.vm._wasm import AccountIds

from ._service import INTERNAL_ERROR, INVALID_REQUEST, Request, Service
from ._wasm_spawner import check_entry, load_guest_module

__all__ = [
    "GuestService",
    "HANDOVER_MARK",
    "HANDOVER_MAX_BYTES",
    "HANDOVER_MAX_CAPS",
    "UPGRADE_FAILED",
    "UPGRADE_REASON",
    "DEFAULT_DRAIN_TIMEOUT",
    "PUBLIC_PERMS",
    "start_guest_service",
    "upgrade",
    "guest_service_status",
]

log = logging.getLogger("hearth.native")

UPGRADE_FAILED = "upgrade_failed"
UPGRADE_REASON = ("shutdown", "upgrade")  # the exit signal that asks an old guest to finish
DEFAULT_DRAIN_TIMEOUT = 5.0
PUBLIC_PERMS = SEND | MONITOR  # what clients get
# A handover as the next version receives it starts with these bytes (0xc1
# is the one byte msgpack never uses, so no request starts so), and the
# front forwards no message of a client that does.
HANDOVER_MARK = b"\xc1hearth.handover\x00"
HANDOVER_MAX_BYTES = 4 << 20  # the bytes of what a version leaves
HANDOVER_MAX_CAPS = 4096  # the capabilities of what a version leaves
NOT_A_HANDOVER = ("not a request: a message starting with the handover mark goes from the"
                  " front to its guest only")


class GuestService(NamedTuple):
    """What `start_guest_service` returns.

    Attributes:
        front: a capability with all permissions to the front's mailbox 0,
            for the service's owner: `upgrade` and `guest_service_status`
            take it; killing it stops the service and its guest.
        cap: the public capability (SEND, MONITOR) to give to clients (or
            register); it stays valid across upgrades.
    """

    front: vm.Cap
    cap: vm.Cap


class _Switch:
    """An upgrade under way: the old guest is draining."""

    __slots__ = ("request", "old", "old_module", "old_box", "previous_version", "deadline",
                 "killed", "failed")

    def __init__(self, request, old, old_module, old_box, previous_version, deadline):
        self.request = request  # the deferred upgrade request
        self.old = old  # Cap to the draining guest
        self.old_module = old_module
        self.old_box = old_box  # the old guest's `_Box`
        self.previous_version = previous_version
        self.deadline = deadline
        self.killed = False
        self.failed = None  # the new guest's exit reason, if it died before taking over


class _Box:
    """The mailbox where one version leaves its handover, and what it left."""

    __slots__ = ("mailbox", "left")

    def __init__(self, mailbox):
        self.mailbox = mailbox
        self.left = None  # (data, caps) the version left, the front's references

    def drop(self):
        """Release what was left. Switches: never."""
        left, self.left = self.left, None
        if left is not None:
            for cap in left[1]:
                cap.release()

    def close(self):
        """Destroy the mailbox and drop what is still queued or left."""
        self.drop()
        self.mailbox.destroy()  # later sends are dropped; what is queued stays readable
        try:
            while (sig := self.mailbox.try_recv()) is not None:
                _release(sig)
        except vm.MailboxClosed:
            pass


def _release(sig):
    if type(sig) is Message:
        for cap in sig.caps:
            cap.release()
    elif getattr(sig, "cap", None) is not None:
        sig.cap.release()


class _Front(Service):
    """The front process of one upgradable guest service."""

    name = "hearth.guest_service"
    schema = "hearth.GuestFront"  # the owner's requests (hearth/otp/protocols/wasm.toml)

    def __init__(self, module, drain_timeout, caps):
        super().__init__()
        self.caps = caps  # the initial capabilities every version gets
        self.drain_timeout = drain_timeout
        self.module = module
        self.version = 1
        self.forwarded = 0
        self.switch = None
        self.queued = []  # upgrade requests waiting for the switch to end
        self.ids = AccountIds()  # one numbering of accounts for every version
        self.public = self.proc.create_mailbox()
        self.guest, self.box = self._spawn(module)

    def _spawn(self, module):
        """A new version's guest and its `_Box`. Switches: never."""
        box = _Box(self.proc.create_mailbox())
        leave = box.mailbox.make_capability(SEND)
        try:
            # Trapping exits from its first instruction: an upgrade right after
            # the start must not find it still able to be killed by the signal.
            guest = spawn_guest(module, *self.caps, leave, link=True, trap_exit=True,
                                account_ids=self.ids)
        except BaseException:
            box.close()
            raise
        finally:
            leave.release()
        return guest, box

    # -- the loop ----------------------------------------------------------------------

    def serve(self):
        """Forward public requests; serve control requests and exits.

        Switches: always.
        """
        proc = self.proc
        mb0 = proc.parent_mailbox()
        public = self.public  # after mailbox 0: an upgrade isn't held back by traffic
        clock = self.clock
        while True:
            switch = self.switch
            if switch is None:
                mb, sig = proc.select([mb0, self.box.mailbox, public])
                if mb is public:
                    self._forward(sig)
                    continue
                if mb is not mb0:
                    self._leave(self.box, sig)
                    continue
            else:
                # Mailbox 0 and the old guest's handover only during a
                # switch: requests wait in the public mailbox, in order,
                # for the new guest.
                old_box = switch.old_box.mailbox
                if switch.killed:
                    mb, sig = proc.select([mb0, old_box])
                else:
                    remaining = switch.deadline - clock.now()
                    got = proc.select([mb0, old_box], remaining) if remaining > 0 else None
                    if got is None:
                        if clock.now() >= switch.deadline:
                            switch.killed = True
                            switch.old.kill()  # its Exit (killed) ends the switch
                        continue
                    mb, sig = got
                if mb is old_box:
                    self._leave(switch.old_box, sig)
                    continue
            if type(sig) is Message:
                self._handle_message(sig)
            else:
                self.handle_info(sig)

    def _forward(self, sig):
        caps = sig.caps
        if type(sig) is not Message:
            if getattr(sig, "cap", None) is not None:
                sig.cap.release()
            return
        if not caps:
            # Never forwarded: a request carries its reply capability, and a
            # guest may take a bare message for a signal of the front's.
            self.drops.note(self.clock.now(), "%s (pid %s) dropped a message without"
                            " capabilities (%d bytes)", self.name, self.proc.pid,
                            len(sig.data))
            return
        if sig.data.startswith(HANDOVER_MARK):
            # Only the front hands over: a client's message that looked like
            # a handover would make the guest take it for its predecessor's.
            self.drops.note(self.clock.now(), "%s (pid %s) refused a message marked as a"
                            " handover (%d bytes)", self.name, self.proc.pid, len(sig.data))
            for cap in caps[1:]:
                cap.release()
            if caps[0].perms & SEND:
                Request(caps[0], ()).fail(INVALID_REQUEST, NOT_A_HANDOVER)  # releases caps[0]
            else:
                caps[0].release()
            return
        # Stamped as it came: a peer's request stays the peer's (docs/abi.md,
        # hearth::account), so the guest holds it to that peer's bounds.
        vm.forward(self.guest, sig)
        self.forwarded += 1
        for cap in caps:
            cap.release()

    # -- handovers ----------------------------------------------------------------------

    def _leave(self, box, sig):
        """A version leaves its handover: keep it (replacing what it left
        before) and answer, or refuse it past the bounds. Switches: never."""
        if type(sig) is not Message:
            _release(sig)
            return
        caps = sig.caps
        if not caps or not caps[0].perms & SEND:
            # No reply capability: not the SDK's leave. Nothing kept.
            for cap in caps:
                cap.release()
            return
        request, kept = Request(caps[0], ()), list(caps[1:])
        if len(sig.data) > HANDOVER_MAX_BYTES or len(kept) > HANDOVER_MAX_CAPS:
            for cap in kept:
                cap.release()
            request.fail("limit_reached",
                         f"a handover is at most {HANDOVER_MAX_BYTES} bytes and"
                         f" {HANDOVER_MAX_CAPS} capabilities, not {len(sig.data)} bytes and"
                         f" {len(kept)} capabilities: nothing was kept",
                         {"bytes": len(sig.data), "caps": len(kept)})
            return
        box.drop()
        box.left = (bytes(sig.data), kept)
        request.reply(True)

    def _hand_over(self, box):
        """Deliver what the version of `box` left (if anything) to the
        current guest, before any request. Switches: never."""
        left, box.left = box.left, None
        if left is None:
            return
        data, caps = left
        # caps[0] stands where a request has its reply capability: a route
        # already closed, so a guest that answers it as a request (one that
        # knows nothing of handovers) sends nothing anywhere.
        sink_box = self.proc.create_mailbox()
        sink = sink_box.make_capability(SEND)
        sink_box.destroy()
        try:
            self.guest.send(HANDOVER_MARK + data, [sink, *caps])
        finally:
            sink.release()
            for cap in caps:
                cap.release()

    # -- control requests -------------------------------------------------------------

    def handle_request(self, request):
        op, fields = self.parse(request)
        if op == "status":
            return {
                "version": self.version,
                "lump": bytes(self.module.lump_id),
                "switching": self.switch is not None,
                "forwarded": self.forwarded,
                "dropped": self.drops.dropped,
            }
        lid = LumpId(fields["lump"])
        request.defer()
        if self.switch is not None:
            self.queued.append((request, lid))
        else:
            self._begin(request, lid)
        return None

    def _begin(self, request, lid):
        """Start an upgrade, or answer why it can't start."""
        try:
            module = load_guest_module(lid)  # switches: waits for a native thread
            check_entry(module, None)
        except ServiceError as e:
            request.fail(e.kind, e.message, e.details)
            return
        new, new_box = self._spawn(module)
        old = self.guest
        old.exit(UPGRADE_REASON)
        self.switch = _Switch(request, old, self.module, self.box, self.version,
                              self.clock.now() + self.drain_timeout)
        self.guest, self.module, self.box = new, module, new_box
        self.version += 1

    def _end(self, old_exit):
        switch, self.switch = self.switch, None
        switch.old.release()
        # A leave sent just before the old guest's end is queued by now (its
        # sends took effect before its exit): the last one it left wins.
        old_box = switch.old_box
        while (sig := old_box.mailbox.try_recv()) is not None:
            self._leave(old_box, sig)
        self._hand_over(old_box)  # before the loop forwards any request
        old_box.close()
        if switch.failed is not None:
            switch.request.fail(
                UPGRADE_FAILED,
                f"the new guest exited before taking over; version {self.version} runs again",
                {"reason": switch.failed, "version": self.version},
            )
        else:
            switch.request.reply({
                "version": self.version,
                "lump": bytes(self.module.lump_id),
                "previous": bytes(switch.old_module.lump_id),
                "old_exit": old_exit,
            })
        while self.switch is None and self.queued:
            request, lid = self.queued.pop(0)
            try:
                self._begin(request, lid)
            except Exception as e:  # noqa: BLE001 - a bug answers; the front goes on
                log.exception("%s (pid %s) failed to start an upgrade", self.name, self.proc.pid)
                if not request.answered:
                    request.fail(INTERNAL_ERROR, f"{type(e).__name__}: {e}")

    # -- exits -------------------------------------------------------------------------

    def handle_info(self, sig):
        if type(sig) is not Exit:
            sig.cap.release()
            return
        cap, reason = sig.cap, sig.reason
        switch = self.switch
        try:
            if switch is not None and cap.same_route(switch.old):
                self._end(reason)
            elif cap.same_route(self.guest):
                if switch is None:
                    self._stop(reason)  # the service's code ended
                elif switch.failed is None:
                    # The new guest died before its first request: run the
                    # old module again (the switch still waits for the old guest).
                    switch.failed = reason
                    self.guest.release()
                    self.box.close()  # what the dead version left is dropped
                    self.guest, self.box = self._spawn(switch.old_module)
                    self.module = switch.old_module
                    self.version = switch.previous_version
                else:
                    self._stop(reason)  # the old module's fresh guest died too
            else:
                self._stop(reason)  # a linked owner ended
        finally:
            cap.release()

    def _stop(self, reason):
        """End the front with `reason`, taking its guests along."""
        for guest in (self.guest, self.switch.old if self.switch else None):
            if guest is not None:
                guest.kill()
        vm.exit(reason)


def _front_main(reply_to, module, drain_timeout, *caps):
    front = _Front(module, drain_timeout, caps)
    public = front.public.make_capability(PUBLIC_PERMS)
    try:
        Request(reply_to, ()).reply(public)  # releases reply_to
    finally:
        public.release()
    front.serve()


# -- the Python API -------------------------------------------------------------------------


def start_guest_service(lump_id, *caps, link=False, drain_timeout=DEFAULT_DRAIN_TIMEOUT,
                        name=None, timeout=DEFAULT_TIMEOUT):
    """Start an upgradable guest service running lump `lump_id`.

    Spawns the front process and the first guest, which gets `caps` at
    handles 0..n-1 (as will every later version).

    Args:
        lump_id: the module's lump id (`LumpId` or 32 bytes).
        caps: the guests' initial capabilities (the front keeps them).
        link: link the front to the caller.
        drain_timeout: seconds of the runtime's clock an old guest has to
            finish after an upgrade's switch before it is killed.
        name: the front's process name (default ``hearth.guest_service``).
        timeout: seconds to wait for the front to be ready.

    Returns:
        a `GuestService`: ``front`` for the owner, ``cap`` for clients.

    Raises:
        ServiceError: ``not_found`` or ``invalid_module``, as for
            ``hearth.wasm.WasmProcessSpawner``; nothing was started.
        StartError: the front died while starting (`StartTimeout` if it
            was not ready in time; it is killed).

    Switches: always.
    """
    lid = LumpId(lump_id)
    module = load_guest_module(lid)
    check_entry(module, None)
    proc = vm.current_process()
    box = proc.create_mailbox()
    try:
        reply_to = box.make_capability(SEND)
        try:
            front, ref = proc.spawn(_front_main, reply_to, module, drain_timeout, *caps,
                                    link=link, monitor=True, mailbox=box, trap_exit=True,
                                    name=name or _Front.name)
        finally:
            reply_to.release()
        sig = box.recv(timeout)
        proc.demonitor(ref, flush=True)
        if type(sig) is Message:
            return GuestService(front, read_reply(sig))
        if sig is None:
            front.kill()
            front.release()
            raise StartTimeout(f"the guest service was not ready within {timeout}s", "timeout")
        sig.cap.release()
        front.release()
        raise StartError(f"the guest service's front exited: {sig.reason!r}", sig.reason)
    finally:
        box.destroy()


def upgrade(front, lump_id, timeout=DEFAULT_DRAIN_TIMEOUT + DEFAULT_TIMEOUT):
    """Upgrade a guest service to the module of lump `lump_id`, and wait
    until the old guest has finished and the new one serves.

    The module is compiled here first (off the hub, in this process), so
    the front finds it compiled and pauses forwarding only for the switch.

    Args:
        front: the `GuestService.front` capability.
        lump_id: the new module's lump id.
        timeout: seconds to wait for the whole upgrade, drain included
            (give more than the service's `drain_timeout`).

    Returns:
        the ``ok`` value: a dict with ``version``, ``lump``, ``previous``
        and ``old_exit`` (see the module docstring).

    Raises:
        ServiceError: ``not_found``, ``invalid_module``, ``upgrade_failed``
            (the service runs the old module again).
        CallTimeout, ServerExited: as `hearth.otp.request`.

    Switches: always.
    """
    lid = LumpId(lump_id)
    check_entry(load_guest_module(lid), None)
    return request(front, ["upgrade", lid], timeout=timeout)


def guest_service_status(front, timeout=DEFAULT_TIMEOUT):
    """The front's ``status``: a dict with ``version``, ``lump``,
    ``switching`` and ``forwarded``. Switches: always."""
    return request(front, "status", timeout=timeout)
