"""A real ``newsdesk serve`` in a child process on 127.0.0.1 (the shared ``child_server``), and
raw sockets to talk to it the way hostile clients do."""

from __future__ import annotations

import socket
import time

from child_server import PATIENCE, Served, serve

__all__ = ["PATIENCE", "Served", "read_until_closed", "serve"]


def read_until_closed(sock: socket.socket, drip: bytes = b"", every: float = 0.2) -> bytes:
    """Everything the server sends until it closes the connection, sending ``drip`` every
    ``every`` seconds meanwhile (a slowloris client); fails after ``PATIENCE``."""
    received = b""
    deadline = time.monotonic() + PATIENCE
    sock.settimeout(every)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if drip:
                try:
                    sock.sendall(drip)
                except OSError:  # the server closed its end while we dripped
                    return received
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open; it sent {received[:200]!r}")
