"""hearth.native — the headless native services (time, files, wasm spawner, ...).

Layer 2: imports `hearth.vm` and `hearth.otp` only, never `hearth.gfx` (the
client's window, renderer, canvases, debug draw and terminals): what
`hearth-server` and the tools load has no pygame, OpenGL or pyte in it.
Every service's messages are in docs/protocols.md. Here: the
request/response service helper (`Service`, `request`), the time services
(`start_time_services`), the filesystem (`start_filesystem`), the wasm
spawner (`start_wasm_spawner`), upgradable guest services
(`start_guest_service`, `upgrade_guest_service`), the inspector
(`start_inspector`) and the lump transfers it serves.
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
