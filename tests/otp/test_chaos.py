"""Chaos: random kills in a supervision tree of 200+ processes (rule O5).

A tree of nested supervisors of every strategy runs under a seeded
scheduler. Each step kills a random worker or supervisor (never the top),
lets the tree settle (`wait_all_blocked`), tops simple_one_for_one
supervisors back up, and compares the real tree with a model of what the
supervisors must have done: at every level `which_children` lists the same
children in the same order, all running, with the right restart counts;
children the model says were untouched keep their process, restarted ones
have a new one; `count_children` agrees; and the runtime holds exactly the
model's processes (nothing leaked, nothing missing). Intensities are high,
so nothing escalates to the top. A failure names the seed that replays it.
"""

import random

import pytest

from hearth import vm
from hearth.otp._supervisor import (
    ChildSpec,
    count_children,
    start_child,
    start_link,
    supervisor_spec,
    which_children,
)

SEEDS = [1, 2, 3, 7, 42]
STEPS = 100
INTENSITY = 10_000  # every restart of a run falls in one window: the clock stands still

# The tree, declaratively: ("worker", id, restart) or
# ("sup", id, strategy, children) or ("s141", id, template, target).
LEAF_WORKERS = [("worker", f"w{i}", "permanent") for i in range(9)] + [
    ("worker", "w9", "transient"),
    ("worker", "w10", "transient"),
    ("worker", "w11", "temporary"),
]
DYNAMIC_WORKER = ("worker", None, "permanent")


def _leaves():
    return [
        ("sup", "l1", "one_for_one", LEAF_WORKERS),
        ("sup", "l2", "one_for_all", LEAF_WORKERS),
        ("sup", "l3", "rest_for_one", LEAF_WORKERS),
        ("s141", "l4", DYNAMIC_WORKER, 12),
    ]


TREE = (
    "sup",
    "top",
    "one_for_one",
    [
        ("sup", "m1", "one_for_one", _leaves()),
        ("sup", "m2", "one_for_all", _leaves()),
        ("sup", "m3", "rest_for_one", _leaves()),
        ("s141", "m4", ("sup", None, "one_for_one", LEAF_WORKERS), 4),
    ],
)


def idle():
    while True:
        vm.recv()


def child_spec(node):
    """The real ChildSpec of a declarative node."""
    kind = node[0]
    if kind == "worker":
        return ChildSpec(node[1], (idle, ()), restart=node[2])
    if kind == "sup":
        return supervisor_spec(node[1], [child_spec(c) for c in node[3]], node[2], INTENSITY)
    return supervisor_spec(node[1], [child_spec(node[2])], "simple_one_for_one", INTENSITY)


# -- the model ------------------------------------------------------------------------


class Node:
    """What the model expects of one process of the tree."""

    def __init__(self, decl, parent, restarts=0):
        self.decl = decl
        self.parent = parent
        self.restarts = restarts
        self.route = None  # None until observed: a new process is expected
        self.cap = None
        self.n_restarts = 0  # a supervisor's count_children()["restarts"]
        kind = decl[0]
        if kind == "sup":
            self.children = [Node(c, self) for c in decl[3]]
        elif kind == "s141":
            self.children = []
        else:
            self.children = None

    @property
    def is_sup(self):
        return self.children is not None

    @property
    def strategy(self):
        return "simple_one_for_one" if self.decl[0] == "s141" else self.decl[2]

    @property
    def restart(self):
        return self.decl[2] if self.decl[0] == "worker" else "permanent"

    def walk(self):
        yield self
        for c in self.children or ():
            yield from c.walk()

    def killed(self):
        """Apply the parent's strategy to this node's death by `killed`."""
        parent = self.parent
        siblings = parent.children
        if self.restart == "temporary":
            siblings.remove(self)
            return
        parent.n_restarts += 1
        if parent.strategy in ("one_for_one", "simple_one_for_one"):
            group = [self]
        elif parent.strategy == "one_for_all":
            group = list(siblings)
        else:
            group = siblings[siblings.index(self):]
        for c in group:
            i = siblings.index(c)
            if c is not self and c.restart == "temporary":
                del siblings[i]  # stopped with the group, and forgotten
            else:
                siblings[i] = Node(c.decl, parent, c.restarts + 1)


def top_up(node):
    """Bring every simple_one_for_one supervisor back to its target size,
    in the model and for real."""
    for n in list(node.walk()):
        if n.decl[0] != "s141":
            continue
        while len(n.children) < n.decl[3]:
            status, cap = start_child(n.cap, [])
            assert status == "ok", (status, cap)
            n.children.append(Node(n.decl[2], n))


def check(top, seen, held):
    """Compare the real tree with the model; remember the routes seen."""
    n_model = 0
    for n in top.walk():
        n_model += 1
        if not n.is_sup:
            continue
        real = which_children(n.cap)
        held.extend(r.child for r in real if type(r.child) is vm.Cap)
        assert [r.id for r in real] == [c.decl[1] for c in n.children], f"children of {path(n)}"
        for r, c in zip(real, n.children):
            assert type(r.child) is vm.Cap, f"{path(c)} is not running: {r.child!r}"
            assert r.restarts == c.restarts, f"{path(c)} restarts {r.restarts} != {c.restarts}"
            assert r.type == ("supervisor" if c.is_sup else "worker"), path(c)
            route = r.child.route_id
            if c.route is None:
                assert route not in seen, f"{path(c)} should have a new process"
            else:
                assert route == c.route, f"{path(c)} should not have been restarted"
            c.route = route
            c.cap = r.child
            seen.add(route)
        sups = sum(1 for c in n.children if c.is_sup)
        expected = {
            "specs": 1 if n.decl[0] == "s141" else len(n.children),
            "active": len(n.children),
            "supervisors": sups,
            "workers": len(n.children) - sups,
            "restarts": n.n_restarts,
        }
        assert count_children(n.cap) == expected, f"count_children of {path(n)}"
    return n_model


def path(node):
    parts = []
    while node is not None:
        parts.append(str(node.decl[1]) if node.decl[1] is not None else "*")
        node = node.parent
    return "/".join(reversed(parts))


@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.hearth_seed(s)) for s in SEEDS])
def test_o5_random_kills_in_a_large_tree_leave_it_as_the_model_says(proc, virtual_clock, seed):
    vm.trap_exit(True)
    rng = random.Random(seed)
    rt = proc.runtime
    assert rt.seed == seed
    top = Node(TREE, None)
    top.cap = start_link([child_spec(c) for c in TREE[3]], "one_for_one", INTENSITY, 5)
    seen, held = set(), []
    step = -1
    try:
        rt.wait_all_blocked()
        check(top, seen, held)
        top_up(top)
        rt.wait_all_blocked()
        n = check(top, seen, held)
        assert n >= 200
        assert len(rt) == n + 1  # and the test process
        for step in range(STEPS):
            nodes = list(top.walk())[1:]
            workers = [x for x in nodes if not x.is_sup]
            sups = [x for x in nodes if x.is_sup]
            victim = rng.choice(sups if rng.random() < 0.2 else workers)
            victim.cap.kill()
            victim.killed()
            rt.wait_all_blocked()
            old, held = held, []
            check(top, seen, held)  # finds the supervisors to top up
            top_up(top)
            rt.wait_all_blocked()
            n = check(top, seen, held)
            for cap in old:
                cap.release()
            assert len(rt) == n + 1, f"{len(rt) - 1} processes, the model has {n}"
            assert not vm.try_recv(), "the top supervisor exited"
    except AssertionError as e:
        raise AssertionError(
            f"chaos seed {seed}, step {step}: {e}\n"
            f"replay: pytest 'tests/otp/test_chaos.py::"
            f"test_o5_random_kills_in_a_large_tree_leave_it_as_the_model_says[{seed}]'"
        ) from e
    sig_ref = top.cap.monitor()
    vm.exit(top.cap, "shutdown")
    while True:
        sig = vm.recv(timeout=30)
        assert sig is not None
        if type(sig) is vm.Down and sig.ref == sig_ref:
            break
    rt.wait_all_blocked()
    assert len(rt) == 1, "processes outlived the tree's shutdown"
