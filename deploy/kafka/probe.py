"""Readiness probe for deploy/kafka.sh: exit 0 when a Kafka broker answers a Metadata request listing itself.

Standard library only, so `deploy/kafka.sh start` works before the project's dependencies are installed.
A KRaft broker accepts client requests only once it is registered and unfenced, so one answer with a
broker in it means producers and consumers can start.
"""

from __future__ import annotations

import socket
import struct
import sys

# Metadata v4 exists from Kafka 1.0 to 4.x (4.0 removed v0-v3); it is not a flexible version, so plain encoding.
_METADATA_KEY = 3
_METADATA_VERSION = 4
_CORRELATION_ID = 0x4B50
_CLIENT_ID = b"connector-events-probe"


def _request() -> bytes:
    header = struct.pack(">hhih", _METADATA_KEY, _METADATA_VERSION, _CORRELATION_ID, len(_CLIENT_ID))
    # topics = null (all topics), allow_auto_topic_creation = false
    body = struct.pack(">i?", -1, False)
    payload = header + _CLIENT_ID + body
    return struct.pack(">i", len(payload)) + payload


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks += chunk
    return bytes(chunks)


def broker_count(host: str, port: int, timeout: float) -> int:
    """Return how many brokers the Metadata response of host:port lists."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(_request())
        (size,) = struct.unpack(">i", _read_exactly(sock, 4))
        response = _read_exactly(sock, size)
    correlation_id, _throttle_ms, brokers = struct.unpack_from(">iii", response)
    if correlation_id != _CORRELATION_ID:
        raise ConnectionError(f"unexpected correlation id {correlation_id}")
    return int(brokers)


def main(argv: list[str]) -> int:
    host, port = argv[1], int(argv[2])
    timeout = float(argv[3]) if len(argv) > 3 else 2.0
    try:
        return 0 if broker_count(host, port, timeout) > 0 else 1
    except (OSError, struct.error):
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
