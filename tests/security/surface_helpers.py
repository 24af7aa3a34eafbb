"""Helpers of the surface tests (what a peer can name and what it can make
the server do): a server that publishes its files read-only, and a way to
ask a capability anything, raw bytes included, and get the answer back."""

import pytest

from hearth import otp, vm
from hearth.otp import ServiceError

from tests.security.conftest import Server, peer_of, serving

# What an authenticated peer of hearth-server sees of the bundled root: the
# allow-list of hearth._views plus the stock services that say expose = true.
PEER_NAMES = {"hearth.Sleep", "hearth.TimerFactory", "hearth.StopwatchFactory",
              "hearth.UnixTime", "hearth.wasm.WasmProcessSpawner", "hearth.World",
              "chat", "clock", "counter-guest"}
ADMIN_NAMES = ("hearth.Inspector", "hearth.net.Peers", "hearth.init", "hearth.fs.Filesystem",
               "panic-test", "registry", "hearth.init.Server", "hearth.init.Daemon",
               "hearth.World.Admin")


@pytest.fixture
def publishing_server(tmp_path):
    """A hearth-server started with ``--publish-files``."""
    yield from serving(Server(tmp_path, extra_args=("--publish-files",)))


@pytest.fixture
def reader(publishing_server, proc):
    """An authenticated peer of `publishing_server`."""
    yield from peer_of(publishing_server)


def ask(target, data, caps=(), timeout=10.0):
    """Send `data` (bytes, or a term to encode) to `target` with a fresh
    reply capability first in its caps; the decoded reply, or None if none
    came within `timeout`. Capabilities in the reply are returned as they
    are (the caller releases them). Switches: always."""
    box = vm.create_mailbox()
    reply = box.make_capability(vm.SEND)
    try:
        if isinstance(data, (bytes, bytearray)):
            target.send(bytes(data), [reply, *caps])
        else:
            target.send(*otp.encode(data, [reply, *caps]))
        sig = box.recv(timeout=timeout)
        if sig is None:
            return None
        try:
            return otp.decode(sig.data, sig.caps)
        except otp.DecodeError:
            return ("undecodable", bytes(sig.data), list(sig.caps))
    finally:
        reply.release()
        box.destroy()


def error_kind(service, term, args=()):
    """The kind of the error `service` answers `term` with."""
    from hearth.native import request

    with pytest.raises(ServiceError) as info:
        request(service, term, args)
    return info.value.kind, info.value.message
