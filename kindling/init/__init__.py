"""kindling.init — the init system: boot a root's services, keep them
running, reload them.

Each service is a directory ``ROOT/init/<name>/`` with a ``service.toml``
manifest and its code (docs/services.md). `boot` starts the `Init`
process; `services` and `reload_services` are its call API.
"""

from ._init import (
    INIT_NAME,
    SERVICE_INTENSITY,
    SERVICE_PERIOD,
    Init,
    boot,
    load_service_module,
    reload_services,
    services,
    start_python_service,
    start_wasm_service,
)
from ._manifest import Manifest, ManifestError, content_hash, load_manifest, scan_root
from ._order import plan

__all__ = [
    "INIT_NAME",
    "boot",
    "services",
    "reload_services",
    "Init",
    "Manifest",
    "ManifestError",
    "load_manifest",
    "scan_root",
    "content_hash",
    "plan",
    "start_python_service",
    "start_wasm_service",
    "load_service_module",
    "SERVICE_INTENSITY",
    "SERVICE_PERIOD",
]
