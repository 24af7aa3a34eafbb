"""WAT text for test guests: the ABI's import lines, and small helpers.

`module(body, imports=...)` wraps a module body with the import lines of the
named host functions, so a test guest reads like the code it tests. The
signatures here are written out by hand from docs/abi.md, on purpose: a
renamed or retyped host function makes these modules fail to link.
"""

# name -> (namespace, params, result); every function of the ABI.
ABI = {
    "log": ("hearth::log", "i32 i32 i32 i32 i32", None),
    # hearth::lump
    "this_lump": ("hearth::lump", "i32", None),
    "load_by_id": ("hearth::lump", "i32", "i32"),
    "load": ("hearth::lump", "i32 i32", "i32"),
    "get_id": ("hearth::lump", "i32 i32", None),
    "get_len": ("hearth::lump", "i32", "i32"),
    "get_data": ("hearth::lump", "i32 i32", None),
    "free": ("hearth::lump", "i32", None),
    # hearth::table
    "inc_ref": ("hearth::table", "i32", None),
    "dec_ref": ("hearth::table", "i32", None),
    "get_permissions": ("hearth::table", "i32", "i32"),
    "demote": ("hearth::table", "i32 i32", "i32"),
    "send": ("hearth::table", "i32 i32 i32 i32 i32", None),
    "kill": ("hearth::table", "i32", None),
    # hearth::mailbox
    "create": ("hearth::mailbox", "", "i32"),
    "destroy": ("hearth::mailbox", "i32", None),
    "make_capability": ("hearth::mailbox", "i32 i32", "i32"),
    "monitor": ("hearth::mailbox", "i32 i32", None),
    "recv": ("hearth::mailbox", "i32", "i32"),
    "try_recv": ("hearth::mailbox", "i32", "i32"),
    "poll": ("hearth::mailbox", "i32 i32", "i64"),
    "destroy_signal": ("hearth::mailbox", "i32", None),
    "get_signal_kind": ("hearth::mailbox", "i32", "i32"),
    "get_down_capability": ("hearth::mailbox", "i32", "i32"),
    "get_message_data_len": ("hearth::mailbox", "i32", "i32"),
    "get_message_data": ("hearth::mailbox", "i32 i32", None),
    "get_message_caps_num": ("hearth::mailbox", "i32", "i32"),
    "get_message_caps": ("hearth::mailbox", "i32 i32", None),
    # hearth::metadata
    "set_name": ("hearth::metadata", "i32 i32", None),
    "set_description": ("hearth::metadata", "i32 i32", None),
    "add_author": ("hearth::metadata", "i32 i32", None),
    "set_repository": ("hearth::metadata", "i32 i32", None),
    "set_homepage": ("hearth::metadata", "i32 i32", None),
    "set_license": ("hearth::metadata", "i32 i32", None),
    # hearth::process (the extensions)
    "link": ("hearth::process", "i32", None),
    "unlink": ("hearth::process", "i32", None),
    "trap_exit": ("hearth::process", "i32", "i32"),
    "pid": ("hearth::process", None, "i64"),
    "now": ("hearth::process", None, "i64"),
    "exit": ("hearth::process", "i32 i32", None),
    "exit_with": ("hearth::process", "i32 i32 i32", None),
    "recv_timeout": ("hearth::process", "i32 i64", "i32"),
    "poll_timeout": ("hearth::process", "i32 i32 i64", "i64"),
    "get_down_reason_len": ("hearth::process", "i32", "i32"),
    "get_down_reason": ("hearth::process", "i32 i32", None),
    "spawn_by_index": ("hearth::process", "i32 i32 i32", "i32"),
    "spawn_link_by_index": ("hearth::process", "i32 i32 i32", "i32"),
    "spawn_monitor_by_index": ("hearth::process", "i32 i32 i32 i32", "i32"),
    # hearth::account
    "of_message": ("hearth::account", "i32", "i32"),
    "of_capability": ("hearth::account", "i32", "i32"),
    "mine": ("hearth::account", None, "i32"),
    "is_closed": ("hearth::account", "i32", "i32"),
    "name": ("hearth::account", "i32 i32 i32", "i32"),
}

NONE = 0xFFFFFFFF


def import_line(name):
    """The WAT import of one ABI function, as ``$name``."""
    namespace, params, result = ABI[name]
    sig = f"(param {params})" if params else ""
    if result:
        sig += f" (result {result})"
    return f'(import "{namespace}" "{name}" (func ${name} {sig}))'


def module(body, *imports, memory=1):
    """A module importing the named ABI functions (all of them with
    ``"*"``), exporting one page of ``memory`` unless `memory` is None."""
    names = list(ABI) if imports == ("*",) else imports
    lines = [import_line(n) for n in names]
    if memory is not None:
        lines.append(f'(memory (export "memory") {memory})')
    return "(module\n  " + "\n  ".join(lines) + "\n" + body + "\n)"


def data(offset, text):
    """A data segment putting `text` (str or bytes) at `offset`."""
    raw = text.encode() if isinstance(text, str) else text
    escaped = "".join(f"\\{b:02x}" for b in raw)
    return f'(data (i32.const {offset}) "{escaped}")'
