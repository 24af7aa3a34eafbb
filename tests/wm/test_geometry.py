"""The window manager's geometry (hearth.wm._ray) and chords and settings
(hearth.wm._chords): pure functions, checked against hand-worked cases."""

import math

import numpy as np
import pytest

from hearth.wm._chords import DEFAULT_CHORDS, SettingsError, parse_chord, read_settings
from hearth.wm._ray import camera_pose, cursor_ray, facing, hit_quad, pick, quaternion, rotation


def _view(position, yaw=0.0):
    """The view matrix (column-major) of a camera at `position` turned
    `yaw` radians about +y."""
    c, s = math.cos(yaw), math.sin(yaw)
    r = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    m = np.identity(4)
    m[:3, :3] = r.T
    m[:3, 3] = -r.T @ np.asarray(position, dtype=float)
    return list(m.T.reshape(16))


QUAD = {"origin": [0.0, 0.0, -2.0], "orientation": [0, 0, 0, 1], "half_size": [1.0, 0.5]}


def test_the_center_pixel_looks_down_the_cameras_minus_z():
    origin, d = cursor_ray(_view([1, 2, 3]), 90.0, 200, 100, 100, 50)
    assert np.allclose(origin, [1, 2, 3]) and np.allclose(d, [0, 0, -1])


def test_the_corner_pixels_follow_the_field_of_view_and_aspect():
    # vfov 90: at distance 1 the top edge is 1 up; aspect 2: the right edge 2 across.
    _, d = cursor_ray(_view([0, 0, 0]), 90.0, 200, 100, 200, 0)
    assert np.allclose(d, np.array([2, 1, -1]) / math.sqrt(6))


def test_a_turned_camera_turns_the_ray():
    _, d = cursor_ray(_view([0, 0, 0], yaw=math.pi / 2), 60.0, 100, 100, 50, 50)
    assert np.allclose(d, [-1, 0, 0])  # yaw +90 degrees about y: -z becomes -x


def test_a_ray_hits_a_quad_inside_and_misses_outside_and_behind():
    o = np.zeros(3)
    assert hit_quad(o, np.array([0, 0, -1.0]), QUAD) == pytest.approx(2.0)
    inside = np.array([0.9, 0.45, -2.0]) / np.linalg.norm([0.9, 0.45, -2.0])
    assert hit_quad(o, inside, QUAD) is not None
    outside = np.array([1.1, 0, -2.0]) / np.linalg.norm([1.1, 0, -2.0])
    assert hit_quad(o, outside, QUAD) is None
    above = np.array([0, 0.6, -2.0]) / np.linalg.norm([0, 0.6, -2.0])
    assert hit_quad(o, above, QUAD) is None
    assert hit_quad(o, np.array([0, 0, 1.0]), QUAD) is None  # behind the camera
    assert hit_quad(o, np.array([1.0, 0, 0]), QUAD) is None  # along its plane


def test_a_rotated_quad_is_hit_in_its_own_frame():
    # Turned 90 degrees about y, at x = -3: it spans z in [-1, 1] there.
    q = [0.0, math.sin(math.pi / 4), 0.0, math.cos(math.pi / 4)]
    quad = {"origin": [-3.0, 0.0, 0.0], "orientation": q, "half_size": [1.0, 0.5]}
    o = np.zeros(3)
    assert hit_quad(o, np.array([-1.0, 0, 0]), quad) == pytest.approx(3.0)
    d = np.array([-3.0, 0, 0.9]) / np.linalg.norm([-3.0, 0, 0.9])
    assert hit_quad(o, d, quad) is not None
    d = np.array([-3.0, 0, 1.2]) / np.linalg.norm([-3.0, 0, 1.2])
    assert hit_quad(o, d, quad) is None


def test_pick_takes_the_nearest_quad_hit():
    far = dict(QUAD, origin=[0.0, 0.0, -5.0])
    aside = dict(QUAD, origin=[5.0, 0.0, -1.0])
    quads = {"far": far, "near": QUAD, "aside": aside}
    assert pick(np.zeros(3), np.array([0, 0, -1.0]), quads) == "near"
    assert pick(np.zeros(3), np.array([0, 1.0, 0]), quads) is None


def test_quaternion_and_rotation_are_inverse():
    rng = np.random.default_rng(7)
    for _ in range(50):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        back = quaternion(rotation(q))
        assert np.allclose(back, q) or np.allclose(back, -q)


def test_facing_puts_the_quad_in_front_of_the_camera_square_to_it():
    view = _view([1, 0, 4], yaw=0.3)
    pos = facing(view, 2.0, (0.8, 0.4))
    cam, rot = camera_pose(view)
    assert np.allclose(pos["origin"], cam + rot @ [0, 0, -2.0])
    assert np.allclose(rotation(pos["orientation"]), rot)
    assert pos["half_size"] == [0.8, 0.4]
    # The ray through the window's center meets it, 2 away.
    o, d = cursor_ray(view, 60.0, 100, 100, 50, 50)
    assert hit_quad(o, d, pos) == pytest.approx(2.0)


def test_chords_parse_and_match_exact_modifiers():
    chord = parse_chord("Ctrl+Alt+T")
    press = {"event": "keyboard_input", "key": "t", "state": "pressed",
             "modifiers": {"ctrl": True, "alt": True, "shift": False, "logo": False}}
    assert chord.matches(press)
    assert not chord.matches(dict(press, state="released"))
    assert not chord.matches(dict(press, modifiers={"ctrl": True, "alt": True, "shift": True}))
    assert not chord.matches(dict(press, key="y"))
    assert str(parse_chord("shift+ctrl+page up")) == "ctrl+shift+page up"


@pytest.mark.parametrize("text", ["", "ctrl+", "hyper+t", "ctrl+ctrl+t", 7])
def test_a_malformed_chord_is_refused_with_a_reason(text):
    with pytest.raises(SettingsError):
        parse_chord(text)


def test_the_bundled_manifest_settings_are_the_defaults(tmp_path):
    import pathlib

    import kindling
    manifest = pathlib.Path(kindling.__file__).parent / "root/init/wm/service.toml"
    from_file = read_settings(manifest)
    defaults = read_settings()
    assert from_file == defaults
    assert {a: str(c) for a, c in defaults["chords"].items()} == DEFAULT_CHORDS


def test_settings_rebind_a_chord_and_refuse_bad_values():
    s = read_settings(table={"chords": {"open": "logo+return"}, "command": ["cat"]})
    assert str(s["chords"]["open"]) == "logo+return" and s["command"] == ["cat"]
    for bad in ({"chords": {"launch": "ctrl+l"}}, {"chords": {"close": "ctrl+alt+t"}},
                {"columns": 0}, {"distance": "far"}, {"command": []}, {"colour": 1}):
        with pytest.raises(SettingsError):
            read_settings(table=bad)


def test_a_manifest_settings_must_be_a_table(tmp_path):
    from kindling.init._manifest import ManifestError, load_manifest
    d = tmp_path / "svc"
    d.mkdir()
    (d / "service.py").write_text("def main(registry):\n    pass\n")
    head = 'name = "svc"\nkind = "python"\nentry = "service.py:main"\n'
    (d / "service.toml").write_text(head + "settings = 3\n")
    with pytest.raises(ManifestError, match="settings must be a table"):
        load_manifest(d)
    (d / "service.toml").write_text(head + "[settings]\nanything = [1, 2]\n")
    assert load_manifest(d).name == "svc"


def test_the_window_manager_is_never_exposed_to_peers():
    from hearth._views import NEVER_EXPOSED
    assert "wm" in NEVER_EXPOSED


def test_the_default_command_is_hibashi_then_shell_then_bin_sh(tmp_path, monkeypatch):
    from hearth.wm._chords import default_command
    fake = tmp_path / "hibashi"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("SHELL", "/bin/bash")
    assert default_command() == ["hibashi", "--client"]
    assert read_settings()["command"] == ["hibashi", "--client"]
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert default_command() == ["/bin/bash"]
    monkeypatch.delenv("SHELL")
    assert default_command() == ["/bin/sh"]
