"""pygame events as ``hearth.Window`` events (msgpack maps).

Each event is a map with an ``"event"`` key naming it (docs/protocols.md's
names) and its fields:

=======================  =============================================================
``redraw``               ``dt``: seconds since the previous frame
``resized``              ``width``, ``height`` (pixels)
``received_character``   ``char``: one character of typed text
``keyboard_input``       ``key`` (pygame's key name, e.g. ``"a"``, ``"left shift"``),
                         ``scancode``, ``state`` (``"pressed"``/``"released"``),
                         ``modifiers``
``modifiers_changed``    ``modifiers``: ``{"shift", "ctrl", "alt", "logo"}`` bools
``cursor_moved``         ``x``, ``y`` (pixels from the top-left)
``cursor_entered``       (no fields)
``cursor_left``          (no fields)
``mouse_input``          ``button`` (``"left"``, ``"middle"``, ``"right"`` or a number),
                         ``state``
``mouse_wheel``          ``dx``, ``dy`` (lines; up and right are positive)
``mouse_motion``         ``dx``, ``dy``: raw relative motion (also while the cursor is
                         locked)
``focused``              ``focused``: bool
``focus_lost``           (no fields): to a keyboard focus holder another one replaced
``close_requested``      (no fields): the window's close button
=======================  =============================================================

``scale_factor_changed`` is never sent: pygame does not report it.
Nothing here switches greenlets.
"""

from . import gl  # noqa: F401, I001 - first: configures PyOpenGL, hides pygame's banner

import pygame  # noqa: E402

__all__ = ["Translator", "modifiers", "KEYBOARD_EVENTS"]

#: The events that go to the keyboard's focus holder only, while there is one.
KEYBOARD_EVENTS = frozenset({"keyboard_input", "received_character", "modifiers_changed"})

_BUTTONS = {1: "left", 2: "middle", 3: "right"}


def modifiers(mod):
    return {
        "shift": bool(mod & pygame.KMOD_SHIFT),
        "ctrl": bool(mod & pygame.KMOD_CTRL),
        "alt": bool(mod & pygame.KMOD_ALT),
        "logo": bool(mod & pygame.KMOD_GUI),
    }


class Translator:
    """Turns pygame events into window events, tracking modifiers."""

    def __init__(self):
        self._mods = modifiers(0)

    def translate(self, ev):
        """The window events (a list of maps) of one pygame event."""
        t = ev.type
        if t in (pygame.KEYDOWN, pygame.KEYUP):
            mods = modifiers(getattr(ev, "mod", 0))
            out = [{"event": "keyboard_input", "key": pygame.key.name(ev.key),
                    "scancode": int(getattr(ev, "scancode", 0)),
                    "state": "pressed" if t == pygame.KEYDOWN else "released",
                    "modifiers": mods}]
            if mods != self._mods:
                self._mods = mods
                out.append({"event": "modifiers_changed", "modifiers": mods})
            return out
        if t == pygame.TEXTINPUT:
            return [{"event": "received_character", "char": c} for c in ev.text]
        if t == pygame.MOUSEMOTION:
            x, y = ev.pos
            dx, dy = ev.rel
            return [{"event": "cursor_moved", "x": float(x), "y": float(y)},
                    {"event": "mouse_motion", "dx": float(dx), "dy": float(dy)}]
        if t in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            if ev.button in (4, 5, 6, 7):  # SDL's wheel as buttons: MOUSEWHEEL has it
                return []
            return [{"event": "mouse_input", "button": _BUTTONS.get(ev.button, ev.button),
                     "state": "pressed" if t == pygame.MOUSEBUTTONDOWN else "released"}]
        if t == pygame.MOUSEWHEEL:
            return [{"event": "mouse_wheel", "dx": float(ev.x), "dy": float(ev.y)}]
        if t == pygame.WINDOWENTER:
            return [{"event": "cursor_entered"}]
        if t == pygame.WINDOWLEAVE:
            return [{"event": "cursor_left"}]
        if t == pygame.WINDOWFOCUSGAINED:
            return [{"event": "focused", "focused": True}]
        if t == pygame.WINDOWFOCUSLOST:
            return [{"event": "focused", "focused": False}]
        if t == pygame.VIDEORESIZE:
            return [{"event": "resized", "width": int(ev.w), "height": int(ev.h)}]
        if t == pygame.QUIT:
            return [{"event": "close_requested"}]
        return []
