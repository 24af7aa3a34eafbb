"""One dependency ordering, on the standard library's `graphlib`: what
starts after what, for applications (`_application`) and for kindling's
init (its service manifests' ``needs``).

Pure functions; nothing here switches greenlets.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

__all__ = ["DependencyCycle", "dependency_order"]

N = TypeVar("N", bound=Hashable)


class DependencyCycle(ValueError):
    """The dependencies form a cycle.

    Attributes:
        cycle: the nodes of one cycle as a tuple, each needing the next,
            the first repeated at the end (``("a", "b", "a")``: a needs b,
            b needs a); it starts at the node that comes first by the
            ordering's `key`.
    """

    def __init__(self, cycle: tuple[Any, ...]) -> None:
        super().__init__("dependency cycle " + " -> ".join(map(str, cycle)))
        self.cycle = cycle


def dependency_order(
    needs: Mapping[N, Iterable[N]], key: Callable[[N], Any] | None = None
) -> list[N]:
    """Every node of `needs` once, each after the nodes it needs.

    Args:
        needs: node -> the nodes it needs. A needed node that is not a key
            is ignored here (the caller decides what a missing one means).
        key: among the nodes whose needs are all placed, the one with the
            smallest ``key(node)`` comes first (default: the node itself),
            so the order is stable.

    Raises:
        DependencyCycle: some nodes need each other in a cycle (one cycle
            is reported).

    Switches: never.
    """
    key = key or (lambda n: n)
    sorter: graphlib.TopologicalSorter[N] = graphlib.TopologicalSorter()
    for node, wanted in needs.items():
        sorter.add(node, *(w for w in wanted if w in needs))
    try:
        sorter.prepare()
    except graphlib.CycleError as e:
        raise DependencyCycle(_readable(e.args[1], key)) from None
    order: list[N] = []
    ready: list[tuple[Any, int, N]] = []
    seq = 0  # ties of equal keys keep graphlib's order
    while sorter.is_active():
        for node in sorter.get_ready():
            heapq.heappush(ready, (key(node), seq, node))
            seq += 1
        _, _, node = heapq.heappop(ready)
        order.append(node)
        sorter.done(node)
    return order


def _readable(found: list[Any], key: Callable[[Any], Any]) -> tuple[Any, ...]:
    """graphlib's cycle (each node a predecessor of the next) as a chain of
    needs, starting at its first node by `key`."""
    chain = list(reversed(found))[:-1]  # each needs the next; drop the repeat
    start = min(range(len(chain)), key=lambda i: key(chain[i]))
    chain = chain[start:] + chain[:start]
    return (*chain, chain[0])
