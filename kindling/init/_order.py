"""Start order: sort services by their ``needs``, and find the ones that
can't start (a missing dependency, a cycle, a failed dependency).

Pure functions over manifests; nothing switches greenlets. The ordering
itself is `hearth.otp.dependency_order` (on `graphlib`), the one
applications use too.
"""

from hearth.otp import DependencyCycle, dependency_order

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
        every candidate that must not start. Every member of a cycle fails
        with ``dependency cycle a -> b -> a`` (the cycle from its first
        name), and the rest is ordered without it.

    Switches: never.
    """
    failures = {}
    needs = {name: manifests[name].needs for name in manifests}
    while True:
        try:
            ordered = dependency_order(needs)
            break
        except DependencyCycle as e:
            # Each member of the cycle fails naming it; its dependents fail
            # below, naming the member they need. Then order the rest.
            text = "dependency cycle " + " -> ".join(e.cycle)
            for member in e.cycle:
                failures.setdefault(member, text)
                needs.pop(member, None)
    order = []
    for name in ordered:
        reason = None
        for need in manifests[name].needs:
            if need in manifests:
                if need in failures and reason is None:
                    reason = f"dependency {need} not started: {failures[need]}"
            elif need in failed:
                reason = reason or f"dependency {need} not started: {failed[need]}"
            elif need not in native:
                reason = reason or f"missing dependency {need}"
        if reason is not None:
            failures[name] = reason
        else:
            order.append(name)
    return order, failures
