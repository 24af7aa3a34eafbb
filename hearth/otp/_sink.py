"""Sink: a fire-and-forget service that hands each message to a function.

docs/protocols.md calls a service a *sink* when its clients only send to it and
never wait for an answer (a log, a canvas's blits, a terminal's input).
`start_sink(handler)` runs one as a `GenServer`: every message it gets is
decoded with the codec and given to ``handler(term)``, one at a time, in
arrival order::

    def show(term):
        print("got", term)

    sink = start_sink(show)
    cast(sink, {"line": "hello"})           # or: sink.send(*encode(term))

What it accepts:

- a `cast`: ``handler(request)``;
- a plain msgpack message (what a guest sends): ``handler(term)``;
- a `call`: ``handler(request)``, then the reply ``{"ok": None}`` (or
  ``{"err": {"kind": "handler_failed", ...}}``): a client that must know the
  sink has caught up can call it instead of casting.

Malformed input never stops it: a message that is not msgpack is logged and
dropped, and so is one whose handler raises an `Exception` (logged with its
traceback). The handler can stop the sink on purpose with ``vm.exit(reason)``.
Capabilities inside a term are lent to the handler for the call only, as
with `GenServer` callbacks: take your own reference (``cap.inc_ref()``) to
keep one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hearth.vm import Cap

from ._call import DEFAULT_TIMEOUT
from ._codec import decode
from ._errors import DecodeError
from ._gen_server import GenServer, start as start_server, start_link as start_link_server
from ._patterns import err, ok

__all__ = ["start_sink", "start_link_sink"]

log = logging.getLogger("hearth.otp.sink")


class Sink(GenServer):
    """The sink's server; its state is the handler."""

    def init(self, handler: Any) -> Any:
        return ("ok", handler)

    def handle_cast(self, request: Any, handler: Any) -> Any:
        _run(handler, request)
        return ("noreply", handler)

    def handle_call(self, request: Any, from_: Any, handler: Any) -> Any:
        error = _run(handler, request)
        if error is None:
            return ("reply", ok(), handler)
        return ("reply", err("handler_failed", error), handler)

    def handle_info(self, info: Any, handler: Any) -> Any:
        data = getattr(info, "data", None)
        if data is None:
            return ("noreply", handler)  # a Down or Exit: nothing to hand on
        try:
            term = decode(data, info.caps)
        except DecodeError as e:
            log.warning("sink dropped a malformed message (%r): %s", data[:32], e)
            return ("noreply", handler)
        _run(handler, term)
        return ("noreply", handler)


def _run(handler: Callable[..., object], term: Any) -> str | None:
    """Call the handler; return None, or the text of the error it raised."""
    try:
        handler(term)
    except Exception as e:
        log.exception("sink handler %r failed on %r; message dropped", handler, term)
        return f"{type(e).__qualname__}: {e}"
    return None


def start_sink(
    handler: Callable[..., object],
    *,
    name: Any = None,
    registry: Any = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Cap:
    """Start a sink that calls ``handler(term)`` for each message.

    Args:
        handler: a callable of one argument, run in the sink's process.
        name, registry: register the sink (see `start_server`).
        timeout: for the start (see `start_server`).

    Returns:
        a capability (all permissions) to the sink.

    Switches: always.
    """
    if not callable(handler):
        raise TypeError(f"a sink's handler must be callable, not {type(handler).__name__}")
    return start_server(Sink, handler, name=name, registry=registry, timeout=timeout)


def start_link_sink(
    handler: Callable[..., object],
    *,
    name: Any = None,
    registry: Any = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Cap:
    """Like `start_sink`, linked to the caller (for a supervisor).

    Switches: always.
    """
    if not callable(handler):
        raise TypeError(f"a sink's handler must be callable, not {type(handler).__name__}")
    return start_link_server(Sink, handler, name=name, registry=registry, timeout=timeout)
