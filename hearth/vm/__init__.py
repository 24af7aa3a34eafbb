"""hearth.vm — the message-passing kernel.

Processes are greenlets that share nothing and talk only through messages
of bytes and capabilities. The contract is docs/semantics.md, rules V1–V25 (V25 with
`hearth.net`); the
tour of this package is docs/design.md. This package imports nothing else
from Hearth.
"""

# First: whether the kernel's message path runs compiled (`_compiled`).
from ._compiled import COMPILED  # noqa: I001 (before the modules it chooses for)
from . import _foreign as foreign
from ._accounts import UNLIMITED, Account, Accounts, GuestLimits, LumpLedger
from ._api import (
    create_mailbox,
    current_runtime,
    demonitor,
    exit,
    kill,
    link,
    make_capability,
    monitor,
    parent_mailbox,
    recv,
    select,
    self_pid,
    send,
    set_metadata,
    spawn,
    spawn_link,
    spawn_monitor,
    trap_exit,
    try_recv,
    unlink,
)
from ._clock import Clock, RealClock, VirtualClock
from ._errors import (
    BadReason,
    ForeignCapability,
    HearthError,
    InvalidHandle,
    LumpCorrupt,
    LumpNotFound,
    MailboxClosed,
    Misuse,
    ModuleError,
    NotInProcess,
    PayloadError,
    PermissionDenied,
    ProcessExit,
    QuotaExceeded,
)
from ._hooks import (
    ExitHook,
    account_of,
    cancel_on_exit,
    carrier_of,
    forward,
    is_self,
    make_ref,
    on_exit,
    pids_with_metadata,
    route_owner,
)
from ._introspect import ExitRecord, MailboxInfo, ProcessInfo
from ._lumps import LumpCacheInfo, LumpId, LumpStore, lump_id
from ._mailbox import Mailbox
from ._modcache import ModuleCache, ModuleCacheInfo, engine_fingerprint, make_engine
from ._perms import ALL, KILL, LINK, MONITOR, NONE, SEND, Perm
from ._process import Process, current_process, current_process_or_none
from ._reasons import (
    CLOSED,
    KILLED,
    NOCONNECTION,
    NOPROC,
    NORMAL,
    SHUTDOWN,
    check_reason,
    error_reason,
    format_reason,
    is_error,
    is_normal_exit,
)
from ._runtime import Runtime
from ._signals import Down, Exit, Message, Signal
from ._table import Cap
from ._wasm import (
    GuestModule,
    GuestModuleError,
    load_module,
    spawn_guest,
    spawn_guest_link,
    spawn_guest_monitor,
)

__all__ = [
    # runtime and processes
    "Runtime",
    "COMPILED",
    # accounts: what peers may make the runtime hold
    "Account",
    "Accounts",
    "GuestLimits",
    "UNLIMITED",
    "LumpLedger",
    "QuotaExceeded",
    "Process",
    "current_process",
    "current_process_or_none",
    "current_runtime",
    "self_pid",
    # capabilities and mailboxes
    "Cap",
    "Mailbox",
    "Perm",
    "NONE",
    "SEND",
    "MONITOR",
    "KILL",
    "LINK",
    "ALL",
    # signals
    "Signal",
    "Message",
    "Down",
    "Exit",
    # the current process's calls
    "spawn",
    "spawn_link",
    "spawn_monitor",
    "send",
    "recv",
    "try_recv",
    "select",
    "parent_mailbox",
    "create_mailbox",
    "make_capability",
    "kill",
    "exit",
    "link",
    "unlink",
    "monitor",
    "demonitor",
    "trap_exit",
    "set_metadata",
    # for the layers above: routes' owners, exit hooks, references, and
    # the kernel's side of remote capabilities (`hearth.net` uses it)
    "foreign",
    "ExitHook",
    "route_owner",
    "is_self",
    "on_exit",
    "cancel_on_exit",
    "make_ref",
    "account_of",
    "forward",
    "carrier_of",
    "pids_with_metadata",
    # exit reasons
    "NORMAL",
    "SHUTDOWN",
    "KILLED",
    "NOPROC",
    "NOCONNECTION",
    "CLOSED",
    "check_reason",
    "error_reason",
    "format_reason",
    "is_error",
    "is_normal_exit",
    # clocks
    "Clock",
    "RealClock",
    "VirtualClock",
    # lumps and compiled modules
    "LumpId",
    "lump_id",
    "LumpStore",
    "LumpCacheInfo",
    "ModuleCache",
    "ModuleCacheInfo",
    "make_engine",
    "engine_fingerprint",
    # wasm guests
    "GuestModule",
    "load_module",
    "spawn_guest",
    "spawn_guest_link",
    "spawn_guest_monitor",
    # introspection
    "ProcessInfo",
    "MailboxInfo",
    "ExitRecord",
    # errors
    "HearthError",
    "InvalidHandle",
    "PermissionDenied",
    "ForeignCapability",
    "PayloadError",
    "BadReason",
    "MailboxClosed",
    "NotInProcess",
    "Misuse",
    "ProcessExit",
    "LumpNotFound",
    "LumpCorrupt",
    "ModuleError",
    "GuestModuleError",
]
