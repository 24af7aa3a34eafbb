"""``hearth.Window``: the client's window, its frame loop, and its events
(docs/protocols.md).

`open_display` opens a pygame window with an OpenGL 3.3 core context and
makes the `Display`: the window, the `Scene` the client's services fill,
and the `GLRenderer` that draws it. The `Window` service is the frame loop
itself: one process (every greenlet runs on the main thread, where pygame
and OpenGL must be called) that, each frame, serves the requests that came
in, pumps pygame's events and sends them to subscribers, draws the scene,
flips, and then yields to the hub until the next frame is due (at `fps`),
or just once (``fps=None``: as fast as it can, for benchmarks). pygame and
OpenGL calls never block, so every other process keeps running between
frames.

Requests (the envelope of `hearth.native._service`; checked against the
schema in `hearth/otp/protocols/client.toml`):

``["subscribe", cap]``
    send window events (`_events`) to `cap` (SEND and MONITOR); a
    subscriber whose route closes is dropped. ok: true, or false if it was
    subscribed already. A peer (the server) subscribes only routes of its
    own (``invalid_request``), at most `PEER_SUBSCRIBERS` of them
    (``limit_reached``).
``["unsubscribe", cap]``
    ok: true, or false if it was not subscribed.
``["focus", cap]`` (ours)
    keyboard focus: `cap` (SEND and MONITOR) becomes the one receiver of
    the keyboard events (``keyboard_input``, ``received_character``,
    ``modifiers_changed``) until ``["unfocus", cap]`` or the death of its
    route; meanwhile subscribers get every other event but no keyboard
    ones. A second ``focus`` replaces the first: the old holder gets
    ``{"event": "focus_lost"}``. Whoever loses the keyboard (the
    subscribers, or the old holder) gets a ``released`` ``keyboard_input``
    for each key still held, so nothing stays pressed for it. Only this
    client's own processes may take the keyboard: a request sent for a
    peer (the server, or a guest acting for it: `Message.account`), or a
    holder that is a peer's route, is ``permission_denied``. ok: true.
``["unfocus", cap]`` (ours)
    give the keyboard back to the subscribers. ok: true, or false if `cap`
    did not hold it. The same refusal for peers.
``["focus_holder"]`` (ours)
    ok: true if some process holds the keyboard, else false.
``["set_title", str]``, ``["set_cursor_visible", bool]``
``["set_cursor_grab", mode]``
    mode ``"none"``, ``"confined"`` (kept in the window) or ``"locked"``
    (hidden and held; ``mouse_motion`` still reports motion).
``["set_camera", vfov, near, view]``
    vertical field of view in degrees (0, 180), near plane > 0, view matrix
    (16 numbers, column-major: world to camera). The far plane is at
    infinity.
``["camera"]`` (ours)
    ok: ``{"vfov", "near", "view"}``, the camera as last set (the view 16
    numbers, column-major): what a client's avatar follows.
``["screenshot"]`` (ours)
    ok, once the next frame is drawn: ``{"width", "height", "frame",
    "rgba"}``, rgba the frame's pixels, rows top to bottom; error
    ``closed`` if the window is closed first. Only the client's own
    processes may ask: the frame shows the user's terminals (a shell,
    Hibashi, what is typed into them), so a request sent for a peer (the
    server, or a guest acting for it) is ``permission_denied``.
``["stats"]`` (ours)
    ok: ``{"frames", "width", "height", "objects", "subscribers",
    "frame_times"}``,
    frame_times the seconds each of the last frames took to draw.

Closing the window sends ``close_requested`` to subscribers and calls the
`on_close` callback (the client shuts the runtime down).
"""

import time
from collections import Counter, deque

from .gl import GL  # noqa: I001 - first: it configures PyOpenGL

import gevent  # noqa: E402
import numpy as np  # noqa: E402
import pygame  # noqa: E402

from hearth.native._service import (  # noqa: E402
    INVALID_REQUEST,
    PERMISSION_DENIED,
    Service,
    ServiceError,
)
from hearth.otp import encode  # noqa: E402
from hearth.vm import MONITOR, SEND, Cap, Down, Message, account_of  # noqa: E402

from .gl._draw import GLRenderer  # noqa: E402
from ._events import KEYBOARD_EVENTS, Translator, modifiers  # noqa: E402
from ._math import check_matrix, check_number  # noqa: E402
from ._scene import Scene  # noqa: E402

# How the frame loop yields when it has no time to wait: a timer, not
# sleep(0). A loop of sleep(0) never lets gevent poll for I/O, and a wasm
# guest's host calls wake the hub through an async watcher, which is I/O:
# measured here, each call then waited ~100 ms, a guest's request ~0.5 s.
_YIELD = 1e-6

__all__ = ["WINDOW", "CLOSED", "Display", "Window", "open_display"]

WINDOW = "hearth.Window"
CLOSED = "closed"  # error kind: the request needs a frame and the window is closed
LIMIT_REACHED = "limit_reached"
#: Screenshots one peer's requests may have waiting for the next frame: each
#: is answered with a copy of the frame, queued on the connection at once.
#: Routes one peer may subscribe (each gets every frame's redraw).
PEER_SUBSCRIBERS = 8
_FRAME_TIMES = 240  # draw times kept for "stats"

OPS = {
    "subscribe": ("subscriber",),
    "unsubscribe": ("subscriber",),
    "set_title": ("title",),
    "set_cursor_grab": ("mode",),
    "set_cursor_visible": ("visible",),
    "set_camera": ("vfov", "near", "view"),
    "focus": ("holder",),
    "unfocus": ("holder",),
    "focus_holder": (),
    "camera": (),
    "screenshot": (),
    "stats": (),
}


class Display:
    """The pygame window, its scene and its GL renderer (see `open_display`).

    Attributes:
        scene: the `Scene` the services fill and the frame loop draws.
        renderer: the `GLRenderer`.
        size: ``(width, height)`` of the drawable in pixels.
    """

    def __init__(self, size, title, resizable):
        pygame.display.init()
        for attr, value in ((pygame.GL_CONTEXT_MAJOR_VERSION, 3),
                            (pygame.GL_CONTEXT_MINOR_VERSION, 3),
                            (pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE),
                            (pygame.GL_DEPTH_SIZE, 24),
                            (pygame.GL_DOUBLEBUFFER, 1)):
            pygame.display.gl_set_attribute(attr, value)
        flags = pygame.OPENGL | pygame.DOUBLEBUF | (pygame.RESIZABLE if resizable else 0)
        # vsync=0: the frame loop paces itself on the runtime's clock.
        self.surface = pygame.display.set_mode(size, flags, vsync=0)
        pygame.display.set_caption(title)
        self.size = tuple(self.surface.get_size())
        self.scene = Scene()
        self.renderer = GLRenderer()
        self.closed = False

    def close(self):
        """Close the window. Switches: never."""
        if not self.closed:
            self.closed = True
            pygame.display.quit()


def open_display(size=(800, 600), title="Hearth", resizable=True):
    """Open the client's window (one per OS process: pygame has one).

    Call from the main thread (any greenlet of it). Switches: never.
    """
    return Display(tuple(size), title, resizable)


class Window(Service):
    """``hearth.Window`` and the frame loop (see the module docstring).

    Args:
        display: the `Display` to drive.
        fps: frames a second, or None for as many as the machine draws.
        on_close: called (with no arguments, never switching) when the
            window's close button is pressed.
    """

    name = schema = WINDOW

    def __init__(self, display, fps=60.0, on_close=None):
        super().__init__()
        self.display = display
        self.period = None if not fps else 1.0 / fps
        self.on_close = on_close
        self.subscribers = {}  # route id -> (cap, monitor ref)
        self.by_ref = {}
        self.peer_subs = Counter()  # a peer's Account -> its subscribers
        self.sub_account = {}  # route id -> the peer Account that subscribed it
        self.shots = []  # deferred screenshot requests
        self.frames = 0
        self.frame_times = deque(maxlen=_FRAME_TIMES)
        self.translator = Translator()
        self.last = None
        self.focus = None  # (cap, monitor ref) of the keyboard's holder, or None
        self.held = {}  # key name -> scancode of the keys held down now

    # -- requests ----------------------------------------------------------------------------

    def handle_request(self, request):
        op, fields = self.parse(request)
        if op in ("subscribe", "unsubscribe"):
            cap = fields["subscriber"]
            if type(cap) is not Cap:
                raise ServiceError(INVALID_REQUEST, f"{op} needs a capability")
            if op == "unsubscribe":
                return self._unsubscribe(cap)
            if cap.permissions & (SEND | MONITOR) != SEND | MONITOR:
                raise ServiceError(PERMISSION_DENIED, "a subscriber needs SEND and MONITOR")
            if cap.route_id in self.subscribers:
                return False
            account = request.account
            if account is not None:
                request.check_own(cap, "the subscriber")
                if self.peer_subs[account] >= PEER_SUBSCRIBERS:
                    raise ServiceError(LIMIT_REACHED, f"a peer subscribes at most"
                                       f" {PEER_SUBSCRIBERS} routes to the window")
                self.peer_subs[account] += 1
                self.sub_account[cap.route_id] = account
            request.keep(cap)
            ref = cap.monitor()
            self.subscribers[cap.route_id] = (cap, ref)
            self.by_ref[ref] = cap.route_id
            return True
        if op in ("focus", "unfocus"):
            return self._focus_request(request, op, fields["holder"])
        if op == "focus_holder":
            return self.focus is not None
        if op == "set_title":
            if type(fields["title"]) is not str:
                raise ServiceError(INVALID_REQUEST, "a title is a str")
            pygame.display.set_caption(fields["title"])
            return None
        if op == "set_cursor_visible":
            if type(fields["visible"]) is not bool:
                raise ServiceError(INVALID_REQUEST, "visible is a bool")
            pygame.mouse.set_visible(fields["visible"])
            return None
        if op == "set_cursor_grab":
            mode = fields["mode"]
            if mode not in ("none", "confined", "locked"):
                raise ServiceError(INVALID_REQUEST, "mode is none, confined or locked")
            pygame.event.set_grab(mode != "none")
            if mode == "locked":
                pygame.mouse.set_visible(False)
            return None
        if op == "set_camera":
            vfov = check_number(fields["vfov"], "vfov", low=0.0, low_open=True, high=179.0)
            near = check_number(fields["near"], "near", low=0.0, low_open=True)
            view = check_matrix(fields["view"], "view")
            cam = self.display.scene.camera
            cam.vfov, cam.near, cam.view = vfov, near, view
            return None
        if op == "camera":
            cam = self.display.scene.camera
            return {"vfov": float(cam.vfov), "near": float(cam.near),
                    "view": [float(x) for x in cam.view]}
        if op == "screenshot":
            if request.account is not None:
                raise ServiceError(PERMISSION_DENIED, "screenshots are for this client's own"
                                   " processes: the frame shows its terminals, and what is"
                                   " typed into them")
            self.shots.append(request.defer())
            return None
        w, h = self.display.size
        return {"frames": self.frames, "width": w, "height": h,
                "objects": self.display.scene.object_count,
                "subscribers": len(self.subscribers),
                "frame_times": list(self.frame_times)}

    def _unsubscribe(self, cap):
        entry = self.subscribers.pop(cap.route_id, None)
        if entry is None:
            return False
        self._forget_account(cap.route_id)
        kept, ref = entry
        del self.by_ref[ref]
        self.proc.demonitor(ref, flush=True)
        kept.release()
        return True

    def _forget_account(self, route):
        account = self.sub_account.pop(route, None)
        if account is not None:
            self.peer_subs[account] -= 1
            if not self.peer_subs[account]:
                del self.peer_subs[account]

    def _focus_request(self, request, op, cap):
        if type(cap) is not Cap:
            raise ServiceError(INVALID_REQUEST, f"{op} needs a capability")
        if request.account is not None or account_of(cap) is not None:
            raise ServiceError(PERMISSION_DENIED, "the keyboard is for this client's own"
                               " processes: a peer (or a guest acting for one) can't take"
                               " or give back keyboard focus")
        if op == "unfocus":
            if self.focus is None or not self.focus[0].same_route(cap):
                return False
            self._drop_focus(notify=False)
            return True
        if cap.permissions & (SEND | MONITOR) != SEND | MONITOR:
            raise ServiceError(PERMISSION_DENIED, "a focus holder needs SEND and MONITOR")
        if self.focus is not None:
            if self.focus[0].same_route(cap):
                return True
            old = self.focus[0]
            self._release_keys([old])
            old.send(encode({"event": "focus_lost"})[0])
            self._forget_focus()
        else:
            self._release_keys([c for c, _ in self.subscribers.values()])
        request.keep(cap)
        self.focus = (cap, cap.monitor())
        return True

    def _forget_focus(self):
        cap, ref = self.focus
        self.focus = None
        self.proc.demonitor(ref, flush=True)
        cap.release()

    def _drop_focus(self, notify):
        """The holder gives the keyboard back (or died): it hears about
        the keys still held (`notify`: and that it lost focus)."""
        cap = self.focus[0]
        self._release_keys([cap])
        if notify:
            cap.send(encode({"event": "focus_lost"})[0])
        self._forget_focus()

    def _release_keys(self, caps):
        """Tell `caps` every held key is released (they stop hearing the
        keyboard). Switches: never."""
        if not self.held or not caps:
            return
        mods = modifiers(0)
        for key, scancode in self.held.items():
            data, _ = encode({"event": "keyboard_input", "key": key, "scancode": scancode,
                              "state": "released", "modifiers": mods})
            for cap in caps:
                cap.send(data)

    def handle_info(self, sig):
        if type(sig) is Down:
            route = self.by_ref.pop(sig.ref, None)
            if route is not None:
                self.subscribers.pop(route)[0].release()
                self._forget_account(route)
            elif self.focus is not None and self.focus[1] == sig.ref:
                cap = self.focus[0]
                self.focus = None
                cap.release()
        sig.cap.release()

    # -- the frame loop ----------------------------------------------------------------------

    def serve(self):
        """Draw frames until the process ends. Switches: always."""
        mb = self.proc.parent_mailbox()
        clock = self.clock
        try:
            while True:
                while True:  # the requests that came in since the last frame
                    sig = mb.try_recv()
                    if sig is None:
                        break
                    self._dispatch(sig)
                started = clock.now()
                if self.display.closed:
                    # No more frames: refuse what waits for one, and serve
                    # requests without spinning until the process ends.
                    self._refuse_screenshots()
                    self._dispatch(mb.recv())
                    continue
                self.frame(started)
                if self.period is None:
                    gevent.sleep(_YIELD)
                    continue
                deadline = started + self.period
                waited = False
                while True:
                    remaining = deadline - clock.now()
                    if remaining <= 0:
                        break
                    waited = True
                    sig = mb.recv(remaining)
                    if sig is not None:
                        self._dispatch(sig)
                if not waited:  # a frame took longer than the period: still let others run
                    gevent.sleep(_YIELD)
        finally:
            for cap, _ in self.subscribers.values():
                cap.release()
            self.subscribers.clear()
            if self.focus is not None:
                self.focus[0].release()
                self.focus = None

    def _dispatch(self, sig):
        if type(sig) is Message:
            self._handle_message(sig)
        else:
            self.handle_info(sig)

    def publish(self, event):
        """Send one event to every subscriber, or a keyboard event to the
        focus holder only while there is one. Switches: never."""
        if self.focus is not None and event["event"] in KEYBOARD_EVENTS:
            self.focus[0].send(encode(event)[0])
            return
        if not self.subscribers:
            return
        data, _ = encode(event)
        for cap, _ in self.subscribers.values():
            cap.send(data)

    def frame(self, now):
        """Pump events, draw, answer screenshots, flip. Switches: never."""
        display = self.display
        for ev in pygame.event.get():
            if ev.type == pygame.VIDEORESIZE:
                display.size = (max(1, ev.w), max(1, ev.h))
            elif ev.type == pygame.KEYDOWN:
                self.held[pygame.key.name(ev.key)] = int(getattr(ev, "scancode", 0))
            elif ev.type == pygame.KEYUP:
                self.held.pop(pygame.key.name(ev.key), None)
            elif ev.type == pygame.WINDOWFOCUSLOST:
                self.held.clear()
            for event in self.translator.translate(ev):
                self.publish(event)
            if ev.type == pygame.QUIT and self.on_close is not None:
                self.on_close()
        dt = 0.0 if self.last is None else now - self.last
        self.last = now
        self.publish({"event": "redraw", "dt": dt})
        t0 = time.perf_counter()
        w, h = display.size
        display.renderer.draw(display.scene, w, h)
        if self.shots:
            self._answer_screenshots(w, h)
        pygame.display.flip()
        self.frames += 1
        self.frame_times.append(time.perf_counter() - t0)

    def _refuse_screenshots(self):
        shots, self.shots = self.shots, []
        for req in shots:
            req.fail(CLOSED, "the window is closed")

    def _answer_screenshots(self, w, h):
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        raw = GL.glReadPixels(0, 0, w, h, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
        rows = np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 4)[::-1]
        shot = {"width": w, "height": h, "frame": self.frames, "rgba": rows.tobytes()}
        shots, self.shots = self.shots, []
        for req in shots:
            req.reply(shot)
