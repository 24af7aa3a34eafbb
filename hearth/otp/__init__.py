"""hearth.otp — OTP behaviours on the kernel.

Layer 1: imports `hearth.vm` only. Request/response (`call`, `cast`,
`reply`; the envelope of docs/protocols.md: `request`, and `Service` for
the service side), gen_server (`GenServer`, `start_server`, `start_link_server`,
`stop_server`),
supervisors (`ChildSpec`, `start_link_supervisor` and the admin calls),
applications, hot code reload (`reload`), the registry service, and the
patterns sink, pub-sub, ownership and factory.
"""

# First: whether `call` and the gen_server loop run compiled (`_compiled`).
from ._compiled import COMPILED, COMPILED_MODULES  # noqa: I001 (before the modules it chooses for)
from ._application import (
    Application,
    load_application,
    loaded_applications,
    start_application,
    start_application_controller,
    start_link_application_controller,
    stop_application,
    stop_application_controller,
    unload_application,
    which_applications,
)
from ._call import DEFAULT_TIMEOUT, From, call, cast, classify, reply
from ._codec import decode, encode
from ._depends import DependencyCycle, dependency_order
from ._errors import (
    AlreadyStarted,
    ApplicationError,
    CallError,
    CallTimeout,
    DecodeError,
    NameTaken,
    RegistryError,
    ReloadFailed,
    ServerExited,
    ServiceError,
    StartError,
    StartTimeout,
)
from ._factory import create, created_count, start_factory, start_link_factory
from ._gen_server import (
    GenServer,
    start as start_server,
    start_link as start_link_server,
    stop as stop_server,
)
from ._ownership import Owned, dispose, spawn_owned, transfer
from ._pubsub import (
    publish,
    start_link_pubsub,
    start_pubsub,
    subscribe,
    subscriber_count,
    unsubscribe,
)
from ._registry import start_link_registry, start_registry
from ._registry_client import (
    lookup,
    register,
    registered,
    registry_view,
    unregister,
)
from ._reload import ReloadFailure, ReloadResult, clear_reload_errors, reload, reload_errors
from ._request import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    PERMISSION_DENIED,
    is_reply,
    read_reply,
    request,
    send_request,
)
from ._schema import Schema, schema, schemas
from ._service import (
    Request,
    Service,
    parse_op,
    register_linked,
    spawn_service,
    start_registered,
    start_supervised,
)
from ._sink import start_link_sink, start_sink
from ._supervisor import (
    ChildInfo,
    ChildSpec,
    count_children,
    delete_child,
    restart_child,
    start_child,
    start_link as start_link_supervisor,
    supervisor_pids,
    supervisor_spec,
    terminate_child,
    which_children,
)

__all__ = [
    # compiled or source (hearth/vm/_compiled.py)
    "COMPILED",
    "COMPILED_MODULES",
    # request/response
    "call",
    "cast",
    "reply",
    "classify",
    "From",
    "DEFAULT_TIMEOUT",
    "encode",
    "decode",
    "request",
    "send_request",
    "read_reply",
    "is_reply",
    # the envelope's service side
    "Service",
    "Request",
    "parse_op",
    "Schema",
    "schema",
    "schemas",
    "spawn_service",
    "start_registered",
    "register_linked",
    "start_supervised",
    "INVALID_REQUEST",
    "INTERNAL_ERROR",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    # gen_server
    "GenServer",
    "start_server",
    "start_link_server",
    "stop_server",
    # supervisor
    "ChildSpec",
    "ChildInfo",
    "start_link_supervisor",
    "supervisor_spec",
    "supervisor_pids",
    "start_child",
    "terminate_child",
    "restart_child",
    "delete_child",
    "which_children",
    "count_children",
    # hot code reload
    "reload",
    "reload_errors",
    "clear_reload_errors",
    "ReloadResult",
    "ReloadFailure",
    # registry
    "start_registry",
    "start_link_registry",
    "register",
    "unregister",
    "lookup",
    "registered",
    "registry_view",
    # applications, and the dependency order they and kindling's init share
    "dependency_order",
    "DependencyCycle",
    "Application",
    "start_application_controller",
    "start_link_application_controller",
    "stop_application_controller",
    "load_application",
    "unload_application",
    "start_application",
    "stop_application",
    "which_applications",
    "loaded_applications",
    # patterns: sink, pub-sub, ownership, factory
    "start_sink",
    "start_link_sink",
    "start_pubsub",
    "start_link_pubsub",
    "subscribe",
    "unsubscribe",
    "publish",
    "subscriber_count",
    "Owned",
    "spawn_owned",
    "transfer",
    "dispose",
    "start_factory",
    "start_link_factory",
    "create",
    "created_count",
    # errors
    "CallError",
    "CallTimeout",
    "ServerExited",
    "DecodeError",
    "StartError",
    "StartTimeout",
    "AlreadyStarted",
    "ReloadFailed",
    "ServiceError",
    "ApplicationError",
    "RegistryError",
    "NameTaken",
]
