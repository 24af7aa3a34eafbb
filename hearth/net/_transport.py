"""Transports: how frames move. WebSocket (server and client) and a plain
length-prefixed stream for the local IPC socket.

A transport has ``recv(limit)`` (the next frame as bytes, or None at the
end; switches), ``send(frame)`` (switches while the socket is full) and
``close(message)`` (never switches for long). `address` names the peer for
logs and for the failure throttle. A frame over `limit` bytes (by default
`MAX_FRAME`; during the handshake, the little a handshake needs) is refused
with `ProtocolError` from its header, before it is read into memory. A
connection that ends between two frames (a WebSocket close, or the socket
closed by a peer that was stopped) is a normal end: ``recv`` returns None,
and `ended` says which it was (a WebSocket close with its code and reason,
or a connection cut without one, as a proxy's idle timeout does).

The WebSocket transports also have ``ping()`` (switches while the socket
is full) and `heard`, the `time.monotonic` time the last frame of any kind
(a pong included) arrived: the connection's keepalive uses both. Every
frame they send, pings and pongs included, goes out whole under one lock,
so a pong never lands inside a big message being written.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from typing import Any, Protocol

import gevent
from gevent.lock import Semaphore

from ._wire import MAX_FRAME, ProtocolError

__all__ = ["WebSocketServerTransport", "WebSocketClientTransport", "StreamTransport"]


class Transport(Protocol):
    """What a `Connection` and the handshake need of a transport."""

    address: str

    def recv(self, limit: int = ...) -> bytes | None: ...

    def send(self, frame: bytes) -> None: ...

    def close(self, message: str = ...) -> None: ...


class PingingTransport(Transport, Protocol):
    """A transport with a keepalive (the WebSocket ones)."""

    heard: float

    def ping(self) -> None: ...


_CONT, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


_UNMASK_CHUNK = 4 * 1024 * 1024  # bytes unmasked between two yields to the hub
_SMALL = 1024


def _unmask(mask: bytes, payload: bytes) -> bytes:
    """`payload` XOR the 4-byte `mask`, repeated. gevent-websocket's own
    `Header.unmask_payload` loops in Python, byte by byte (~50 ns a byte).
    Small payloads XOR as two big integers (~1 us for 64 bytes); bigger ones
    through numpy (48 MiB in ~80 ms here, against ~0.5 s as integers), a
    chunk of `_UNMASK_CHUNK` bytes at a time with a yield to the hub between
    chunks, so a peer's huge frame never stalls everyone else for long.

    Switches: only for payloads over `_UNMASK_CHUNK` bytes."""
    n = len(payload)
    if n <= _SMALL:
        small_key = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
        return (int.from_bytes(payload, "little") ^ small_key).to_bytes(n, "little")
    import numpy as np

    data = np.frombuffer(payload, dtype=np.uint8)
    out = np.empty(n, dtype=np.uint8)
    row = 4096  # a multiple of 4, so every row starts at the mask's first byte
    key = np.frombuffer(mask * (row // 4), dtype=np.uint8)
    full = n - n % row
    for start in range(0, full, _UNMASK_CHUNK):
        end = min(full, start + _UNMASK_CHUNK)
        np.bitwise_xor(data[start:end].reshape(-1, row), key,
                       out=out[start:end].reshape(-1, row))
        if end < full:
            gevent.sleep(0)
    if n > full:
        np.bitwise_xor(data[full:], key[:n - full], out=out[full:])
    return out.tobytes()


_H2, _H8 = struct.Struct("!H"), struct.Struct("!Q")


class _Header:
    __slots__ = ("fin", "opcode", "flags", "length", "mask")

    fin: bool
    opcode: int
    flags: int
    length: int
    mask: bytes | None


class _CutShort(Exception):
    """The socket ended inside a WebSocket frame."""


def _read_header(read: Callable[[int], bytes]) -> _Header | None:
    """The next WebSocket frame header from `read`, or None if the stream
    ended cleanly before it (between two frames)."""
    data = read(2)
    if not data:
        return None
    if len(data) != 2:
        raise _CutShort()
    h = _Header()
    h.fin = bool(data[0] & 0x80)
    h.flags = data[0] & 0x70
    h.opcode = data[0] & 0x0F
    length = data[1] & 0x7F
    if length == 126:
        more = read(2)
        if len(more) != 2:
            raise _CutShort()
        (length,) = _H2.unpack(more)
    elif length == 127:
        more = read(8)
        if len(more) != 8:
            raise _CutShort()
        (length,) = _H8.unpack(more)
    h.length = length
    h.mask = None
    if data[1] & 0x80:
        h.mask = read(4)
        if len(h.mask) != 4:
            raise _CutShort()
    if h.opcode > 0x7 and (not h.fin or length > 125):
        raise ProtocolError("a WebSocket control frame that is fragmented or over 125 bytes")
    return h


_READ_CHUNK = 1 << 20  # a big payload is read in pieces, each one "heard"
_CUT = ("the connection was cut without a WebSocket close (a proxy's timeout, or the peer's"
        " process stopped)")


def _close_text(payload: bytes) -> str:
    """What a WebSocket close frame's payload says, for logs."""
    if len(payload) < 2:
        return "a WebSocket close"
    code = _H2.unpack(payload[:2])[0]
    why = payload[2:125].decode("utf-8", "replace")
    return f"a WebSocket close ({code}{': ' + why if why else ''})"


class WebSocketServerTransport:
    """The server's side of a gevent-websocket connection.

    Reads messages itself (not with `WebSocket.receive`) to refuse an
    oversized frame from its header, and text frames outright.
    """

    def __init__(self, ws: Any, address: str) -> None:
        self.ws = ws  # a geventwebsocket WebSocket
        self.address = address
        self.heard = time.monotonic()
        self.ended: str | None = None
        self._lock = Semaphore()

    def _read(self, n: int) -> bytes:
        """`n` bytes of payload, read a piece at a time so that a big frame
        on a slow link still counts as heard."""
        read = self.ws.stream.read
        if n <= _READ_CHUNK:
            return read(n)
        parts, left = [], n
        while left:
            part = read(min(left, _READ_CHUNK))
            if not part:
                break
            parts.append(part)
            left -= len(part)
            self.heard = time.monotonic()
        return b"".join(parts)

    def _send(self, payload: bytes, opcode: int) -> None:
        with self._lock:
            self.ws.send_frame(payload, opcode)

    def recv(self, limit: int = MAX_FRAME) -> bytes | None:
        ws = self.ws
        if ws.closed or ws.stream is None:
            self.ended = self.ended or "the WebSocket was already closed"
            return None
        message: bytearray | None = None
        read = ws.stream.read
        try:
            while True:
                header = _read_header(read)
                if header is None:
                    if message is not None:
                        raise _CutShort()
                    self.ended = _CUT
                    return None  # closed between two frames: a normal end
                self.heard = time.monotonic()
                if header.flags:
                    raise ProtocolError("reserved WebSocket bits set")
                size = header.length + (len(message) if message is not None else 0)
                if size > limit:
                    raise ProtocolError(f"frame of {size} bytes is over the limit of {limit}")
                payload = self._read(header.length) if header.length else b""
                if len(payload) != header.length:
                    raise _CutShort()
                self.heard = time.monotonic()
                if header.mask:
                    payload = _unmask(header.mask, payload)
                op = header.opcode
                if op == _PING:
                    self._send(payload, _PONG)
                    continue
                if op == _PONG:
                    continue
                if op == _CLOSE:
                    self.ended = _close_text(payload)
                    return None
                if op == _TEXT:
                    raise ProtocolError("text frames are not part of the protocol (binary only)")
                if op == _BINARY:
                    if message is not None:
                        raise ProtocolError("a new message began inside a fragmented one")
                    message = bytearray(payload)
                elif op == _CONT:
                    if message is None:
                        raise ProtocolError("a continuation frame with no message")
                    message += payload
                else:
                    raise ProtocolError(f"unknown WebSocket opcode {op}")
                if header.fin:
                    return bytes(message)
        except ProtocolError:
            raise
        except _CutShort:
            raise ProtocolError("the connection ended inside a WebSocket frame") from None
        except (OSError, ValueError) as e:  # the socket died under us (reset, or closed here)
            self.ended = f"the connection failed: {e or type(e).__name__}"
            return None

    def send(self, frame: bytes) -> None:
        self._send(frame, _BINARY)

    def ping(self) -> None:
        self._send(b"", _PING)

    def close(self, message: str = "") -> None:
        ws = self.ws
        sock = getattr(ws.handler, "socket", None)
        if not ws.closed:
            try:
                ws.close(1000 if not message else 1008, message.encode()[:120])
            except Exception:
                pass
        if sock is not None:  # wake a reader blocked on a peer that never answers
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class WebSocketClientTransport:
    """The client's side, on `websocket-client` (ws:// and wss://).

    websocket-client answers a ping itself, from the reading greenlet: its
    send lock becomes a gevent lock here, so that pong never lands inside a
    message the writer greenlet is sending.
    """

    def __init__(self, ws: Any, address: str) -> None:
        self.ws = ws  # a websocket-client WebSocket
        self.address = address
        self.heard = time.monotonic()
        self.ended: str | None = None
        ws.lock = Semaphore()

    def recv(self, limit: int = MAX_FRAME) -> bytes | None:
        import websocket

        try:
            while True:
                opcode, data = self.ws.recv_data(control_frame=True)
                self.heard = time.monotonic()
                if opcode == websocket.ABNF.OPCODE_BINARY:
                    if len(data) > limit:
                        raise ProtocolError(f"frame of {len(data)} bytes is over the limit"
                                            f" of {limit}")
                    return bytes(data)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.ended = _close_text(bytes(data or b""))
                    return None
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    raise ProtocolError("text frames are not part of the protocol (binary only)")
        except ProtocolError:
            raise
        except websocket.WebSocketConnectionClosedException:
            self.ended = _CUT
            return None
        except Exception as e:
            self.ended = f"the connection failed: {e or type(e).__name__}"
            return None

    def ping(self) -> None:
        self.ws.ping()

    def send(self, frame: bytes) -> None:
        import websocket

        self.ws.send(frame, opcode=websocket.ABNF.OPCODE_BINARY)

    def close(self, message: str = "") -> None:
        ws = self.ws
        try:
            if ws.connected:
                ws.send_close(1000 if not message else 1008, message.encode()[:120])
        except Exception:
            pass
        ws.abort()  # wakes a reader blocked in recv
        ws.shutdown()


_LEN = struct.Struct(">I")


class StreamTransport:
    """Frames on a stream socket, each prefixed by its length (4 bytes, big
    endian). Used for the local IPC socket."""

    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address

    def _read(self, n: int) -> bytes | None:
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def recv(self, limit: int = MAX_FRAME) -> bytes | None:
        try:
            head = self._read(4)
            if head is None:
                return None
            (n,) = _LEN.unpack(head)
            if n > limit:
                raise ProtocolError(f"frame of {n} bytes is over the limit of {limit}")
            return self._read(n) if n else b""
        except OSError:
            return None

    def send(self, frame: bytes) -> None:
        self.sock.sendall(_LEN.pack(len(frame)) + frame)

    def close(self, message: str = "") -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
