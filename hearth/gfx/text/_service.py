"""``hearth.text.TextFactory``: strings drawn in the world from the MSDF
atlas, for any process of the client (a guest's caption, a name above an
entity).

Requests to the factory (the envelope of `hearth.native._service`):

``["create", state]``
    ``{"op": "create", "state": state}``. `state` is a map:

    - ``text`` (required): a str, at most `MAX_CHARS` characters; ``\\n``
      starts a line (at most `MAX_LINES` of them).
    - ``origin`` (required): ``[x, y, z]``, the centre of the quad.
    - ``orientation``: ``[x, y, z, w]`` (default none); the text faces +z.
    - ``height``: a line's height in world units, 0.001..100 (default 0.1);
      the quad's width follows from the text.
    - ``color``: ``[r, g, b]`` in 0..1 (default white).
    - ``background``: ``[r, g, b, a]`` in 0..1 (default see-through).

    ok: a text capability (SEND, MONITOR, KILL), owned as a canvas is
    (caps[1], else the reply capability).

Updates to a text (requests, ok nil, or sinks; see `_resource`):

``["text", str]``
    show another string.
``["state", state]``
    any of the keys above but ``text``: move, turn, resize, recolor.

Glyphs come from the atlas the terminals use. A character the atlas lacks
is generated the first time (a few milliseconds); this factory may add at
most `MAX_NEW_GLYPHS` in its life (the atlas is shared and bounded), past
which a new character shows as ``?``. Bad input is ``invalid_request`` and
changes nothing.
"""

import math

from hearth.native._service import INVALID_REQUEST, ServiceError
from hearth.vm._terms import brief

from .._math import check_quaternion, check_vector
from .._resource import ResourceFactory, SceneResource, owner_of
from . import shared_atlas
from ._label import Label

__all__ = ["TEXT_FACTORY", "TextFactory", "MAX_CHARS", "MAX_LINES", "MAX_NEW_GLYPHS"]

TEXT_FACTORY = "hearth.text.TextFactory"
MAX_CHARS = 1024
MAX_LINES = 32
MAX_NEW_GLYPHS = 256
_KEYS = {"origin", "orientation", "height", "color", "background"}


def _bad(message):
    return ServiceError(INVALID_REQUEST, message)


def _text(value):
    if type(value) is not str:
        raise _bad(f"text is a str, not {brief(value)}"[:200])
    if len(value) > MAX_CHARS or value.count("\n") >= MAX_LINES:
        raise _bad(f"text is at most {MAX_CHARS} characters on {MAX_LINES} lines")
    return value


def _unit(value, n, what):
    v = check_vector(value, n, what)
    if not ((v >= 0) & (v <= 1)).all():
        raise _bad(f"{what} components are in 0..1")
    return tuple(round(float(c) * 255) for c in v)


def _check(state, creating):
    """The checked fields of a state map, as `Label` takes them."""
    if type(state) is not dict:
        raise _bad("state is a map")
    allowed = _KEYS | {"text"} if creating else _KEYS
    unknown = [k for k in state if k not in allowed]
    if unknown:
        raise _bad(f"unknown state key(s) {brief(unknown)}; known: {sorted(allowed)}"[:200])
    if creating and ("text" not in state or "origin" not in state):
        raise _bad("create needs text and origin")
    out = {}
    if "text" in state:
        out["text"] = _text(state["text"])
    if "origin" in state:
        out["origin"] = tuple(float(c) for c in check_vector(state["origin"], 3, "origin"))
    if "orientation" in state:
        out["orientation"] = tuple(check_quaternion(state["orientation"]))
    if "height" in state:
        h = state["height"]
        if type(h) not in (int, float) or not math.isfinite(h) or not 0.001 <= h <= 100:
            raise _bad(f"height is a number in 0.001..100, not {brief(h)}"[:200])
        out["height"] = float(h)
    if "color" in state:
        out["color"] = _unit(state["color"], 3, "color")
    if "background" in state:
        out["background"] = _unit(state["background"], 4, "background")
    return out


class _Text(SceneResource):
    name = schema = "hearth.text"
    OPS = {"text": ("text",), "state": ("state",)}

    def __init__(self, owner, label, rid):
        super().__init__(owner, label.scene, rid)
        self.label = label

    def handle_request(self, request):
        op, fields = self.parse(request)
        label = self.label
        if op == "text":
            label.set_text(_text(fields["text"]))
            return None
        checked = _check(fields["state"], creating=False)
        if {"origin", "orientation", "height"} & checked.keys():
            label.place(checked.get("origin"), checked.get("orientation"), checked.get("height"))
        if {"color", "background"} & checked.keys():
            label.recolor(checked.get("color"), checked.get("background"))
        return None

    def remove(self):
        self.label.remove()


class TextFactory(ResourceFactory):
    """``hearth.text.TextFactory`` over `scene`."""

    name = schema = TEXT_FACTORY

    def __init__(self, scene):
        super().__init__(scene)
        self._store = self.proc.runtime.lumps
        self.new_glyphs = 0  # generated for this factory's texts so far

    def _may_add(self, n):
        if self.new_glyphs + n > MAX_NEW_GLYPHS:
            return False
        self.new_glyphs += n
        return True

    def handle_request(self, request):
        _, fields = self.parse(request)
        checked = _check(fields["state"], creating=True)
        owner = owner_of(request)
        label = Label(self.scene, checked.pop("text"), checked.pop("origin"),
                      atlas=shared_atlas(self._store), add=self._may_add, **checked)
        try:
            self.give(request, _Text, owner, label, label.rid, label.remove)
        except BaseException:
            label.remove()
            raise
