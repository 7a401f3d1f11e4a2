"""The delivery worker and the server's clock: one thread that sends the queued deliveries of firing workflows
(`deliveries`, written by `models.alerting` in the ingest transaction) and, every few seconds, runs what Sentry's
clock runs (missed and timed-out check-ins, metric monitors whose window moved on).

- A webhook or Slack delivery is a JSON POST (5 s timeout); an answer of 2xx is `sent`, anything else `failed`
  with the status or the connection error. An email is sent over SMTP to the built-in server (`--smtp-port`).
- A connection error or a 5xx is tried again (after 2 s, then 10 s) before it fails; a 4xx fails at once.
- Pending deliveries are in the database: a restarted server sends what the stopped one had not.
- Ingest never waits for a receiver: it only wakes this thread; up to 4 deliveries are in flight at once.
"""

from __future__ import annotations

import json
import logging
import smtplib
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from localsentry.db import Database, loads
from localsentry.models.checkins import tick
from localsentry.models.detector_issues import evaluate_all

log = logging.getLogger("localsentry.delivery")
RETRY_AFTER = (2.0, 10.0)
TIMEOUT = 5.0
CLOCK_EVERY = 5.0
BATCH = 50
SENDERS = 4  # deliveries in flight at once


class Undeliverable(Exception):
    """A delivery that failed (`retry`: worth another attempt)."""

    def __init__(self, detail: str, retry: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry = retry


def send(request: dict[str, Any], smtp: tuple[str, int] | None) -> str:
    """Make one delivery; returns what the receiver said, raises Undeliverable."""
    if request.get("smtp"):
        if smtp is None:
            raise Undeliverable("no SMTP server: start localsentry with --smtp-port")
        try:
            with smtplib.SMTP(smtp[0], smtp[1], timeout=TIMEOUT) as client:
                refused = client.sendmail(str(request["from"]), list(request["to"]), str(request["message"]).encode())
        except (OSError, smtplib.SMTPException) as exc:
            raise Undeliverable(f"SMTP {smtp[0]}:{smtp[1]}: {exc}", retry=True) from None
        if refused:
            raise Undeliverable(f"SMTP refused {', '.join(refused)}")
        return f"250 to {', '.join(request['to'])}"
    try:
        resp = requests.post(str(request["url"]), data=json.dumps(request["json"]), headers=request.get("headers"),
                             timeout=TIMEOUT, allow_redirects=False)  # fmt: skip
    except requests.RequestException as exc:
        reason = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
        raise Undeliverable(f"{reason} ({request['url']})", retry=True) from None
    if resp.status_code >= 300:
        raise Undeliverable(f"HTTP {resp.status_code} from {request['url']}", retry=resp.status_code >= 500)
    return f"HTTP {resp.status_code}"


class DeliveryWorker(threading.Thread):
    def __init__(self, db: Database, smtp: Callable[[], tuple[str, int] | None], clock: Callable[[], float]) -> None:
        super().__init__(name="localsentry-delivery", daemon=True)
        self.db, self.smtp, self.clock = db, smtp, clock
        self.pool = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="localsentry-send")
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.last_clock = 0.0

    def wake(self) -> None:
        self.wakeup.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()
        self.join(timeout=TIMEOUT + 2)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wakeup.wait(1.0)
            self.wakeup.clear()
            try:
                self.step()
            except sqlite3.ProgrammingError:  # the database was closed under us: stopping
                return
            except Exception:
                log.exception("delivery worker step failed")

    def step(self) -> int:
        """Run the clock when due and send what is due; returns the number of deliveries attempted."""
        now = self.clock()
        if time.monotonic() - self.last_clock >= CLOCK_EVERY:
            self.last_clock = time.monotonic()
            tick(self.db, now)
            evaluate_all(self.db, now)
        due = self.db.all("SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt <= ? ORDER BY id "
                          "LIMIT ?", (now, BATCH))  # fmt: skip
        list(self.pool.map(self.deliver, due))  # receivers answer in parallel, each delivery recorded by itself
        return len(due)

    def deliver(self, row: sqlite3.Row) -> None:
        if self.stopping.is_set():
            return
        attempts = int(row["attempts"]) + 1
        status, detail, next_attempt = "sent", "", float(row["next_attempt"])
        try:
            detail = send(loads(row["request"]) or {}, self.smtp())
        except Undeliverable as exc:
            detail = exc.detail
            if exc.retry and attempts <= len(RETRY_AFTER):
                status, next_attempt = "pending", self.clock() + RETRY_AFTER[attempts - 1]
            else:
                status = "failed"
        finished = None if status == "pending" else self.clock()
        with self.db.tx():
            self.db.run("UPDATE deliveries SET status = ?, attempts = ?, detail = ?, next_attempt = ?, finished = ? "
                        "WHERE id = ?", (status, attempts, detail, next_attempt, finished, row["id"]))  # fmt: skip


__all__ = ["DeliveryWorker", "Undeliverable", "send"]
