"""``hearth.Shell``: the service that opens Hibashi sessions in a runtime.

Started by ``hearth-server`` and ``hearth-client`` and registered in their
registry, which only the IPC socket's owner reaches: it is in
`hearth._views.NEVER_EXPOSED`, so no peer view ever holds it.

Requests (the `hearth.otp` envelope):

``["open", owner]`` (owner: caps[1], with MONITOR)
    starts a session (`hearth.shell._session`): its process monitors
    `owner` and ends with it. Answers ``{"session": cap, "history": path
    or None, "banner": str}``: the session's capability (SEND|MONITOR),
    where the front end keeps its history (the runtime's data directory,
    if it has one), and a line to greet the operator with.

A request that comes from a peer (it carries a peer's account) is refused
(``permission_denied``), whatever view let it through.
"""

import logging
import os
import sys

from hearth import __version__, otp, vm
from hearth.otp import Service, ServiceError
from hearth.vm import MONITOR, SEND

from . import _helpers, _output, _session

__all__ = ["SHELL", "Settings", "ShellService", "start_shell", "HISTORY_FILE"]

log = logging.getLogger("hearth.shell")

SHELL = "hearth.Shell"
HISTORY_FILE = "hibashi_history"


class Settings:
    """What a session needs to know of its runtime: the root of services
    (`root`, or None), the target (``"server"`` or ``"client"``) and the
    history file (None: the front end picks one)."""

    def __init__(self, root=None, target="server", history=None):
        self.root = None if root is None else os.path.realpath(os.fspath(root))
        self.target = target
        self.history = history


class ShellService(Service):
    """The service loop (see the module docstring)."""

    name = SHELL

    def __init__(self, registry, settings):
        super().__init__()
        self.registry = registry
        self.settings = settings
        _output.install()

    def handle_request(self, request):
        if request.account is not None:
            # A view should never have handed a peer this service; if a
            # hook's root did, the shell still is not theirs.
            raise ServiceError("permission_denied", "the shell is the operator's, on the IPC"
                                                    " socket: a peer never gets one")
        op, fields = otp.parse_op(request.term, {"open": ("owner",)})
        owner = fields["owner"]
        if type(owner) is not vm.Cap or not owner.permissions & MONITOR:
            raise ServiceError("invalid_request", "open needs an owner capability with MONITOR"
                                                  " (the session ends when it closes)")
        session = _session.Session(self.settings, _helpers.make_helpers)
        proc = vm.spawn(_session.run_session, session, owner, self.registry,
                        name="hibashi.session")
        try:
            cap = proc.demote(SEND | MONITOR)
        finally:
            proc.release()
        root = self.settings.root or "no root"
        banner = (f"Hibashi, the Hearth shell (hearth {__version__}, Python"
                  f" {sys.version.split()[0]}; {self.settings.target}, {root}).\n"
                  "help() lists the helpers; Ctrl+C interrupts, Ctrl+D leaves.")
        return {"session": cap, "history": self.settings.history, "banner": banner}


def start_shell(registry, *, root=None, target="server", intensity=3, period=5.0):
    """Start ``hearth.Shell`` under a supervisor linked to the caller and
    register it in `registry`; sessions get `registry` (the operator's
    whole registry, as the IPC socket's owner does). The history file is
    ``DATA_DIR/hibashi_history`` if the runtime keeps a data directory.

    Returns:
        the supervisor's capability.

    Switches: always.
    """
    data_dir = vm.current_runtime().data_dir
    history = None if data_dir is None else os.path.join(data_dir, HISTORY_FILE)
    settings = Settings(root, target, history)
    sup, _caps = otp.start_supervised(registry, [(SHELL, ShellService, (registry, settings))],
                                      name="hearth.shell", intensity=intensity, period=period)
    for cap in _caps.values():
        if cap is not None:
            cap.release()
    return sup
