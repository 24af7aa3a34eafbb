"""hearth.wm — the window manager's pure parts (docs/wm.md): the ray from
the cursor through the camera and where it meets a terminal's quad
(`_ray`), key chords and the wm's settings (`_chords`), and
``hearth-ctl terminals`` (`_ctl`). The service itself is the stock client
service ``kindling/root/init/wm``.

Top layer, beside `hearth.gfx`, but it imports neither pygame nor OpenGL
(and only `_ray` imports numpy): ``hearth-ctl`` loads `_ctl`. Nothing
here switches greenlets but `_ctl`'s command, which asks the running wm.
"""

from ._chords import DEFAULT_CHORDS, Chord, SettingsError, parse_chord, read_settings

__all__ = [
    "DEFAULT_CHORDS",
    "Chord",
    "SettingsError",
    "parse_chord",
    "read_settings",
]
