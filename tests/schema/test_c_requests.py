"""The C request encoders generated from the schemas
(kindling/sdk_generated/hearth_protocols.h): the file is up to date, and a
real C guest built with them gets ``ok`` answers from the real services,
which check its requests against the same schemas."""

import pathlib

import pytest

from hearth import vm
from hearth.native import start_time_services
from hearth.otp import start_registry
from hearth.otp._schema_c import header
from hearth.vm._wasm import spawn_guest
from kindling.sdk import build, have_toolchain

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
GENERATED = REPO / "kindling" / "sdk_generated"

GUEST = r"""
#include "hearth.h"
#include "hearth_protocols.h"

#define REPORTER 0
#define REGISTRY 1

static uint8_t buf[256];
static hearth_mp_writer w;

static void say(const char *s) { hearth_send_str(REPORTER, s); }

/* Send the request in `w`; leave `r` at the ok value, or say `what` failed. */
static bool call_ok(hearth_cap to, hearth_signal *reply, hearth_mp_reader *r, const char *what) {
    if (!hearth_call(to, &w, reply)) { say(what); return false; }
    hearth_mp_reader_of(r, reply);
    if (!hearth_mp_find(r, "ok")) { say(what); hearth_signal_release(reply); return false; }
    return true;
}

void run(void) {
    hearth_signal reply;
    hearth_mp_reader r;
    hearth_mp_value v;
    int64_t i;
    hearth_cap timer = HEARTH_NONE;

    hearth_cap unix_time = hearth_registry_get(REGISTRY, "hearth.UnixTime");
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_unixtime_now(&w);
    if (call_ok(unix_time, &reply, &r, "now failed")) {
        say(hearth_mp_read_int(&r, &i) && i > 0 ? "now" : "now: not an int");
        hearth_signal_release(&reply);
    }

    hearth_cap factory = hearth_registry_get(REGISTRY, "hearth.TimerFactory");
    hearth_cap owner = hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR);
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_timerfactory_new(&w, owner);
    if (call_ok(factory, &reply, &r, "new failed")) {
        say(hearth_mp_read_cap(&r, &timer) ? "timer" : "new: not a cap");
        hearth_inc_ref(timer); /* kept past the reply's release */
        hearth_signal_release(&reply);
    }
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_timer_tick(&w, 0.0);
    if (call_ok(timer, &reply, &r, "tick failed")) {
        say(hearth_mp_read(&r, &v) && v.type == HEARTH_MP_NIL ? "tick" : "tick: not nil");
        hearth_signal_release(&reply);
    }

    hearth_cap sleep = hearth_registry_get(REGISTRY, "hearth.Sleep");
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_sleep(&w, 0.0);
    if (call_ok(sleep, &reply, &r, "sleep failed")) {
        say("sleep");
        hearth_signal_release(&reply);
    }

    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_registry_list(&w);
    uint32_t n;
    if (call_ok(REGISTRY, &reply, &r, "list failed")) {
        say(hearth_mp_read_array(&r, &n) && n == 4 ? "list" : "list: not 4 names");
        hearth_signal_release(&reply);
    }

    /* A request the schema refuses: the error reply, not ok. */
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_timer_tick(&w, -1.0);
    if (hearth_call(timer, &w, &reply)) {
        hearth_mp_reader_of(&r, &reply);
        say(hearth_mp_find(&r, "err") ? "refused" : "negative tick: not refused");
        hearth_signal_release(&reply);
    }
    say("done");
}
"""


def test_the_generated_header_is_up_to_date():
    path = GENERATED / "hearth_protocols.h"
    assert path.read_text() == header(), (
        "run `python -m hearth.otp.protocols c-header kindling/sdk_generated/hearth_protocols.h`")


@pytest.mark.hearth_timeout(120)
def test_a_c_guest_using_the_generated_encoders_is_answered_ok(proc, tmp_path):
    if not have_toolchain():
        pytest.skip("the guest toolchain is not installed: .venv/bin/pip install -e '.[sdk]'")
    source = tmp_path / "requests.c"
    source.write_text(GUEST)
    wasm = build(source, tmp_path / "requests.wasm", include_dirs=[str(GENERATED)]).read_bytes()
    registry = start_registry()
    start_time_services(registry)
    reports = vm.create_mailbox()
    spawn_guest(wasm, reports.make_capability(vm.SEND), registry)
    said = []
    while not said or said[-1] != "done":
        sig = reports.recv(timeout=60)
        assert sig is not None, f"the guest went quiet after {said}"
        said.append(bytes(sig.data).decode())
    assert said == ["now", "timer", "tick", "sleep", "list", "refused", "done"]
