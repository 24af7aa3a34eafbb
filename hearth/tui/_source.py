"""Where the TUI's data comes from.

The widgets and the app never talk to the runtime themselves: they ask a
*source*, an object whose methods mirror the ``hearth.Inspector`` ops and
return the same plain data (see `hearth/native/_inspector.py`):

- ``ps()``, ``info(pid)``, ``tree()``, ``logs(pid=None, after=0,
  limit=200)``: snapshots;
- ``kill(pid)``, ``restart(pid)``, ``reload(module)``: actions;
- ``connect()``: (re)attach; ``describe()``: a short text saying where.

A method raises `Disconnected` when the runtime can't be reached (the app
then shows "disconnected" and calls ``connect()`` now and then) and
`ActionFailed` when the runtime refused (the app shows the message). Tests
give the widgets a source of plain data; `hearth-tui` gives them an
`InspectorSource`.
"""

from hearth.otp import CallError, ServiceError, lookup, request

__all__ = ["Disconnected", "ActionFailed", "InspectorSource", "INSPECTOR"]

INSPECTOR = "hearth.Inspector"


class Disconnected(Exception):
    """The runtime can't be reached (nothing listens, the connection was
    lost, the inspector is gone). Nobody's fault; retry later."""


class ActionFailed(Exception):
    """The runtime refused a request (no such pid, a reload that failed).

    Attributes:
        kind: the error kind of the reply.
    """

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


class InspectorSource:
    """A source that asks ``hearth.Inspector`` through a root registry.

    Must be used inside a Hearth process (every method but `describe`
    switches: each is a request that waits for its reply).

    Args:
        get_root: returns a registry `Cap` in the calling process (say,
            after connecting to the daemon's socket), or raises
            `Disconnected` (or `OSError`) when it can't.
        where: a text for the banner ("unix:///run/user/1000/hearth.sock").
        close: called with nothing when a connection is dropped, to close it.
        timeout: seconds a request may take.
    """

    def __init__(self, get_root, where="", close=None, timeout=5.0):
        self._get_root = get_root
        self._where = where
        self._close = close
        self.timeout = timeout
        self._inspector = None

    def describe(self):
        return self._where

    def connect(self):
        """Attach (again): look the inspector up. Raises `Disconnected`."""
        self.disconnect()
        try:
            root = self._get_root()
            cap = lookup(root, INSPECTOR, timeout=self.timeout)
        except (CallError, OSError, Disconnected) as e:
            self.disconnect()
            raise Disconnected(str(e) or type(e).__name__) from None
        if cap is None:
            self.disconnect()
            raise Disconnected(f"the runtime has no {INSPECTOR}")
        self._inspector = cap

    def disconnect(self):
        cap, self._inspector = self._inspector, None
        if cap is not None:
            try:
                cap.release()
            except Exception:  # noqa: BLE001 - a released or dead handle: gone either way
                pass
        if self._close is not None:
            try:
                self._close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail
                pass

    def _ask(self, term, args=(), timeout=None):
        if self._inspector is None:
            raise Disconnected("not connected")
        try:
            return request(self._inspector, term, args,
                           timeout=self.timeout if timeout is None else timeout)
        except ServiceError as e:
            raise ActionFailed(e.kind, e.message) from None
        except CallError as e:
            self.disconnect()
            raise Disconnected(str(e)) from None

    def ps(self):
        return self._ask("ps")

    def info(self, pid):
        return self._ask(["info", pid])

    def tree(self):
        return self._ask("tree")

    def logs(self, pid=None, after=0, limit=200):
        return self._ask({"op": "logs", "pid": pid, "after": after, "limit": limit})

    def kill(self, pid):
        return self._ask(["kill", pid])

    def restart(self, pid):
        return self._ask(["restart", pid], timeout=30.0)

    def reload(self, module):
        return self._ask(["reload", module], timeout=30.0)
