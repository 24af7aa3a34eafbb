"""The supervisor's admin calls: the replies `_supervisor` documents.

A mixin of the supervisor's state class (`_supervisor_loop`): each handler
runs in the supervisor's process, between two signals of its loop, and
returns the reply term. Capabilities in a reply are handles the supervisor
demotes for the occasion and releases once the reply is sent.
"""

from hearth import vm
from hearth.vm import KILL, MONITOR, SEND, Cap

from ._call import reply
from ._supervisor_spec import ChildRecord, args_from_term, check_significant, spec_from_term

__all__ = ["AdminCalls", "CHILD_PERMS", "release_all"]

# What the admin calls hand out about a running child. SEND on a supervisor
# already lets its holder stop any child (terminate_child), so KILL adds no
# new kind of power; LINK (a power to kill *and* be told) stays with the
# supervisor.
CHILD_PERMS = SEND | MONITOR | KILL


def release_all(caps):
    for cap in caps:
        cap.release()


class AdminCalls:
    """The admin call handlers, mixed into the supervisor's state class.

    They use its `children`, `by_route`, `template`, `auto_shutdown`, `allowed`,
    `serial`, `down_box` and `n_restarts`, and its `_start`, `_shutdown`,
    `_remove` and `_find`.
    """

    def _handle_call(self, from_, request):
        to_release = []
        handler = None
        if type(request) is tuple and request and type(request[0]) is str:
            entry = CALLS.get(request[0])
            if entry is not None and entry[1] == len(request) - 1:
                handler = entry[0]
        if handler is None:
            value = ("error", ("badarg", repr(request)[:200]))
        else:
            value = handler(self, to_release, *request[1:])
        try:
            reply(from_, value)
        finally:
            release_all(to_release)

    def _demoted(self, cap, to_release):
        out = cap.demote(int(cap.permissions) & CHILD_PERMS)
        to_release.append(out)
        return out

    # -- the admin calls (each returns the reply) ----------------------------------------

    def _call_start_child(self, to_release, arg):
        if self.template is not None:
            if not (type(arg) is tuple and len(arg) == 2 and arg[0] == "args"
                    and type(arg[1]) is tuple):
                return ("error", ("badarg", repr(arg)[:200]))
            try:
                extra = args_from_term(arg[1])
            except ValueError as e:
                return ("error", ("invalid_child_spec", str(e)))
            t = self.template
            child = ChildRecord(t.spec, next(self.serial), tuple(t.args) + extra)
            status, value = self._start(child)
            if status == "ok":
                self.children[child.key] = child
                return ("ok", self._demoted(value, to_release))
            child.drop()
            return ("ok", None) if status == "ignore" else ("error", value)
        try:
            spec = spec_from_term(arg, self.allowed)
        except ValueError as e:
            return ("error", ("invalid_child_spec", str(e)))
        bad = check_significant(spec, self.auto_shutdown)
        if bad is not None:
            return ("error", bad)
        old = self.children.get(spec.id)
        if old is not None:
            if old.cap is not None:
                return ("error", ("already_started", self._demoted(old.cap, to_release)))
            return ("error", "already_present")
        child = ChildRecord(spec, spec.id, spec.arguments)
        status, value = self._start(child)
        if status == "ok" or (status == "ignore" and spec.restart != "temporary"):
            self.children[spec.id] = child
            return ("ok", None if value is None else self._demoted(value, to_release))
        child.drop()
        return ("ok", None) if status == "ignore" else ("error", value)

    def _call_terminate_child(self, to_release, key):
        if self.template is not None:
            if type(key) is not Cap:
                return ("error", "simple_one_for_one")
            child = self.by_route.get(key.route_id)
            if child is None:
                return "ok" if self._is_dead(key) else ("error", "not_found")
            self._shutdown(child)
            self._remove(child)
            return "ok"
        child = self._find(key)
        if child is None:
            return ("error", "not_found")
        if child.cap is not None:
            self._shutdown(child)
        child.restarting = False
        if child.spec.restart == "temporary":
            self._remove(child)
        return "ok"

    def _is_dead(self, cap):
        # Erlang answers ok for a pid that is no longer alive.
        if not cap.permissions & MONITOR:
            return False
        ref = cap.monitor(self.down_box)
        sig = self.down_box.try_recv()
        if sig is not None:
            sig.cap.release()
            return True
        vm.demonitor(ref, flush=True)
        return False

    def _stopped_child(self, key):
        """``(child, None)`` for a stopped child `key`, else ``(None, error
        reply)``: restart_child and delete_child act only on those."""
        if self.template is not None:
            return None, ("error", "simple_one_for_one")
        child = self._find(key)
        if child is None:
            return None, ("error", "not_found")
        if child.restarting:
            return None, ("error", "restarting")
        if child.cap is not None:
            return None, ("error", "running")
        return child, None

    def _call_restart_child(self, to_release, key):
        child, error = self._stopped_child(key)
        if error is not None:
            return error
        status, value = self._start(child)
        if status == "ok":
            return ("ok", self._demoted(value, to_release))
        return ("ok", None) if status == "ignore" else ("error", value)

    def _call_delete_child(self, to_release, key):
        child, error = self._stopped_child(key)
        if error is not None:
            return error
        self._remove(child)
        return "ok"

    def _call_which_children(self, to_release):
        out = []
        for c in self.children.values():
            if c.cap is not None:
                state = self._demoted(c.cap, to_release)
            else:
                state = "restarting" if c.restarting else None
            id_ = None if self.template is not None else c.spec.id
            out.append((id_, state, c.spec.type, c.restarts))
        return out

    def _call_count_children(self, to_release):
        kids = list(self.children.values())
        active = sum(1 for c in kids if c.cap is not None)
        if self.template is not None:
            sups = len(kids) if self.template.spec.type == "supervisor" else 0
            specs = 1
        else:
            sups = sum(1 for c in kids if c.spec.type == "supervisor")
            specs = len(kids)
        return {
            "specs": specs,
            "active": active,
            "supervisors": sups,
            "workers": len(kids) - sups,
            "restarts": self.n_restarts,
        }


# name -> (handler, number of arguments)
CALLS = {
    "start_child": (AdminCalls._call_start_child, 1),
    "terminate_child": (AdminCalls._call_terminate_child, 1),
    "restart_child": (AdminCalls._call_restart_child, 1),
    "delete_child": (AdminCalls._call_delete_child, 1),
    "which_children": (AdminCalls._call_which_children, 0),
    "count_children": (AdminCalls._call_count_children, 0),
}
