"""A minimal obs-websocket 5 client (RFC 6455 text frames, no auth), enough to press OBS's own Start and
Stop Streaming from a test. OBS 29 ships obs-websocket; the test enables it without a password in a scratch
config on loopback."""

import base64
import json
import os
import socket
import struct


class WebSocketError(Exception):
    pass


class ObsWebSocket:
    def __init__(self, port, timeout_s=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.buffer = b""
        self.next_id = 0
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: obswebsocket.json\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise WebSocketError(f"obs-websocket refused the upgrade: {head[:200]!r}")
        hello = self._receive()
        if hello.get("op") != 0:
            raise WebSocketError(f"expected Hello, got {hello}")
        if "authentication" in hello.get("d", {}):
            raise WebSocketError("obs-websocket asks for a password; the test config disables it")
        self._send({"op": 1, "d": {"rpcVersion": 1, "eventSubscriptions": 0}})
        if self._receive().get("op") != 2:
            raise WebSocketError("obs-websocket did not identify us")

    def request(self, request_type, data=None):
        """Sends a request and returns its response's `d` (requestStatus, responseData)."""
        self.next_id += 1
        request_id = str(self.next_id)
        payload = {"requestType": request_type, "requestId": request_id}
        if data:
            payload["requestData"] = data
        self._send({"op": 6, "d": payload})
        while True:
            message = self._receive()
            if message.get("op") == 7 and message["d"].get("requestId") == request_id:
                return message["d"]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise WebSocketError("obs-websocket closed the connection")
        self.buffer += chunk

    def _take(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _send_frame(self, opcode, data):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(data))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _send(self, message):
        self._send_frame(0x1, json.dumps(message).encode())

    def _receive(self):
        """The next JSON text message; answers pings, joins fragments."""
        parts = []
        while True:
            first, second = self._take(2)
            opcode, final = first & 0x0F, bool(first & 0x80)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._take(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._take(8))[0]
            mask = self._take(4) if second & 0x80 else None
            data = self._take(size)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 0x9:
                self._send_frame(0xA, data)
                continue
            if opcode == 0x8:
                raise WebSocketError("obs-websocket closed the connection")
            if opcode in (0x1, 0x0):
                parts.append(data)
                if final:
                    return json.loads(b"".join(parts))
