"""demo-scene: lit objects and a canvas, animated by the window's redraws.

It makes a cube mesh lump (`hearth.gfx.cube_mesh`) and a few material
lumps (the formats of docs/client.md), adds a sun and ambient light, a ring of cubes and one
spinning in the middle, and a canvas whose bouncing square is blitted
every frame. Everything it adds belongs to its mailbox 0, so it all goes
when the service stops.
"""

import math

import msgpack
import numpy as np

from hearth import vm
from hearth.gfx import cube_mesh
from hearth.native import request
from hearth.otp import decode, lookup

CANVAS_W, CANVAS_H = 64, 32
COLORS = [(0.9, 0.3, 0.25, 1), (0.95, 0.75, 0.2, 1), (0.3, 0.8, 0.35, 1),
          (0.25, 0.55, 0.95, 1), (0.7, 0.4, 0.9, 1)]


def transform(x, y, z, angle=0.0, scale=1.0):
    c, s = math.cos(angle), math.sin(angle)
    m = np.array([[c * scale, 0, s * scale, x], [0, scale, 0, y],
                  [-s * scale, 0, c * scale, z], [0, 0, 0, 1]])
    return [float(v) for v in m.T.reshape(16)]


def checker():
    y, x = np.mgrid[0:CANVAS_H, 0:CANVAS_W]
    dark = ((x // 8 + y // 8) % 2).astype(np.uint8)
    rgba = np.zeros((CANVAS_H, CANVAS_W, 4), np.uint8)
    rgba[..., 0] = 30 + 40 * dark
    rgba[..., 1] = 30 + 40 * dark
    rgba[..., 2] = 60 + 50 * dark
    rgba[..., 3] = 255
    return rgba


def main(registry):
    renderer = lookup(registry, "hearth.Renderer")
    canvases = lookup(registry, "hearth.canvas.CanvasFactory")
    window = lookup(registry, "hearth.Window")
    lumps = vm.current_runtime().lumps
    owner = vm.make_capability(vm.MONITOR)  # lives as long as this process

    def put(term):
        return bytes(lumps.put(msgpack.packb(term) if not isinstance(term, bytes) else term))

    request(renderer, ["set_ambient_lighting", [0.35, 0.38, 0.45, 0.5]])
    request(renderer, ["add_directional_light", [1.0, 0.95, 0.85], 1.0, [-0.45, -0.8, -0.7]],
            [owner])
    cube = put(cube_mesh())
    materials = [put({"albedo": list(c)}) for c in COLORS]
    for i, material in enumerate(materials):
        a = 2 * math.pi * i / len(materials)
        request(renderer, ["add_object", cube, material,
                           transform(4 * math.sin(a), 0.5, 4 * math.cos(a), a, 0.5)], [owner])
    spinner = request(renderer, ["add_object", cube, put({"albedo": [0.9, 0.9, 0.9, 1]}),
                                 transform(0, 1.2, 0, 0, 0.8)], [owner])
    pixels = checker()
    canvas = request(canvases, ["create", {"origin": [0.0, 3.5, -3.0],
                                           "orientation": [0.0, 0.0, 0.0, 1.0],
                                           "half_size": [2.0, 1.0]},
                                {"width": CANVAS_W, "height": CANVAS_H,
                                 "rgba": pixels.tobytes()}, "nearest"], [owner])
    request(window, ["subscribe", vm.make_capability(vm.SEND | vm.MONITOR)])

    t = 0.0
    square = np.zeros((6, 6, 4), np.uint8)
    square[...] = (250, 200, 60, 255)
    last = None
    while True:
        sig = vm.recv()
        if type(sig) is not vm.Message:
            sig.cap.release()
            continue
        event = decode(sig.data)
        for cap in sig.caps:
            cap.release()
        if event.get("event") != "redraw":
            continue
        t += min(float(event.get("dt", 0.0)), 0.1)
        # Updates without a reply capability are sinks: no round trip a frame.
        spinner.send(msgpack.packb(["set_transform", transform(0, 1.2, 0, t, 0.8)]))
        x = int((math.sin(t * 1.3) * 0.5 + 0.5) * (CANVAS_W - 6))
        y = int((math.sin(t * 2.1) * 0.5 + 0.5) * (CANVAS_H - 6))
        if last is not None:  # repaint where the square was
            lx, ly = last
            patch = pixels[ly:ly + 6, lx:lx + 6]
            canvas.send(msgpack.packb(["blit", lx, ly, {"width": 6, "height": 6,
                                                         "rgba": patch.tobytes()}]))
        canvas.send(msgpack.packb(["blit", x, y, {"width": 6, "height": 6,
                                                   "rgba": square.tobytes()}]))
        last = (x, y)
