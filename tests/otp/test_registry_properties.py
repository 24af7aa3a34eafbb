"""Property tests of the registry (rules R1–R3) against a dict model.

Random sequences of register, kill-holder, unregister and lookup run
against a live registry; after every step each name's lookup and the list,
through the root capability and through a scoped view, match the model.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from hearth import vm
from hearth.otp._registry import start_registry
from hearth.otp._registry_client import (
    NameTaken,
    RegistryError,
    lookup,
    register,
    registered,
    unregister,
    registry_view,
)

NAMES = ["a", "b", "c", "d"]
SCOPE = ["a", "c"]
HOLDERS = 3

_ops = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(NAMES), st.integers(0, HOLDERS - 1)),
    st.tuples(st.just("unregister"), st.sampled_from(NAMES)),
    st.tuples(st.just("kill"), st.integers(0, HOLDERS - 1)),
    st.tuples(st.just("lookup"), st.sampled_from(NAMES)),
)


def _idle():
    while True:
        vm.recv()


def _check(reg, scoped, model, holders):
    for name in NAMES:
        found = lookup(reg, name)
        if name in model:
            assert found is not None and found.same_route(holders[model[name]])
        else:
            assert found is None, name
        seen = lookup(scoped, name)
        assert (seen is not None) == (name in model and name in SCOPE), name
        for cap in (found, seen):
            if cap is not None:
                cap.release()
    assert registered(reg) == sorted(model)
    assert registered(scoped) == sorted(n for n in model if n in SCOPE)


def _run(ops):
    rt = vm.Runtime(clock=vm.VirtualClock(autojump=True))
    try:
        with rt.open_process():
            reg = start_registry()
            scoped = registry_view(reg, names=SCOPE)
            holders = [vm.spawn(_idle) for _ in range(HOLDERS)]
            model = {}  # name -> holder slot
            for op in ops:
                if op[0] == "register":
                    _, name, slot = op
                    try:
                        register(reg, name, holders[slot])
                        assert name not in model
                        model[name] = slot
                    except NameTaken:
                        assert name in model
                elif op[0] == "unregister":
                    try:
                        unregister(reg, op[1])
                        assert model.pop(op[1], None) is not None
                    except RegistryError as e:
                        assert e.kind == "not_found" and op[1] not in model
                elif op[0] == "kill":
                    slot = op[1]
                    holders[slot].kill()
                    # R2: no wait, no Down needed: the names are gone now.
                    holders[slot] = vm.spawn(_idle)
                    for name in [n for n, s in model.items() if s == slot]:
                        del model[name]
                _check(reg, scoped, model, holders)
    finally:
        assert rt.shutdown() == []
        assert rt.crashes == []


@settings(max_examples=60, deadline=None)
@given(st.lists(_ops, max_size=25))
def test_r1_r2_r3_lookups_and_lists_match_a_dict_model(ops):
    _run(ops)
