"""The client's stock services, guests since issue 16, upgraded live: each
runs as init runs it (a front owning the public mailbox, `hearth.native.
start_guest_service`), a client holds its capability, and `hearth.native.
upgrade_guest_service` (what ``hearth-ctl upgrade`` asks for) swaps the module. The old
guest finishes on the front's Exit (it returns from run), and the new one
does the service's work again on a real window."""

import pathlib

import pygame
import pytest

import kindling
from hearth import vm
from hearth.native import request, start_guest_service, upgrade_guest_service
from hearth.otp import ServiceError, registry_view

INIT = pathlib.Path(kindling.__file__).parent / "root" / "init"
NEEDS = {"skybox": ["hearth.Renderer"], "fly-camera": ["hearth.Window"],
         "demo-scene": ["hearth.Renderer", "hearth.canvas.CanvasFactory", "hearth.Window"]}

pytestmark = pytest.mark.parametrize("client", [60.0], indirect=True, ids=["60fps"])


def _frames_until(client, done, limit=300):
    for _ in range(limit):
        if done():
            return
        client.screenshot()
    pytest.fail(f"not done after {limit} frames")


def _start(client, name):
    lump = vm.current_runtime().lumps.put((INIT / name / f"{name}.wasm").read_bytes())
    view = registry_view(client.registry, read_only=True, names=NEEDS[name])
    svc = start_guest_service(lump, view, name=name)
    view.release()
    return svc, lump


def _upgrade(svc, lump):
    done = upgrade_guest_service(svc.front, lump)
    assert done["old_exit"] == "normal"  # it finished; it was not killed at the deadline
    return done["version"]


def _object_ids(scene):
    return {oid for batch in scene.batches.values() for oid in batch}


def test_the_demo_scene_rebuilds_itself_after_an_upgrade(client):
    svc, lump = _start(client, "demo-scene")
    scene = client.display.scene
    _frames_until(client, lambda: scene.object_count == 6 and len(scene.canvases) == 1)
    before, canvases = _object_ids(scene), set(scene.canvases)
    assert _upgrade(svc, lump) == 2
    # The old guest's objects went with its route; the new guest's came.
    _frames_until(client, lambda: scene.object_count == 6 and len(scene.canvases) == 1
                  and not _object_ids(scene) & before and not set(scene.canvases) & canvases)
    with pytest.raises(ServiceError) as info:  # the held capability reaches the new version
        request(svc.cap, "anything")
    assert info.value.kind == "invalid_request"
    svc.front.kill()


def test_the_skybox_is_set_again_by_the_new_version(client):
    svc, lump = _start(client, "skybox")
    scene = client.display.scene
    _frames_until(client, lambda: scene.skybox is not None)
    scene.skybox = None  # as if the renderer had lost it: the new version sets it again
    assert _upgrade(svc, lump) == 2
    _frames_until(client, lambda: scene.skybox is not None)
    svc.front.kill()


def test_the_fly_camera_still_flies_after_an_upgrade(client):
    svc, lump = _start(client, "fly-camera")
    camera = client.display.scene.camera
    _frames_until(client, lambda: camera.near == 0.05)
    camera.near = 0.1  # the new version's first set_camera shows it has taken over
    assert _upgrade(svc, lump) == 2
    _frames_until(client, lambda: camera.near == 0.05)
    z0 = float(camera.view[14])
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, mod=0, scancode=26,
                                         unicode="w"))
    _frames_until(client, lambda: float(camera.view[14]) > z0 + 0.01)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_w, mod=0, scancode=26,
                                         unicode="w"))
    svc.front.kill()
