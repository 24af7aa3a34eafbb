"""What the entry points hand across a trust boundary: allow-lists, in one
place, each name with the reason it is safe to hand out.

A registry view handed to another runtime is made from an allow-list,
never a deny-list: a service that is added later (a native service, a
world service, an operator's own) stays out until someone puts its name
here or marks it exposed. Two boundaries:

- `PEER_SERVICES`: what ``hearth-server`` hands every authenticated peer
  (its ``--bind`` listener), unless the operator's ``hearth.init.Server``
  hook answers another root. To these it adds the read-only filesystem
  when the operator publishes it (``--publish-files``) and the world
  root's services whose manifests say ``expose = true`` (init answers
  their names to the ``"exposed"`` call, asked once, when the server
  starts).
- `CLIENT_EXPORTS`: what ``hearth-client --server URL`` hands the server,
  plus its own root's exposed services.

Never on either list, whatever a manifest says (`NEVER_EXPOSED`): the
inspector (it makes capabilities from pids), ``hearth.net.Peers`` (other
peers' roots), init and its hooks (reload, start and stop services), the
writable filesystem (writing into a watched root runs code on reload), the
terminal factory (runs programs on the machine) and the window manager
``wm`` (opens terminals, reads their screens), the world's admin
capability (changes any entity by id, adds persistent ones), the shell
service (``hearth.Shell``: runs any Python in the runtime). Supervisors
are never registered, so no view reaches them. The IPC socket is not a trust
boundary: its owner-only file mode makes whoever opens it the operator,
who gets the whole registry (``hearth.init.Daemon`` may narrow it).

Switches: `peer_view`, `client_view` and `exposed_services` always; the
rest never.
"""

import logging

from hearth import otp, vm

__all__ = [
    "PEER_SERVICES",
    "CLIENT_EXPORTS",
    "NEVER_EXPOSED",
    "PUBLISHED_FILESYSTEM",
    "exposed_services",
    "peer_view",
    "client_view",
    "hook_root",
]

log = logging.getLogger("hearth.views")

# The time services and the wasm spawner act only on what the caller
# passes them: none takes a pid, none hands out a capability the caller
# did not already have, other than to its own timers and guests.
_TIME_AND_GUESTS = {
    "hearth.Sleep": "answers after a delay, through the caller's reply capability",
    "hearth.TimerFactory": "makes timers that message the caller's own capabilities",
    "hearth.StopwatchFactory": "makes stopwatches owned by the caller",
    "hearth.UnixTime": "tells the time",
    "hearth.wasm.WasmProcessSpawner": "spawns sandboxed wasm guests from lumps, holding only"
                                      " the capabilities the caller passes; the caller owns them",
}

PEER_SERVICES = dict(
    _TIME_AND_GUESTS,
    **{
        "hearth.World": "the shared world: a peer adds entities it owns (they leave with"
                        " it), lists and subscribes; changing an entity takes the"
                        " capability its add answered, never an id",
    },
)

# The graphical services act on this client's window only; the server's
# processes draw through them. Never the terminal factory.
CLIENT_EXPORTS = dict(
    _TIME_AND_GUESTS,
    **{
        "hearth.Window": ("this client's window: input events and the camera (never"
                          " screenshots: the frame shows its terminals)"),
        "hearth.Renderer": "draws this client's scene",
        "hearth.canvas.CanvasFactory": "makes canvases the caller owns",
        "hearth.DebugDrawFactory": "makes debug drawings the caller owns",
    },
)

PUBLISHED_FILESYSTEM = "hearth.fs.ReadOnlyFilesystem"  # get and list under the root; no put

NEVER_EXPOSED = frozenset({
    "hearth.Inspector",
    "hearth.net.Peers",
    "hearth.init",
    "hearth.init.Server",
    "hearth.init.Client",
    "hearth.init.Daemon",
    "hearth.fs.Filesystem",
    "hearth.terminal.TerminalFactory",
    "hearth.World.Admin",
    "hearth.Shell",
    "wm",  # the window manager: opens terminals (runs programs), reads their screens
})


def exposed_services(registry, timeout=10):
    """The names the world root's manifests expose (``expose = true``),
    asked of init (``hearth.init``, the ``"exposed"`` call); () if there is
    no init or it does not answer that call. Names in `NEVER_EXPOSED` are
    left out, with a warning. Switches: always."""
    init = otp.lookup(registry, "hearth.init")
    if init is None:
        return ()
    try:
        names = otp.call(init, "exposed", timeout)
    except otp.CallError as e:
        log.warning("init did not say which services it exposes (%s): none are", e)
        return ()
    finally:
        init.release()
    if type(names) not in (tuple, list) or not all(type(n) is str for n in names):
        log.warning("init answered %r to 'exposed', not a list of names: none are exposed",
                    names)
        return ()
    refused = sorted(set(names) & NEVER_EXPOSED)
    if refused:
        log.warning("never exposed to peers, whatever the manifest says: %s", ", ".join(refused))
    return tuple(n for n in names if n not in NEVER_EXPOSED)


def peer_view(registry, *, publish_files=False, exposed=()):
    """The read-only registry view hearth-server hands its peers:
    `PEER_SERVICES`, the read-only filesystem if `publish_files`, and the
    `exposed` world services. Switches: always."""
    names = set(PEER_SERVICES) | (set(exposed) - NEVER_EXPOSED)
    if publish_files:
        names.add(PUBLISHED_FILESYSTEM)
    return otp.registry_view(registry, read_only=True, names=sorted(names))


def client_view(registry, *, exposed=()):
    """The read-only registry view hearth-client hands the server:
    `CLIENT_EXPORTS` and its root's `exposed` services. Switches: always."""
    names = set(CLIENT_EXPORTS) | (set(exposed) - NEVER_EXPOSED)
    return otp.registry_view(registry, read_only=True, names=sorted(names))


def hook_root(registry, name, default):
    """The root capability an init hook (``hearth.init.Server``,
    ``.Client`` or ``.Daemon``, docs/protocols.md) answers, or `default` if no
    hook is registered: what an entry point hands across the boundary. A
    hook is asked once, with the request ``"root"``, and answers ``{"ok":
    capability}``. Switches: always."""
    hook = otp.lookup(registry, name)
    if hook is None:
        return default
    root = otp.request(hook, "root", timeout=10)
    hook.release()
    if not isinstance(root, vm.Cap):
        raise ValueError(f"{name} answered {root!r}, not a capability")
    return root
