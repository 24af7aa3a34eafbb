"""The client's services (window, renderer, canvases, debug draws,
terminals) against their schemas, from outside: a real window under Xvfb
and the real services, every op sent, every ``ok`` value checked against
the schema's reply type.
The services check their requests with `Service.parse` against the same
schemas, so a bad field is refused naming it."""

import numpy as np
import pytest

from hearth import otp
from hearth.gfx._formats import cube_mesh, encode_material, encode_texture
from hearth.gfx._window import OPS as WINDOW_OPS
from hearth.vm import MONITOR, SEND

from .probe import Probe, cap_with

POSITION = {"origin": [0.0, 0.0, -1.0], "orientation": [0.0, 0.0, 0.0, 1.0],
            "half_size": [0.5, 0.5]}
PIXELS = {"width": 2, "height": 2, "rgba": bytes(16)}
STATE = {"position": POSITION, "columns": 10, "rows": 3, "command": ["/bin/cat"]}
IDENTITY = [float(x) for x in np.identity(4).reshape(16)]


def _lump(runtime, data):
    return bytes(runtime.lumps.put(data))


def _valid(runtime, client):
    """(probe, capability, op, fields, args) of a valid request per op,
    resources made on the way."""
    owner = cap_with(MONITOR)
    mesh, material = _lump(runtime, cube_mesh()), _lump(runtime, encode_material())
    sky = _lump(runtime, encode_texture(1, 1, faces=[bytes(4)] * 6))
    caps = client.services.caps
    out = []
    win = Probe("hearth.Window")
    sub = cap_with(SEND | MONITOR)
    for op, fields in (("subscribe", {"subscriber": sub}), ("unsubscribe", {"subscriber": sub}),
                       ("set_title", {"title": "schema"}), ("set_cursor_visible",
                                                            {"visible": True}),
                       ("set_cursor_grab", {"mode": "none"}),
                       ("set_camera", {"vfov": 60.0, "near": 0.1, "view": IDENTITY}),
                       ("camera", None), ("screenshot", None), ("stats", None)):
        out.append((win, client.window, op, fields, None))
    ren = Probe("hearth.Renderer")
    for op, fields in (("add_object", {"mesh": mesh, "material": material}),
                       ("add_directional_light", {"color": [1, 1, 1], "intensity": 1,
                                                  "direction": [0, -1, 0]}),
                       ("set_ambient_lighting", {"color": [0.1, 0.1, 0.1, 1]}),
                       ("set_skybox", {"texture": sky})):
        out.append((ren, client.renderer, op, fields, [owner]))
    out.append((Probe("hearth.canvas.CanvasFactory"), caps["hearth.canvas.CanvasFactory"],
                "create", {"position": POSITION, "pixels": PIXELS}, [owner]))
    out.append((Probe("hearth.DebugDrawFactory"), caps["hearth.DebugDrawFactory"], "new",
                None, [owner]))
    out.append((Probe("hearth.terminal.TerminalFactory"),
                caps["hearth.terminal.TerminalFactory"], "create", {"state": STATE}, [owner]))
    out.append((Probe("hearth.text.TextFactory"), caps["hearth.text.TextFactory"], "create",
                {"state": {"text": "schema", "origin": [0.0, 0.0, -1.0]}}, [owner]))
    return out


def _resources(made):
    """(probe, capability, op, fields) of a valid request per resource op,
    the op that ends a resource last."""
    obj, light, canvas, draw, term, text = made
    return [
        (Probe("hearth.Renderer.object"), obj, "set_transform", {"transform": IDENTITY}),
        *[(Probe("hearth.Renderer.light"), light, op, f) for op, f in (
            ("set_color", {"color": [1, 0, 0]}), ("set_intensity", {"intensity": 2}),
            ("set_direction", {"direction": [0, 0, -1]}), ("set_distance", {"distance": 1}))],
        *[(Probe("hearth.canvas"), canvas, op, f) for op, f in (
            ("relocate", {"position": POSITION}), ("resize", {"pixels": PIXELS}),
            ("blit", {"x": 0, "y": 0, "pixels": PIXELS}))],
        *[(Probe("hearth.DebugDraw"), draw, op, f) for op, f in (
            ("contents", {"positions": bytes(24), "colors": bytes(8),
                          "indices": bytes(8)}), ("hide", {"hidden": True}), ("destroy", None))],
        *[(Probe("hearth.terminal"), term, op, f) for op, f in (
            ("input", {"text": "x"}), ("state", {"state": {"rows": 4}}), ("screen", None),
            ("select", {"cells": [[0, 0], [1, 0]]}), ("quit", None))],
        *[(Probe("hearth.text"), text, op, f) for op, f in (
            ("text", {"text": "again"}), ("state", {"state": {"height": 0.2}}))],
    ]


@pytest.mark.hearth_timeout(120)
def test_every_op_of_the_client_services_is_answered_with_its_schemas_reply(
        client, runtime, proc):
    probes = {}
    made = []
    for probe, cap, op, fields, args in _valid(runtime, client):
        probes.setdefault(probe.schema.name, probe)
        probe = probes[probe.schema.name]
        value = probe.ask(cap, op, fields, args)
        if op in ("add_object", "add_directional_light", "create", "new"):
            made.append(value)
    for probe, cap, op, fields in _resources(made):
        probes.setdefault(probe.schema.name, probe)
        probes[probe.schema.name].ask(cap, op, fields)
    for name, probe in probes.items():
        if name == "hearth.Window":
            probe.sent |= {"focus", "unfocus", "focus_holder"}  # the focus test below
        probe.done()


def test_the_window_focus_ops_conform(client, proc):
    win = Probe("hearth.Window")
    focus = cap_with(SEND | MONITOR)
    assert win.ask(client.window, "focus", {"holder": focus}) is True
    assert win.ask(client.window, "focus_holder") is True
    assert win.ask(client.window, "unfocus", {"holder": focus}) is True
    assert win.ask(client.window, "focus_holder") is False


def test_bad_fields_to_the_client_services_are_refused_naming_the_field(
        client, runtime, proc):
    for probe, cap, op, fields, args in _valid(runtime, client):
        probe.refuse_bad_fields(cap, op, fields, args)


def test_the_windows_ops_in_code_are_in_its_schema():
    """Until hearth/gfx checks requests with the schema, its op tables
    must at least agree with it (the schema may be ahead: focus)."""
    ops = otp.schema("hearth.Window").ops
    for op, fields in WINDOW_OPS.items():
        assert op in ops, f"the window serves {op!r}, which its schema lacks"
        assert tuple(f.name for f in ops[op].fields) == fields, op
