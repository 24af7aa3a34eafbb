"""Keys as the bytes xterm sends: what a terminal's program reads when a
key is pressed while the terminal has the keyboard.

`key_bytes` works on ``hearth.Window`` events (docs/protocols.md): a
``keyboard_input`` press names its key as pygame does (``"a"``,
``"return"``, ``"page up"``, ``"f5"``) with its modifiers, and typed text
arrives apart, as ``received_character`` events. So a plain printable
key sends nothing here: its character comes as text (`text_bytes`, UTF-8,
so non-ASCII text works). What comes from the key itself: Enter, Tab,
Backspace, Escape, the cursor and editing keys, F1-F12, and Ctrl+key and
Alt+key, whose text (if the platform sends any) the caller drops
(`KeyTranslator` does).

xterm's choices, as its defaults are (``ctlseqs``):

- Enter ``CR``, Tab ``HT``, Shift+Tab ``CSI Z``, Backspace ``DEL``
  (Ctrl+Backspace ``BS``), Escape ``ESC``.
- Cursor keys ``CSI A``..``CSI D``, or ``SS3 A``..``SS3 D`` when the
  program set application cursor mode (DECCKM); Home/End likewise with
  ``H``/``F``. With modifiers: ``CSI 1 ; m X``, m = 1 + Shift + 2*Alt +
  4*Ctrl.
- Insert, Delete, Page Up, Page Down: ``CSI 2 ~``, ``CSI 3 ~``, ``CSI 5
  ~``, ``CSI 6 ~`` (``CSI n ; m ~`` with modifiers).
- F1-F4 ``SS3 P``..``SS3 S`` (``CSI 1 ; m P``.. with modifiers), F5-F12
  ``CSI 15 ~``, 17, 18, 19, 20, 21, 23, 24.
- Ctrl+letter the control code (Ctrl+A 0x01 .. Ctrl+Z 0x1a), Ctrl+Space
  and Ctrl+@ NUL, Ctrl+[ \\ ] ^ _ 0x1b..0x1f, Ctrl+? DEL.
- Alt+key: ``ESC`` and then what the key sends alone (xterm's
  metaSendsEscape).

Nothing here switches greenlets or touches pygame.
"""

__all__ = ["key_bytes", "text_bytes", "KeyTranslator", "SPECIAL_KEYS"]

ESC = b"\x1b"
CSI = b"\x1b["
SS3 = b"\x1bO"

_CURSOR = {"up": b"A", "down": b"B", "right": b"C", "left": b"D", "home": b"H", "end": b"F"}
_TILDE = {"insert": b"2", "delete": b"3", "page up": b"5", "page down": b"6",
          "f5": b"15", "f6": b"17", "f7": b"18", "f8": b"19", "f9": b"20", "f10": b"21",
          "f11": b"23", "f12": b"24"}
_PF = {"f1": b"P", "f2": b"Q", "f3": b"R", "f4": b"S"}
_PLAIN = {"return": b"\r", "enter": b"\r", "tab": b"\t", "backspace": b"\x7f",
          "escape": b"\x1b"}
_CTRL_PUNCT = {" ": 0, "@": 0, "2": 0, "[": 0x1b, "3": 0x1b, "\\": 0x1c, "4": 0x1c,
               "]": 0x1d, "5": 0x1d, "^": 0x1e, "6": 0x1e, "_": 0x1f, "-": 0x1f, "7": 0x1f,
               "/": 0x1f, "?": 0x7f, "8": 0x7f}

#: Every key name `key_bytes` knows besides single characters.
SPECIAL_KEYS = frozenset(_CURSOR) | frozenset(_TILDE) | frozenset(_PF) | frozenset(_PLAIN)


def _param(mods):
    return 1 + bool(mods.get("shift")) + 2 * bool(mods.get("alt")) + 4 * bool(mods.get("ctrl"))


def key_bytes(key, mods, application_cursor=False):
    """The bytes xterm sends for `key` (a pygame key name) pressed with
    `mods` (``{"shift", "ctrl", "alt"}`` bools), or None if the key sends
    nothing of its own (a printable key without Ctrl or Alt: its text
    comes as ``received_character``; a modifier key; a key xterm has no
    sequence for). `application_cursor`: the program set DECCKM."""
    m = _param(mods)
    if key in _CURSOR:
        final = _CURSOR[key]
        if m > 1:
            return CSI + b"1;" + str(m).encode() + final
        return (SS3 if application_cursor else CSI) + final
    if key in _TILDE:
        if m > 1:
            return CSI + _TILDE[key] + b";" + str(m).encode() + b"~"
        return CSI + _TILDE[key] + b"~"
    if key in _PF:
        if m > 1:
            return CSI + b"1;" + str(m).encode() + _PF[key]
        return SS3 + _PF[key]
    ctrl, alt = bool(mods.get("ctrl")), bool(mods.get("alt"))
    prefix = ESC if alt else b""
    if key in _PLAIN:
        if key == "tab" and mods.get("shift"):
            return prefix + CSI + b"Z"
        if key == "backspace" and ctrl:
            return prefix + b"\x08"
        return prefix + _PLAIN[key]
    if not (ctrl or alt):
        return None
    if key == "space":
        char = " "
    elif len(key) == 1:
        char = key
    else:
        return None  # a modifier key itself, or one xterm sends nothing for
    if ctrl:
        if "a" <= char <= "z":
            return prefix + bytes([ord(char) - 0x60])
        code = _CTRL_PUNCT.get(char)
        if code is None:
            return None
        return prefix + bytes([code])
    if mods.get("shift") and "a" <= char <= "z":
        char = char.upper()
    return prefix + char.encode()


def text_bytes(text):
    """Typed text as the bytes the program reads (UTF-8)."""
    return text.encode("utf-8", "surrogatepass")


class KeyTranslator:
    """Window keyboard events to terminal bytes, one event at a time.

    A key sent through its own sequence with Ctrl or Alt may be followed by
    the text the platform made of it (Alt+a typing "a" on some systems):
    that text is dropped, up to the next key event (a press or a release:
    the platform sends a key's text before its release).
    """

    def __init__(self):
        self._swallow = False

    def swallow_text(self):
        """Drop the text that comes before the next key event (a chord's)."""
        self._swallow = True

    def translate(self, event, application_cursor=False):
        """The bytes to type for one window event (a map), or None."""
        kind = event.get("event")
        if kind == "received_character":
            if self._swallow:
                return None
            char = event.get("char")
            return text_bytes(char) if type(char) is str and char else None
        if kind != "keyboard_input":
            return None
        if event.get("state") != "pressed":
            self._swallow = False  # a key's text comes before its release
            return None
        key = event.get("key")
        mods = event.get("modifiers") or {}
        if type(key) is not str or type(mods) is not dict:
            return None
        out = key_bytes(key, mods, application_cursor)
        self._swallow = out is not None and bool(mods.get("ctrl") or mods.get("alt"))
        return out

    @staticmethod
    def needs_cursor_mode(event):
        """True if `event`'s bytes depend on the cursor-keys mode."""
        return (event.get("event") == "keyboard_input" and event.get("state") == "pressed"
                and event.get("key") in _CURSOR)
