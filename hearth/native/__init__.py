"""hearth.native — native services (time, filesystem, window, renderer, ...).

Layer 2: imports `hearth.vm` and `hearth.otp` only. Every service's messages
are in docs/protocols.md. Here: the request/response service helper
(`Service`, `request`), the time services (`start_time_services`), the filesystem
(`start_filesystem`), the wasm spawner (`start_wasm_spawner`), upgradable guest services
(`start_guest_service`, `upgrade_guest_service`), the inspector (`start_inspector`) and,
loaded on first use for `hearth-client`, the window, renderer, canvases, debug draw
and terminals.
"""

from ._service import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    PERMISSION_DENIED,
    Request,
    Service,
    parse_op,
    read_reply,
    request,
    send_request,
    spawn_service,
)
from ._fs import (
    FILESYSTEM,
    IO_ERROR,
    IS_A_DIRECTORY,
    NOT_A_DIRECTORY,
    NOT_A_FILE,
    PATH_ESCAPES_ROOT,
    READ_ONLY,
    READ_ONLY_FILESYSTEM,
    FilesystemService,
    start_filesystem,
)
from ._guest_upgrade import (
    UPGRADE_FAILED,
    GuestService,
    guest_service_status,
    start_guest_service,
)
from ._guest_upgrade import upgrade as upgrade_guest_service
from ._inspector import (
    INSPECTOR,
    NOT_UPGRADABLE,
    RELOAD_FAILED,
    TOO_MANY_FOLLOWERS,
    Inspector,
    InspectorService,
    LogBuffer,
    start_inspector,
)
from ._time import (
    SLEEP,
    STOPWATCH_FACTORY,
    TIME_SERVICES,
    TIMER_FACTORY,
    UNIX_TIME,
    TimeServices,
    start_time_services,
)
from ._wasm_spawner import (
    INVALID_MODULE,
    WASM_SPAWNER,
    WasmProcessSpawner,
    load_guest_module,
    start_wasm_spawner,
)

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_REQUEST",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "Request",
    "Service",
    "parse_op",
    "read_reply",
    "request",
    "send_request",
    "spawn_service",
    "SLEEP",
    "TIMER_FACTORY",
    "STOPWATCH_FACTORY",
    "UNIX_TIME",
    "TIME_SERVICES",
    "TimeServices",
    "start_time_services",
    "WASM_SPAWNER",
    "INVALID_MODULE",
    "WasmProcessSpawner",
    "start_wasm_spawner",
    "load_guest_module",
    "GuestService",
    "start_guest_service",
    "upgrade_guest_service",
    "guest_service_status",
    "UPGRADE_FAILED",
    "FILESYSTEM",
    "IO_ERROR",
    "IS_A_DIRECTORY",
    "NOT_A_DIRECTORY",
    "NOT_A_FILE",
    "PATH_ESCAPES_ROOT",
    "READ_ONLY",
    "READ_ONLY_FILESYSTEM",
    "FilesystemService",
    "start_filesystem",
    "INSPECTOR",
    "NOT_UPGRADABLE",
    "RELOAD_FAILED",
    "TOO_MANY_FOLLOWERS",
    "Inspector",
    "InspectorService",
    "LogBuffer",
    "start_inspector",
]

# The client's services load numpy, pygame and OpenGL: imported on first
# use, so that hearth-server and the tools never load them.
_LAZY = {
    "RENDERER": "_renderer", "Renderer": "_renderer",
    "CANVAS_FACTORY": "_canvas", "CanvasFactory": "_canvas",
    "DEBUG_DRAW_FACTORY": "_debug_draw", "DebugDrawFactory": "_debug_draw",
    "encode_lines": "_debug_draw",
    "INVALID_LUMP": "_gl_formats", "encode_mesh": "_gl_formats",
    "encode_texture": "_gl_formats", "encode_material": "_gl_formats",
    "cube_mesh": "_gl_formats",
    "TERMINAL_FACTORY": "_terminal", "TerminalFactory": "_terminal",
    "DEFAULT_PALETTE": "_terminal",
    "WINDOW": "_window", "CLOSED": "_window", "Display": "_window", "Window": "_window",
    "open_display": "_window",
    "CLIENT_SERVICES": "_gl_services", "ClientServices": "_gl_services",
    "start_client_services": "_gl_services",
}
__all__ += list(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module("hearth.gfx"), name)
    globals()[name] = value
    return value

