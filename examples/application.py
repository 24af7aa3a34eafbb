"""Applications: a tree started with its dependencies, stopped in reverse (O6).

Three applications: ``log`` (temporary), ``db`` (needs log) and ``web``
(needs db, permanent). Starting web starts log, then db, then web. Stopping
db by request leaves the others running (a requested stop never triggers
the type rules); stopping the controller stops the rest in reverse start
order. Last, a permanent application's tree gives up: the controller stops
everything else and exits with ``("application_terminated", name,
reason)``. The log lines on stderr are the supervisor's and the
controller's reports.

Run it: ``python examples/application.py``. It prints what happens and
exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp import decode, encode  # noqa: E402
from hearth.otp._application import (  # noqa: E402
    Application,
    load_application,
    start_application,
    start_link_application_controller,
    stop_application,
    stop_application_controller,
    which_applications,
)
from hearth.otp._supervisor import ChildSpec, start_link, which_children  # noqa: E402


def worker(name):
    vm.set_metadata(name=name)
    while True:
        vm.recv()


def start_tree(name, report):
    """An application's start: a supervisor with one worker, linked to the
    caller (the application's master). Returns (supervisor, state)."""
    print(f"  starting {name}")
    sup = start_link([ChildSpec(f"{name}-worker", (worker, (name,)))], intensity=0)
    report.send(*encode((name, sup)))
    return sup, name


def stop_tree(name):
    """An application's stop: runs after its tree has stopped."""
    print(f"  {name} stopped")


def describe(name, needs=(), type="temporary", report=None):
    return Application(
        name, start_tree, args=(name, report), applications=needs, type=type,
        stop=stop_tree, version="1.0", description=f"the {name} service",
    )


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main", trap_exit=True):
        box = vm.create_mailbox()
        report = box.make_capability(vm.SEND)

        ctl = start_link_application_controller()
        load_application(ctl, describe("log", report=report))
        load_application(ctl, describe("db", ("log",), report=report))
        load_application(ctl, describe("web", ("db",), "permanent", report=report))
        print("starting web:")
        start_application(ctl, "web")
        print("running (latest first):", [name for name, _, _ in which_applications(ctl)])

        print("stopping db by request (web keeps running):")
        stop_application(ctl, "db")
        print("running:", [name for name, _, _ in which_applications(ctl)])

        print("stopping the controller:")
        print("stopped, in order:", stop_application_controller(ctl))
        sig = vm.recv(timeout=5)
        print("the controller exited:", sig.reason)

        while box.try_recv() is not None:
            pass  # the first run's start reports
        print("a new controller; web's tree crashes:")
        ctl = start_link_application_controller()
        for app in (describe("log", report=report), describe("web", (), "permanent", report)):
            load_application(ctl, app)
        start_application(ctl, "log")
        start_application(ctl, "web")
        sups = {}
        while (sig := box.try_recv()) is not None:
            name, sup = decode(sig.data, sig.caps)
            sups[name] = sup
        web_worker = which_children(sups["web"])[0].child
        web_worker.kill()  # intensity 0: the supervisor gives up
        while True:
            sig = vm.recv(timeout=5)
            if type(sig) is vm.Exit and sig.cap.same_route(ctl):
                break
        print("the controller exited:", vm.format_reason(sig.reason))
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
