"""Start order: sort services by their ``needs``, and find the ones that
can't start (a missing dependency, a cycle, a failed dependency).

Pure functions over manifests; nothing switches greenlets.
"""

__all__ = ["plan"]


def plan(manifests, failed, native):
    """Order the services so each starts after the root services it needs.

    Args:
        manifests: name -> `Manifest` of the candidate services.
        failed: name -> reason of services that can't start already (a bad
            manifest, another target); dependents of these fail too.
        native: names already registered that are not root services (the
            native ones, such as ``hearth.Sleep``): a need naming one is
            satisfied.

    Returns:
        ``(order, failures)``: the names to start, dependencies first (ties
        broken by name, so the order is stable), and name -> reason for
        every candidate that must not start.

    Switches: never.
    """
    failures = {}
    order = []
    state = {}  # name -> "visiting" | "done"

    def visit(name, path):
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name):] + [name]
            text = "dependency cycle " + " -> ".join(cycle)
            for member in cycle:
                failures.setdefault(member, text)
            return
        state[name] = "visiting"
        path.append(name)
        reason = None
        for need in manifests[name].needs:
            if need in manifests:
                visit(need, path)
                if need in failures and reason is None:
                    reason = f"dependency {need} not started: {failures[need]}"
            elif need in failed:
                reason = reason or f"dependency {need} not started: {failed[need]}"
            elif need not in native:
                reason = reason or f"missing dependency {need}"
        path.pop()
        state[name] = "done"
        if name in failures:
            return  # a member of a cycle
        if reason is not None:
            failures[name] = reason
        else:
            order.append(name)

    for name in sorted(manifests):
        visit(name, [])
    # A member of a cycle may have been appended before the cycle closed
    # through a later sibling; drop anything that failed after all.
    order = [n for n in order if n not in failures]
    return order, failures
