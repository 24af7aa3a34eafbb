"""The SDK's typed clients (kindling/sdk/hearth_svc.c) against real
services, and against a service that answers badly: every call returns a
status, and no bad answer traps the guest."""

import msgpack

from hearth import vm
from hearth.native import start_time_services
from hearth.otp import decode, encode, lookup, registered, registry_view, start_registry

OK, ERR_REPLY, GONE, TIMEOUT, OVERFLOW, BAD_REPLY, NOT_FOUND = range(7)


def liar(script):
    """A process that answers its nth request with script[n]: raw bytes
    (sent as they are), None (no answer, then the answer arrives late), or
    a term."""
    for answer in script:
        sig = vm.recv()
        reply_to = sig.caps[0]
        if answer is None:
            late = sig  # answered after the next request came in
            continue
        if isinstance(answer, bytes):
            reply_to.send(answer)
        else:
            data, caps = encode(answer)
            reply_to.send(data, caps)
        if "late" in locals():
            late.caps[0].send(msgpack.packb({"ok": 666}))
            del late
    vm.recv()


SCRIPT = [
    b"\xc1",                                    # time_not_msgpack
    {"ok": "noon"},                             # time_not_an_int
    {"err": {"kind": "broken", "message": "x"}},  # time_err
    {"ok": 5},                                  # lookup_not_a_cap
    {"ok": 1, "more": 2},                       # time_two_keys
    [1, 2],                                     # time_not_a_map
    {"err": {"message": "no kind"}},            # time_err_without_kind
    {"ok": "names"},                            # list_not_an_array
    {"err": {"kind": "nope", "message": "said no"}},  # ask_err
    None,                                       # ask_silent: no answer in time...
    {"ok": 42},                                 # ...then time_after_silence (and the late one)
]


def test_typed_clients_return_statuses_and_never_trap(proc, build_guest):
    registry = start_registry()
    start_time_services(registry, unix_time_source=lambda: 1_234_567_890)
    unix = registry_view(registry, read_only=True, names=["hearth.UnixTime"])
    unix_time = lookup(unix, "hearth.UnixTime")
    lying = vm.spawn(liar, SCRIPT, name="liar")
    dead = vm.spawn(lambda: None)
    mb = vm.current_process().create_mailbox()
    dead.monitor(mb)
    mb.recv().cap.release()
    read_only = registry_view(registry, read_only=True)
    names = len(registered(registry)) + 1  # and the guest's own "sdk.me"
    report = vm.current_process().create_mailbox()
    _, ref = vm.spawn_guest(build_guest("svc_clients"), report.make_capability(vm.SEND),
                            registry, unix_time, lying.demote(vm.SEND | vm.MONITOR),
                            dead.demote(vm.SEND | vm.MONITOR), read_only, monitor=True,
                            mailbox=report)
    sig = report.recv()
    assert type(sig) is vm.Message, sig
    got = decode(sig.data)
    assert got == {
        "time": OK, "time_value": 1_234_567_890,
        "register": OK, "register_taken": ERR_REPLY, "register_read_only": ERR_REPLY,
        "lookup": OK, "lookup_perms": vm.SEND | vm.MONITOR,
        "lookup_missing": NOT_FOUND, "lookup_missing_cap": 1,
        "list": OK, "list_len": names,
        "time_not_msgpack": BAD_REPLY, "time_not_an_int": BAD_REPLY, "time_err": ERR_REPLY,
        "lookup_not_a_cap": BAD_REPLY, "lookup_not_a_cap_none": 1,
        "time_two_keys": BAD_REPLY, "time_not_a_map": BAD_REPLY,
        "time_err_without_kind": BAD_REPLY, "list_not_an_array": BAD_REPLY,
        "ask_err": ERR_REPLY, "ask_err_kind_is": 1, "ask_err_message_len": len("said no"),
        "ask_silent": TIMEOUT, "time_after_silence": OK, "time_after_silence_value": 42,
        "time_dead": GONE, "ask_overflow": OVERFLOW,
    }
    down = report.recv()
    assert down.ref == ref and down.reason == "normal"  # it ran to the end: no trap


PROBE = '#include <hearth.h>\nvoid run(void) { hearth_send_str(0, "up"); }\n'


def test_filesystem_and_spawner_clients(proc, build_guest, tmp_path):
    from hearth.native import start_filesystem, start_wasm_spawner

    registry = start_registry()
    (tmp_path / "files").mkdir()
    start_filesystem(registry, tmp_path / "files")
    start_wasm_spawner(registry)
    fs = lookup(registry, "hearth.fs.Filesystem")
    spawner = lookup(registry, "hearth.wasm.WasmProcessSpawner")
    probe = vm.current_runtime().lumps.put(build_guest("probe", source=PROBE))
    report = vm.current_process().create_mailbox()
    guest = vm.spawn_guest(build_guest("svc_fs_spawn"), report.make_capability(vm.SEND), fs,
                           spawner)
    guest.send(bytes(probe))
    # Two senders, in either order: the guest the guest spawned, and the report.
    first, second = report.recv(timeout=10), report.recv(timeout=10)
    up, got = (first, second) if first.data == b"up" else (second, first)
    assert up.data == b"up"
    got = decode(got.data)
    assert got == {"put": OK, "get": OK, "get_same": 1, "get_missing": NOT_FOUND,
                   "get_escape": ERR_REPLY, "list": OK, "list_len": 1,
                   "list_missing": NOT_FOUND, "spawn": OK, "spawn_perms": 15,
                   "spawn_junk": ERR_REPLY}
    assert (tmp_path / "files" / "hello.txt").read_text() == "hi from a guest"
