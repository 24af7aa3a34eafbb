"""The SDK's service clients encode their requests only with the encoders
generated from the protocol schemas (kindling/sdk_generated/
hearth_protocols.h, `hearth.otp._schema_c`): nothing in the SDK's own C
writes an op by hand, what the SDK sends follows a changed schema once
the header is regenerated, and a schema the SDK's C no longer matches
fails the SDK's build, naming what differs. (That the committed header is
what the schemas give is tests/schema/test_c_requests.py.)"""

import re
import shutil

import pytest

from hearth import vm
from hearth.otp import ServiceError, decode
from hearth.otp._schema import PROTOCOLS_DIR, load, schemas
from hearth.otp._schema_c import C_SERVICES, header
from hearth.vm._wasm import spawn_guest
from kindling.sdk import BuildError, build, have_toolchain
from kindling.sdk.build import GENERATED_DIR, SDK_DIR

COMMITTED = GENERATED_DIR / "hearth_protocols.h"
SDK_SOURCES = sorted(SDK_DIR.glob("*.c"))


def _called(text):
    return set(re.findall(r"\b(hearth_req_\w+)\s*\(", text))


def test_every_encoder_the_sdk_calls_is_generated():
    generated = set(re.findall(r"static inline void (hearth_req_\w+)\(", COMMITTED.read_text()))
    called = set().union(*(_called(p.read_text()) for p in SDK_SOURCES))
    assert len(called) >= 25, f"the SDK's clients call only {sorted(called)}"
    assert called <= generated, (
        f"the SDK calls encoders the schemas don't give: {sorted(called - generated)}")


def test_no_sdk_source_writes_an_op_by_hand():
    """An op name written with hearth_mp_put_str in the SDK's C is a hand-
    made request: it would drift from the schema unnoticed."""
    ops = {op.name for name in C_SERVICES for op in schemas()[name].all_ops() if op.name}
    found = []
    for path in SDK_SOURCES:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for literal in re.findall(r'hearth_mp_put_str\(&?\w+,\s*"([^"]*)"\)', line):
                if literal in ops:
                    found.append(f"{path.name}:{n}: {line.strip()}")
    assert not found, ("write these requests with the generated hearth_req_* encoders (add a 'c'"
                       " entry to the op's schema if the SDK needs another shape):\n"
                       + "\n".join(found))


# A guest that paints one pixel through the SDK's canvas client (a sink: a
# plain send to handle 1), then says it is done (to handle 0).
PAINTER = r"""
#include <hearth.h>

void run(void) {
    static const uint8_t rgba[4] = {1, 2, 3, 4};
    if (hearth_canvas_blit(1, 5, 6, 1, 1, rgba))
        hearth_send(0, "done", 4, 0, 0);
    else
        hearth_send(0, "did not fit", 11, 0, 0);
}
"""


def _schemas_with(tmp_path, file, old, new):
    """A copy of the protocols directory with `old` replaced by `new` in
    `file`, and the header generated from it in tmp_path/gen."""
    protocols = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS_DIR, protocols, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (protocols / file).read_text()
    assert text.count(old) == 1
    (protocols / file).write_text(text.replace(old, new))
    found = load(protocols)
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "hearth_protocols.h").write_text(header(found=found))
    return found, gen


def _sent_by(wasm):
    """The term the guest sends to handle 1."""
    done, recorder = vm.create_mailbox(), vm.create_mailbox()
    spawn_guest(wasm, done.make_capability(vm.SEND), recorder.make_capability(vm.SEND))
    said = bytes(done.recv(timeout=60).data)
    assert said == b"done", said
    sig = recorder.recv(timeout=60)
    assert sig is not None, "the guest said done but sent nothing"
    return decode(sig.data, sig.caps)


@pytest.mark.hearth_timeout(120)
def test_a_changed_schema_changes_what_the_sdk_sends(proc, tmp_path):
    if not have_toolchain():
        pytest.skip("the guest toolchain is not installed: .venv/bin/pip install -e '.[sdk]'")
    source = tmp_path / "painter.c"
    source.write_text(PAINTER)
    stock = _sent_by(build(source, tmp_path / "stock.wasm").read_bytes())
    assert stock == ("blit", 5, 6, {"width": 1, "height": 1, "rgba": bytes([1, 2, 3, 4])})
    schemas()["hearth.canvas"].parse(stock)

    # The pixels' key "rgba" renamed "data": the SDK's call is the same C,
    # and what it sends follows the schema.
    found, gen = _schemas_with(tmp_path, "client.toml", "height: int(1..4096), rgba: bin}",
                               "height: int(1..4096), data: bin}")
    assert (gen / "hearth_protocols.h").read_text() != COMMITTED.read_text()
    changed = _sent_by(build(source, tmp_path / "changed.wasm", include_dirs=[gen]).read_bytes())
    assert changed == ("blit", 5, 6, {"width": 1, "height": 1, "data": bytes([1, 2, 3, 4])})
    found["hearth.canvas"].parse(changed)
    with pytest.raises(ServiceError, match="unknown field.*data"):
        schemas()["hearth.canvas"].parse(changed)


@pytest.mark.parametrize("file, old, new, said", [
    # A key the SDK's struct lacks: the struct's encoder names it.
    ("client.toml", 'half_size: list(num, 2)}"', 'half_size: list(num, 2), depth: num}"',
     "no member named 'depth'"),
    # An op the SDK calls, renamed: its encoder is gone.
    ("registry.toml", '[service."hearth.Registry".ops.get]',
     '[service."hearth.Registry".ops.fetch]', "hearth_req_registry_get"),
    # A field more: the SDK's call has too few arguments.
    ("fs.toml", 'fields = ["path: path", "lump: lump"]',
     'fields = ["path: path", "lump: lump", "mode: int"]', "too few arguments"),
])
@pytest.mark.hearth_timeout(120)
def test_a_schema_the_sdk_does_not_match_fails_its_build(tmp_path, file, old, new, said):
    if not have_toolchain():
        pytest.skip("the guest toolchain is not installed: .venv/bin/pip install -e '.[sdk]'")
    _, gen = _schemas_with(tmp_path, file, old, new)
    source = tmp_path / "painter.c"
    source.write_text(PAINTER)
    with pytest.raises(BuildError) as e:
        build(source, tmp_path / "painter.wasm", include_dirs=[gen])
    assert said in e.value.output
    assert not (tmp_path / "painter.wasm").exists()
