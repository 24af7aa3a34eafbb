"""The fly camera as it was in Python (kindling/root/init/fly-camera before it
became a guest), kept as the baseline of ``benchmarks/bench_guests.py``'s
``guest_fly_camera``: the same behaviour, run as a greenlet."""

import math

import numpy as np

from hearth import vm
from hearth.native import request, send_request
from hearth.otp import decode, lookup

SPEED = 5.0
TURN = 0.005
VFOV = 60.0
NEAR = 0.05
START = (0.0, 3.0, 9.0)
MOVES = {"w": (0, 0, -1), "s": (0, 0, 1), "a": (-1, 0, 0), "d": (1, 0, 0),
         "space": (0, 1, 0), "left shift": (0, -1, 0)}


class Camera:
    def __init__(self):
        self.position = np.array(START)
        self.yaw = 0.0
        self.pitch = -0.25
        self.held = set()
        self.dragging = False

    def rotation(self):
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        cp, sp = math.cos(self.pitch), math.sin(self.pitch)
        ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        return ry @ rx

    def view(self):
        """World-to-camera, as 16 column-major floats."""
        r = self.rotation()
        m = np.identity(4)
        m[:3, :3] = r.T
        m[:3, 3] = -r.T @ self.position
        return [float(x) for x in m.T.reshape(16)]

    def step(self, dt):
        move = np.zeros(3)
        for key in self.held:
            move += MOVES.get(key, (0, 0, 0))
        if not move.any():
            return False
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        flat = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])  # yaw only: stay level
        self.position = self.position + flat @ move * SPEED * min(dt, 0.1)
        return True

    def handle(self, event):
        """Apply one window event; True if the view changed."""
        kind = event.get("event")
        if kind == "redraw":
            return self.step(float(event.get("dt", 0.0)))
        if kind == "keyboard_input":
            key = event.get("key")
            if event.get("state") == "pressed":
                self.held.add(key)
            else:
                self.held.discard(key)
        elif kind == "mouse_input" and event.get("button") == "right":
            self.dragging = event.get("state") == "pressed"
        elif kind == "mouse_motion" and self.dragging:
            self.yaw -= float(event["dx"]) * TURN
            self.pitch = max(-1.5, min(1.5, self.pitch - float(event["dy"]) * TURN))
            return True
        elif kind == "focused" and not event.get("focused"):
            self.held.clear()
            self.dragging = False
        return False


def main(registry):
    window = lookup(registry, "hearth.Window")
    camera = Camera()
    request(window, ["set_camera", VFOV, NEAR, camera.view()])
    request(window, ["subscribe", vm.make_capability(vm.SEND | vm.MONITOR)])
    replies = vm.create_mailbox()  # set_camera's replies: read and dropped
    reply_to = replies.make_capability(vm.SEND)
    while True:
        sig = vm.recv()
        if type(sig) is not vm.Message:
            sig.cap.release()
            continue
        changed = camera.handle(decode(sig.data))
        for cap in sig.caps:
            cap.release()
        if changed:
            # Not a round trip: the frame loop answers between frames.
            send_request(window, ["set_camera", VFOV, NEAR, camera.view()], reply_to)
        while (old := replies.try_recv()) is not None:
            for cap in old.caps:
                cap.release()
