"""The bare baseline of ``bench_world``: a plain gevent-websocket server that
relays every binary frame it gets to every connection (the sender's own
included, as ``hearth.World`` sends each change to every subscriber), with
TCP_NODELAY on every connection.

Run as ``python -m benchmarks._fanout_relay``: it listens on 127.0.0.1, an
ephemeral port, prints ``relays at PORT`` and serves until its standard
input closes (or it is killed). No Hearth code is loaded.
"""

import socket
import sys

import gevent
from gevent.pywsgi import WSGIServer
from geventwebsocket.handler import WebSocketHandler

_conns = set()


def _app(environ, start_response):
    ws = environ.get("wsgi.websocket")
    if ws is None:
        start_response("400 Bad Request", [])
        return [b""]
    _conns.add(ws)
    try:
        receive = ws.receive
        while True:
            frame = receive()
            if frame is None:
                return []
            for other in list(_conns):
                try:
                    other.send(frame, binary=True)
                except Exception:  # noqa: BLE001 - a closed receiver leaves the relay
                    _conns.discard(other)
    finally:
        _conns.discard(ws)


class _Server(WSGIServer):
    """Sets TCP_NODELAY on each accepted connection, as `hearth.net` does on
    its own: without it, a relay's small frames wait on the peer's delayed
    ACK (about 40 ms on Linux), which would measure Nagle, not the relay."""

    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def main():
    server = _Server(("127.0.0.1", 0), _app, handler_class=WebSocketHandler, log=None,
                        error_log=None)
    server.start()
    print(f"relays at {server.address[1]}", flush=True)
    gevent.get_hub().threadpool.spawn(sys.stdin.read).get()  # until stdin closes
    server.stop(timeout=1)


if __name__ == "__main__":
    main()
