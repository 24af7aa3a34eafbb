"""``hearth-tui --demo``: a small live runtime inside the TUI's own OS
process, to look at without starting a server (and for the TUI's tmux
tests).

It boots a registry, the time services and ``hearth.Inspector``, and a
supervisor ``demo`` with:

- ``pinger`` and ``echo``: a message every `ping_period` seconds each way
  (rates in the table);
- ``flaky``: crashes every `crash_period` seconds and is restarted
  (restarts, exit reasons);
- ``churn``: spawns `churn` short-lived workers every half second (the
  table copes with processes coming and going);
- ``chatter``: logs a line every second (the log pane).
"""

import itertools
import logging

from hearth import otp, vm
from hearth.native import start_time_services
from hearth.native._inspector import start_inspector

__all__ = ["start_demo"]

log = logging.getLogger("hearth.demo")


def _echo():
    vm.set_metadata(description="answers every message to the capability it carries")
    while True:
        sig = vm.recv()
        if type(sig) is vm.Message:
            if sig.caps:
                sig.caps[0].send(sig.data)
            for cap in sig.caps:
                cap.release()


def _pinger(period):
    vm.set_metadata(description="pings echo")
    echo = vm.spawn_link(_echo, name="echo")
    box = vm.create_mailbox()
    me = box.make_capability(vm.SEND)
    n = 0
    while True:
        n += 1
        echo.send(b"ping %d" % n, [me])
        box.recv(timeout=period)
        vm.recv(timeout=period)


def _flaky(period):
    vm.set_metadata(description="crashes now and then, and is restarted")
    vm.recv(timeout=period)
    log.warning("flaky is about to crash")
    raise RuntimeError("flaky crashed, as it does")


def _short_lived(n):
    vm.recv(timeout=0.2 + (n % 7) / 10)


def _churn(burst):
    vm.set_metadata(description=f"spawns {burst} short-lived workers every 0.5 s")
    for n in itertools.count():
        for i in range(burst):
            vm.spawn(_short_lived, i, name=f"worker-{n % 1000}-{i}")
        vm.recv(timeout=0.5)


def _chatter():
    vm.set_metadata(description="logs a line every second")
    for n in itertools.count(1):
        log.info("chatter line %d", n)
        vm.recv(timeout=1.0)


def start_demo(*, churn=20, ping_period=0.05, crash_period=3.0):
    """Start the demo's services in the calling process's runtime; return
    the root registry. Switches: always."""
    log.setLevel(logging.INFO)
    registry = otp.start_registry()
    start_time_services(registry)
    start_inspector(registry)
    otp.start_link_supervisor([
        otp.ChildSpec("pinger", (_pinger, (ping_period,), {"name": "pinger"})),
        otp.ChildSpec("flaky", (_flaky, (crash_period,), {"name": "flaky"})),
        otp.ChildSpec("churn", (_churn, (churn,), {"name": "churn"})),
        otp.ChildSpec("chatter", (_chatter, (), {"name": "chatter"})),
    ], intensity=100, period=5, name="demo")
    return registry
