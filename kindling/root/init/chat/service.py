"""chat: a chat room, with a board in the shared world that shows its last
lines.

Requests (docs/protocols.md's request/response convention, any op form of
`hearth.native.parse_op`):

``"join"``, ``["join"]``, ``{"op": "join"}`` with the member's capability in caps[1]
    The member (a capability with SEND and MONITOR) receives every message
    posted from now on. ok: the number of members. Joining again with the
    same route changes nothing. A peer's member must be a route of its own
    (``invalid_request``); a connection joins at most `PEER_MEMBERS`
    members and the room holds at most `MEMBERS` (``limit_reached``).
``"leave"`` with the member's capability in caps[1]
    ok: true if it was a member, false if not.
``["post", text]``, ``["post", text, from]``, ``{"op": "post", "text": t, "from": f}``
    Sends ``{"from": f, "text": t}`` (msgpack, no capabilities) to every
    member, keeps the line in the log and shows it on the board; `text` is
    a str, `from` a str or nil. ok: the number of members it was sent to.
``"members"``
    ok: the number of members.
``"log"``
    ok: the last lines posted (at most `LOG_LINES`), oldest first, each
    ``{"from": f, "text": t}``.

Posts from a peer (a request a peer's connection carried) are bounded and
carry the name the room knows that connection by: the first ``from`` a
connection posts with becomes its name for as long as it is connected (a
name another live connection holds is refused), a different ``from`` later
is refused (``permission_denied``), and without one its posts carry the
connection's own name (``peer ADDRESS#N``). A peer's text is at most
`PEER_TEXT_LIMIT` characters and a connection posts at most `POST_RATE` a
second (`POST_BURST` at once): past either, ``limit_reached``. The
server's own processes and its tools (the operator) post as they say.

The board: with ``hearth.World`` in its registry view, the room keeps an
entity in the world (a flat panel labelled ``chat``) whose canvas shows the
last `BOARD_LINES` lines as ``name: text``, painted again as people post
(at most every `REPAINT` seconds; docs/world.md, "The chat board").

The room monitors each member: a member whose route closes (its process
died, its mailbox was destroyed) is dropped. Malformed requests get
``invalid_request`` replies and the room keeps serving.
"""

import collections
import logging

from hearth import otp, vm, world as hworld
from hearth.native import INVALID_REQUEST, Service, parse_op
from hearth.otp import ServiceError, encode

OPS = {"join": (), "leave": (), "post": ("text", "from"), "members": (), "log": ()}
MEMBER_PERMS = vm.SEND | vm.MONITOR
TEXT_LIMIT = 64 * 1024  # characters of one message
PEER_TEXT_LIMIT = 500  # characters of one message from a peer
NAME_LIMIT = 32  # characters of a name
LOG_LINES = 100  # lines kept for "log"
LOG_TEXT = 500  # characters of a line kept for "log" and the board
POST_RATE = 1.0  # posts a second from one connection...
POST_BURST = 5  # ...after this many at once
MEMBERS = 1024  # members of the room at once
PEER_MEMBERS = 4  # members joined through one peer connection
BOARD_LINES = 8
BOARD_COLS = 44
REPAINT = 0.3  # seconds between two paints of the board, at least
WORLD = "hearth.World"

log = logging.getLogger("kindling.chat")


def _invalid(message):
    return ServiceError(INVALID_REQUEST, message)


class _Bucket:
    """A token bucket: `rate` a second, at most `burst` saved up."""

    def __init__(self, now):
        self.tokens = float(POST_BURST)
        self.at = now

    def take(self, now):
        self.tokens = min(float(POST_BURST), self.tokens + (now - self.at) * POST_RATE)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / POST_RATE


def _check_name(name):
    if not 1 <= len(name) <= NAME_LIMIT or not name.isprintable() or name != name.strip():
        raise _invalid(f"a name is 1 to {NAME_LIMIT} printable characters, without spaces"
                       " around it")
    return name


class Chat(Service):
    """The room. `registry`: a registry view in which to find
    ``hearth.World`` for the board (None: no board)."""

    name = "chat"

    def __init__(self, registry=None):
        super().__init__()
        self.members = {}  # monitor ref -> the member's capability
        self._joined_by = {}  # monitor ref -> the peer Account that joined it
        self._per_peer = collections.Counter()  # a peer's Account -> its members
        self.lines = collections.deque(maxlen=LOG_LINES)
        self._names = {}  # a peer's Account -> the name it posts as
        self._holders = {}  # name -> the Account holding it
        self._rates = {}  # a peer's Account -> _Bucket
        self._board = None
        if registry is not None:
            self._board = vm.spawn_link(run_board, registry, name="chat.board")

    def handle_request(self, request):
        term = request.term
        if type(term) is tuple and len(term) == 2 and term[0] == "post":
            term = (*term, None)  # ["post", text]: from is optional
        op, fields = parse_op(term, OPS, {"from": None})
        if op == "members":
            return len(self.members)
        if op == "log":
            return list(self.lines)
        if op == "post":
            return self.post(fields["text"], fields["from"], request.account)
        member = self._member_arg(request)
        if op == "join":
            return self.join(request, member)
        return self.leave(member)

    def _member_arg(self, request):
        if len(request.args) != 1:
            raise _invalid(f"the member capability goes in caps[1] (got {len(request.args)} "
                           "capability arguments)")
        return request.args[0]

    def _find(self, member):
        for ref, cap in self.members.items():
            if cap.same_route(member):
                return ref
        return None

    def join(self, request, member):
        if MEMBER_PERMS & ~int(member.permissions):
            raise _invalid("a member capability needs SEND and MONITOR")
        if self._find(member) is None:
            account = request.account
            request.check_own(member, "the member, caps[1],")
            if len(self.members) >= MEMBERS:
                raise ServiceError("limit_reached", f"the room has {MEMBERS} members, its most")
            if account is not None and self._per_peer[account] >= PEER_MEMBERS:
                raise ServiceError("limit_reached", f"a connection joins at most {PEER_MEMBERS}"
                                   " members")
            request.keep(member)
            ref = member.monitor()
            self.members[ref] = member
            if account is not None:
                self._joined_by[ref] = account
                self._per_peer[account] += 1
        return len(self.members)

    def _forget_member(self, ref):
        member = self.members.pop(ref, None)
        account = self._joined_by.pop(ref, None)
        if account is not None:
            self._per_peer[account] -= 1
            if not self._per_peer[account]:
                del self._per_peer[account]
        return member

    def leave(self, member):
        ref = self._find(member)
        if ref is None:
            return False
        self.proc.demonitor(ref, flush=True)
        self._forget_member(ref).release()
        return True

    # -- posts -------------------------------------------------------------------------

    def _prune(self):
        """Forget the names and rates of connections that are gone."""
        for account in [a for a in self._names if a.closed]:
            self._holders.pop(self._names.pop(account), None)
        for account in [a for a in self._rates if a.closed]:
            del self._rates[account]

    def _peer_name(self, account, sender):
        """The name a peer's post carries (checked, bound on first use)."""
        self._prune()
        bound = self._names.get(account)
        if sender is None:
            return bound if bound is not None else account.name
        if bound is not None:
            if sender != bound:
                raise ServiceError("permission_denied", f"this connection posts as {bound!r};"
                                   f" it can't post as {sender[:NAME_LIMIT]!r}")
            return bound
        _check_name(sender)
        if sender.startswith("peer "):
            raise ServiceError("permission_denied", "names starting with 'peer ' are the"
                               " room's own, for connections that gave none")
        if self._holders.get(sender) is not None:
            raise ServiceError("permission_denied", f"the name {sender!r} is taken by another"
                               " connection")
        self._names[account] = sender
        self._holders[sender] = account
        return sender

    def _limit_rate(self, account):
        now = self.proc.runtime.clock.now()
        bucket = self._rates.get(account)
        if bucket is None:
            self._prune()
            bucket = self._rates[account] = _Bucket(now)
        wait = bucket.take(now)
        if wait is not None:
            raise ServiceError("limit_reached", f"a connection posts at most {POST_RATE:g} a"
                               f" second ({POST_BURST} at once): try again in {wait:.1f} s")

    def post(self, text, sender, account=None):
        if type(text) is not str:
            raise _invalid("text is a str")
        if len(text) > TEXT_LIMIT:
            raise _invalid(f"text is at most {TEXT_LIMIT} characters")
        if sender is not None and type(sender) is not str:
            raise _invalid("from is a str or nil")
        if account is not None:
            if len(text) > PEER_TEXT_LIMIT:
                raise ServiceError("limit_reached", f"a post from a peer is at most"
                                   f" {PEER_TEXT_LIMIT} characters, not {len(text)}")
            sender = self._peer_name(account, sender)
            self._limit_rate(account)
        data, _ = encode({"from": sender, "text": text})
        for cap in self.members.values():
            cap.send(data)  # a closed route drops it; its Down removes it
        self.lines.append({"from": sender, "text": text[:LOG_TEXT]})
        if self._board is not None:
            board, _ = encode(["lines", list(self.lines)[-BOARD_LINES:]])
            self._board.send(board)
        return len(self.members)

    def handle_info(self, sig):
        if type(sig) is vm.Down:
            member = self._forget_member(sig.ref)
            if member is not None:
                member.release()
        sig.cap.release()


# -- the board in the world ----------------------------------------------------------------


def board_image(lines, scale=2):
    """The board's pixels for `lines` (``{"from", "text"}`` maps): ``(width,
    height, rgba)``; a title row, then one row a line, ``name: text`` cut
    to `BOARD_COLS` characters, in `hearth.world._font`'s dots (a server
    has no font renderer: it never loads the graphics stack). Switches:
    never."""
    import numpy as np

    from hearth.world._font import CELL_W, text_mask

    bg = np.array((16, 24, 48), np.float32)
    rows = [("chat", (255, 200, 80), "")]
    for line in lines[-BOARD_LINES:]:
        name = line.get("from") or "?"
        rows.append((f"{name}: ", (120, 220, 255), line.get("text") or ""))
    while len(rows) < BOARD_LINES + 1:
        rows.append(("", (0, 0, 0), ""))
    painted = []
    for head, color, text in rows:
        s = (head + " ".join(text.split()))[:BOARD_COLS].ljust(BOARD_COLS)
        mask = text_mask(s, scale).astype(np.float32)[..., None] / 255.0
        fg = np.empty(mask.shape[:2] + (3,), np.float32)
        fg[:] = (235, 235, 235)
        fg[:, :min(len(head), BOARD_COLS) * CELL_W * scale] = color
        painted.append(bg + (fg - bg) * mask)
    pad = 8
    body = np.concatenate(painted, axis=0).astype(np.uint8)
    h, w = body.shape[0] + 2 * pad, body.shape[1] + 2 * pad
    img = np.empty((h, w, 4), np.uint8)
    img[:, :, :3] = bg.astype(np.uint8)
    img[:, :, 3] = 255
    img[pad:pad + body.shape[0], pad:pad + body.shape[1], :3] = body
    return w, h, img.tobytes()


def panel_mesh():
    """A mesh lump (the client's mesh format, docs/protocols.md): the square
    [-1, 1]² at z = ±0.01, both faces showing the texture the right way
    round (from in front and from behind)."""
    import msgpack
    import numpy as np

    positions, normals, uvs = [], [], []
    for z, flip in ((0.01, False), (-0.01, True)):
        for x, y in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            positions.append((x, y, z))
            normals.append((0, 0, 1 if z > 0 else -1))
            u = (x + 1) / 2
            uvs.append((1 - u if flip else u, (1 - y) / 2))
    indices = [0, 1, 2, 0, 2, 3, 4, 6, 5, 4, 7, 6]

    def packed(values, dtype):
        return np.asarray(values, dtype=dtype).tobytes()

    return msgpack.packb({"positions": packed(positions, "<f4"),
                          "normals": packed(normals, "<f4"), "uv0": packed(uvs, "<f4"),
                          "indices": packed(indices, "<u4")}, use_bin_type=True)


def board_transform(width, height):
    """Where the board stands: centred 3.5 above the origin, facing +z,
    3.2 units tall, as wide as its pixels say."""
    half_h = 1.6
    half_w = half_h * width / height
    return (half_w, 0, 0, 0, 0, half_h, 0, 0, 0, 0, 1, 0, 0, 3.5, 0, 1)


def _find_world(registry):
    try:
        return otp.lookup(registry, WORLD)
    except (otp.RegistryError, otp.CallError):
        return None


def run_board(registry, tries=20, retry=0.5):
    """Process body: keep the board in the world and paint the lines the
    room sends (``["lines", [...]]``), at most every `REPAINT` seconds.
    Without a world (none in the registry view after `tries` looks) it
    logs why and ends. Switches: always."""
    vm.set_metadata(description="the chat room's board in the world")
    mesh = bytes(vm.current_runtime().lumps.put(panel_mesh()))
    state = {"lines": [], "dirty": True}
    while True:
        world = None
        for _ in range(tries):
            world = _find_world(registry)
            if world is not None:
                break
            _wait(state, retry)
        if world is None:
            log.info("chat: no %s in sight: no board in the world", WORLD)
            return
        ref = world.monitor()
        w, h, _ = board_image([])
        try:
            _, entity = hworld.add(world, vm.make_capability(vm.MONITOR), mesh, label="chat",
                                   transform=board_transform(w, h))
        except (otp.CallError, otp.ServiceError) as e:
            log.warning("chat: the world refused the board: %s", e)
            vm.demonitor(ref, flush=True)
            return
        state["dirty"] = True
        _serve_board(world, ref, entity, state)
        entity.release()
        world.release()


def _take(sig, state):
    """Apply one signal of the board's mailbox: the room's newest lines
    (kept), or anything else (dropped). The Down, if it is one."""
    if type(sig) is vm.Down:
        sig.cap.release()
        return sig
    if type(sig) is not vm.Message:
        sig.cap.release()
        return None
    try:
        term = otp.decode(sig.data, sig.caps)
    except otp.DecodeError:
        term = None
    for cap in sig.caps:
        cap.release()
    if type(term) is tuple and len(term) == 2 and term[0] == "lines":
        state["lines"] = list(term[1])
        state["dirty"] = True
    return None


def _wait(state, seconds):
    clock = vm.current_runtime().clock
    deadline = clock.now() + seconds
    while (left := deadline - clock.now()) > 0:
        sig = vm.recv(timeout=left)
        if sig is None:
            return
        _take(sig, state)


def _serve_board(world, ref, entity, state):
    """Paint the newest lines, at most every `REPAINT` seconds, until the
    world goes away. Switches: always."""
    clock = vm.current_runtime().clock
    next_paint = clock.now()
    while True:
        wait = None if not state["dirty"] else max(0.0, next_paint - clock.now())
        sig = vm.recv(timeout=wait)
        if sig is None:
            w, h, rgba = board_image(state["lines"])
            state["dirty"] = False
            try:
                hworld.paint(entity, w, h, rgba)
            except otp.ServiceError as e:
                log.warning("chat: the board was not painted: %s", e)
                state["dirty"] = e.kind == "limit_reached"  # again, a little later
            except otp.CallError as e:
                # The operator removed it, say: a new one, in a moment.
                log.warning("chat: the board's entity is gone (%s); adding it again", e)
                vm.demonitor(ref, flush=True)
                _wait(state, 1.0)
                return
            next_paint = clock.now() + REPAINT
            continue
        down = _take(sig, state)
        if down is not None and down.ref == ref:
            log.warning("chat: the world went away; finding it again")
            return


def main(registry):
    """The process body: serve requests on the parent mailbox."""
    Chat(registry).serve()
