"""A peer written by hand on a bare WebSocket: it speaks the wire format of
hearth/net/_wire.py directly, so tests can send what no honest peer would."""

import socket
from urllib.parse import urlsplit

import msgpack
import websocket

from hearth.net import _auth
from hearth.net._wire import MSG, ROOT, pack, unpack


class RawPeer:
    def __init__(self, url, secret, authenticate=True):
        parts = urlsplit(url)
        sock = socket.socket()  # an IP literal: no name lookup (no thread pool)
        sock.settimeout(10)
        sock.connect((parts.hostname, parts.port))
        self.ws = websocket.create_connection(url, timeout=10, socket=sock)
        self.root = None
        if authenticate:
            hello = self.recv_raw()
            frame, self.nonce, self.server_nonce = _auth.client_auth(hello, secret)
            self.ws.send_binary(frame)
            _auth.check_welcome(self.recv_raw(), secret, self.server_nonce, self.nonce)
            self.send([(ROOT, None)])
            # The server's first frame holds its ROOT.
            for op in self.recv():
                if op[0] == ROOT:
                    self.root = op[1][0]

    def recv_raw(self):
        opcode, data = self.ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return None
        return data

    def recv(self):
        """The next frame's operations; None once the server closed."""
        data = self.recv_raw()
        return None if data is None else unpack(data)

    def send(self, ops):
        self.ws.send_binary(pack(ops))

    def send_raw(self, frame):
        self.ws.send_binary(frame)

    def closed_by_server(self):
        """Read until the server closes; return its last ERROR message (or '')."""
        message = ""
        while True:
            try:
                ops = self.recv()
            except (websocket.WebSocketException, OSError):
                return message
            if ops is None:
                return message
            for op in ops:
                if op[0] == 11:  # ERROR
                    message = op[1]

    def request(self, target, term, reply_id=1, caps=()):
        """Send a PROTOCOLS request to export `target`; our export
        `reply_id` is its reply capability."""
        data = msgpack.packb(term, use_bin_type=True)
        self.send([(MSG, target, data, [(reply_id, 1), *caps])])

    def close(self):
        try:
            self.ws.close(timeout=1)
        except Exception:
            pass
