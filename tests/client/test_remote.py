"""The client's renderer driven from a server through the network: a
process of the server adds an object whose mesh and material lumps only
the server has; the client fetches them by hash (rule N6) and draws it."""

import numpy as np

from hearth import otp, vm
from hearth.native import request
from hearth.net import connect
from tests.net.conftest import SECRET, Side, _server_setup

from ._scenes import cube_mesh, material, translate, wire


def test_a_server_process_adds_an_object_from_lumps_only_the_server_has(client):
    request(client.window, ["set_camera", 60.0, 0.1, wire(translate(0, 0, -4))])
    request(client.renderer, ["set_ambient_lighting", [1, 1, 1, 1]])
    server = Side(vm.Runtime(), _server_setup)
    try:
        with connect(server.info.url, secret=SECRET) as peer:
            otp.register(peer.root, "client.renderer", client.renderer)

            def add_from_the_server(held):
                mesh = held_lump(cube_mesh())
                mat = held_lump(material((0.9, 0.2, 0.2, 1)))
                renderer = otp.lookup(held["registry"], "client.renderer")
                obj = request(renderer, ["add_object", mesh, mat, None],
                              [vm.make_capability(vm.MONITOR)], timeout=30)
                held["object"] = obj
                return mesh, mat

            def held_lump(data):
                return bytes(vm.current_runtime().lumps.put(data))

            mesh, mat = server.run(add_from_the_server)
            assert client.display.scene.object_count == 1
            assert vm.current_runtime().lumps.has(mesh) and vm.current_runtime().lumps.has(mat)
            px = client.screenshot()
            red = (px[:, :, 0] > 100) & (px[:, :, 1] < 80)
            assert red.sum() > 100  # the cube, in its material's colour
            # Killing the object's capability on the server removes it here.

            def kill_it(held):
                obj = held.pop("object")
                ref = obj.monitor()
                obj.kill()
                down = vm.recv(timeout=10)  # from the client, once it is gone there
                return down.ref == ref and down.reason == vm.KILLED

            assert server.run(kill_it)
            client.screenshot()
            assert client.display.scene.object_count == 0
            peer_conn = peer.connection
        assert peer_conn.closed
    finally:
        server.stop()
        server.rt.shutdown(timeout=5)
    assert not server.rt.crashes
