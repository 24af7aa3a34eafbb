"""Entities' canvases: pixels an entity's holder paints, carried to every
client as lumps in the world's own runtime (docs/world.md, "Canvases").

A ``["paint", pixels]`` request through an entity's capability hands the
world an RGBA image. The world stores it as two lumps in its runtime's
lump store, a texture (the pixels) and a material naming that texture, and
sets the entity's ``material`` to the material's id: every subscriber gets
an ordinary ``updated`` event and fetches the lumps by hash from the
world's runtime, as it fetches any lump. So a canvas lives where the world
is (the server), whoever painted it: a service of the server without a GPU
or a client on a peer alike, and a late joiner gets the current pixels
with the ``world`` event's material id.

The lumps are charged to an account of the world's own (`Accounts.open`):
when a canvas is painted again, its material is set to something else or
its entity leaves, the old lumps are released and the store lets go of
them (unless something else holds the same bytes), so painting never fills
the disk. Everything a paint makes the server hold or send is bounded
(`Limits`): the image's size, the canvas bytes held per peer and in all,
the paints a second per entity and per peer, and the bytes a second per
peer. A paint costs the world's runtime a few milliseconds in memory and
some tens with a lump store on disk (two lumps written and fsynced), and
the runtime does nothing else meanwhile: the rates are what keep a peer
from taking the server's time this way.

Layer 3: imports `hearth.vm` and `hearth.otp`; the lump formats are the
client's (``hearth.gfx._formats``, documented in docs/protocols.md),
written here as plain msgpack maps so the world never imports the client.
Nothing here switches greenlets.
"""

import collections

import msgpack

from hearth.otp import ServiceError
from hearth.vm._terms import brief

from ._subscribers import LIMIT_REACHED

__all__ = ["Canvases", "Bucket", "check_pixels"]

INVALID_REQUEST = "invalid_request"


def _invalid(message):
    return ServiceError(INVALID_REQUEST, message)


def check_pixels(value, limits):
    """``{"width", "height", "rgba"}``: width x height within
    ``limits.canvas_side``, rgba exactly width x height x 4 bytes, at most
    ``limits.canvas_bytes_each``. Returns ``(width, height, rgba)``."""
    if type(value) is not dict:
        raise _invalid(f"pixels is a map of width, height and rgba, not {brief(value, 57)}")
    extra = [k for k in value if k not in ("width", "height", "rgba")]
    if extra:
        raise _invalid(f"unknown field(s) {', '.join(brief(k, 57) for k in extra)} in pixels;"
                       " allowed: ['width', 'height', 'rgba']")
    w, h, rgba = value.get("width"), value.get("height"), value.get("rgba")
    side = limits.canvas_side
    if not (type(w) is int and type(h) is int and w >= 1 and h >= 1):
        raise _invalid(f"pixels width and height are ints of at least 1, not {brief(w, 20)}"
                       f" and {brief(h, 20)}")
    if w > side or h > side or w * h * 4 > limits.canvas_bytes_each:
        raise ServiceError(LIMIT_REACHED, f"a canvas is at most {side}x{side} pixels and"
                           f" {limits.canvas_bytes_each} bytes of RGBA, not {w}x{h}")
    if type(rgba) is not bytes:
        raise _invalid(f"pixels rgba is a bin of RGBA8 bytes, not {type(rgba).__name__}")
    if len(rgba) != w * h * 4:
        raise _invalid(f"pixels rgba is {len(rgba)} bytes; {w}x{h} RGBA8 is {w * h * 4}")
    return w, h, rgba


class Bucket:
    """A token bucket: `rate` a second, at most `burst` saved up."""

    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate, burst, now):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = now

    def take(self, amount, now):
        """Take `amount` tokens if there are; else None, and the seconds
        until there would be (the amount capped at `burst`)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= amount:
            self.tokens -= amount
            return None
        return (min(amount, self.burst) - self.tokens) / self.rate


class _Painted:
    __slots__ = ("texture", "material", "size", "payer")

    def __init__(self, texture, material, size, payer):
        self.texture = texture
        self.material = material
        self.size = size
        self.payer = payer


class Canvases:
    """The painted canvases of one world.

    Args:
        runtime: the world's runtime (its lump store and accounts).
        limits: the world's `Limits`.
        clock: a callable giving the time in seconds (the runtime's clock).
    """

    def __init__(self, runtime, limits, clock):
        self.limits = limits
        self._store = runtime.lumps
        self._account = runtime.accounts.open("hearth.World canvases")
        self._clock = clock
        self._painted = {}  # entity id -> _Painted
        self._rates = {}  # entity id -> Bucket (paints)
        self._peers = {}  # a peer's Account -> (Bucket of paints, Bucket of bytes)
        self._held = collections.Counter()  # payer (Account or None) -> canvas bytes held
        self.total = 0  # canvas bytes held in all

    def is_canvas(self, entity_id, material):
        """Whether `material` is the lump this world painted for the entity."""
        p = self._painted.get(entity_id)
        return p is not None and p.material == material

    def paint(self, entity_id, pixels, payer):
        """Store `pixels` (a checked-here map) as the entity's canvas; the
        material lump id to set. `payer`: the peer account the entity's
        owner came through (its bounds), or None for the server's own.

        Raises:
            ServiceError: ``invalid_request`` (malformed pixels) or
                ``limit_reached`` (which bound, and when to try again).
        """
        lim = self.limits
        w, h, rgba = check_pixels(pixels, lim)
        size = len(rgba)
        now = self._clock()
        old = self._painted.get(entity_id)
        freed = old.size if old is not None else 0
        if self.total - freed + size > lim.canvas_bytes:
            raise ServiceError(LIMIT_REACHED, f"the world holds at most {lim.canvas_bytes}"
                               " bytes of canvases")
        if payer is not None and self._held[payer] - (freed if old and old.payer is payer
                                                        else 0) + size > lim.canvas_bytes_per_peer:
            raise ServiceError(LIMIT_REACHED, f"the canvases of one peer's entities hold at most"
                               f" {lim.canvas_bytes_per_peer} bytes")
        rate = self._rates.get(entity_id)
        if rate is None:
            rate = self._rates[entity_id] = Bucket(lim.paints_per_second, lim.paints_burst, now)
        wait = rate.take(1, now)
        if wait is not None:
            raise ServiceError(LIMIT_REACHED, f"a canvas is painted at most"
                               f" {lim.paints_per_second:g} times a second: try again in"
                               f" {wait:.2f} s")
        if payer is not None:
            count, bucket = self._peers.get(payer) or (None, None)
            if count is None:
                count = Bucket(lim.peer_paints_per_second, lim.peer_paints_burst, now)
                bucket = Bucket(lim.paint_bytes_per_second, lim.paint_bytes_burst, now)
                self._peers[payer] = (count, bucket)
            wait = count.take(1, now)
            if wait is not None:
                rate.tokens += 1  # this paint did not happen
                raise ServiceError(LIMIT_REACHED, f"one peer paints at most"
                                   f" {lim.peer_paints_per_second:g} times a second: try again"
                                   f" in {wait:.2f} s")
            wait = bucket.take(size, now)
            if wait is not None:
                rate.tokens += 1
                count.tokens += 1
                raise ServiceError(LIMIT_REACHED, f"one peer paints at most"
                                   f" {lim.paint_bytes_per_second} bytes a second: try again"
                                   f" in {wait:.2f} s")
        texture = None
        try:
            texture = self._put(msgpack.packb({"label": f"canvas of entity {entity_id}",
                                               "size": [w, h], "rgba": rgba},
                                              use_bin_type=True))
            material = self._put(msgpack.packb({"albedo": [1.0, 1.0, 1.0, 1.0],
                                                "albedo_texture": bytes(texture)},
                                               use_bin_type=True))
        except OSError as e:
            # A full or read-only disk: the canvas keeps its old pixels.
            rate.tokens += 1
            if texture is not None and texture not in self._in_use():
                self._account.release_lump(texture)
            raise ServiceError("internal_error", f"the server could not store the canvas:"
                               f" {e}") from None
        if old is not None:
            self._unhold(old)
        self._painted[entity_id] = _Painted(texture, material, size, payer)
        self._held[payer] += size
        self.total += size
        if old is not None:
            self._release(old)  # after the new one is in: the same bytes stay
        return bytes(material)

    def _put(self, data):
        lid = self._store.put(data, charged=True)
        self._account.charge_lump(lid, len(data))
        return lid

    def drop(self, entity_id, forget=False):
        """Let go of the entity's canvas lumps (painted over, a material set,
        or the entity gone: `forget` its rate too)."""
        if forget:
            self._rates.pop(entity_id, None)
        p = self._painted.pop(entity_id, None)
        if p is not None:
            self._unhold(p)
            self._release(p)

    def _unhold(self, p):
        self._held[p.payer] -= p.size
        if not self._held[p.payer]:
            del self._held[p.payer]
        self.total -= p.size

    def _in_use(self):
        return {q.texture for q in self._painted.values()} | {
            q.material for q in self._painted.values()}

    def _release(self, p):
        still = self._in_use()
        for lid in (p.material, p.texture):
            if lid not in still:  # another canvas of the same bytes keeps it
                self._account.release_lump(lid)

    def forget_payer(self, payer):
        """A peer's last entity left: its byte bucket goes too."""
        self._peers.pop(payer, None)
