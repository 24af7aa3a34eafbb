"""The C request encoders generated from the schemas
(kindling/sdk_generated/hearth_protocols.h): the file is up to date; a
real C guest built with them gets ``ok`` answers from the real services,
which check its requests against the same schemas; and every encoder,
called with every value given and with none where none is allowed, writes
a request its schema's `Schema.parse` accepts as that op."""

import pathlib
import re

import pytest

from hearth import vm
from hearth.native import start_time_services
from hearth.otp import ServiceError, decode, start_registry
from hearth.otp._schema import schemas
from hearth.otp._schema_c import encoders, header
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


def _functions(text):
    """name -> text of each encoder in a header."""
    return dict(re.findall(r"(?ms)^static inline void (hearth_req_\w+)(\(.*?^\}$)", text))


def test_the_generated_header_is_up_to_date():
    """Fails when a schema changed and the header was not regenerated,
    naming the encoders that differ."""
    committed, fresh = (GENERATED / "hearth_protocols.h").read_text(), header()
    old, new = _functions(committed), _functions(fresh)
    differ = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    assert committed == fresh, (
        f"kindling/sdk_generated/hearth_protocols.h is out of date (encoders that differ:"
        f" {differ or 'none; other text'}): run `python -m hearth.otp.protocols c-header"
        f" kindling/sdk_generated/hearth_protocols.h`")
    assert len(new) >= 50 and "hearth_req_world_add" in new


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


# -- every generated encoder, checked by the schema it came from ------------------------------

PRELUDE = r"""
#include "hearth.h"
#include "hearth_protocols.h"

static uint8_t buf[4096], zeros[256];
static float floats[16];
static hearth_mp_writer w;

/* The writer gets a stand-in for the reply capability as caps[0], as
 * hearth_mp_request_init keeps a place for it. */
static void start(hearth_cap reply) {
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_attach(&w, reply);
}

void run(void) {
    hearth_cap all = hearth_make_capability(HEARTH_PARENT, HEARTH_SEND | HEARTH_MONITOR |
                                            HEARTH_KILL | HEARTH_LINK);
    hearth_cap three[3] = {all, all, all};
    hearth_lump lump = hearth_lump_load("x", 1);
    hearth_canvas_position pos = {{0, 0, 0}, {0, 0, 0, 1}, {1, 1}};
    (void)three; (void)lump; (void)pos; (void)floats; (void)zeros;
"""


def _c_literal(value):
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _argument(p, given):
    """A C expression for parameter `p`: an example value of its type, or
    none (NULL, HEARTH_NONE) if not `given` and none is allowed."""
    if not given and p.none_ok:
        return {"count": "0"}.get(p.role, "HEARTH_NONE" if p.decl.startswith(
            ("hearth_cap ", "hearth_lump ")) else "NULL")
    if p.role == "cap":
        return "all"
    if p.role == "caps":
        return "three"
    if p.role == "count":
        return "3"
    example = p.type.example()
    if p.role == "len":
        return str(len(example) if type(example) is bytes else 0)
    ctype = re.match(r"(.*?)\w+(\[\d+\])?$", p.decl).group(1).strip()
    if ctype == "hearth_cap":
        return "all"
    if ctype == "hearth_lump":
        return "lump"
    if ctype.startswith("const hearth_canvas_position"):
        return "&pos"
    if ctype == "const void *":
        return "zeros"
    if ctype.startswith("const float"):
        return "floats"
    if ctype == "const char *const *":
        return "(const char *const[]){\"x\", NULL}"
    if ctype == "const char *":
        return _c_literal(example)
    base = ctype.replace("const ", "").rstrip(" *")
    if ctype.endswith("*"):  # a compound literal's address
        return f"&({base}){{{_c_literal(example)}}}"
    return f"({base}){_c_literal(example)}"


def _guest():
    """The source of a guest that calls every encoder twice (every value
    given; then none where none is allowed) and sends each request to
    handle 0, and the (encoder, given) of each message in order."""
    lines, order = [PRELUDE], []
    for e in encoders()[0]:
        for given in (True, False):
            args = ", ".join(["&w"] + [_argument(p, given) for p in e.params])
            lines.append(f"    start(all); {e.name}({args}); hearth_mp_send(&w, 0);")
            order.append((e, given))
    lines.append('    hearth_send(0, "done", 4, 0, 0);\n}\n')
    return "\n".join(lines), order


@pytest.mark.hearth_timeout(120)
def test_every_generated_encoder_writes_what_its_schema_accepts(proc, tmp_path):
    if not have_toolchain():
        pytest.skip("the guest toolchain is not installed: .venv/bin/pip install -e '.[sdk]'")
    text, order = _guest()
    assert len(order) >= 110, "fewer encoders than the SDK needs"
    source = tmp_path / "every.c"
    source.write_text(text)
    wasm = build(source, tmp_path / "every.wasm").read_bytes()
    reports = vm.create_mailbox()
    spawn_guest(wasm, reports.make_capability(vm.SEND))
    found = schemas()
    for encoder, given in order:
        sig = reports.recv(timeout=60)
        assert sig is not None and bytes(sig.data) != b"done", f"{encoder.name} sent nothing"
        term = decode(sig.data, sig.caps)
        where = f"{encoder.name} ({'every value' if given else 'none where allowed'}): {term!r}"
        try:
            op, _ = found[encoder.service].parse(term, sig.caps[1:])
        except ServiceError as e:
            raise AssertionError(f"{where} is refused: {e}") from None
        assert op == encoder.op.name, where
    assert bytes(reports.recv(timeout=60).data) == b"done"
