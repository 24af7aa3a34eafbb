"""Supervisors: Erlang's ``supervisor`` on the kernel (rule O5).

A supervisor is a process that starts children in order, watches them
through links (it traps exits), restarts them by its strategy, and stops
them in reverse order. It does not depend on gen_server; it speaks the
`call` protocol of `_call` for its admin calls. The process loop is in
`_supervisor_loop`, the child specs in `_supervisor_spec`.

Starting::

    sup = start_link([
        ChildSpec("db", (db_loop, (config,))),                 # a plain process
        ChildSpec("web", web_start_link, args=(port,)),        # a start function
        supervisor_spec("workers", [...], strategy="one_for_all"),
    ], strategy="rest_for_one", intensity=3, period=5)

Strategies: ``one_for_one`` (restart the child that died),
``one_for_all`` (stop the others in reverse order, start them all again in
order), ``rest_for_one`` (the same for the children started after it),
``simple_one_for_one`` (one spec, children added with `start_child(sup,
extra_args)`, all alike; they are stopped together, not in an order).

Restart types (`ChildSpec.restart`), with Erlang's meaning: ``permanent``
children are always restarted; ``transient`` ones only after an abnormal
exit (any reason but ``normal``, ``shutdown`` and ``("shutdown", term)``);
``temporary`` ones never, and they are forgotten once they stop.

Intensity: each restart is recorded at ``vm.current_runtime().clock.now()``.
If more than `intensity` restarts happened within the last `period`
seconds (counting the one being made, both ends of the window included),
the supervisor stops all its children, in reverse order, and exits with
``shutdown``. Its own supervisor sees that exit and decides (escalation).
A failed restart is retried through a message the supervisor sends itself,
and each retry counts as a restart, so a child that can't start ends in
the same shutdown.

Shutdown (`ChildSpec.shutdown`): ``"brutal_kill"`` kills the child
(reason ``killed``); a number of seconds sends the exit signal ``shutdown``
and kills the child if it has not ended when that time has passed on the
runtime's clock; ``"infinity"`` waits as long as it takes (the default for
supervisor children).

The parent: the process that called `start_link` is the supervisor's
parent. An `Exit` from it (its death, or ``vm.exit(sup, reason)`` from it)
makes the supervisor stop its children in reverse order and exit with the
same reason, like any OTP process. Exit signals from other processes that
are not children are ignored (the supervisor traps exits).

Significant children and `auto_shutdown`: with ``"any_significant"`` the
supervisor stops itself (reason ``shutdown``) when any significant child
ends by itself and is not restarted; with ``"all_significant"`` when the
last running significant child does. Only transient and temporary
children may be significant; a significant child under ``auto_shutdown=
"never"`` is an error (Erlang's ``bad_combination``). Children stopped by
the supervisor itself (terminate_child, a restart, its own shutdown) never
trigger it.

Admin calls and their replies (Erlang's shapes as Python terms):

=============================  ============================================
call                           reply
=============================  ============================================
``start_child(sup, spec)``     ``("ok", cap)``; ``("ok", None)`` if the
                               start function returned ``"ignore"``;
                               ``("error", ("already_started", cap))``;
                               ``("error", "already_present")`` (a stopped
                               child with that id); ``("error", reason)``
                               if the start failed (Erlang adds the child
                               record; here the reason comes alone);
                               ``("error", ("bad_combination", ...))``;
                               ``("error", ("invalid_child_spec", text))``
``start_child(sup, args)``     simple_one_for_one: the spec's args plus
                               `args`; ``("ok", cap)``, ``("ok", None)``
                               or ``("error", reason)``
``terminate_child(sup, id)``   ``"ok"``; ``("error", "not_found")``. A
                               temporary child is forgotten; others stay
                               as stopped specs. simple_one_for_one: `id`
                               is the child's `Cap`; ``"ok"`` also for a
                               dead one; any other id gives
                               ``("error", "simple_one_for_one")``
``restart_child(sup, id)``     ``("ok", cap)``, ``("ok", None)``;
                               ``("error", "running")``,
                               ``("error", "restarting")``,
                               ``("error", "not_found")``,
                               ``("error", reason)``,
                               ``("error", "simple_one_for_one")``
``delete_child(sup, id)``      ``"ok"``; ``("error", "running")``,
                               ``("error", "restarting")``,
                               ``("error", "not_found")``,
                               ``("error", "simple_one_for_one")``
``which_children(sup)``        a list of `ChildInfo` ``(id, child, type,
                               restarts)`` in start order; `child` is a
                               `Cap` (SEND, MONITOR, KILL), ``"restarting"``
                               or None
``count_children(sup)``        ``{"specs", "active", "supervisors",
                               "workers", "restarts"}``: Erlang's counts
                               plus the restarts this supervisor made
=============================  ============================================

A `start_child` spec travels in a message, so its function must be a
module-level one (see `_supervisor_spec`): it travels as an unforgeable
reference that only resolves in this OS process, or as the name of one of
the supervisor's ``allowed_starts``. Nothing is imported by name from a
message: any other reference is answered ``("error", ("invalid_child_spec",
text))``. Still, give supervisor capabilities only to trusted code: SEND on
a supervisor is the power to start, stop and restart its children, and
`which_children` hands out capabilities (SEND, MONITOR, KILL) to every one
of them. Never hand one to a guest or a peer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hearth import vm
from hearth.vm import LINK, SEND, Cap, Down, Message, format_reason

from ._call import call
from ._codec import decode
from ._errors import DecodeError, StartError
from ._supervisor_loop import CHILD_PERMS, supervisor_main
from ._supervisor_spec import (
    ChildInfo,
    ChildSpec,
    args_to_term,
    caps_in,
    check_allowed_starts,
    check_flags,
    check_significant,
    check_spec,
    spec_to_term,
)

__all__ = [
    "ChildSpec",
    "ChildInfo",
    "CHILD_PERMS",
    "start_link",
    "supervisor_spec",
    "start_child",
    "terminate_child",
    "restart_child",
    "delete_child",
    "which_children",
    "count_children",
    "BEHAVIOUR",
    "supervisor_pids",
]

#: Every supervisor process carries ``{"behaviour": "supervisor"}`` in its
#: metadata: what tools (the inspector's tree) find supervisors by.
BEHAVIOUR = "supervisor"


def supervisor_pids(runtime: vm.Runtime) -> list[int]:
    """The pids of the live supervisors of `runtime`, in order (a process
    is one if it carries the supervisor mark in its metadata, which
    `start_link` gives it). Switches: never."""
    return vm.pids_with_metadata(runtime, "behaviour", BEHAVIOUR)

_BOX_KEY = "$otp.supervisor_start_box"


def start_link(
    children: Iterable[ChildSpec] = (),
    strategy: str = "one_for_one",
    intensity: int = 1,
    period: float = 5,
    auto_shutdown: str = "never",
    name: str | None = None,
    allowed_starts: Any = None,
) -> Cap:
    """Start a supervisor linked to the caller; return once every child has
    started.

    Runs in the caller's process, which becomes the supervisor's parent.

    Args:
        children: `ChildSpec`s, started in this order. Under
            ``simple_one_for_one``, exactly one: the template of the children
            `start_child` adds.
        strategy: ``"one_for_one"``, ``"one_for_all"``, ``"rest_for_one"`` or
            ``"simple_one_for_one"``.
        intensity: restarts allowed within `period` (an int >= 0).
        period: the window of the intensity, in seconds of the runtime's
            clock.
        auto_shutdown: ``"never"``, ``"any_significant"`` or
            ``"all_significant"``.
        name: the supervisor process's name, for tools.
        allowed_starts: a dict name -> callable: the start functions a
            child spec may name with a str (``ChildSpec(id, "name",
            args=...)``), here or in a later `start_child`. Names are str
            not starting with ``$``.

    Returns:
        a capability (all permissions) to the supervisor.

    Raises:
        StartError: a child failed to start; the supervisor has stopped the
            ones it started and exited (the caller is unlinked first and
            does not die of it). `reason` is Erlang's ``("shutdown",
            ("failed_to_start_child", id, child_reason))``.
        ValueError, TypeError: a malformed flag or child spec (raised
            before anything starts).

    Switches: always.
    """
    check_flags(strategy, intensity, period, auto_shutdown)
    allowed = check_allowed_starts(allowed_starts)
    children = list(children)
    ids = set()
    for spec in children:
        check_spec(spec)
        if type(spec.function) is str and spec.function not in allowed:
            raise ValueError(f"child {spec.id!r}: {spec.function!r} is not one of "
                             f"allowed_starts {sorted(allowed)}")
        bad = check_significant(spec, auto_shutdown)
        if bad is not None:
            raise ValueError(f"child {spec.id!r}: {bad!r}")
        if spec.id in ids:
            raise ValueError(f"duplicate child id {spec.id!r}")
        ids.add(spec.id)
    if strategy == "simple_one_for_one" and len(children) != 1:
        raise ValueError("simple_one_for_one needs exactly one child spec")
    proc = vm.current_process()
    box = _take_box(proc)
    try:
        ack = box.make_capability(SEND)
        me = vm.make_capability(LINK)
        # The kernel imports top-level capability arguments only, so the
        # ones nested in specs travel as extra arguments, in order.
        caps = caps_in(children)
        sup = vm.spawn_link(
            supervisor_main,
            me,
            ack,
            (strategy, intensity, period, auto_shutdown, allowed),
            children,
            *caps,
            trap_exit=True,
            name=name,
            description=f"supervisor ({strategy})",
            behaviour=BEHAVIOUR,
        )
        me.release()
        ack.release()
        return _wait_started(proc, box, sup)
    finally:
        _give_back_box(proc, box)


def _take_box(proc: vm.Process) -> vm.Mailbox:
    # One start mailbox per process, reused: a supervisor that restarts a
    # child supervisor many times would otherwise create and destroy a
    # mailbox each time.
    d = proc.dictionary
    if d is None:
        d = proc.dictionary = {}
    box = d.pop(_BOX_KEY, None)
    if box is None or box.closed:
        box = vm.create_mailbox()
    return box


def _give_back_box(proc: vm.Process, box: vm.Mailbox) -> None:
    if box.closed:
        return
    while True:
        sig = box.try_recv()
        if sig is None:
            break
        for cap in getattr(sig, "caps", None) or ():
            cap.release()
        if type(sig) is Down:
            sig.cap.release()
    if proc.dictionary is None:
        proc.dictionary = {}
    proc.dictionary[_BOX_KEY] = box


def _wait_started(proc: vm.Process, box: vm.Mailbox, sup: Cap) -> Cap:
    ref = sup.monitor(box)
    while True:
        sig = box.recv()
        if type(sig) is Down:
            sig.cap.release()
            if sig.ref == ref:
                sup.release()
                raise StartError(f"supervisor died while starting: {format_reason(sig.reason)}",
                                 sig.reason)
            continue
        if type(sig) is not Message:
            continue
        try:
            term = decode(sig.data, sig.caps)
        except DecodeError:
            term = None
        for cap in sig.caps:
            cap.release()
        if term == ("ok",):
            proc.demonitor(ref, flush=True)
            return sup
        if type(term) is tuple and len(term) == 2 and term[0] == "error":
            reason = term[1]
            # Return only once it is gone, so the caller sees a clean slate.
            while True:
                sig = box.recv()
                if type(sig) is Down:
                    sig.cap.release()
                    if sig.ref == ref:
                        break
            sup.release()
            raise StartError(f"supervisor failed to start: {format_reason(reason)}", reason)


def supervisor_spec(
    id: Any,
    children: Sequence[ChildSpec],
    strategy: str = "one_for_one",
    intensity: int = 1,
    period: float = 5,
    auto_shutdown: str = "never",
    *,
    restart: str = "permanent",
    shutdown: Any = "infinity",
    significant: bool = False,
    allowed_starts: Any = None,
) -> ChildSpec:
    """A `ChildSpec` for a child supervisor started with `start_link`
    (`allowed_starts`: that supervisor's, see `start_link`).

    Switches: never.
    """
    return ChildSpec(
        id,
        start_link,
        args=(tuple(children), strategy, intensity, period, auto_shutdown,
              id if isinstance(id, str) else None, allowed_starts),
        restart=restart,
        shutdown=shutdown,
        type="supervisor",
        significant=significant,
    )


# -- admin calls: thin wrappers over `call` ---------------------------------------------


def start_child(sup: Cap, spec_or_args: Any, timeout: float | None = None) -> Any:
    """Add a child: a `ChildSpec`, or under ``simple_one_for_one`` the extra
    arguments (a tuple or list) for the template. See the module docstring
    for the replies; a malformed spec (say ``restart="bogus"``) is answered
    ``("error", ("invalid_child_spec", text))``, as OTP does, without
    asking the supervisor.

    Raises:
        TypeError: the spec's function can't be named in a message.
        CallError: the supervisor is dead (or the timeout passed).

    Switches: always.
    """
    if isinstance(spec_or_args, ChildSpec):
        try:
            term = spec_to_term(spec_or_args)
        except ValueError as e:
            return ("error", ("invalid_child_spec", str(e)))
        request = ("start_child", term)
    else:
        request = ("start_child", ("args", args_to_term(tuple(spec_or_args))))
    return call(sup, request, timeout)


def terminate_child(sup: Cap, id: Any, timeout: float | None = None) -> Any:
    """Stop a child; ``"ok"`` or ``("error", ...)``. Switches: always."""
    return call(sup, ("terminate_child", id), timeout)


def restart_child(sup: Cap, id: Any, timeout: float | None = None) -> Any:
    """Start a stopped child again; ``("ok", cap)`` or ``("error", ...)``.

    Switches: always.
    """
    return call(sup, ("restart_child", id), timeout)


def delete_child(sup: Cap, id: Any, timeout: float | None = None) -> Any:
    """Forget a stopped child's spec; ``"ok"`` or ``("error", ...)``.

    Switches: always.
    """
    return call(sup, ("delete_child", id), timeout)


def which_children(sup: Cap, timeout: float | None = None) -> list[ChildInfo]:
    """The children in start order, as `ChildInfo` tuples. Switches: always."""
    return [ChildInfo(*entry) for entry in call(sup, ("which_children",), timeout)]


def count_children(sup: Cap, timeout: float | None = None) -> dict[str, int]:
    """A dict of counts: specs, active, supervisors, workers, restarts.

    Switches: always.
    """
    return dict(call(sup, ("count_children",), timeout))
