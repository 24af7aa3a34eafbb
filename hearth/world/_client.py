"""Client helpers for ``hearth.World`` (docs/world.md): one request each.

Each runs in a process, waits for the reply (`hearth.otp.request`) and
raises `ServiceError` for an ``err`` reply (its ``kind`` and a message for
people), `ServerExited` if the world or the entity's door is gone, and
`CallTimeout`. A reply that is not what a world answers (the world may be
a peer's: it is not trusted) raises `ServiceError` ``invalid_reply``.
Switches: always.
"""

from hearth.otp import ServiceError, request
from hearth.otp._call import DEFAULT_TIMEOUT
from hearth.vm import Cap
from hearth.vm._terms import brief

__all__ = ["add", "admin_add", "admin_update", "admin_remove", "get", "list_entities",
           "paint", "remove", "subscribe", "unsubscribe", "update"]


def add(world, owner, mesh, *, transform=None, material=None, label=None,
        timeout=DEFAULT_TIMEOUT):
    """Add an entity owned by `owner` (a `Cap` with MONITOR: the entity
    leaves the world when its route closes).

    Returns:
        ``(id, entity capability)``; the capability (SEND|MONITOR) is the
        right to `update` and `remove` it.
    """
    reply = request(world, ["add", _fields(mesh, transform, material, label)], [owner],
                    timeout=timeout)
    return _door(reply, "add")


def _door(reply, op):
    """``(id, entity)`` of a ``{"id": int, "entity": Cap}`` reply, else
    ``invalid_reply``."""
    if type(reply) is not dict or type(reply.get("id")) is not int \
            or type(reply.get("entity")) is not Cap:
        raise ServiceError("invalid_reply", f"the world answered {op} with {brief(reply, 80)},"
                           " not {'id': int, 'entity': capability}")
    return reply["id"], reply["entity"]


def admin_add(admin, mesh, *, transform=None, material=None, label=None, persistent=False,
              owner=None, timeout=DEFAULT_TIMEOUT):
    """Add an entity through ``hearth.World.Admin``: without `owner` it is
    the world's own; `persistent` ones survive restarts. Returns ``(id,
    entity capability)``."""
    fields = _fields(mesh, transform, material, label)
    if persistent:
        fields["persistent"] = True
    reply = request(admin, ["add", fields], [owner] if owner is not None else [],
                    timeout=timeout)
    return _door(reply, "add")


def _fields(mesh, transform, material, label):
    fields = {"mesh": bytes(mesh)}
    if transform is not None:
        fields["transform"] = list(transform)
    if material is not None:
        fields["material"] = material if not isinstance(material, (bytes, bytearray)) \
            else bytes(material)
    if label is not None:
        fields["label"] = label
    return fields


def update(entity, timeout=DEFAULT_TIMEOUT, **changes):
    """Change some of ``transform``, ``material``, ``label`` of the entity
    `entity` (its capability) names."""
    if "transform" in changes:
        changes["transform"] = list(changes["transform"])
    request(entity, ["update", changes], timeout=timeout)


def paint(entity, width, height, rgba, timeout=DEFAULT_TIMEOUT):
    """Paint the entity `entity` (its capability) names: `rgba` (width x
    height x 4 bytes, rows top to bottom) becomes its material, a texture
    lump in the world's runtime that every client fetches (docs/world.md,
    "Canvases")."""
    request(entity, ["paint", {"width": int(width), "height": int(height),
                               "rgba": bytes(rgba)}], timeout=timeout)


def remove(entity, timeout=DEFAULT_TIMEOUT):
    """Remove the entity `entity` (its capability) names."""
    request(entity, "remove", timeout=timeout)


def get(entity, timeout=DEFAULT_TIMEOUT):
    """The entity `entity` (its capability) names, as a map."""
    return request(entity, "get", timeout=timeout)


def admin_update(admin, entity_id, timeout=DEFAULT_TIMEOUT, **changes):
    """Change any entity by id, through ``hearth.World.Admin``."""
    if "transform" in changes:
        changes["transform"] = list(changes["transform"])
    request(admin, ["update", entity_id, changes], timeout=timeout)


def admin_remove(admin, entity_id, timeout=DEFAULT_TIMEOUT):
    """Remove any entity by id, through ``hearth.World.Admin``."""
    request(admin, ["remove", entity_id], timeout=timeout)


def list_entities(world, timeout=DEFAULT_TIMEOUT):
    """Every entity, as maps, in the order they were added."""
    return list(request(world, "list", timeout=timeout))


def subscribe(world, subscriber, timeout=DEFAULT_TIMEOUT):
    """Subscribe `subscriber` (a `Cap` with SEND and MONITOR) to the world's
    changes: it gets ``{"event": "world", ...}`` first, then ``added``,
    ``updated`` and ``removed`` events in order. Returns the sequence
    number of the world snapshot (the next change is one more)."""
    reply = request(world, "subscribe", [subscriber], timeout=timeout)
    if type(reply) is not dict or type(reply.get("seq")) is not int:
        raise ServiceError("invalid_reply", f"the world answered subscribe with"
                           f" {brief(reply, 80)}, not {{'seq': int}}")
    return reply["seq"]


def unsubscribe(world, subscriber, timeout=DEFAULT_TIMEOUT):
    """End the subscription of `subscriber`'s route."""
    request(world, "unsubscribe", [subscriber], timeout=timeout)
