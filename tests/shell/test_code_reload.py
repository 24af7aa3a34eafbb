"""``c(path)`` and ``r(name)`` in the real hibashi against a real
hearth-server on a copy of the bundled root (its watcher off, so only the
shell reloads): the counter guest's C source edited, rebuilt and upgraded
in place (its pid and every other service's unchanged), a broken edit that
prints the compiler's error and changes nothing, a Python service (one the
test writes into the server's root: the bundled server services are all
guests) started and reloaded, and the refusals a person sees."""

import re

import pytest

from hearth import otp
from hearth.ctl import _ask
from kindling.sdk import have_toolchain

from .shell_harness import Server, run_hibashi

needs_zig = pytest.mark.skipif(not have_toolchain(), reason="the SDK's zig is not installed")

GET = "reply_ok(reply, count);\n        return;\n    case OP_ADD:"  # the answer to "get"


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path, extra_args=("--watch", "0"))
    yield srv
    assert srv.stop() == 0, "".join(srv.program.lines[-40:])


def _service_pids(server):
    with server.operator() as op:
        return {r["name"]: r["pid"] for r in _ask(op.root, "services")}


def _counter_get(server):
    with server.operator() as op:
        counter = otp.lookup(op.root, "counter-guest")
        return otp.request(counter, "get", timeout=15)


@needs_zig
def test_c_rebuilds_and_upgrades_a_guest_in_place(server, proc):
    source = server.root / "init" / "counter-guest" / "counter.c"
    text = source.read_text()
    assert text.count(GET) == 1
    source.write_text(text.replace(GET, GET.replace("count)", "count + 1000)")))
    before = _service_pids(server)
    assert _counter_get(server) == 0
    code, out = run_hibashi(server.sock, f"c({str(source)!r})", "call('counter-guest', 'get')")
    assert code == 0, out
    m = re.search(r"c: upgraded counter-guest in place \(pid (\d+) kept\) in [\d.]+ s"
                  r" \(build [\d.]+ s, reload ([\d.]+) s\)", out)
    assert m, out
    assert int(m.group(1)) == before["counter-guest"]
    # The old counter returns on the upgrade's exit signal: the switch does
    # not wait out the drain deadline (5 s) before killing it.
    assert float(m.group(2)) < 4.0, out
    assert "hibashi> 1000\n" in out
    assert _counter_get(server) == 1000
    after = _service_pids(server)
    assert {k: v for k, v in after.items() if k != "hearth.Inspector"} == \
        {k: v for k, v in before.items() if k != "hearth.Inspector"}  # nothing restarted

    # Built again from the same source: nothing to do.
    code, out = run_hibashi(server.sock, f"c({str(source.parent)!r})")
    assert "c: counter-guest already runs this build" in out, out


@needs_zig
def test_a_broken_edit_prints_the_error_and_the_old_code_runs_on(server, proc):
    source = server.root / "init" / "counter-guest" / "counter.c"
    wasm = server.root / "init" / "counter-guest" / "counter.wasm"
    module = wasm.read_bytes()
    source.write_text(source.read_text().replace(GET, GET.replace("count)", "count + )")))
    code, out = run_hibashi(server.sock, f"c({str(source)!r})", "call('counter-guest', 'get')")
    assert code == 0, out
    assert "counter.c:" in out and "error: expected expression" in out, out
    assert "c: the build failed; counter-guest runs on, unchanged" in out
    assert "hibashi> 0\n" in out
    assert wasm.read_bytes() == module  # nothing was written
    assert _counter_get(server) == 0


ECHO_TOML = """name = "echo"
description = "Answers ping with pong; a Python service the shell's test writes"
kind = "python"
entry = "service.py:main"
needs = []
restart = "permanent"
targets = ["server"]
"""

ECHO_PY = """from hearth.native import Service


class Echo(Service):
    name = "echo"

    def handle_request(self, request):
        return "pong" if request.term == "ping" else request.term


def main(registry):
    Echo().serve()
"""


def write_echo_service(root):
    """A Python service ``echo`` in `root`'s init/; its service.py."""
    directory = root / "init" / "echo"
    directory.mkdir()
    (directory / "service.toml").write_text(ECHO_TOML)
    service = directory / "service.py"
    service.write_text(ECHO_PY)
    return service


def test_r_reloads_a_python_service(server, proc):
    service = write_echo_service(server.root)
    code, out = run_hibashi(server.sock, "r('echo')", "r('echo')", "call('echo', 'ping')")
    assert code == 0, out
    assert re.search(r"r: reloaded echo \(pid None -> \d+\)", out), out  # started
    assert re.search(r"r: echo is unchanged since it started \(pid \d+\)", out), out
    assert "hibashi> 'pong'\n" in out
    before = _service_pids(server)
    service.write_text(service.read_text() + "\n# edited from the shell's test\n")
    code, out = run_hibashi(server.sock, "r('echo')", "call('echo', 'ping')")
    assert code == 0, out
    m = re.search(r"r: reloaded echo \(pid (\d+) -> (\d+)\)", out)
    assert m, out
    assert int(m.group(1)) == before["echo"] and int(m.group(2)) != before["echo"]
    assert "hibashi> 'pong'\n" in out
    after = _service_pids(server)
    assert after["echo"] != before["echo"]
    assert after["counter-guest"] == before["counter-guest"]
    assert after["chat"] == before["chat"]


def test_the_refusals_a_person_sees(server, tmp_path):
    service = write_echo_service(server.root)
    code, out = run_hibashi(server.sock, "r('counter-guest')", "r('nope')",
                            f"c({str(service)!r})",
                            f"c({str(tmp_path / 'missing.c')!r})",
                            f"c({str(server.data_dir)!r})", "1 + 1")
    assert code == 0, out
    assert "r: counter-guest is a wasm service: c(" in out
    assert "r: no service named 'nope' under" in out
    assert "c: echo is a Python service: save its file and r('echo')" in out
    assert "missing.c: no such file" in out
    assert "nor a .c file to build and spawn" in out
    assert "hibashi> 2\n" in out  # and the shell goes on


HELLO = """#include "hearth.h"

void run(void) {
    hearth_log(HEARTH_INFO, "hello-guest", "hello from a source no service runs");
    for (;;) {
        hearth_signal msg;
        uint32_t mark = hearth_mark();
        hearth_recv(HEARTH_PARENT, &msg);
        hearth_signal_release(&msg);
        hearth_release(mark);
    }
}
"""


@needs_zig
def test_c_spawns_a_source_no_service_runs(server, tmp_path):
    source = tmp_path / "hello.c"
    source.write_text(HELLO)
    code, out = run_hibashi(server.sock, f"c({str(source)!r})")
    assert code == 0, out
    m = re.search(r"c: no service runs hello.c: built .*hello.wasm and spawned pid (\d+)", out)
    assert m, out
    assert (tmp_path / "hello.wasm").is_file()
    # The guest logs on its own thread, maybe after c() has answered: wait
    # for the line in the server's log, then read it through logs().
    server.program.wait_for("hello from a source no service runs")
    code, out = run_hibashi(server.sock, "logs(limit=20)")
    assert "hello from a source no service runs" in out, out
    # A broken one spawns nothing.
    source.write_text(HELLO.replace("hearth_mark();", "hearth_mark()"))
    code, out = run_hibashi(server.sock, f"c({str(source)!r})")
    assert "error: expected ';'" in out and "c: the build failed; nothing was spawned" in out
