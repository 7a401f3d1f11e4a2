"""Rate and concurrency pacing of the requests to one Sentry organization, shared by every thread of the process.

The provider plugin runs as many Sentry calls at once as its thread pool allows; this pacer keeps all of them within
what Sentry advertises (``X-Sentry-Rate-Limit-*`` headers, a 429's stated limit), so a large stack never sees a 429.
Module state, created lazily per organization (:func:`pacer_for`); a leaf of :mod:`infra.sentry.client`.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

INITIAL_CONCURRENCY = 4  # until the server advertises its limits
UNADVERTISED_CONCURRENCY = 16  # servers that send no rate-limit headers (self-hosted has limits off)
RATE_SAFETY = 0.85  # of the advertised rate, only when a server gives a limit but no budget
CLOCK_MARGIN = 0.02  # seconds past a window's reset before its budget is spent again
MAX_WAIT = 3600.0  # the longest Reset / Retry-After taken at its word


class Pacer:
    """Rate and concurrency pacing shared by all threads that talk to one Sentry organization.

    Sentry counts requests in fixed windows (``Limit is N requests in W seconds``: 1 s on sentry.io
    today, 60 s on some endpoints and older releases). Every response's ``X-Sentry-Rate-Limit-Limit``,
    ``-Remaining`` and ``-Reset`` give the budget left in the current window; the pacer spends exactly
    that budget (minus the requests still in flight, which the server may not have counted yet) and
    then waits for ``-Reset``, so a full window is used without a 429. The window length is learned
    from a 429 body (Sentry's JSON object ``{"detail": "... Limit is N requests in W seconds"}`` or
    an older release's bare JSON string) and from how far away ``-Reset`` is; the longest window seen
    is kept, a later success never shortens it. ``-ConcurrentLimit`` caps requests in flight (one
    below the limit); ``-ConcurrentRemaining: 0`` on a 429 means a concurrency, not a rate, refusal.
    ``Retry-After`` (429/503) blocks everyone for that long. Servers that send no such headers
    (self-hosted Sentry with limits off) are not paced.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.in_flight = 0
        self.concurrency = INITIAL_CONCURRENCY
        self.limit: int | None = None  # requests per window, as advertised
        self.window = 1.0  # seconds; the longest window learned
        self.rate: float | None = None  # even spacing, only when a server advertises a limit but no budget
        self._counted = 0  # the highest count of the current window a response reported (all clients of the token)
        self._counted_seq = 0  # the request whose response reported it
        self._in_flight: set[int] = set()  # sequence numbers of requests sent and not answered
        self._window_end = 0.0  # monotonic time the current window resets (0: unknown)
        self._seq = 0  # requests sent so far (a response of request q saw the server's count after q)
        self._next_slot = 0.0
        self._blocked_until = 0.0
        self.learned = False
        self.throttled = 0  # 429s seen

    @property
    def budget(self) -> int | None:
        """Requests we may still send in the current window (None: no budget advertised)."""
        if self.limit is None or not self._window_end:
            return None
        # requests in flight may have arrived since (or not): count them as used until they are answered
        return self.limit - self._counted - len(self._in_flight)

    def acquire(self) -> int:
        """Wait for a slot; returns the request's sequence number (pass it to :meth:`release`)."""
        with self._cond:
            while True:
                now = time.monotonic()
                if self._window_end and now >= self._window_end + CLOCK_MARGIN:
                    self._roll_window(now)
                wait = 0.0
                budget = self.budget
                if now < self._blocked_until:
                    wait = self._blocked_until - now
                elif budget is not None and budget <= 0:
                    wait = self._window_end + CLOCK_MARGIN - now
                elif self.in_flight >= self.concurrency:
                    wait = 1.0  # a release notifies
                if wait <= 0:
                    break
                self._cond.wait(timeout=max(0.005, min(wait, 1.0)))
            self.in_flight += 1
            self._seq += 1
            seq = self._seq
            self._in_flight.add(seq)
            slot = now
            if self.rate and budget is None:
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            time.sleep(slot - now)
        return seq

    def _roll_window(self, now: float) -> None:
        """The window we knew has ended: the server counts anew (requests still in flight may land in it)."""
        windows = int((now - self._window_end) // self.window) + 1
        self._window_end += windows * self.window
        self._counted, self._counted_seq = 0, 0  # requests still in flight may land in the new window

    def release(
        self, headers: Mapping[str, str] | None, status: int | None, body: Any = None, seq: int | None = None
    ) -> None:
        with self._cond:
            self.in_flight -= 1
            seq = self._seq if seq is None else seq
            self._in_flight.discard(seq)
            reported = headers is not None and self._learn(headers, status, body, seq)
            if not reported and self._window_end and seq > self._counted_seq:
                self._counted += 1  # answered (or failed) without a count: assume the server counted it
            self._cond.notify_all()

    def _learn(self, headers: Mapping[str, str], status: int | None, body: Any, seq: int) -> bool:
        """Learn from one response's headers (and 429 body); True when they reported the window's count."""
        now_wall, now = time.time(), time.monotonic()
        limit = _int_header(headers, "X-Sentry-Rate-Limit-Limit")
        remaining = _int_header(headers, "X-Sentry-Rate-Limit-Remaining")
        reset = _float_header(headers, "X-Sentry-Rate-Limit-Reset")
        concurrent = _int_header(headers, "X-Sentry-Rate-Limit-ConcurrentLimit")
        concurrent_left = _int_header(headers, "X-Sentry-Rate-Limit-ConcurrentRemaining")
        if limit is None and concurrent is None and not self.learned and status is not None and status < 400:
            self.concurrency = max(self.concurrency, UNADVERTISED_CONCURRENCY)
        retry_after = _float_header(headers, "Retry-After")
        if retry_after is not None and status in (429, 503) and 0 < retry_after <= MAX_WAIT:
            self._blocked_until = max(self._blocked_until, now + retry_after)
        if status == 429:
            stated = rate_limit_from_body(body)
            if stated is not None:
                limit = limit or stated[0]
                self.window = max(self.window, stated[1])
        reset_in = reset - now_wall if reset is not None else None
        if reset_in is not None and not 0 <= reset_in <= MAX_WAIT:
            reset_in = None  # a clock far off, or not a timestamp: ignore it
        if reset_in is not None and reset_in > self.window + CLOCK_MARGIN:
            self.window = float(math.ceil(reset_in))  # the reset is further away than one window of ours
        if limit and limit > 0:
            self.limit = limit
            self.rate = max(0.5, limit * RATE_SAFETY / self.window)
            self.learned = True
        if concurrent and concurrent > 0:
            self.concurrency = max(1, concurrent - 1) if concurrent > 2 else concurrent
            self.learned = True
        if reset_in is not None and remaining is not None and self.limit:
            end = now + reset_in
            counted = self.limit - remaining  # the server's count when request `seq` arrived
            if not self._window_end or end > self._window_end + 0.5:  # a later window than the one we knew
                self._window_end, self._counted, self._counted_seq = end, counted, seq
            elif end > self._window_end - 0.5 and counted >= self._counted:  # the same window: the higher count
                self._counted, self._counted_seq = counted, seq
        if status == 429:
            self.throttled += 1
            concurrency_hit = concurrent_left == 0 and remaining is not None and remaining > 0
            if concurrency_hit:
                self._blocked_until = max(self._blocked_until, now + random.uniform(0.05, 0.25))
            else:
                until = now + reset_in if reset_in is not None else now + min(self.window, 5.0)
                if not self._window_end or until > self._window_end:
                    self._window_end = until
                self._counted, self._counted_seq = max(self._counted, self.limit or 0), self._seq  # none left
                self._blocked_until = max(self._blocked_until, until + CLOCK_MARGIN, now + 0.05)
        return reset_in is not None and remaining is not None and bool(self.limit)


_STATED_LIMIT = re.compile(r"Limit is (\d+) requests? in (\d+(?:\.\d+)?) seconds?")


def rate_limit_from_body(body: Any) -> tuple[int, float] | None:
    """(requests, window seconds) stated by a 429 body: a JSON object's ``detail`` (current Sentry) or
    ``message``, or a bare JSON string (older releases, localsentry). None when the body states none."""
    text = body
    if isinstance(body, Mapping):
        text = body.get("detail") or body.get("message")
        if isinstance(text, Mapping):
            text = text.get("message")
    if not isinstance(text, str):
        return None
    match = _STATED_LIMIT.search(text)
    if match is None:
        return None
    return int(match.group(1)), max(1.0, float(match.group(2)))


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


_PACERS: dict[str, Pacer] = {}
_MODULE_LOCK = threading.Lock()


def pacer_for(api_root: str, organization: str) -> Pacer:
    """The process-wide pacer of one organization (created on first use)."""
    key = f"{api_root}|{organization}"
    with _MODULE_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = _PACERS[key] = Pacer()
        return pacer



__all__ = [
    "CLOCK_MARGIN", "INITIAL_CONCURRENCY", "MAX_WAIT", "RATE_SAFETY", "UNADVERTISED_CONCURRENCY", "Pacer",
    "pacer_for", "rate_limit_from_body",
]
