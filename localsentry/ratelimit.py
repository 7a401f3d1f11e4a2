"""Per-token API rate limiting as Sentry's middleware does it: a fixed window (1 s unless set) plus concurrent
requests. The 429 body is a bare JSON string (older Sentry releases, the default) or, with ``body_shape``
"object", current Sentry's ``{"detail": "..."}``."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

BODY_SHAPES = ("string", "object")


@dataclass
class Ticket:
    key: str
    allowed: bool
    body: Any = ""
    headers: dict[str, str] = field(default_factory=dict)
    holds_slot: bool = False


class RateLimiter:
    WINDOW = 1

    def __init__(self, rate: int = 40, concurrent: int = 25, window: int = WINDOW, body_shape: str = "string") -> None:
        self.rate = rate
        self.concurrent = concurrent
        self.window = window
        self.body_shape = body_shape
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}
        self._inflight: dict[str, int] = {}

    def set_limits(
        self, rate: int | None = None, concurrent: int | None = None, window: int | None = None,
        body_shape: str | None = None,
    ) -> None:
        with self._lock:
            if rate is not None:
                self.rate = rate
            if concurrent is not None:
                self.concurrent = concurrent
            if window is not None:
                self.window = window
            if body_shape is not None:
                self.body_shape = body_shape
            self._windows.clear()

    def limits(self) -> dict[str, Any]:
        return {"rate_limit": self.rate, "concurrent_limit": self.concurrent, "window": self.window,
                "body": self.body_shape}

    def shaped(self, text: str) -> Any:
        """A 429 body in the configured shape."""
        return {"detail": text} if self.body_shape == "object" else text

    def acquire(self, key: str) -> Ticket:
        now = time.time()
        window = int(now // self.window)
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
                headers["X-Sentry-Rate-Limit-Reset"] = str(math.floor((start + 1) * self.window))
            holds = not over_rate and not over_concurrency
            if holds:
                inflight += 1
                self._inflight[key] = inflight
            if self.concurrent > 0:
                headers["X-Sentry-Rate-Limit-ConcurrentLimit"] = str(self.concurrent)
                headers["X-Sentry-Rate-Limit-ConcurrentRemaining"] = str(max(self.concurrent - inflight, 0))
        if over_rate:
            body = self.shaped(
                "You are attempting to use this endpoint too frequently. "
                f"Limit is {self.rate} requests in {self.window} seconds"
            )
            return Ticket(key, False, body, headers)
        if over_concurrency:
            body = self.shaped(
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
