"""Hearth's pytest plugin (registered as the ``hearth`` pytest11 entry point).

Loading it monkey-patches gevent once, first thing, and gives every test:

- ``runtime``: a fresh `hearth.vm.Runtime`; with ``virtual_clock`` also
  requested, the runtime reads that clock instead of the real one; with
  ``@pytest.mark.hearth_seed(N)`` its run order is drawn from seed N.
- ``virtual_clock``: a `VirtualClock` that jumps to the next deadline as soon
  as every process is blocked.
- ``proc``: the test's own greenlet attached as a process of ``runtime``.
- a timeout on every test (``hearth_timeout`` ini option, default 60 s, or
  ``@pytest.mark.hearth_timeout(seconds)``); a hung test that never yields to
  the hub is ended by faulthandler 30 s later with every thread's stack.
- failure if a process crashed without anyone linked to or monitoring it
  (unless ``@pytest.mark.allow_crashes``, or the test cleared
  ``runtime.crashes`` after checking them);
- failure if any process or greenlet the test started outlives it: teardown
  shuts the runtime down and then looks for greenlets still running.
"""

from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()

import faulthandler  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402

import gevent  # noqa: E402
import pytest  # noqa: E402
from greenlet import getcurrent, greenlet  # noqa: E402

from hearth.vm import Runtime, VirtualClock, format_reason  # noqa: E402


# pytest loads entry-point plugins before it starts capturing output, so fd
# 2 is still the real stderr here: faulthandler's last words must go there,
# not into a capture file that dies with the process.
_REAL_STDERR = os.fdopen(os.dup(2), "w")


class HearthTestTimeout(AssertionError):
    """A test ran past its hearth_timeout."""


def pytest_addoption(parser):
    parser.addini(
        "hearth_timeout",
        "seconds of real time each test may run (default 60)",
        default="60",
    )
    parser.addini(
        "hearth_hang_grace",
        "seconds past the timeout after which a test that never yields to the"
        " hub ends the run with every thread's stack (default 30)",
        default="30",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "hearth_timeout(seconds): this test's timeout")
    config.addinivalue_line("markers", "hearth_seed(seed): seed of the runtime's run order")
    config.addinivalue_line(
        "markers", "allow_crashes: unobserved process crashes don't fail this test"
    )


def _timeout_of(item):
    marker = item.get_closest_marker("hearth_timeout")
    if marker is not None:
        return float(marker.args[0])
    return float(item.config.getini("hearth_timeout"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    seconds = _timeout_of(item)
    grace = float(item.config.getini("hearth_hang_grace"))
    faulthandler.dump_traceback_later(seconds + grace, exit=True, file=_REAL_STDERR)
    timer = gevent.Timeout(seconds, HearthTestTimeout(f"test ran past its {seconds:g}s timeout"))
    timer.start()
    try:
        yield
    finally:
        timer.close()
        faulthandler.cancel_dump_traceback_later()


def live_greenlets():
    """Every started, unfinished greenlet but the hub and the main one."""
    hub = gevent.get_hub()
    here = getcurrent()
    out = []
    for obj in gc.get_objects():
        if isinstance(obj, greenlet) and obj and obj is not here and obj is not hub:
            if obj.parent is not None:  # the main greenlet has no parent
                out.append(obj)
    return out


@pytest.fixture
def virtual_clock():
    """A virtual clock that autojumps when every process is blocked."""
    return VirtualClock(autojump=True)


@pytest.fixture
def runtime(request):
    """A fresh runtime, shut down and checked for leaks and crashes after."""
    before = {id(g) for g in live_greenlets()}
    clock = request.getfixturevalue("virtual_clock") if "virtual_clock" in request.fixturenames else None
    seed_marker = request.node.get_closest_marker("hearth_seed")
    seed = seed_marker.args[0] if seed_marker else None
    rt = Runtime(clock=clock, seed=seed)
    yield rt
    crashes = list(rt.crashes)
    stuck = rt.shutdown(timeout=5.0)
    if stuck:
        pytest.fail(f"processes did not unwind at shutdown: {stuck!r}")
    leaked = [g for g in live_greenlets() if id(g) not in before]
    if leaked:
        pytest.fail(f"greenlets outlived the test: {leaked[:10]!r}")
    if crashes and request.node.get_closest_marker("allow_crashes") is None:
        text = "\n\n".join(
            f"pid {c.pid} {c.name}: {format_reason(c.reason, traceback=True)}" for c in crashes
        )
        pytest.fail(f"{len(crashes)} process(es) crashed with nobody observing:\n{text}")


@pytest.fixture
def proc(runtime):
    """The test's greenlet attached as a process named "test"."""
    with runtime.open_process(name="test") as p:
        yield p
