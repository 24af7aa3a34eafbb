"""Request-Response: a raw process answering calls, a caller with a timeout.

No GenServer here: the server is a plain receive loop that sorts each
signal with `classify` and answers calls with `reply`, using docs/protocols.md's
reply shape (``{"ok": value}`` or ``{"err": {"kind", "message"}}``). The
caller uses `call` with a timeout, sees a `CallTimeout` when the server
keeps quiet, and a `ServerExited` once the server is gone.

Run it: ``python examples/request_response.py``. It prints what happens and
exits 0.
"""

from gevent import monkey

monkey.patch_all()

from hearth import vm  # noqa: E402
from hearth.otp import CallTimeout, ServerExited, call, cast, classify, reply  # noqa: E402
from hearth.otp._patterns import err, ok  # noqa: E402


def adder():
    """Answer ("add", a, b); never answer ("ignore me",); count casts."""
    casts = 0
    while True:
        sig = vm.recv()
        kind = classify(sig)
        if kind[0] == "call":
            from_, request = kind[1], kind[2]
            if type(request) is tuple and len(request) == 3 and request[0] == "add":
                reply(from_, ok(request[1] + request[2]))
            elif request == ("casts",):
                reply(from_, ok(casts))
            elif request == ("ignore me",):
                from_.cap.release()  # no answer: the caller times out
            else:
                reply(from_, err("invalid_request", f"unknown request {request!r}"))
        elif kind[0] == "cast":
            casts += 1
        # Anything else (a foreign message, a Down) is dropped; release the
        # capabilities that came with it.
        for cap in getattr(sig, "caps", ()):
            if cap.refs:
                cap.release()


def main():
    runtime = vm.Runtime()
    with runtime.open_process(name="main"):
        server = vm.spawn(adder, name="adder")
        print("add 2 3 ->", call(server, ("add", 2, 3)))
        print("subtract ->", call(server, ("subtract", 2, 3)))
        cast(server, "hello")
        cast(server, "again")
        print("casts seen ->", call(server, ("casts",)))
        try:
            call(server, ("ignore me",), timeout=0.2)
        except CallTimeout as e:
            print("a quiet server ->", type(e).__name__, e)
        watch = server.monitor()
        server.kill()
        assert vm.recv(timeout=5).ref == watch
        try:
            call(server, ("add", 1, 1))
        except ServerExited as e:
            print("a dead server ->", type(e).__name__, "reason:", e.reason)
    runtime.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
