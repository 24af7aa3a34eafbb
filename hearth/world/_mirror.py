"""The mirror: a client's copy of the world, kept in step by a subscription
to ``hearth.World`` (docs/world.md, "The mirror").

`EntityTable` is the copy and the diffing (no processes, no I/O): it applies
the world's events and says what changed for whoever shows the entities.
`run_mirror` is the process body: it finds the world, subscribes, applies
every event and, when the world goes away (a lost connection), finds it
again and resubscribes; the ``world`` event that a subscription starts with
is the whole truth, so the copy is diffed against it: nothing is shown
twice and nothing that left stays.

Layer 3: imports `hearth.vm` and `hearth.otp`; never `hearth.gfx` (the
renderer side is a *view* the client passes in, `hearth.gfx.RendererView`).
"""

import logging

from hearth import otp, vm

from ._client import subscribe, unsubscribe

__all__ = ["EntityTable", "Resync", "run_mirror"]

log = logging.getLogger("hearth.world")

ADDED, UPDATED, REMOVED = "added", "updated", "removed"
#: Entities a mirror keeps at most: what a world holds (`Limits.entities`).
#: A server that sends more (it is not trusted) has the rest ignored.
MAX_ENTITIES = 4096


def _entity_ok(entity):
    """An entity map as a world sends it: a map with an int ``id``."""
    return type(entity) is dict and type(entity.get("id")) is int


class Resync(Exception):
    """An event out of order (a gap in ``seq``): the copy can't be trusted
    until a new ``world`` event."""


class EntityTable:
    """The entities a client knows, by id, and the ``seq`` of the last event
    applied. `apply` returns the changes to show, as ``(kind, entity)``
    pairs: ``added`` and ``updated`` with the new entity map, ``removed``
    with the entity map that left. The server is not trusted: an entity
    that is not a map with an int ``id`` is ignored, and so is a new one
    past `max_entities` (each logged once)."""

    def __init__(self, max_entities=MAX_ENTITIES):
        self.entities = {}
        self.seq = None  # None: no world event yet (events are not applied)
        self._awaiting = None  # the seq of the world event expected, None: any
        self.max_entities = max_entities
        self._warned = set()  # what was logged already (once each)

    def _refuse(self, what, text):
        if what not in self._warned:
            self._warned.add(what)
            log.warning("mirror: the server sent %s: ignored (logged once)", text)

    def expect(self, seq):
        """A new subscription whose ``world`` event has sequence `seq`:
        events until that one are stale and dropped."""
        self.seq = None
        self._awaiting = seq

    def apply(self, event):
        """Apply one event of the world's; the changes it makes.

        Raises:
            Resync: an event whose ``seq`` is not the next one.
        """
        kind = event.get("event")
        seq = event.get("seq")
        if type(seq) is not int:
            self._refuse("malformed", "an event whose seq is not an int")
            return []
        if kind == "world":
            if self._awaiting is not None and self._awaiting != seq:
                return []  # the world event of a subscription no longer current
            self.seq = seq
            return self._diff(event.get("entities") or [])
        if self.seq is None:
            return []  # before this subscription's world event: stale
        if seq != self.seq + 1:
            raise Resync(f"event {seq} after {self.seq}")
        self.seq = seq
        if kind in (ADDED, UPDATED):
            entity = event.get("entity")
            if not _entity_ok(entity):
                self._refuse("malformed", "an event whose entity is not an entity map")
                return []
            old = self.entities.get(entity["id"])
            if old is None and len(self.entities) >= self.max_entities:
                self._refuse("full", f"more than the at most {self.max_entities} entities"
                             " a mirror keeps")
                return []
            self.entities[entity["id"]] = entity
            return [(UPDATED if old is not None else ADDED, entity)]
        if kind == REMOVED:
            eid = event.get("id")
            old = self.entities.pop(eid, None) if type(eid) is int else None
            return [] if old is None else [(REMOVED, old)]
        return []

    def _diff(self, entities):
        new = {}
        for e in entities if type(entities) in (list, tuple) else ():
            if not _entity_ok(e):
                self._refuse("malformed", "a world event with something not an entity map")
            elif len(new) < self.max_entities or e["id"] in new:
                new[e["id"]] = e
            else:
                self._refuse("full", f"more than the at most {self.max_entities} entities"
                             " a mirror keeps")
        changes = [(REMOVED, e) for eid, e in self.entities.items() if eid not in new]
        for eid, e in new.items():
            old = self.entities.get(eid)
            if old is None:
                changes.append((ADDED, e))
            elif old != e:
                changes.append((UPDATED, e))
        self.entities = new
        return changes

    def labels(self):
        """The entities' labels (None for none), in id order."""
        return [self.entities[k].get("label") for k in sorted(self.entities)]


_ERRORS = (otp.CallError, otp.ServiceError, otp.RegistryError)


def run_mirror(find_world, view=None, retry=0.5):
    """Process body: keep `view` in step with the world.

    Args:
        find_world: see below.
        view: see below.
        retry: seconds between looks for a world that is not there.

    `find_world()` (called in this process; may switch) returns a
    capability of ``hearth.World`` (SEND|MONITOR) or None when there is
    none yet (not connected). `view`, if given, gets ``add(entity)``,
    ``update(entity)`` and ``remove(entity)`` calls, and
    ``hide(id)`` for a ``{"hide": id}`` message (a client's own avatar);
    without one the mirror only keeps its `EntityTable` (headless). Every
    change of the number of entities is logged (``mirror: N entities``).

    Switches: always; runs until killed.
    """
    vm.set_metadata(description="the world's mirror")
    table = EntityTable()
    me = vm.make_capability(vm.SEND | vm.MONITOR)
    while True:
        world = _find(find_world)
        if world is None:
            _idle(view, retry)
            continue
        ref = world.monitor()
        try:
            seq = subscribe(world, me)
        except _ERRORS as e:
            log.warning("mirror: could not subscribe to the world: %s", e)
            vm.demonitor(ref, flush=True)
            world.release()
            _idle(view, retry)
            continue
        table.expect(seq)
        _follow(table, view, world, ref, me)
        world.release()


def _find(find_world):
    try:
        return find_world()
    except _ERRORS as e:
        log.debug("mirror: no world yet: %s", e)
        return None


def _idle(view, seconds):
    """Wait `seconds`, still taking ``hide`` messages. Switches."""
    deadline = vm.current_runtime().clock.now() + seconds
    while (left := deadline - vm.current_runtime().clock.now()) > 0:
        sig = vm.recv(timeout=left)
        if sig is None:
            return
        _other(sig, view)


def _other(sig, view):
    """A signal that is not the current world's: a ``hide``, or stale."""
    if type(sig) is vm.Message:
        try:
            term = otp.decode(sig.data, sig.caps)
        except otp.DecodeError:
            term = None
        if isinstance(term, dict) and "hide" in term and view is not None:
            view.hide(term["hide"])
    for cap in getattr(sig, "caps", None) or ():
        cap.release()
    if type(sig) is vm.Down:
        sig.cap.release()


def _follow(table, view, world, ref, me):
    """Apply the world's events until it goes away (its Down) or an event
    comes out of order (then unsubscribe, so the caller subscribes again)."""
    shown = len(table.entities)
    while True:
        sig = vm.recv()
        if type(sig) is vm.Down and sig.ref == ref:
            sig.cap.release()
            log.warning("mirror: the world went away (%s); finding it again",
                        vm.format_reason(sig.reason))
            return
        if type(sig) is not vm.Message:
            _other(sig, view)
            continue
        try:
            term = otp.decode(sig.data, sig.caps)
        except otp.DecodeError:
            term = None
        if not isinstance(term, dict) or "event" not in term:
            _other(sig, view)
            continue
        try:
            changes = table.apply(term)
        except Resync as e:
            log.warning("mirror: %s: subscribing again", e)
            try:
                unsubscribe(world, me)
            except _ERRORS:
                pass
            vm.demonitor(ref, flush=True)
            return
        finally:
            for cap in sig.caps:
                cap.release()
        if view is not None:
            _show(view, changes)
        if len(table.entities) != shown or term["event"] == "world":
            shown = len(table.entities)
            log.info("mirror: %d entities", shown)


def _show(view, changes):
    for kind, entity in changes:
        try:
            if kind == ADDED:
                view.add(entity)
            elif kind == UPDATED:
                view.update(entity)
            else:
                view.remove(entity)
        except Exception:  # noqa: BLE001 - a view's failure must not stop the mirror
            log.exception("mirror: the view failed to show %s of entity %s", kind,
                          entity.get("id"))
