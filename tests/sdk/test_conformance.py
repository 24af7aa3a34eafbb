"""The conformance suite: C guests built with the SDK exercise every
function of the guest ABI (docs/abi.md) and check what it does, each
reporting its checks by message. Traps are checked in children spawned by
index, whose Down carries the trap's message."""

import logging

import pytest
import wasmtime

from hearth import vm
from hearth.otp import lookup, register, registry_view, start_registry
from hearth.vm import SEND, lump_id
from hearth.vm._wasm import spawn_guest
from hearth.vm._wasm._abi import registry
from hearth.vm._wasm._engine import _load_namespaces

from .suite import run_suite, start_suite

SUITES = ["suite_table", "suite_mailbox", "suite_process", "suite_lump", "suite_meta",
          "suite_msgpack", "suite_registry", "suite_account"]


def test_the_suites_together_import_every_function_of_the_abi(build_guest):
    _load_namespaces()
    abi = {(hf.module, hf.name) for hf in registry}
    engine = wasmtime.Engine()
    imported = set()
    for name in SUITES:
        module = wasmtime.Module(engine, build_guest(name))
        imported |= {(imp.module, imp.name) for imp in module.imports}
    assert imported == abi, f"not exercised: {sorted(abi - imported)}"


def test_table_capabilities_references_permissions_send_and_kill(proc, build_guest):
    report = run_suite(build_guest("suite_table"))
    assert report["passed"] >= 32


def test_mailboxes_signals_receiving_polling_and_monitors(proc, build_guest):
    report = run_suite(build_guest("suite_mailbox"))
    assert report["passed"] >= 51


def test_process_links_exits_timeouts_down_reasons_and_spawning(proc, build_guest):
    report = run_suite(build_guest("suite_process"))
    assert report["passed"] >= 50


def test_accounts_and_the_clock_on_the_servers_own_side(proc, build_guest):
    report = run_suite(build_guest("suite_account"))
    assert report["passed"] >= 14
    assert report["notes"]["mine"] == bytes(4)  # no account: 0
    assert "name" not in report["notes"]


def test_accounts_of_a_guest_charged_to_one(proc, build_guest):
    account = proc.runtime.accounts.open("tenant a")
    report = run_suite(build_guest("suite_account"), account=account)
    assert int.from_bytes(report["notes"]["mine"], "little") == 1  # its first id
    assert report["notes"]["name"] == b"tenant a"


def test_lumps_this_lump_load_and_load_by_id(proc, build_guest):
    wasm = build_guest("suite_lump")
    notes = run_suite(wasm)["notes"]
    assert notes["this_lump"] == lump_id(wasm)
    assert int.from_bytes(notes["this_len"], "little") == len(wasm)
    assert notes["payload_id"] == lump_id(b"payload")
    assert notes["empty_id"] == lump_id(b"")
    assert proc.runtime.lumps.get(lump_id(b"payload")) == b"payload"


def test_log_lines_and_metadata(proc, build_guest, caplog):
    caplog.set_level(5, logger="hearth.guest")
    guest, downs, report = start_suite(build_guest("suite_meta"), license="mine")
    (info,) = [p for p in proc.runtime.processes() if p.name == "conformance"]
    assert info.metadata["description"] == "the metadata suite"
    assert info.metadata["authors"] == ("Ada", "Grace")
    assert info.metadata["repository"] == "https://example.org/hearth.git"
    assert info.metadata["homepage"] == "https://example.org/"
    assert info.metadata["license"] == "mine"  # the spawner's choice wins
    guest.send(b"done")
    assert downs.recv(timeout=10).reason == vm.NORMAL

    lines = [(r.levelno, r.guest_module, r.getMessage().split(": ", 1)[1])
             for r in caplog.records if r.name == "hearth.guest" and r.pid == info.pid]
    assert lines == [
        (logging.INFO, "meta", "logged in the metadata phase"),
        (5, "conf", "trace"),
        (logging.DEBUG, "conf", "debug"),
        (logging.INFO, "conf", "info"),
        (logging.WARNING, "conf", "warning"),
        (logging.ERROR, "conf", "error"),
        (logging.INFO, "conf", "h\u00e9llo \u2713"),
        (logging.INFO, "", ""),
    ]


def _echo_service():
    while True:
        msg = vm.recv()
        if msg.caps:
            msg.caps[0].send(msg.data)
        for cap in msg.caps:
            cap.release()


def test_registry_get_register_and_call_against_hearths_registry(proc, build_guest):
    registry = start_registry()
    register(registry, "echo", vm.spawn(_echo_service, name="echo").demote(SEND))
    view = registry_view(registry, read_only=True)
    guest, downs, _ = start_suite(build_guest("suite_registry"), registry, view)

    service = lookup(registry, "guest-svc")  # registered by the guest
    replies = vm.create_mailbox()
    service.send(b"", [replies.make_capability(SEND)])
    assert replies.recv(timeout=10).data == b"hi from the guest"
    assert downs.recv(timeout=10).reason == vm.NORMAL
    assert lookup(registry, "guest-svc") is None  # its name went with it (R2)


def test_exit_with_an_ext_type_in_the_reason_traps(proc, build_guest):
    wasm = build_guest("exit_ext", source=(
        '#include <hearth.h>\n'
        'void run(void) { hearth_exit("\\x92\\xa3" "odd" "\\xd4\\x05\\x00", 8); }\n'
    ))
    spawn_guest(wasm, monitor=True)
    reason = vm.recv(timeout=10).reason
    assert reason[:2] == ("error", "Trap"), reason
    assert reason[2].startswith("hearth::process::exit: bad reason")


def test_reasons_cross_the_abi_as_msgpack_both_ways(proc, build_guest):
    # The Down a guest sees for a Python process carries the reason the
    # Python side gave, and the reason a guest gives reaches Python intact.
    wasm = build_guest("reasons", source=(
        '#include <hearth.h>\n'
        'void run(void) {\n'
        '    hearth_signal s;\n'
        '    hearth_monitor(HEARTH_PARENT, 1);\n'
        '    hearth_send_str(0, "watching");\n'
        '    hearth_recv(HEARTH_PARENT, &s);\n'
        '    hearth_exit(s.reason, s.reason_len);  /* die of what it died of */\n'
        '}\n'
    ))
    target = vm.spawn(vm.recv)
    reason = ("shutdown", {"why": "done", "n": (1, -2, 2.5, b"\x00", None, True)})
    guest, ref = spawn_guest(wasm, vm.make_capability(SEND), target.demote(vm.MONITOR),
                             monitor=True)
    assert vm.recv(timeout=10).data == b"watching"
    target.exit(reason)
    down = vm.recv(timeout=10)
    assert down.ref == ref and down.reason == reason
