"""Every key the window manager types into a terminal, as the bytes xterm
sends (hearth.gfx.terminal._keys), in both cursor-key modes."""

import pytest

from hearth.gfx.terminal._keys import KeyTranslator, key_bytes

NONE = {}
SHIFT = {"shift": True}
CTRL = {"ctrl": True}
ALT = {"alt": True}
CTRL_SHIFT = {"ctrl": True, "shift": True}

# (key, modifiers, normal cursor mode, application cursor mode)
TABLE = [
    ("return", NONE, b"\r", b"\r"),
    ("enter", NONE, b"\r", b"\r"),  # the keypad's
    ("backspace", NONE, b"\x7f", b"\x7f"),
    ("backspace", CTRL, b"\x08", b"\x08"),
    ("tab", NONE, b"\t", b"\t"),
    ("tab", SHIFT, b"\x1b[Z", b"\x1b[Z"),
    ("escape", NONE, b"\x1b", b"\x1b"),
    ("up", NONE, b"\x1b[A", b"\x1bOA"),
    ("down", NONE, b"\x1b[B", b"\x1bOB"),
    ("right", NONE, b"\x1b[C", b"\x1bOC"),
    ("left", NONE, b"\x1b[D", b"\x1bOD"),
    ("home", NONE, b"\x1b[H", b"\x1bOH"),
    ("end", NONE, b"\x1b[F", b"\x1bOF"),
    ("up", CTRL, b"\x1b[1;5A", b"\x1b[1;5A"),
    ("left", SHIFT, b"\x1b[1;2D", b"\x1b[1;2D"),
    ("right", ALT, b"\x1b[1;3C", b"\x1b[1;3C"),
    ("home", CTRL_SHIFT, b"\x1b[1;6H", b"\x1b[1;6H"),
    ("insert", NONE, b"\x1b[2~", b"\x1b[2~"),
    ("delete", NONE, b"\x1b[3~", b"\x1b[3~"),
    ("delete", CTRL, b"\x1b[3;5~", b"\x1b[3;5~"),
    ("page up", NONE, b"\x1b[5~", b"\x1b[5~"),
    ("page down", NONE, b"\x1b[6~", b"\x1b[6~"),
    ("page up", SHIFT, b"\x1b[5;2~", b"\x1b[5;2~"),
    ("f1", NONE, b"\x1bOP", b"\x1bOP"),
    ("f2", NONE, b"\x1bOQ", b"\x1bOQ"),
    ("f3", NONE, b"\x1bOR", b"\x1bOR"),
    ("f4", NONE, b"\x1bOS", b"\x1bOS"),
    ("f1", CTRL, b"\x1b[1;5P", b"\x1b[1;5P"),
    ("f5", NONE, b"\x1b[15~", b"\x1b[15~"),
    ("f6", NONE, b"\x1b[17~", b"\x1b[17~"),
    ("f7", NONE, b"\x1b[18~", b"\x1b[18~"),
    ("f8", NONE, b"\x1b[19~", b"\x1b[19~"),
    ("f9", NONE, b"\x1b[20~", b"\x1b[20~"),
    ("f10", NONE, b"\x1b[21~", b"\x1b[21~"),
    ("f11", NONE, b"\x1b[23~", b"\x1b[23~"),
    ("f12", NONE, b"\x1b[24~", b"\x1b[24~"),
    ("f12", SHIFT, b"\x1b[24;2~", b"\x1b[24;2~"),
    ("a", CTRL, b"\x01", b"\x01"),
    ("c", CTRL, b"\x03", b"\x03"),
    ("z", CTRL, b"\x1a", b"\x1a"),
    ("c", CTRL_SHIFT, b"\x03", b"\x03"),
    ("space", CTRL, b"\x00", b"\x00"),
    ("[", CTRL, b"\x1b", b"\x1b"),
    ("\\", CTRL, b"\x1c", b"\x1c"),
    ("]", CTRL, b"\x1d", b"\x1d"),
    ("/", CTRL, b"\x1f", b"\x1f"),
    ("x", ALT, b"\x1bx", b"\x1bx"),
    ("x", {"alt": True, "shift": True}, b"\x1bX", b"\x1bX"),
    ("b", {"alt": True, "ctrl": True}, b"\x1b\x02", b"\x1b\x02"),
    ("backspace", ALT, b"\x1b\x7f", b"\x1b\x7f"),
    ("return", ALT, b"\x1b\r", b"\x1b\r"),
    ("1", ALT, b"\x1b1", b"\x1b1"),
    ("space", ALT, b"\x1b ", b"\x1b "),
]


@pytest.mark.parametrize(("key", "mods", "normal", "application"), TABLE,
                         ids=[f"{k}-{'+'.join(sorted(m)) or 'plain'}" for k, m, *_ in TABLE])
def test_a_key_sends_what_xterm_sends(key, mods, normal, application):
    assert key_bytes(key, mods, application_cursor=False) == normal
    assert key_bytes(key, mods, application_cursor=True) == application


@pytest.mark.parametrize("key", ["a", "z", "1", "space", "left shift", "left ctrl", "right alt",
                                 "caps lock", "numlock"])
def test_printable_and_modifier_keys_alone_send_nothing_of_their_own(key):
    # Their characters come as text (received_character); modifiers send nothing.
    assert key_bytes(key, NONE) is None
    assert key_bytes(key, SHIFT) is None


def _press(key, **mods):
    return {"event": "keyboard_input", "key": key, "state": "pressed", "modifiers": mods}


def test_text_is_typed_as_utf8_including_non_ascii():
    keys = KeyTranslator()
    got = [keys.translate({"event": "received_character", "char": c}) for c in "aé€😀"]
    assert b"".join(got) == "aé€😀".encode()


def test_the_text_a_ctrl_or_alt_key_makes_is_dropped_until_the_next_key():
    keys = KeyTranslator()
    assert keys.translate(_press("x", alt=True)) == b"\x1bx"
    assert keys.translate({"event": "received_character", "char": "x"}) is None
    assert keys.translate(_press("y")) is None  # a plain key: its text comes next
    assert keys.translate({"event": "received_character", "char": "y"}) == b"y"


def test_releases_send_nothing():
    keys = KeyTranslator()
    assert keys.translate({"event": "keyboard_input", "key": "return", "state": "released",
                           "modifiers": {}}) is None
    assert keys.translate(_press("return")) == b"\r"
