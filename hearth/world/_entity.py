"""The world's entities: their fields, the checks on what a request may set,
and the terms they travel and are stored as.

An entity is plain data the world keeps; its capability and its owner are
the world process's business (`_world`). Every check here raises
`ServiceError` ``invalid_request`` with a message a person can read, and
nothing here switches greenlets.
"""

import math

from hearth.otp import ServiceError
from hearth.vm import Cap
from hearth.vm._terms import brief

__all__ = [
    "IDENTITY",
    "MAX_LABEL",
    "LUMP_ID_BYTES",
    "Entity",
    "check_fields",
    "check_changes",
]

INVALID_REQUEST = "invalid_request"

IDENTITY = (1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0,
            0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0)
MAX_LABEL = 200  # characters
LUMP_ID_BYTES = 32  # a BLAKE3 digest, as lumps are named

# What `add` may set, and what `update` may change: a mesh is fixed for
# the entity's life (a new mesh is a new entity), the rest may change.
ADD_FIELDS = ("transform", "mesh", "material", "label", "persistent")
CHANGE_FIELDS = ("transform", "material", "label")


def _invalid(message):
    return ServiceError(INVALID_REQUEST, message)


def check_transform(value):
    """16 finite numbers, column-major (the renderer's convention), as a
    tuple of floats."""
    if type(value) is not tuple or len(value) != 16:
        raise _invalid("a transform is an array of 16 numbers (a column-major 4x4 matrix),"
                       f" not {_brief(value)}")
    out = []
    for x in value:
        if type(x) not in (int, float) or not math.isfinite(x):
            raise _invalid(f"a transform holds finite numbers only, not {_brief(x)}")
        out.append(float(x))
    return tuple(out)


def check_lump(value, what):
    """A lump id: 32 bytes (msgpack bin)."""
    if type(value) is not bytes or len(value) != LUMP_ID_BYTES:
        raise _invalid(f"{what} is a lump id, {LUMP_ID_BYTES} bytes (msgpack bin),"
                       f" not {_brief(value)}")
    return value


def check_material(value):
    """nil (white), a lump id, or a canvas capability (SEND)."""
    if value is None:
        return None
    if type(value) is Cap:
        return value
    return check_lump(value, "the material")


def check_label(value):
    if value is None:
        return None
    if type(value) is not str:
        raise _invalid(f"a label is a str or nil, not {_brief(value)}")
    if len(value) > MAX_LABEL:
        raise _invalid(f"a label is at most {MAX_LABEL} characters, not {len(value)}")
    return value


def check_fields(term):
    """The fields of an ``add``: a map with ``mesh`` (required),
    ``transform``, ``material``, ``label`` and ``persistent``. Returns a
    dict of checked values."""
    if type(term) is not dict:
        raise _invalid(f"an entity is a map of fields {list(ADD_FIELDS)}, not {_brief(term)}")
    _unknown(term, ADD_FIELDS)
    if "mesh" not in term:
        raise _invalid("an entity needs a 'mesh' (a lump id)")
    persistent = term.get("persistent", False)
    if type(persistent) is not bool:
        raise _invalid(f"'persistent' is true or false, not {_brief(persistent)}")
    return {
        "transform": check_transform(term["transform"]) if "transform" in term else IDENTITY,
        "mesh": check_lump(term["mesh"], "the mesh"),
        "material": check_material(term.get("material")),
        "label": check_label(term.get("label")),
        "persistent": persistent,
    }


def check_changes(term):
    """The changes of an ``update``: a non-empty map of some of
    ``transform``, ``material``, ``label``. Returns a dict of checked
    values."""
    if type(term) is not dict or not term:
        raise _invalid(f"an update is a non-empty map of some of {list(CHANGE_FIELDS)},"
                       f" not {_brief(term)}")
    _unknown(term, CHANGE_FIELDS)
    out = {}
    if "transform" in term:
        out["transform"] = check_transform(term["transform"])
    if "material" in term:
        out["material"] = check_material(term["material"])
    if "label" in term:
        out["label"] = check_label(term["label"])
    return out


def _unknown(term, allowed):
    extra = [k for k in term if k not in allowed]
    if extra:
        raise _invalid(f"unknown field(s) {[_brief(k) for k in extra]}; allowed: {list(allowed)}")


def _brief(value):
    return brief(value, 57)


class Entity:
    """One entity of the world.

    Attributes:
        id: an int, never reused (persisted ids survive restarts).
        owner: a description for people: ``"admin"`` for an entity of the
            world's own (persistent ones, and those the admin added without
            an owner), else ``"route N"`` or ``"peer route N"``.
        transform, mesh, material, label, persistent: its fields.
    """

    __slots__ = ("id", "owner", "transform", "mesh", "material", "label", "persistent")

    def __init__(self, id, owner, fields):
        self.id = id
        self.owner = owner
        self.transform = fields["transform"]
        self.mesh = fields["mesh"]
        self.material = fields["material"]
        self.label = fields["label"]
        self.persistent = fields["persistent"]

    def apply(self, changes):
        for k, v in changes.items():
            setattr(self, k, v)

    def to_term(self):
        """The entity as it travels: a map (a canvas material is its
        capability)."""
        return {"id": self.id, "owner": self.owner, "transform": self.transform,
                "mesh": self.mesh, "material": self.material, "label": self.label,
                "persistent": self.persistent}

    def to_record(self):
        """The entity as the log stores it (never holds a capability:
        persistent entities can't have a canvas)."""
        return {"id": self.id, "transform": self.transform, "mesh": self.mesh,
                "material": self.material, "label": self.label}

    @classmethod
    def from_record(cls, rec):
        """An entity read back from the log, checked like a request's.

        Raises:
            ServiceError: the record is not a valid entity.
        """
        if type(rec) is not dict or type(rec.get("id")) is not int or rec["id"] < 1:
            raise _invalid(f"not an entity record: {_brief(rec)}")
        fields = check_fields({k: v for k, v in rec.items() if k != "id"})
        if type(fields["material"]) is Cap:
            raise _invalid("a stored entity can't have a canvas")
        fields["persistent"] = True
        return cls(rec["id"], "admin", fields)
