"""Per-token API rate limiting as Sentry's middleware does it: a fixed 1 s window plus concurrent requests."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Ticket:
    key: str
    allowed: bool
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    holds_slot: bool = False


class RateLimiter:
    WINDOW = 1

    def __init__(self, rate: int = 40, concurrent: int = 25) -> None:
        self.rate = rate
        self.concurrent = concurrent
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}
        self._inflight: dict[str, int] = {}

    def set_limits(self, rate: int | None = None, concurrent: int | None = None) -> None:
        with self._lock:
            if rate is not None:
                self.rate = rate
            if concurrent is not None:
                self.concurrent = concurrent
            self._windows.clear()

    def limits(self) -> dict[str, int]:
        return {"rate_limit": self.rate, "concurrent_limit": self.concurrent}

    def acquire(self, key: str) -> Ticket:
        now = time.time()
        window = int(now // self.WINDOW)
        with self._lock:
            start, count = self._windows.get(key, (window, 0))
            if start != window:
                start, count = window, 0
            inflight = self._inflight.get(key, 0)
            headers: dict[str, str] = {}
            over_rate = self.rate > 0 and count >= self.rate
            over_concurrency = self.concurrent > 0 and inflight >= self.concurrent
            if not over_rate:
                count += 1
                self._windows[key] = (start, count)
            if self.rate > 0:
                headers["X-Sentry-Rate-Limit-Limit"] = str(self.rate)
                headers["X-Sentry-Rate-Limit-Remaining"] = str(max(self.rate - count, 0))
                headers["X-Sentry-Rate-Limit-Reset"] = str(math.floor((start + 1) * self.WINDOW))
            holds = not over_rate and not over_concurrency
            if holds:
                inflight += 1
                self._inflight[key] = inflight
            if self.concurrent > 0:
                headers["X-Sentry-Rate-Limit-ConcurrentLimit"] = str(self.concurrent)
                headers["X-Sentry-Rate-Limit-ConcurrentRemaining"] = str(max(self.concurrent - inflight, 0))
        if over_rate:
            body = (
                "You are attempting to use this endpoint too frequently. "
                f"Limit is {self.rate} requests in {self.WINDOW} seconds"
            )
            return Ticket(key, False, body, headers)
        if over_concurrency:
            body = (
                "You are attempting to go above the allowed concurrency for this endpoint. "
                f"Concurrency limit is {self.concurrent}"
            )
            return Ticket(key, False, body, headers)
        return Ticket(key, True, "", headers, holds_slot=True)

    def release(self, ticket: Ticket) -> None:
        if not ticket.holds_slot:
            return
        with self._lock:
            left = self._inflight.get(ticket.key, 1) - 1
            if left <= 0:
                self._inflight.pop(ticket.key, None)
            else:
                self._inflight[ticket.key] = left
