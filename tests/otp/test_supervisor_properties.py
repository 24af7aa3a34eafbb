"""Property tests (Hypothesis) of the restart window (rule O5).

For random crash times on a virtual clock, a supervisor must die exactly at
the first crash after which more than `intensity` restarts fall within a
window of `period` seconds (both ends included), and never before. The
model is written from that sentence, not from the implementation: at each
crash it counts every earlier crash still within `period`.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from hearth import vm
from hearth.otp._supervisor import ChildSpec, start_child, start_link, which_children


def idle():
    while True:
        vm.recv()


def model_death(times, intensity, period):
    """The index of the crash that kills the supervisor, or None."""
    for i, t in enumerate(times):
        within = [s for s in times[: i + 1] if t - s <= period]
        if len(within) > intensity:
            return i
    return None


@st.composite
def crash_plans(draw):
    """(period, gaps between crashes). Gaps are often multiples of half the
    period, so crashes land exactly on a window's edge (t - s == period);
    all values are exact in binary floating point."""
    period = draw(st.sampled_from([0.5, 1, 2.5, 5, 10]))
    gap = st.one_of(
        st.integers(0, 4).map(lambda k: k * period / 2),
        st.integers(0, 24).map(lambda n: n / 2),
    )
    return period, draw(st.lists(gap, min_size=1, max_size=25))


@settings(deadline=None, max_examples=100)
@given(
    intensity=st.integers(0, 4),
    plan=crash_plans(),
    strategy=st.sampled_from(["one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"]),
)
def test_o5_a_supervisor_dies_exactly_when_restarts_within_a_period_exceed_intensity(
    intensity, plan, strategy
):
    period, gaps = plan
    clock = vm.VirtualClock()
    rt = vm.Runtime(clock=clock)
    with rt.open_process(trap_exit=True):
        sup = start_link([ChildSpec("w", (idle, ()))], strategy, intensity, period)
        if strategy == "simple_one_for_one":
            start_child(sup, [])
        times = []
        expected = None
        for gap in gaps:
            clock.advance(gap)
            times.append(clock.now())
            expected = model_death(times, intensity, period)
            [info] = which_children(sup)
            info.child.kill()
            info.child.release()
            rt.wait_all_blocked()
            sig = vm.try_recv()
            if expected is not None:
                assert type(sig) is vm.Exit and sig.reason == "shutdown", (
                    f"crash {len(times)} at {times[-1]} should have been one too many: {sig!r}"
                )
                break
            assert sig is None, f"the supervisor died early, at crash {len(times)}: {sig!r}"
            assert which_children(sup)[0].restarts == len(times)
    assert rt.shutdown() == []
    assert len(rt) == 0
