"""Both ends of a WebSocket connection send small frames at once
(TCP_NODELAY): with Nagle's algorithm on the accepting side, a small frame
behind an unacknowledged one waited for the peer's delayed ACK (~40 ms
tails in the world's fan-out benchmark)."""

import socket

from tests.net.conftest import wait_until


def _nodelay(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_an_accepted_connection_and_a_connecting_one_both_set_nodelay(server, clients, proc):
    side = clients.client()
    wait_until(lambda: server.listener.connections, what="the server's side of the connection")
    (conn,) = server.listener.connections
    assert _nodelay(conn.transport.ws.handler.socket)
    assert _nodelay(side.peer.connection.transport.ws.sock)
