"""Hot code reload of gen_servers: rule O7."""

import importlib
import sys
import textwrap

import pytest

from hearth import vm
from hearth.otp import call, cast, decode, encode
from hearth.otp import _reload
from hearth.otp._errors import ReloadFailed
from hearth.otp._gen_server import start
from hearth.otp._reload import reload, reload_errors
from hearth.vm import SEND

HEADER = """\
from hearth import vm
from hearth.otp import encode
from hearth.otp._gen_server import GenServer
"""

# The counter's first version: state {"report": cap, "n": int}.
COUNTER_V1 = """
class Counter(GenServer):
    vsn = 1

    def init(self, report):
        return ("ok", {"report": report, "n": 0})

    def handle_call(self, request, from_, state):
        if request == "bump":
            state["n"] += 1
        return ("reply", ("v1", state["n"], vm.self_pid()), state)

    def handle_cast(self, request, state):
        state["n"] += request
        return ("noreply", state)
"""

# The second: the count moves to "count", bumps add 10, and code_change
# tells the test it ran.
COUNTER_V2 = """
class Counter(GenServer):
    vsn = 2

    def handle_call(self, request, from_, state):
        if request == "bump":
            state["count"] += 10
        return ("reply", ("v2", state["count"], vm.self_pid()), state)

    def handle_cast(self, request, state):
        state["count"] += request * 10
        return ("noreply", state)

    def code_change(self, old_vsn, state, extra):
        report = state["report"]
        report.send(*encode(("code_change", old_vsn, extra)))
        return ("ok", {"report": report, "count": state["n"]})
"""

# Variants of the second version, spliced into COUNTER_V2.
RAISE_IN_CODE_CHANGE = """\
        raise KeyError("no migration")
        return ("ok", {"""
ERROR_FROM_CODE_CHANGE = """\
        return ("error", "too old")
        ({"""
COUNTER_V2_INIT = """\
    def init(self, report):
        return ("ok", {"report": report, "count": 0})

"""


@pytest.fixture
def module(tmp_path, monkeypatch, request):
    """Write versions of a module of servers into a directory on sys.path.

    ``module(source)`` writes the module (header included) and returns its
    name; the first call also imports it. Everything is forgotten after.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    name = "hot_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    path = tmp_path / f"{name}.py"

    def write(source, header=HEADER):
        path.write_text(header + textwrap.dedent(source))
        if name not in sys.modules:
            importlib.invalidate_caches()
            importlib.import_module(name)
        return name

    yield write
    sys.modules.pop(name, None)
    _reload._modules.pop(name, None)


def me():
    return vm.make_capability(SEND)


def recv_term(timeout=5):
    sig = vm.recv(timeout=timeout)
    assert isinstance(sig, vm.Message), sig
    return decode(sig.data, sig.caps)


def assert_no_more_messages():
    vm.current_process().runtime.wait_all_blocked()
    assert vm.try_recv() is None


def counter_class(name):
    return sys.modules[name].Counter


def test_o7_reload_switches_a_server_at_its_next_message_through_code_change(proc, module):
    name = module(COUNTER_V1)
    server = start(counter_class(name), me())
    assert call(server, "bump") == ("v1", 1, 2)
    cast(server, 4)  # queued before the reload, handled after it
    module(COUNTER_V2)
    result = reload(name, extra="upgrade-extra")
    assert (result.module, result.generation, result.versions) == (name, 1, {"Counter": 2})
    # Same process (pid 2), same mailbox, state migrated: 1 + 4*10 + 10.
    assert call(server, "bump") == ("v2", 51, 2)
    assert recv_term() == ("code_change", 1, "upgrade-extra")
    assert call(server, "get") == ("v2", 51, 2)
    assert_no_more_messages()  # code_change ran once
    server.kill()


def test_o7_a_server_idle_in_recv_is_not_woken_and_switches_at_its_next_message(
    proc, module, runtime
):
    name = module(COUNTER_V1)
    server = start(counter_class(name), me())
    runtime.wait_all_blocked()
    module(COUNTER_V2)
    reload(name)
    assert_no_more_messages()  # no code_change yet: nobody woke the server
    assert runtime.processes()[-1].state == "waiting"
    cast(server, 1)
    assert recv_term() == ("code_change", 1, None)
    assert call(server, "get") == ("v2", 10, 2)
    server.kill()


def test_o7_a_module_that_fails_to_load_leaves_the_old_code_running_and_reports_why(
    proc, module
):
    name = module(COUNTER_V1)
    old_module = sys.modules[name]
    server = start(counter_class(name), me())
    assert call(server, "bump")[:2] == ("v1", 1)
    module("class Counter(GenServer):\n    def broken(:\n")
    with pytest.raises(ReloadFailed) as info:
        reload(name)
    assert info.value.module == name
    assert info.value.reason[1] == "SyntaxError"
    module(COUNTER_V1 + "\nraise ImportError('a missing dependency')\n")
    with pytest.raises(ReloadFailed) as info:
        reload(name)
    assert info.value.reason[1:3] == ("ImportError", "a missing dependency")
    assert sys.modules[name] is old_module
    assert call(server, "bump")[:2] == ("v1", 2)
    failures = reload_errors(name)
    assert [(f.kind, f.generation, f.reason[1]) for f in failures] == [
        ("load", 1, "SyntaxError"),
        ("load", 1, "ImportError"),
    ]
    assert name in str(failures[0])
    # A good version still loads afterwards, as generation 1.
    module(COUNTER_V2)
    assert reload(name).generation == 1
    assert call(server, "bump")[:2] == ("v2", 12)
    server.kill()


def test_o7_a_code_change_that_raises_keeps_the_old_code_and_reports_why(proc, module):
    name = module(COUNTER_V1)
    server = start(counter_class(name), me())
    call(server, "bump")
    module(COUNTER_V2.replace("        return (\"ok\", {", RAISE_IN_CODE_CHANGE))
    reload(name)
    assert call(server, "bump") == ("v1", 2, 2)  # old code, old state, same process
    assert recv_term()[0] == "code_change"
    (failure,) = reload_errors(name)
    assert (failure.kind, failure.pid, failure.server, failure.old_vsn, failure.new_vsn) == (
        "code_change", 2, "Counter", 1, 2,
    )
    assert failure.reason[1:3] == ("KeyError", "'no migration'")
    assert call(server, "bump") == ("v1", 3, 2)  # no retry until the next reload
    # The next good version switches the server from the old code.
    module(COUNTER_V2.replace("vsn = 2", "vsn = 3"))
    reload(name)
    assert call(server, "bump") == ("v2", 13, 2)
    assert recv_term() == ("code_change", 1, None)
    server.kill()


def test_o7_a_code_change_returning_an_error_keeps_the_old_code(proc, module):
    name = module(COUNTER_V1)
    server = start(counter_class(name), me())
    module(COUNTER_V2.replace("        return (\"ok\", {", ERROR_FROM_CODE_CHANGE))
    reload(name)
    assert call(server, "bump")[:2] == ("v1", 1)
    recv_term()
    (failure,) = reload_errors(name)
    assert failure.reason == "too old"
    server.kill()


def test_o7_a_server_whose_class_is_gone_from_the_new_version_keeps_the_old_code(proc, module):
    name = module(COUNTER_V1)
    server = start(counter_class(name), me())
    module(COUNTER_V2.replace("class Counter", "class Renamed"))
    reload(name)
    assert call(server, "bump")[:2] == ("v1", 1)
    (failure,) = reload_errors(name)
    assert failure.reason[0] == "no_class" and failure.new_vsn is None
    server.kill()


def test_o7_versions_are_the_vsn_attribute_or_else_the_load_counter(proc, module):
    plain = COUNTER_V2.replace("    vsn = 2\n", "")
    name = module(COUNTER_V1.replace("    vsn = 1\n", ""))
    server = start(counter_class(name), me())
    module(plain)
    assert reload(name).versions == {"Counter": 1}
    cast(server, 1)
    assert recv_term() == ("code_change", 0, None)  # from load 0 to load 1
    module(plain.replace('state["n"]', 'state["count"]'))
    reload(name)
    cast(server, 1)
    assert recv_term() == ("code_change", 1, None)
    server.kill()


def test_o7_two_reloads_before_the_next_message_switch_once_to_the_newest(proc, module):
    name = module(COUNTER_V1)
    server = start(counter_class(name), me())
    module(COUNTER_V2)
    reload(name)
    module(COUNTER_V2.replace("vsn = 2", "vsn = 3"))
    reload(name, extra="third")
    assert call(server, "get")[:2] == ("v2", 0)
    assert recv_term() == ("code_change", 1, "third")
    assert_no_more_messages()
    server.kill()


def test_o7_servers_started_after_a_reload_run_the_new_version_even_from_the_old_class(
    proc, module
):
    name = module(COUNTER_V1)
    old_class = counter_class(name)
    old_module = sys.modules[name]
    module(COUNTER_V2.replace("    def code_change", COUNTER_V2_INIT + "    def code_change"))
    reload(name)
    for target in (old_class, old_module):
        server = start(target, me())
        assert call(server, "bump")[:2] == ("v2", 10)
        server.kill()
    assert_no_more_messages()  # started on the new version: no code_change


def test_o7_start_takes_a_module_that_defines_exactly_one_server_class(proc, module):
    name = module(COUNTER_V1)
    server = start(sys.modules[name], me())
    assert call(server, "bump")[:2] == ("v1", 1)
    server.kill()
    module(COUNTER_V1 + COUNTER_V1.replace("class Counter", "class Other"))
    reload(name)
    with pytest.raises(TypeError, match="defines 2 GenServer classes"):
        start(sys.modules[name], me())


def test_o7_reloading_a_module_that_does_not_exist_fails_and_says_so():
    with pytest.raises(ReloadFailed) as info:
        reload("hot_no_such_module")
    assert info.value.reason[1] == "ModuleNotFoundError"
    assert reload_errors("hot_no_such_module")[-1].kind == "load"
    assert _reload.current_version("hot_no_such_module") == 0


# -- under load --------------------------------------------------------------------

WORKER = """
class Worker(GenServer):
    vsn = {vsn}

    def init(self):
        return ("ok", {{"calls{vsn}": 0}})

    def handle_call(self, seq, from_, state):
        state["calls{vsn}"] += 1
        return ("reply", ({vsn}, seq, state["calls{vsn}"]), state)

    def code_change(self, old_vsn, state, extra):
        (count,) = state.values()
        return ("ok", {{"calls{vsn}": count}})
"""

SERVERS = 1000
CLIENTS = 200
ROUNDS = 6


def _client(test, *servers):
    """Call each of its servers once per round; report each round's end
    and, at the end, every reply."""
    replies = [[] for _ in servers]
    for round_ in range(ROUNDS):
        for i, server in enumerate(servers):
            replies[i].append(call(server, round_))
        test.send(*encode(("round", round_)))
    assert vm.try_recv() is None  # no stray reply ever reached the client
    test.send(*encode(("done", replies)))


@pytest.mark.hearth_seed(7)  # a random run order, so clients drift apart
def test_o7_hot_reload_under_load_loses_no_call_and_never_goes_back_a_version(
    proc, module, runtime
):
    name = module(WORKER.format(vsn=1))
    worker = sys.modules[name].Worker
    servers = [start(worker) for _ in range(SERVERS)]
    per_client = SERVERS // CLIENTS
    test = me()
    for c in range(CLIENTS):
        vm.spawn_link(_client, test, *servers[c * per_client : (c + 1) * per_client])
    reloads = {1: 2, 3: 3}  # after the first client's round 1 ends: v2; round 3: v3
    done = []
    clients_done = 0
    while clients_done < CLIENTS:
        kind, value = recv_term()
        if kind == "round" and value in reloads:
            module(WORKER.format(vsn=reloads.pop(value)))
            reload(name)
        elif kind == "done":
            done.extend(value)
            clients_done += 1
    assert len(done) == SERVERS
    assert reload_errors(name) == []
    seen = set()
    for replies in done:
        versions = [vsn for vsn, _, _ in replies]
        # One reply per call, in order, from the same process whose state
        # survived every switch: call k is the server's (k+1)th call.
        assert [(seq, count) for _, seq, count in replies] == [
            (k, k + 1) for k in range(ROUNDS)
        ]
        assert versions == sorted(versions) and versions[-1] == 3
        seen.update(versions)
    assert seen == {1, 2, 3}
    for server in servers:
        server.kill()
