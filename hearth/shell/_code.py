"""``c(path)`` and ``r(name)``: new code into a running runtime, from the
shell, through init's own reload.

``c(path)`` finds the service of the runtime's root whose directory holds
`path` (a C source, or the directory itself), builds every ``*.c`` of that
directory with the guest SDK (`kindling.sdk.build`), and, if the build
succeeds, writes the module over the service's entry and asks init
(``hearth.init``) to reload: init sees the directory changed and, the
manifest being the same, upgrades the guest behind its front
(`hearth.native`'s guest upgrade), so the service's pid and every client's
capability stay. A build that fails prints the compiler's output and
changes nothing: no file is written, the old code runs on. A source that
no service's directory holds is built next to itself and spawned through
the wasm spawner.

``r(name)`` asks init to reload and reports what happened to the Python
service `name`: init restarts a service whose files changed (its new code
loaded fresh), which is the same path ``--watch`` takes.

Both run in the shell's process and switch (the compiler runs as a
subprocess; init is called). Kindling (init's manifests, the SDK) is
loaded when they are first used.
"""

import os
import shutil
import tempfile
import time

from hearth import otp

__all__ = ["compile_and_load", "reload_python", "find_service"]

INIT = "hearth.init"
INSPECTOR = "hearth.Inspector"
SPAWNER = "hearth.wasm.WasmProcessSpawner"
RELOAD_TIMEOUT = 120.0


def _manifests(root):
    from kindling.init import scan_root  # layer 4, loaded by name when used

    manifests, _problems = scan_root(root)
    return manifests


def find_service(root, path):
    """The `Manifest` of the service of `root` whose directory holds `path`
    (or is it), or None. Switches: never."""
    if root is None:
        return None
    path = os.path.realpath(path)
    for m in _manifests(root).values():
        directory = os.path.realpath(m.directory)
        if path == directory or path.startswith(directory + os.sep):
            return m
    return None


def _pids(registry):
    """Registered name -> pid, from the inspector ({} without one)."""
    inspector = otp.lookup(registry, INSPECTOR, timeout=15)
    if inspector is None:
        return {}
    try:
        return {r["name"]: r["pid"] for r in otp.request(inspector, "services", timeout=15)}
    finally:
        inspector.release()


def _reload(registry):
    """Ask init to reload; ``(changes, status rows by name)``."""
    init = otp.lookup(registry, INIT, timeout=15)
    if init is None:
        raise LookupError("this runtime runs no init (hearth.init): nothing can be reloaded")
    try:
        changes = otp.call(init, "reload_services", RELOAD_TIMEOUT)
        rows = {r["name"]: r for r in otp.call(init, "services", 30)}
    finally:
        init.release()
    return {k: list(v) for k, v in changes.items()}, rows


def _build(sources, output):
    """Build `sources` into `output`; None, or the compiler's complaint."""
    from kindling.sdk import BuildError, ToolchainMissing, build

    try:
        build(sources, output)
    except ToolchainMissing as e:
        return str(e)
    except BuildError as e:
        return e.output.rstrip() or str(e)
    return None


def _write_over(path, data):
    """Replace the file at `path` with `data` in one step (a reader sees
    the old bytes or the new, never half)."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.hibashi-new")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def compile_and_load(session, path):
    """``c(path)`` (see the module docstring). Prints what it did; returns
    a dict (``service``, ``action``, ``pid``, ``seconds``) or None if
    nothing changed. Switches: always."""
    started = time.monotonic()
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if not os.path.exists(path):
        print(f"c: {path}: no such file")
        return None
    root = session.settings.root
    m = find_service(root, path)
    if m is None:
        return _build_and_spawn(session, path, started)
    if m.kind != "wasm":
        print(f"c: {m.name} is a Python service: save its file and r({m.name!r})")
        return None
    sources = sorted(os.path.join(m.directory, f) for f in os.listdir(m.directory)
                     if f.endswith(".c"))
    if not sources:
        print(f"c: {m.directory} holds no C source to build")
        return None
    scratch = tempfile.mkdtemp(prefix="hibashi-")
    try:
        out = os.path.join(scratch, os.path.basename(m.file))
        problem = _build(sources, out)
        built = time.monotonic()
        if problem is not None:
            print(problem)
            print(f"c: the build failed; {m.name} runs on, unchanged")
            return None
        with open(out, "rb") as f:
            data = f.read()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    registry = session.registry
    before = _pids(registry).get(m.name)
    try:
        with open(m.file, "rb") as f:
            same = f.read() == data
    except OSError:
        same = False
    if same and before is not None:
        print(f"c: {m.name} already runs this build (pid {before}): nothing to do")
        return {"service": m.name, "action": "unchanged", "pid": before,
                "seconds": time.monotonic() - started}
    _write_over(m.file, data)
    reloading = time.monotonic()
    changes, rows = _reload(registry)
    reloaded = time.monotonic()
    after = _pids(registry).get(m.name)
    row = rows.get(m.name, {})
    seconds = time.monotonic() - started
    steps = (f"build {built - started:.2f} s, reload {reloaded - reloading:.2f} s")
    if row.get("state") != "running":
        print(f"c: built {os.path.basename(m.file)}, but {m.name} is {row.get('state')}:"
              f" {row.get('reason')}")
        return {"service": m.name, "action": row.get("state"), "pid": after,
                "seconds": seconds}
    if m.name in changes["failed"]:
        print(f"c: {m.name}: {row.get('reason')}")
        return {"service": m.name, "action": "failed", "pid": after, "seconds": seconds}
    if before is None:
        action = "started"
        print(f"c: started {m.name} (pid {after}) in {seconds:.2f} s ({steps})")
    elif before == after:
        action = "upgraded"
        print(f"c: upgraded {m.name} in place (pid {after} kept) in {seconds:.2f} s ({steps})")
    else:
        action = "restarted"
        print(f"c: restarted {m.name} (pid {before} -> {after}) in {seconds:.2f} s ({steps})")
    others = sorted({n for v in changes.values() for n in v} - {m.name})
    if others:
        print(f"c: the reload also touched: {', '.join(others)}")
    return {"service": m.name, "action": action, "pid": after, "seconds": seconds}


def _build_and_spawn(session, path, started):
    """A source no service runs: build it beside itself and spawn it."""
    if not path.endswith(".c") or not os.path.isfile(path):
        print(f"c: {path} is not a C source of a service of the root ({session.settings.root})"
              " nor a .c file to build and spawn")
        return None
    out = path[:-2] + ".wasm"
    problem = _build([path], out)
    if problem is not None:
        print(problem)
        print("c: the build failed; nothing was spawned")
        return None
    from hearth import vm

    with open(out, "rb") as f:
        lid = vm.current_runtime().lumps.put(f.read())
    registry = session.registry
    spawner = otp.lookup(registry, SPAWNER, timeout=15)
    if spawner is None:
        print(f"c: built {out}, but this runtime has no wasm spawner")
        return None
    view = otp.registry_view(registry, read_only=True)
    try:
        guest = otp.request(spawner, ["spawn", bytes(lid)], [view], timeout=60)
    finally:
        view.release()
        spawner.release()
    inspector = otp.lookup(registry, INSPECTOR, timeout=15)
    pid = None
    if inspector is not None:
        pid = otp.request(inspector, "whois", [guest], timeout=15)["pid"]
        inspector.release()
    seconds = time.monotonic() - started
    print(f"c: no service runs {os.path.basename(path)}: built {out} and spawned pid {pid}"
          f" in {seconds:.2f} s")
    return {"service": None, "action": "spawned", "pid": pid, "seconds": seconds,
            "guest": guest}


def reload_python(session, name):
    """``r(name)`` (see the module docstring). Prints what happened;
    returns the action (``restarted``, ``unchanged``, ``failed``) or None.
    Switches: always."""
    root = session.settings.root
    if root is None:
        print("r: this runtime has no root of services to reload")
        return None
    m = _manifests(root).get(name)
    if m is None:
        print(f"r: no service named {name!r} under {os.path.join(root, 'init')}")
        return None
    if m.kind != "python":
        print(f"r: {name} is a wasm service: c({m.directory!r}) builds and upgrades it")
        return None
    registry = session.registry
    before = _pids(registry).get(name)
    changes, rows = _reload(registry)
    after = _pids(registry).get(name)
    row = rows.get(name, {})
    if name in changes["failed"] or row.get("state") == "failed":
        print(f"r: {name} failed: {row.get('reason')}")
        action = "failed"
    elif name in changes["upgraded"] or name in changes["started"]:
        print(f"r: reloaded {name} (pid {before} -> {after})")
        action = "restarted"
    else:
        print(f"r: {name} is unchanged since it started (pid {after}): nothing to reload")
        action = "unchanged"
    others = sorted({n for v in changes.values() for n in v} - {name})
    if others:
        print(f"r: the reload also touched: {', '.join(others)}")
    return action
