"""``hearth.World``: the one process that holds the shared world's entities.

The protocol (requests, events, errors, bounds) is in docs/world.md; this
module is its implementation. The envelope is the native services' own
(`hearth.native.Service`): caps[0] the reply capability, msgpack data,
``{"ok": v}`` or ``{"err": {...}}`` replies.

Mailboxes of the world process, each a door with its own rights:

- the parent mailbox, registered as ``hearth.World`` (peers may reach it):
  ``add`` (with an owner), ``list``, ``subscribe``, ``unsubscribe``. The
  owners' and subscribers' Down signals come here too.
- the admin mailbox, registered as ``hearth.World.Admin`` for local tools
  only: the same, plus ``update``/``remove``/``entity`` of any entity by
  id, and persistent entities.
- the internal mailbox: what the entities' forwarders pass on.

An entity's capability is a SEND|MONITOR capability to a small forwarder
process of the world's own (`_doors.forward`), one per entity: it passes each
request on to the internal mailbox tagged with its entity id, so holding
it *is* the right to change that entity, and the world kills the forwarder
when the entity leaves (its holders' monitors see it go). The world
serves its three mailboxes in turn, so a flood through one door can't
starve the others.
"""

import collections
import logging

import msgpack

from hearth import vm
from hearth.native import INVALID_REQUEST, NOT_FOUND, PERMISSION_DENIED, Service
from hearth.otp import ServiceError, register
from hearth.vm import MONITOR, SEND, Cap, Down, Message

from ._canvas import Bucket, Canvases
from ._doors import Forwarded, describe, forward
from ._entity import Entity, check_changes, check_fields
from ._log import WorldLog
from ._subscribers import LIMIT_REACHED, Subscribers
from ._limits import Limits

__all__ = ["WORLD", "WORLD_ADMIN", "ENTITY_PERMS", "World"]

log = logging.getLogger("hearth.world")

WORLD = "hearth.World"
WORLD_ADMIN = "hearth.World.Admin"
ENTITY_PERMS = SEND | MONITOR  # what the adder gets to its entity

_PUBLIC, _ADMIN = "public", "admin"
# The schemas of the three doors (hearth/otp/protocols/world.toml): they
# check each request's op, fields and capability arguments.
_ENTITY = "hearth.World.entity"


class _Owned:
    """Bookkeeping of an entity with an owner process."""

    __slots__ = ("owner", "ref", "origin")

    def __init__(self, owner, ref, origin):
        self.owner = owner
        self.ref = ref
        self.origin = origin


class World(Service):
    """The world process.

    Args:
        registry: a registry capability that may register `WORLD` and
            `WORLD_ADMIN`.
        data_dir: the directory of the log (``DATA_DIR/world``), or None
            for a world in memory only.
        limits: a `Limits`.
    """

    name = schema = WORLD

    def __init__(self, registry, data_dir=None, limits=None):
        super().__init__()
        self.limits = limits or Limits()
        proc = self.proc
        self._public_mb = proc.parent_mailbox()
        self._admin_mb = proc.create_mailbox()
        self._internal_mb = proc.create_mailbox()
        self._internal = self._internal_mb.make_capability(SEND | MONITOR)
        self._own = [self._internal, self._public_mb.make_capability(SEND),
                     self._admin_mb.make_capability(SEND)]
        self.entities = {}  # id -> Entity, in the order they were added
        self._doors = {}  # id -> the forwarder's full capability
        self._owned = {}  # id -> _Owned
        self._by_ref = {}  # an owner's monitor ref -> its entity id
        self._per_origin = collections.Counter()  # a peer's Account -> its entities
        self._subscribers = Subscribers(self.limits, self._own, self._public_mb)
        self._canvases = Canvases(proc.runtime, self.limits, proc.runtime.clock.now)
        self._update_rates = {}  # a peer's Account -> Bucket of its entities' updates
        self._next_id = 1
        self._via = None
        self._log = None
        if data_dir is not None:
            self._log = WorldLog(data_dir)
            try:
                self._load()
            except OSError as e:
                # A world that can't keep anything still serves: say so loudly.
                log.error("world: can't keep the world in %s (%s): it lives in memory only"
                          " until the server is restarted with a usable data directory",
                          data_dir, e)
                self._log.close()
                self._log = None  # what was read (if anything) stays, in memory
        public = self._public_mb.make_capability(SEND | MONITOR)
        admin = self._admin_mb.make_capability(SEND | MONITOR)
        try:
            register(registry, WORLD, public)
            register(registry, WORLD_ADMIN, admin)
        finally:
            public.release()
            admin.release()

    # -- persistence ---------------------------------------------------------------------

    def _load(self):
        records, problems = self._log.open()
        stored = {}
        for rec in records:
            try:
                op, arg = rec
                if op == "put":
                    entity = Entity.from_record(arg)
                    stored[entity.id] = entity
                    self._next_id = max(self._next_id, entity.id + 1)
                elif op == "del" and type(arg) is int:
                    stored.pop(arg, None)
                    self._next_id = max(self._next_id, arg + 1)
                elif op == "next" and type(arg) is int:
                    self._next_id = max(self._next_id, arg)
                else:
                    raise ValueError(f"unknown record {op!r}")
            except (ServiceError, ValueError, TypeError) as e:
                problems.append(f"a record that is not a world record was skipped: {e}")
        for problem in problems:
            log.warning("world: %s", problem)
        for entity in stored.values():
            self._insert(entity)
        self._compact()
        log.info("world: %d persistent entities loaded from %s%s", len(stored), self._log.dir,
                 f" ({len(problems)} problem(s), see above)" if problems else "")

    def _compact(self):
        records = [("next", self._next_id)]
        records += [("put", e.to_record()) for e in self.entities.values() if e.persistent]
        self._log.compact(records)

    def _persist(self, record):
        if self._log is None:
            return
        try:
            self._log.append(record)
            if self._log.appended > self.limits.compact_after + 4 * len(self.entities):
                self._compact()
        except OSError as e:
            # The change holds in memory; the next compaction retries the disk.
            log.error("world: could not write %s: %s", self._log.path, e)
            try:
                self._compact()
            except OSError:
                pass

    def close(self):
        """Close the log's file (the process is ending). Switches: never."""
        if self._log is not None:
            self._log.close()

    # -- the loop ------------------------------------------------------------------------

    def serve(self):
        """Serve the three mailboxes in turn until the process dies.
        Switches: always."""
        doors = [(self._admin_mb, _ADMIN), (self._internal_mb, None),
                 (self._public_mb, _PUBLIC)]
        via = dict((id(mb), v) for mb, v in doors)
        mailboxes = [mb for mb, _ in doors]
        turn = 0
        while True:
            order = mailboxes[turn:] + mailboxes[:turn]
            turn = (turn + 1) % len(mailboxes)
            mb, sig = vm.select(order)
            if type(sig) is not Message:
                self.handle_info(sig)
                continue
            door = via[id(mb)]
            if door is None:
                self._forwarded(sig)
            else:
                self._via = door
                self._handle_message(sig)

    def _forwarded(self, sig):
        # Written by our own forwarders only: the wrapper can be trusted.
        entity_id, data = msgpack.unpackb(sig.data, raw=False)
        self._via = entity_id
        self._handle_message(Forwarded(data, sig.caps))

    def handle_info(self, sig):
        sig.cap.release()
        if type(sig) is not Down:
            return
        entity_id = self._by_ref.pop(sig.ref, None)
        if entity_id is not None:
            self._remove(entity_id, "owner_gone", vm.format_reason(sig.reason))
        elif sig.ref in self._subscribers:
            self._subscribers.drop(sig.ref)

    # -- requests ------------------------------------------------------------------------

    def handle_request(self, req):
        via = self._via
        if via is _PUBLIC or via is _ADMIN:
            op, f = self.parse(req, WORLD_ADMIN if via is _ADMIN else WORLD)
            if op == "add":
                return self._add(req, f["entity"], f["owner"], admin=via is _ADMIN)
            if op == "list":
                return [e.to_term() for e in self.entities.values()]
            if op == "subscribe":
                return self._subscribe(req, f["subscriber"])
            if op == "unsubscribe":
                return self._unsubscribe(f["subscriber"])
            entity_id = self._known(f["id"])
            if op == "update":
                return self._update(entity_id, f["changes"], req)
            if op == "remove":
                return self._remove(entity_id, "removed", "by the admin")
            return self._door(req, entity_id)  # "entity"
        op, f = self.parse(req, _ENTITY)
        if via not in self.entities:
            raise ServiceError(NOT_FOUND, f"entity {via} is no longer in the world")
        if op == "update":
            self._limit_updates(via)
            return self._update(via, f["changes"], req)
        if op == "paint":
            return self._paint(via, f["pixels"])
        if op == "remove":
            # Answer first: the door dies with the entity, and a holder that
            # monitors it must read the answer before the Down.
            req.reply(None)
            return self._remove(via, "removed", "by its holder")
        return self.entities[via].to_term()

    def _known(self, entity_id):
        if entity_id not in self.entities:
            raise ServiceError(NOT_FOUND, f"no entity {entity_id} in the world")
        return entity_id

    def _add(self, req, term, owner, admin):
        fields = check_fields(term)  # converts; the schema has checked the types
        if fields["persistent"]:
            if not admin:
                raise ServiceError(PERMISSION_DENIED, "only the world's admin may add persistent"
                                   " entities (they outlive every process)")
            if owner is not None:
                raise ServiceError(INVALID_REQUEST, "a persistent entity belongs to the world:"
                                   " give it no owner (no caps[1])")
            if type(fields["material"]) is Cap:
                raise ServiceError(INVALID_REQUEST, "a persistent entity can't have a canvas"
                                   " (a capability does not survive a restart): use a lump")
            self._check_stored(fields)
        elif owner is None and not admin:
            raise ServiceError(INVALID_REQUEST, "add needs the owner's capability in caps[1]"
                               " (MONITOR): the entity leaves the world when its owner goes")
        if owner is not None:  # the schema saw to its MONITOR
            if any(owner.same_route(c) for c in self._own):
                raise ServiceError(INVALID_REQUEST, "the world can't own an entity:"
                                   " pass the owner's own capability")
        lim = self.limits
        if len(self.entities) >= lim.entities:
            raise ServiceError(LIMIT_REACHED, f"the world is full ({lim.entities} entities)")
        origin = None
        if owner is not None:
            req.check_own(owner, "the owner, caps[1],")
            origin = req.account
            if origin is not None and self._per_origin[origin] >= lim.entities_per_peer:
                raise ServiceError(LIMIT_REACHED, f"a peer may own at most"
                                   f" {lim.entities_per_peer} entities")
        entity = Entity(self._next_id, "admin" if owner is None else describe(owner), fields)
        self._next_id += 1
        if type(entity.material) is Cap:
            req.keep(entity.material)
        if owner is not None:
            req.keep(owner)
            ref = owner.monitor(self._public_mb)  # an owner already gone: Down at once
            self._owned[entity.id] = _Owned(owner, ref, origin)
            self._by_ref[ref] = entity.id
            if origin is not None:
                self._per_origin[origin] += 1
        self._insert(entity)
        if entity.persistent:
            self._persist(("put", entity.to_record()))
        self._subscribers.publish({"event": "added", "entity": entity.to_term()})
        return self._door(req, entity.id)

    def _check_stored(self, fields):
        lumps = self.proc.runtime.lumps
        for what in ("mesh", "material"):
            lid = fields[what]
            if lid is not None and not lumps.has(lid):
                raise ServiceError(NOT_FOUND, f"the {what} lump {lid.hex()} is not in the"
                                   " server's lump store; put it there first (hearth-ctl lump"
                                   " put FILE): a persistent entity's lumps must survive too")

    def _pin(self, entity, pin=True):
        """Pin (or unpin) the lumps a persistent entity names, so the lump
        store never collects them while the entity lasts. Switches: never."""
        if not entity.persistent:
            return
        ledger = self.proc.runtime.accounts.ledger
        for lid in (entity.mesh, entity.material):
            if lid is not None and type(lid) is not Cap:
                (ledger.pin if pin else ledger.unpin)(lid)

    def _insert(self, entity):
        self._pin(entity)
        self.entities[entity.id] = entity
        self._doors[entity.id] = vm.spawn(forward, self._internal, entity.id, WORLD,
                                          name=f"{WORLD}.entity")

    def _door(self, req, entity_id):
        """Reply with ``{"id": id, "entity": capability}``."""
        cap = self._doors[entity_id].demote(ENTITY_PERMS)
        try:
            req.reply({"id": entity_id, "entity": cap})
        finally:
            cap.release()

    def _limit_updates(self, entity_id):
        """Refuse (``limit_reached``) an update of an entity owned through
        a peer connection past that connection's bucket (`Limits`). The
        operator's entities, and the admin's updates, are not counted.
        Switches: never."""
        owned = self._owned.get(entity_id)
        if owned is None or owned.origin is None:
            return
        lim = self.limits
        now = self.proc.runtime.clock.now()
        bucket = self._update_rates.get(owned.origin)
        if bucket is None:
            bucket = self._update_rates[owned.origin] = Bucket(
                lim.updates_per_second, lim.updates_burst, now)
        wait = bucket.take(1, now)
        if wait is not None:
            raise ServiceError(LIMIT_REACHED, f"the entities of one peer connection are"
                               f" updated at most {lim.updates_per_second:g} times a second"
                               f" ({lim.updates_burst} at once): try again in {wait:.2f} s")

    def _update(self, entity_id, changes, req):
        entity = self.entities[entity_id]
        changes = check_changes(changes)
        material = changes.get("material")
        if type(material) is Cap:
            if entity.persistent:
                raise ServiceError(INVALID_REQUEST, "a persistent entity can't have a canvas"
                                   " (a capability does not survive a restart): use a lump")
            req.keep(material)
        elif material is not None and entity.persistent:
            self._check_stored({"mesh": None, "material": material})
        if "material" in changes and type(entity.material) is Cap:
            entity.material.release()
        if "material" in changes and not self._canvases.is_canvas(entity_id, material):
            self._canvases.drop(entity_id)  # painted over by a material of its own
        self._pin(entity, False)
        entity.apply(changes)
        self._pin(entity)
        if entity.persistent:
            self._persist(("put", entity.to_record()))
        self._subscribers.publish({"event": "updated", "entity": entity.to_term()})

    def _paint(self, entity_id, pixels):
        """``paint``: the pixels become the entity's material (`_canvas`)."""
        entity = self.entities[entity_id]
        if entity.persistent:
            raise ServiceError(INVALID_REQUEST, "a persistent entity can't be painted (its"
                               " material is a lump the operator put in the store)")
        owned = self._owned.get(entity_id)
        material = self._canvases.paint(entity_id, pixels,
                                        owned.origin if owned is not None else None)
        if type(entity.material) is Cap:
            entity.material.release()
        entity.material = material
        self._subscribers.publish({"event": "updated", "entity": entity.to_term()})

    def _remove(self, entity_id, reason, detail):
        entity = self.entities.pop(entity_id)
        door = self._doors.pop(entity_id)
        door.kill()
        door.release()
        owned = self._owned.pop(entity_id, None)
        if owned is not None:
            if self._by_ref.pop(owned.ref, None) is not None:
                self.proc.demonitor(owned.ref, flush=True)
            owned.owner.release()
            if owned.origin is not None:
                self._per_origin[owned.origin] -= 1
                if not self._per_origin[owned.origin]:
                    del self._per_origin[owned.origin]
                    self._canvases.forget_payer(owned.origin)
                    self._update_rates.pop(owned.origin, None)
        if type(entity.material) is Cap:
            entity.material.release()
        self._canvases.drop(entity_id, forget=True)
        self._pin(entity, False)
        if entity.persistent:
            self._persist(("del", entity_id))
        self._subscribers.publish({"event": "removed", "id": entity_id, "reason": reason,
                       "detail": detail})

    # -- subscriptions -------------------------------------------------------------------

    def _subscribe(self, req, sub):
        req.check_own(sub, "the subscriber, caps[1],")
        origin = req.account
        self._subscribers.check(sub, origin)
        req.keep(sub)
        # The current world first, so a late joiner sees it; then changes.
        seq = self._subscribers.add(sub, origin, {
            "event": "world", "entities": [e.to_term() for e in self.entities.values()]})
        return {"seq": seq}

    def _unsubscribe(self, sub):
        self._subscribers.remove(sub, self.proc)
