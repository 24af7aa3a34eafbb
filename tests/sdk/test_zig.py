"""Guests in Zig with the same SDK (kindling/sdk/_zig.py): the clock service
written in Zig (examples/guests/clock.zig) answers every request as the C
one (kindling/root/init/clock/clock.c) does."""

import pathlib
import re

from hearth import vm
from hearth.native import request, start_time_services
from hearth.otp import ServiceError, registry_view, start_registry
from kindling.sdk import build

REPO = pathlib.Path(__file__).parents[2]
C_CLOCK = REPO / "kindling" / "root" / "init" / "clock" / "clock.wasm"
SCRIPT = ["now", ["now"], {"op": "now"}, ["echo", {"a": [1, 2.5, None]}], "echo",
          {"op": "echo", "value": b"\x00"}, ["now", 1], "tomorrow", 42]


def drive(wasm, with_time):
    registry = start_registry()
    if with_time:
        start_time_services(registry, unix_time_source=lambda: 1_700_000_000_000_000_000)
    view = registry_view(registry, read_only=True, names=["hearth.UnixTime"])
    clock = vm.spawn_guest(wasm, view)
    out = []
    for term in SCRIPT:
        try:
            out.append(request(clock, term))
        except ServiceError as e:
            out.append(e.kind)
    mine = vm.make_capability(vm.SEND)
    out.append(request(clock, ["echo", mine], [mine]).same_route(mine))
    clock.kill()
    return out


def test_the_zig_clock_answers_as_the_c_one(proc, build_guest, tmp_path):
    zig = build(REPO / "examples" / "guests" / "clock.zig", tmp_path / "clock.wasm").read_bytes()
    assert zig[:4] == b"\0asm"
    for with_time in (True, False):
        assert drive(zig, with_time) == drive(C_CLOCK.read_bytes(), with_time)
    t = 1_700_000_000_000_000_000
    assert drive(zig, True) == [t, t, t, {"a": (1, 2.5, None)}, None, b"\x00",
                                "invalid_request", "invalid_request", "invalid_request", True]
    assert drive(zig, False)[:3] == ["unavailable"] * 3


def test_hearth_zig_declares_every_function_of_the_headers():
    # kindling/sdk/hearth.zig is hearth.h translated (python -m kindling.sdk
    # zig-header); a function added to a header and not to it is missing here.
    sdk = REPO / "kindling" / "sdk"
    declared = set()
    for name in ("hearth.h", "hearth_svc.h", "hearth_patterns.h"):
        declared |= set(re.findall(r"\b(hearth_\w+)\(", (sdk / name).read_text()))
    declared -= {"hearth_metadata", "hearth_init"}  # entry points the guest defines
    zig = (sdk / "hearth.zig").read_text()
    translated = set(re.findall(r"pub (?:extern )?fn (hearth_\w+)\(", zig))
    assert declared - translated == set()
