"""Starting the client's native services together: ``hearth.Window`` (the
frame loop), ``hearth.Renderer``, ``hearth.canvas.CanvasFactory``,
``hearth.DebugDrawFactory``, ``hearth.terminal.TerminalFactory`` and
``hearth.text.TextFactory``, over one `Display`."""

from typing import NamedTuple

from hearth import vm

from hearth.native._service import start_supervised

from ._canvas import CANVAS_FACTORY, CanvasFactory
from ._debug_draw import DEBUG_DRAW_FACTORY, DebugDrawFactory
from ._renderer import RENDERER, Renderer
from .terminal import TERMINAL_FACTORY, TerminalFactory
from .text._service import TEXT_FACTORY, TextFactory
from ._window import WINDOW, Window

__all__ = ["CLIENT_SERVICES", "ClientServices", "start_client_services"]

CLIENT_SERVICES = (WINDOW, RENDERER, CANVAS_FACTORY, DEBUG_DRAW_FACTORY, TERMINAL_FACTORY,
                   TEXT_FACTORY)


class ClientServices(NamedTuple):
    """What `start_client_services` returns.

    Attributes:
        supervisor: their supervisor (all permissions), linked to the caller.
        caps: registry name -> the registered capability (SEND, MONITOR).
    """

    supervisor: vm.Cap
    caps: dict


def start_client_services(registry, display, *, fps=60.0, on_close=None, intensity=3,
                          period=5.0):
    """Start the client services (`CLIENT_SERVICES`) over `display` under a supervisor
    linked to the caller, each registered in `registry` under its name.

    A service that crashes is restarted (``one_for_one``) and registered
    again; the scene and the GPU caches live in `display`, so a restarted
    frame loop carries on drawing what was there.

    Args:
        registry: a registry capability that may register the names.
        display: the `Display` (`open_display`).
        fps: the frame loop's rate, or None to draw as fast as it can.
        on_close: called when the window's close button is pressed.
        intensity, period: the supervisor's restart limit.

    Returns:
        a `ClientServices`.

    Switches: always.
    """
    scene = display.scene
    services = [
        (WINDOW, Window, (display, fps, on_close)),
        (RENDERER, Renderer, (scene,)),
        (CANVAS_FACTORY, CanvasFactory, (scene,)),
        (DEBUG_DRAW_FACTORY, DebugDrawFactory, (scene,)),
        (TERMINAL_FACTORY, TerminalFactory, (scene,)),
        (TEXT_FACTORY, TextFactory, (scene,)),
    ]
    sup, caps = start_supervised(registry, services, name="hearth.client",
                                 intensity=intensity, period=period)
    return ClientServices(sup, caps)
