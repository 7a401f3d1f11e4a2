"""Request counters for benchmarks and tests: by method + path template, by status, 429s and faults."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_route: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.by_route_status: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.rate_limited = 0

    def record(self, method: str, template: str, status: int, *, rate_limited: bool = False) -> None:
        route = f"{method} {template}"
        with self._lock:
            self.total += 1
            self.by_route[route] += 1
            self.by_status[str(status)] += 1
            self.by_route_status[f"{route} {status}"] += 1
            if rate_limited:
                self.rate_limited += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "by_route": dict(self.by_route),
                "by_status": dict(self.by_status),
                "by_route_status": dict(self.by_route_status),
                "rate_limited": self.rate_limited,
                "faults": dict(self.faults),
            }
