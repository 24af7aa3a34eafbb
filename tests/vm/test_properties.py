"""Property tests (Hypothesis): capability tables and link symmetry."""

from hypothesis import given, settings
from hypothesis import strategies as st

from hearth import vm

PERMS = st.sampled_from([vm.NONE, vm.SEND, vm.MONITOR, vm.KILL, vm.LINK, vm.ALL])

table_ops = st.lists(
    st.one_of(
        st.tuples(st.just("mint"), st.integers(0, 2), PERMS),
        st.tuples(st.just("release"), st.integers(0, 20)),
        st.tuples(st.just("inc_ref"), st.integers(0, 20)),
        st.tuples(st.just("demote"), st.integers(0, 20), PERMS),
    ),
    max_size=60,
)


@settings(deadline=None, max_examples=150)
@given(table_ops)
def test_v1_v2_v3_a_table_matches_a_model_of_reference_counts(ops):
    rt = vm.Runtime()
    with rt.open_process() as me:
        boxes = [vm.create_mailbox() for _ in range(3)]
        model = {}  # (box index, perms) -> refs
        live = []  # Cap handles in the order first seen
        for op in ops:
            if op[0] == "mint":
                _, i, perms = op
                cap = boxes[i].make_capability(perms)
                model[(i, perms)] = model.get((i, perms), 0) + 1
                if cap not in live:
                    live.append(cap)
            elif not live:
                continue
            else:
                cap = live[op[1] % len(live)]
                key = (next(i for i, b in enumerate(boxes) if cap.route_id == b.route_id),
                       int(cap._perms))
                if op[0] == "release":
                    cap.release()
                    model[key] -= 1
                    if not model[key]:
                        del model[key]
                        live.remove(cap)
                elif op[0] == "inc_ref":
                    cap.inc_ref()
                    model[key] += 1
                else:
                    perms = op[2]
                    if perms & ~cap._perms:
                        try:
                            cap.demote(perms)
                        except vm.PermissionDenied:
                            continue
                        raise AssertionError("demote widened permissions")
                    new = cap.demote(perms)
                    nkey = (key[0], perms)
                    model[nkey] = model.get(nkey, 0) + 1
                    if new not in live:
                        live.append(new)
            # The table agrees with the model, handle by handle.
            caps = me.table.caps()
            assert len(caps) == len(model)
            for c in caps:
                i = next(i for i, b in enumerate(boxes) if c.route_id == b.route_id)
                assert c.refs == model[(i, int(c._perms))]
            assert len({c.handle for c in caps}) == len(caps)
    assert rt.shutdown() == []


# Mostly links and unlinks among few processes, so that pairs meet often;
# deaths are rarer because a death takes its linked peers along.
link_ops = st.lists(
    st.tuples(st.sampled_from(["link"] * 4 + ["unlink"] * 3 + ["kill", "exit_normal"]),
              st.integers(0, 3), st.integers(0, 3)),
    min_size=1,
    max_size=40,
)


@settings(deadline=None, max_examples=100)
@given(link_ops)
def test_v18_v19_links_stay_symmetric_and_dead_processes_hold_none(ops):
    rt = vm.Runtime()

    def node():
        vm.trap_exit(False)
        while True:
            sig = vm.recv()
            op, *caps = sig.data.decode(), *sig.caps
            if op == "link":
                caps[0].link()
            elif op == "unlink":
                caps[0].unlink()
            elif op == "exit_normal":
                return

    with rt.open_process(trap_exit=True) as me:
        nodes = [vm.spawn(node) for _ in range(4)]
        for op, a, b in ops:
            if op in ("link", "unlink"):
                nodes[a].send(op.encode(), [nodes[b]])
            elif op == "kill":
                nodes[a].kill()
            else:
                nodes[a].send(b"exit_normal")
            rt.wait_all_blocked()
            infos = {p.pid: p for p in rt.processes() if p.pid != me.pid}
            for pid, info in infos.items():
                for peer in info.links:
                    assert peer in infos, "a live process is linked to a dead one"
                    assert pid in infos[peer].links, "links are not symmetric"
                assert len(set(info.links)) == len(info.links)
        while vm.try_recv() is not None:
            pass
    assert rt.shutdown() == []
