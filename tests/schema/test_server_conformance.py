"""A real hearth-server serves the schemas' protocols: every name a
server-side schema says is registered is there for the operator, and
hearth.net.Peers (still checked by hand in hearth/net) answers each op
with its schema's reply type."""

import pytest

from hearth import otp, vm
from hearth.net import connect
from hearth.otp import schemas

from ..security.conftest import SECRET
from .probe import Probe

# Registered by hearth-server itself (the filesystem needs --root; the
# client's services and init's hooks are elsewhere).
SERVER_SCHEMAS = ("hearth.Sleep", "hearth.TimerFactory", "hearth.StopwatchFactory",
                  "hearth.UnixTime", "hearth.wasm.WasmProcessSpawner", "hearth.Inspector",
                  "hearth.net.Peers", "hearth.init", "hearth.World", "hearth.World.Admin")


@pytest.mark.hearth_timeout(90)
def test_a_real_server_registers_what_its_schemas_name_and_peers_conforms(
        hearth_server, proc):
    exported = vm.create_mailbox().make_capability(vm.SEND)
    with connect(hearth_server.url, secret=SECRET, root=exported), \
            hearth_server.operator() as op:
        names = set(otp.registered(op.root))
        for name in SERVER_SCHEMAS:
            missing = set(schemas()[name].registered) - names
            assert not missing, f"{name}: the server registers no {sorted(missing)}"
        peers = otp.lookup(op.root, "hearth.net.Peers")
        probe = Probe("hearth.net.Peers")
        listed = probe.ask(peers, "list")
        [mine] = [p for p in listed if p["root"]]
        probe.ask(peers, "root", {"id": mine["id"]})
        probe.ask(peers, "root", {"id": 10**9}, error="not_found")
        probe.done()


@pytest.mark.hearth_timeout(90)
def test_peers_refuses_a_bad_id_as_its_schema_says(hearth_server, proc):
    with hearth_server.operator() as op:
        Probe("hearth.net.Peers").refuse_bad_fields(otp.lookup(op.root, "hearth.net.Peers"),
                                                    "root", {"id": 1})
