"""The one dependency ordering (graphlib) shared by applications and
kindling's init."""

import pytest

from hearth.otp import DependencyCycle, dependency_order


def test_each_node_comes_after_what_it_needs_ties_by_key():
    needs = {"web": ["db", "cache"], "db": ["log"], "cache": [], "log": []}
    assert dependency_order(needs) == ["cache", "log", "db", "web"]
    depth_first = {"log": 0, "db": 1, "cache": 2, "web": 3}
    assert dependency_order(needs, key=depth_first.__getitem__) == ["log", "db", "cache", "web"]


def test_needs_outside_the_mapping_are_left_to_the_caller():
    assert dependency_order({"a": ["hearth.Sleep"], "b": ["a"]}) == ["a", "b"]


@pytest.mark.parametrize("needs, cycle", [
    ({"a": ["b"], "b": ["c"], "c": ["a"]}, ("a", "b", "c", "a")),
    ({"z": ["y"], "y": ["z"], "x": ["z"]}, ("y", "z", "y")),
    ({"self": ["self"]}, ("self", "self")),
])
def test_a_cycle_is_reported_as_a_chain_of_needs_from_its_first_node(needs, cycle):
    with pytest.raises(DependencyCycle) as info:
        dependency_order(needs)
    assert info.value.cycle == cycle
    assert str(info.value) == "dependency cycle " + " -> ".join(cycle)


def test_a_long_chain_needs_no_recursion():
    n = 5000
    needs = {f"n{i}": [f"n{i + 1}"] if i + 1 < n else [] for i in range(n)}
    assert dependency_order(needs) == [f"n{i}" for i in reversed(range(n))]
