"""Framing on the testbed's TCP connections and on the workers' control pipes.

A message is a 12-byte prefix (JSON length, payload length), a small JSON header and the payload bytes.
The header (about 150 bytes: request, schedule, what to compute) is not part of the priced upload.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any, BinaryIO

_PREFIX = struct.Struct("!IQ")


def send_message(sock: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    body = json.dumps(header, separators=(",", ":")).encode()
    sock.sendall(_PREFIX.pack(len(body), len(payload)) + body + payload)


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    buffer = bytearray(n)
    view, got = memoryview(buffer), 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            return None
        got += k
    return bytes(buffer)


def recv_message(sock: socket.socket) -> tuple[dict[str, Any], bytes] | None:
    """The next message, or None when the peer closed the connection."""
    prefix = _recv_exactly(sock, _PREFIX.size)
    if prefix is None:
        return None
    n_header, n_payload = _PREFIX.unpack(prefix)
    body = _recv_exactly(sock, n_header)
    payload = _recv_exactly(sock, n_payload) if n_payload else b""
    if body is None or payload is None:
        return None
    return json.loads(body), payload


def write_line(stream: BinaryIO, message: dict[str, Any]) -> None:
    """One JSON line on a control pipe."""
    stream.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    stream.flush()
