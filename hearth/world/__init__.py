"""hearth.world — the shared world: ``hearth.World`` and its client helpers.

One process holds the world's entities (each an id, an owner, a transform,
a mesh lump, a material lump or canvas, and a label); many clients, local
or on peers, add, change, list and subscribe to them. A client keeps a copy in step
(`run_mirror`, `EntityTable`) and shows itself as an avatar (`run_avatar`) that
starts at a place of its own (`start_pose`). An entity's holder may paint
it (`paint`): the pixels become its material, lumps of the world's
runtime. The protocol, the ownership and persistence rules and the bounds
are in docs/world.md.

Layer 3: imports `hearth.vm`, `hearth.otp` and `hearth.native`'s request
envelope; entry points (`hearth-server`, `hearth-ctl`) import it.
"""

from ._client import (
    add,
    admin_add,
    admin_remove,
    admin_update,
    get,
    list_entities,
    paint,
    remove,
    subscribe,
    unsubscribe,
    update,
)
from ._avatar import MAX_RATE, run_avatar
from ._entity import IDENTITY, LUMP_ID_BYTES, MAX_LABEL, Entity
from ._limits import Limits
from ._mirror import EntityTable, Resync, run_mirror
from ._places import start_pose, start_view
from ._log import WorldLog, read_records
from ._start import start_link_world, start_world
from ._subscribers import LIMIT_REACHED
from ._world import ENTITY_PERMS, WORLD, WORLD_ADMIN, World

__all__ = [
    "WORLD",
    "WORLD_ADMIN",
    "ENTITY_PERMS",
    "LIMIT_REACHED",
    "IDENTITY",
    "LUMP_ID_BYTES",
    "MAX_LABEL",
    "Entity",
    "Limits",
    "EntityTable",
    "Resync",
    "run_mirror",
    "MAX_RATE",
    "run_avatar",
    "start_pose",
    "start_view",
    "World",
    "WorldLog",
    "read_records",
    "start_world",
    "start_link_world",
    "add",
    "admin_add",
    "admin_update",
    "admin_remove",
    "get",
    "list_entities",
    "paint",
    "remove",
    "subscribe",
    "unsubscribe",
    "update",
]
