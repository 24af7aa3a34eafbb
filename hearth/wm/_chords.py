"""Key chords and the window manager's settings (docs/wm.md).

A chord is written as in the docs: modifiers and a key name joined by
``+``, e.g. ``"ctrl+alt+t"``, ``"ctrl+alt+shift+page up"``. Key names are
pygame's (the ``key`` of ``hearth.Window``'s ``keyboard_input`` events);
modifiers are ``ctrl``, ``alt``, ``shift`` and ``logo``. A chord matches a
key press whose modifiers are exactly its own.

The settings come from the ``[settings]`` table of the wm's manifest
(``service.toml``); every key is optional. Plain file work: nothing here
switches greenlets.
"""

import math
import os
import shutil
from dataclasses import dataclass

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["Chord", "SettingsError", "parse_chord", "read_settings", "DEFAULT_CHORDS",
           "ACTIONS", "default_command"]

MODIFIERS = ("ctrl", "alt", "shift", "logo")

#: Action -> (default chord, what it does): the table of docs/wm.md.
ACTIONS = {
    "open": ("ctrl+alt+t", "open a terminal in front of the camera and focus it"),
    "close": ("ctrl+alt+w", "close the focused terminal (its program gets SIGHUP)"),
    "cycle": ("ctrl+alt+n", "focus the next terminal (from the camera: the first)"),
    "release": ("ctrl+alt+escape", "give the keyboard back to the camera"),
    "nearer": ("ctrl+alt+page up", "move the focused terminal towards the camera"),
    "farther": ("ctrl+alt+page down", "move the focused terminal away from the camera"),
    "left": ("ctrl+alt+left", "move the focused terminal left"),
    "right": ("ctrl+alt+right", "move the focused terminal right"),
    "up": ("ctrl+alt+up", "move the focused terminal up"),
    "down": ("ctrl+alt+down", "move the focused terminal down"),
    "wider": ("ctrl+alt+shift+right", "one more column (the pty follows)"),
    "narrower": ("ctrl+alt+shift+left", "one column fewer"),
    "taller": ("ctrl+alt+shift+down", "one more row"),
    "shorter": ("ctrl+alt+shift+up", "one row fewer"),
}
DEFAULT_CHORDS = {action: chord for action, (chord, _) in ACTIONS.items()}

_NUMBERS = {"distance": (0.1, 100.0, 2.0), "step": (0.01, 10.0, 0.25),
            "scale": (0.0001, 1.0, 0.004), "focused_opacity": (0.0, 1.0, 1.0),
            "unfocused_opacity": (0.0, 1.0, 0.8)}
_COUNTS = {"columns": (500, 80), "rows": (200, 24), "units_per_em": (128, 16)}
_KEYS = set(_NUMBERS) | set(_COUNTS) | {"command", "chords", "focused_background"}
DEFAULT_FOCUSED_BACKGROUND = [0.0, 0.12, 0.25]


class SettingsError(ValueError):
    """The wm's settings can't be used; the message says what to fix."""


@dataclass(frozen=True)
class Chord:
    """A key and the exact modifiers held with it."""

    key: str
    ctrl: bool = False
    alt: bool = False
    shift: bool = False
    logo: bool = False

    def matches(self, event):
        """True if window event `event` is a press of this chord."""
        if event.get("event") != "keyboard_input" or event.get("state") != "pressed":
            return False
        mods = event.get("modifiers") or {}
        return (event.get("key") == self.key
                and all(bool(mods.get(m)) == getattr(self, m) for m in MODIFIERS))

    def __str__(self):
        return "+".join([m for m in MODIFIERS if getattr(self, m)] + [self.key])


def parse_chord(text):
    """The `Chord` written as `text`; SettingsError if it is malformed."""
    if type(text) is not str or not text.strip():
        raise SettingsError(f"a chord is a string like 'ctrl+alt+t', not {text!r}")
    parts = [p.strip().lower() for p in text.split("+")]
    *mods, key = parts
    if not key:
        raise SettingsError(f"chord {text!r} names no key")
    bad = [m for m in mods if m not in MODIFIERS]
    if bad:
        raise SettingsError(f"chord {text!r}: unknown modifier(s) {bad}; known: {list(MODIFIERS)}")
    if len(set(mods)) != len(mods):
        raise SettingsError(f"chord {text!r} names a modifier twice")
    return Chord(key, **{m: True for m in mods})


def default_command():
    """The program a new terminal runs: ``hibashi --client`` (the shell of
    the client the terminal is in) if it is on PATH, else ``$SHELL``, else
    ``/bin/sh``."""
    if shutil.which("hibashi"):
        return ["hibashi", "--client"]
    return [os.environ.get("SHELL") or "/bin/sh"]


def read_settings(path=None, table=None):
    """The wm's settings: the ``[settings]`` table of the manifest at
    `path` (or `table` itself), checked and with the defaults filled in.

    Returns:
        a dict: ``command`` (argv), ``chords`` (action -> `Chord`), the
        numbers of docs/wm.md.

    Raises:
        SettingsError: what is wrong.
    """
    if table is None:
        table = {}
        if path is not None:
            try:
                with open(path, "rb") as fh:
                    table = tomllib.load(fh).get("settings", {})
            except (OSError, tomllib.TOMLDecodeError) as e:
                raise SettingsError(f"can't read the settings in {path}: {e}") from None
    if type(table) is not dict:
        raise SettingsError("settings is a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise SettingsError(f"unknown setting(s) {unknown}; known: {sorted(_KEYS)}")
    out = {}
    for name, (low, high, default) in _NUMBERS.items():
        v = table.get(name, default)
        if type(v) not in (int, float) or not math.isfinite(v) or not low <= v <= high:
            raise SettingsError(f"{name} must be a number in {low}..{high}, not {v!r}")
        out[name] = float(v)
    for name, (high, default) in _COUNTS.items():
        v = table.get(name, default)
        if type(v) is not int or not 1 <= v <= high:
            raise SettingsError(f"{name} must be an integer in 1..{high}, not {v!r}")
        out[name] = v
    color = table.get("focused_background", DEFAULT_FOCUSED_BACKGROUND)
    if (type(color) is not list or len(color) != 3
            or not all(type(c) in (int, float) and 0 <= c <= 1 for c in color)):
        raise SettingsError(f"focused_background is [r, g, b] in 0..1, not {color!r}")
    out["focused_background"] = [float(c) for c in color]
    command = table.get("command")
    if command is None:
        command = default_command()
    elif (type(command) is not list or not command
          or not all(type(a) is str and a for a in command)):
        raise SettingsError(f"command is a non-empty list of strings (an argv), not {command!r}")
    out["command"] = list(command)
    chords = table.get("chords", {})
    if type(chords) is not dict:
        raise SettingsError("chords is a table: action = \"chord\"")
    unknown = sorted(set(chords) - set(ACTIONS))
    if unknown:
        raise SettingsError(f"unknown chord action(s) {unknown}; known: {sorted(ACTIONS)}")
    out["chords"] = {a: parse_chord(chords.get(a, d)) for a, d in DEFAULT_CHORDS.items()}
    seen = {}
    for action, chord in out["chords"].items():
        if chord in seen:
            raise SettingsError(f"{seen[chord]} and {action} have the same chord {chord}")
        seen[chord] = action
    return out
