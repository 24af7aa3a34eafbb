"""The world's mirror drawing into a real window under Xvfb (docs/world.md,
"Labels" and "Canvases"): an entity's label appears above it and changes
with it; a painted entity shows its canvas's pixels and follows a new
paint.

Real parts: the client's services over a real window, a real world and a
real mirror process with `hearth.gfx.RendererView` in the test's runtime;
pixels are read back from frames the renderer drew.
"""

import numpy as np

from hearth import otp, vm, world
from hearth.gfx import TEXT_FACTORY, RendererView
from hearth.gfx._formats import cube_mesh
from hearth.native import request
from hearth.world import WORLD
from tests.net.conftest import wait_until

# The camera at (0, 0, 3) looking down -z, 60 degrees vertically; the unit
# cube 1.5 below the origin: its top face starts at row ~73 of the 160x120
# frame, its label (0.35 high, centred 1.5 above the cube's centre) at rows
# ~54..66.
AT_Z3 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -3, 1]
LOW = (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, -1.5, 0, 1)
LOWER = (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, -3.5, 0, 1)
CUBE = (100, 80)  # (row, column) of a pixel of the cube's front face
ABOVE = slice(0, 70)


def _mirror(registry, renderer, texts):
    world.run_mirror(lambda: otp.lookup(registry, WORLD), RendererView(renderer, texts))


def start(client):
    registry = client.registry
    world.start_world(registry, data_dir=None)
    request(client.window, ["set_camera", 60.0, 0.05, AT_Z3])
    vm.spawn(_mirror, registry, client.renderer, client.services.caps[TEXT_FACTORY],
             name="mirror", link=True)
    mesh = bytes(vm.current_runtime().lumps.put(cube_mesh()))
    return otp.lookup(registry, WORLD), mesh


def lit_columns(frame, rows):
    """The columns with any non-black pixel in `rows`."""
    return np.nonzero(frame[rows, :, :3].max(axis=(0, 2)))[0]


def test_a_label_appears_above_its_entity_and_changes_with_it(client, proc):
    pub, mesh = start(client)
    # No label: nothing above the cube.
    _, bare = world.add(pub, vm.make_capability(vm.MONITOR), mesh, transform=LOW)
    wait_until(lambda: client.screenshot()[CUBE][:3].any(), timeout=20, what="the cube")
    assert not client.screenshot()[ABOVE, :, :3].any()
    world.update(bare, label="ab")
    wait_until(lambda: len(lit_columns(client.screenshot(), ABOVE)) > 0, timeout=20,
               what="the label above the cube")
    frame = client.screenshot()
    short = lit_columns(frame, ABOVE)
    assert abs((short.min() + short.max()) / 2 - 80) <= 3  # centred over the cube
    assert frame[ABOVE, :, :3].max() > 150  # light text on its dark band
    # A longer label: wider, still centred.
    world.update(bare, label="a longer name")
    wait_until(lambda: len(lit_columns(client.screenshot(), ABOVE)) > 2 * len(short),
               timeout=20, what="the longer label")
    longer = lit_columns(client.screenshot(), ABOVE)
    assert abs((longer.min() + longer.max()) / 2 - 80) <= 3
    # The label moves with its entity and goes with it.
    world.update(bare, transform=LOWER)
    wait_until(lambda: not client.screenshot()[ABOVE, :, :3].any(), timeout=20,
               what="the label to move down with its entity")
    world.remove(bare)
    wait_until(lambda: not client.screenshot()[:, :, :3].any(), timeout=20,
               what="the entity and its label to leave")


def test_a_painted_entity_shows_its_canvas_and_follows_a_new_paint(client, proc):
    pub, mesh = start(client)
    _, cap = world.add(pub, vm.make_capability(vm.MONITOR), mesh)
    wait_until(lambda: client.screenshot()[60, 80, :3].any(), timeout=20, what="the cube")
    white = client.screenshot()[60, 80, :3].astype(int)
    assert white[0] == white[1] == white[2]  # plain white, lit grey
    world.paint(cap, 4, 4, bytes([255, 0, 0, 255]) * 16)

    def dominant(channel):
        px = client.screenshot()[60, 80, :3].astype(int)
        return px[channel] > 0 and all(px[channel] > 4 * px[c] for c in range(3) if c != channel)

    wait_until(lambda: dominant(0), timeout=20, what="the red canvas")
    world.paint(cap, 4, 4, bytes([0, 0, 255, 255]) * 16)
    wait_until(lambda: dominant(2), timeout=20, what="the blue canvas")
