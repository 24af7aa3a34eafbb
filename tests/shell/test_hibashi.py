"""The real ``hibashi`` against a real hearth-server, lines fed on a pipe:
evaluation in the runtime, errors that leave the shell going, a shell
process that dies and comes back with its bindings, the shell's own
mailbox, and the Erlang-named helpers."""

import re

import pytest

from .shell_harness import Server, run_hibashi


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    assert srv.stop() == 0, "".join(srv.program.lines[-40:])


def test_evaluates_in_the_runtime_and_goes_on_after_an_error(server):
    code, out = run_hibashi(server.sock, "x = 40", "x + 2", "1/0", "print('after', x)",
                            "def f(n):", "    return n * 2", "", "f(21)", "import sys",
                            "sys.argv[0].endswith('server.py') or 'hearth.server' in sys.argv[0]")
    assert code == 0, out
    assert "Hibashi, the Hearth shell" in out
    assert out.count("42") == 2, out
    assert "ZeroDivisionError: division by zero" in out
    assert 'File "<hibashi>", line 1' in out
    assert "hibashi/_session.py" not in out  # the shell's own frames are left out
    assert "after 40" in out
    assert "True" in out  # it ran inside the server, not in hibashi's process


def test_a_dead_shell_process_is_restarted_with_its_bindings(server):
    code, out = run_hibashi(server.sock, "x = 7", "first = vm.self_pid()",
                            "vm.exit('boom')", "x", "vm.self_pid() != first")
    assert code == 0, out
    assert re.search(r"\*\*\* the shell's process \(pid \d+\) exited: boom", out), out
    assert "bindings kept" in out
    lines = out.splitlines()
    assert "hibashi> 7" in lines and "hibashi> True" in lines, out


def test_a_syntax_error_and_an_incomplete_statement(server):
    code, out = run_hibashi(server.sock, "1 +* 2", "for i in range(3):", "    print('i', i)",
                            "", "'done'")
    assert code == 0, out
    assert "SyntaxError" in out
    assert "i 0" in out and "i 2" in out and "'done'" in out


def test_the_shells_mailbox_send_flush_monitor(server):
    code, out = run_hibashi(
        server.sock, "send(self(), [1, 'two'])", "flush()", "flush()",
        "p = spawn(lambda: vm.recv(), name='sleeper')", "ref = monitor(p)", "p.kill()",
        "flush()", "send(self(), {'k': 3})", "receive(5)", "receive(0.01) is None")
    assert code == 0, out
    assert "Shell got message: (1, 'two')" in out
    assert "(the shell's mailbox is empty)" in out
    assert re.search(r"Shell got Down\(ref=\d+, reason=killed\)", out), out
    assert "{'k': 3}" in out and out.rstrip().splitlines()[-2].endswith("True"), out


def test_the_helpers(server, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"hello")
    code, out = run_hibashi(
        server.sock, "ps()", "i(vm.self_pid())", "tree()", "lookup('clock') is not None",
        "lookup('no-such-name')", "call('counter-guest', 'get')",
        "call('counter-guest', ['add', 5])",
        f"l({str(blob)!r})", "logs(limit=3)", "world", "help(ps)", "help()",
        "call('no-such-name', 'get')")
    assert code == 0, out
    assert re.search(r"\d+ +hibashi +waiting .*_shell_process", out), out  # ps: the shell
    assert re.search(r"initial call +_shell_process", out), out
    assert "kindling.init" in out and "hearth.shell" in out  # tree
    assert "hibashi> True" in out.splitlines()
    assert "hibashi> 0\n" in out and "hibashi> 5\n" in out  # the counter's answers
    assert "stored 5 bytes as lump " in out
    assert re.search(r"<world: hearth.World, \d+ entities>", out), out
    assert "ps(): the live processes" in out
    for name in ("c(path)", "r(name)", "flush()", "spawn(fn, *args)", "link(cap)",
                 "monitor(cap)", "logs(", "l(path)", "world:"):
        assert name in out, name
    assert "LookupError: no service is registered as 'no-such-name'" in out


def test_exit_leaves_and_no_runtime_is_a_clear_error(server, tmp_path):
    code, out = run_hibashi(server.sock, "exit()", "print('not reached')")
    assert code == 0 and "not reached" not in out
    code, out = run_hibashi(str(tmp_path / "nothing.sock"), "1")
    assert code == 3
    assert "no Hearth runtime is running: nothing listens on" in out


def test_output_is_bounded(server):
    code, out = run_hibashi(server.sock, "for i in range(200000): print('y' * 40)", "", "'after'")
    assert code == 0, out[-500:]
    assert re.search(r"\.\.\. \(\d+ characters of output dropped\)", out), out[-500:]
    assert out.count("y" * 40) < 120000  # about 4 MiB of it came back, not 8
    assert "'after'" in out
