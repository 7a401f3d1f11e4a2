"""Loopback ports for the servers and containers a test starts later: outside the kernel's ephemeral range.

A port from ``bind(("127.0.0.1", 0))`` comes from the ephemeral range, the range every later ``bind(0)`` and
outgoing connection draws from too: the Pulumi plugins (gRPC servers on port 0) started between the choice and the
container's bind can take it, and the container then cannot listen while its healthcheck talks to a gRPC server
("Remote end closed connection without response", seen in CI). These ports come from below that range, are free
when chosen, and are never handed out twice by one test process.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_GIVEN: set[int] = set()
_FLOOR = 10000


def _ephemeral() -> tuple[int, int]:
    try:
        low, high = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port that is free now, outside the ephemeral range, not given before in this process."""
    low, high = _ephemeral()
    span = range(_FLOOR, low) if low - _FLOOR >= 2000 else range(high + 1, 65536)
    for _ in range(500):
        port = random.choice(span)
        if port not in _GIVEN and _bindable(port):
            _GIVEN.add(port)
            return port
    raise RuntimeError(f"no free loopback port in {span.start}-{span.stop - 1}")


__all__ = ["free_port"]
