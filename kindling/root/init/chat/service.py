"""chat: a chat room.

Requests (docs/protocols.md's request/response convention, any op form of
`hearth.native.parse_op`):

``"join"``, ``["join"]``, ``{"op": "join"}`` with the member's capability in caps[1]
    The member (a capability with SEND and MONITOR) receives every message
    posted from now on. ok: the number of members. Joining again with the
    same route changes nothing.
``"leave"`` with the member's capability in caps[1]
    ok: true if it was a member, false if not.
``["post", text]``, ``["post", text, from]``, ``{"op": "post", "text": t, "from": f}``
    Sends ``{"from": f, "text": t}`` (msgpack, no capabilities) to every
    member; `text` is a str, `from` a str or nil (the default).
    ok: the number of members it was sent to.
``"members"``
    ok: the number of members.

The room monitors each member: a member whose route closes (its process
died, its mailbox was destroyed) is dropped. Malformed requests get
``invalid_request`` replies and the room keeps serving.
"""

from hearth import vm
from hearth.native import INVALID_REQUEST, Service, parse_op
from hearth.otp import ServiceError, encode

OPS = {"join": (), "leave": (), "post": ("text", "from"), "members": ()}
MEMBER_PERMS = vm.SEND | vm.MONITOR
TEXT_LIMIT = 64 * 1024  # characters of one message


def _invalid(message):
    return ServiceError(INVALID_REQUEST, message)


class Chat(Service):
    name = "chat"

    def __init__(self):
        super().__init__()
        self.members = {}  # monitor ref -> the member's capability

    def handle_request(self, request):
        term = request.term
        if type(term) is tuple and len(term) == 2 and term[0] == "post":
            term = (*term, None)  # ["post", text]: from is optional
        op, fields = parse_op(term, OPS, {"from": None})
        if op == "members":
            return len(self.members)
        if op == "post":
            return self.post(fields["text"], fields["from"])
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
            request.keep(member)
            self.members[member.monitor()] = member
        return len(self.members)

    def leave(self, member):
        ref = self._find(member)
        if ref is None:
            return False
        self.proc.demonitor(ref, flush=True)
        self.members.pop(ref).release()
        return True

    def post(self, text, sender):
        if type(text) is not str:
            raise _invalid("text is a str")
        if len(text) > TEXT_LIMIT:
            raise _invalid(f"text is at most {TEXT_LIMIT} characters")
        if sender is not None and type(sender) is not str:
            raise _invalid("from is a str or nil")
        data, _ = encode({"from": sender, "text": text})
        for cap in self.members.values():
            cap.send(data)  # a closed route drops it; its Down removes it
        return len(self.members)

    def handle_info(self, sig):
        if type(sig) is vm.Down:
            member = self.members.pop(sig.ref, None)
            if member is not None:
                member.release()
        sig.cap.release()


def main(registry):
    """The process body: serve requests on the parent mailbox."""
    Chat().serve()
