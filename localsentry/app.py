"""The application: configuration, bootstrap (org, team, admin token) and request dispatch.

Dispatch order for `/api/0/` requests mirrors Sentry's middleware: authenticate, rate limit (headers on every
response, 429 with a JSON string body), then the endpoint's scope check and the endpoint itself. Faults are
drawn before anything else so they hit ingest and the API alike (never `/_localsentry/`).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localsentry import auth
from localsentry.db import Database, dumps, now_iso
from localsentry.delivery import DeliveryWorker
from localsentry.faults import Faults
from localsentry.http import ApiError, Request, Response, Router
from localsentry.mailbox import Mailbox
from localsentry.models.notifications import DEFAULTS, SETTINGS_KEY
from localsentry.ratelimit import RateLimiter, Ticket
from localsentry.routes import build_router
from localsentry.stats import RequestStats
from localsentry.vocabulary import DEFAULT_FEATURES

log = logging.getLogger("localsentry")


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 0
    db: str = ".localsentry/localsentry.sqlite3"
    info_file: str | None = None
    token_file: str | None = None
    rate_limit: int = 40
    concurrent_limit: int = 25
    faults: dict[str, Any] | None = None
    organization: str = "localsentry"
    team: str = "localsentry"
    legacy_alerts: str = "gone"
    url: str | None = None  # public base URL override (default http://host:port)
    smtp_port: int | None = None  # the built-in SMTP server's port (0: a free one; None: no SMTP server)
    slack_url: str | None = None  # where Slack actions POST their chat.postMessage body
    member_email: str = "admin@localsentry.invalid"  # the address of the organization's one member (user 1)

    def token_path(self) -> Path:
        if self.token_file:
            return Path(self.token_file)
        if self.db == ":memory:":
            return Path(tempfile.mkdtemp(prefix="localsentry-")) / "admin-token"
        return Path(self.db).with_name("admin-token")


@dataclass
class Outcome:
    response: Response
    drop: bool = False


def write_secret_file(path: Path, text: str) -> None:
    """Write atomically to a file that is 0600 from the moment it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


class App:
    def __init__(self, config: Config) -> None:
        self.config = config
        if config.db != ":memory:":
            Path(config.db).parent.mkdir(parents=True, exist_ok=True)
        self.db = Database(config.db)
        self.router: Router = build_router()
        self.limiter = RateLimiter(config.rate_limit, config.concurrent_limit)
        self.faults = Faults()
        self.faults.configure(config.faults)
        self.stats = RequestStats()
        self.url = config.url or ""
        self.admin_token_id: int | None = None
        self.token_file = config.token_path()
        self.started = time.time()
        self.clock_offset = 0.0  # seconds added to the monitors' clock (`PUT /_localsentry/clock`)
        self.mailbox: Mailbox | None = None
        self.smtp: tuple[str, int] | None = None
        self.worker: DeliveryWorker | None = None

    def now(self) -> float:
        """The time Sentry's clock-driven work (missed and timed-out check-ins) runs at."""
        return time.time() + self.clock_offset

    # -- bootstrap -------------------------------------------------------------------------------------

    def bootstrap(self) -> dict[str, Any]:
        org_id = self.ensure_org(self.config.organization)
        self.ensure_team(org_id, self.config.team)
        self.admin_token_id = self._ensure_admin_token()
        return {"organization": self.config.organization, "team": self.config.team}

    def ensure_org(self, slug: str, name: str | None = None) -> int:
        with self.db.tx():
            row = self.db.one("SELECT id FROM orgs WHERE slug = ?", (slug,))
            if row is not None:
                return int(row["id"])
            settings = {"legacyAlertsMode": self.config.legacy_alerts}
            return self.db.run(
                "INSERT INTO orgs (slug, name, created, features, settings) VALUES (?, ?, ?, ?, ?)",
                (slug, name or slug, now_iso(), dumps(DEFAULT_FEATURES), dumps(settings)),
            )

    def ensure_team(self, org_id: int, slug: str) -> int:
        with self.db.tx():
            row = self.db.one("SELECT id FROM teams WHERE org_id = ? AND slug = ? AND deleted = 0", (org_id, slug))
            if row is not None:
                return int(row["id"])
            return self.db.run(
                "INSERT INTO teams (org_id, slug, name, created) VALUES (?, ?, ?, ?)", (org_id, slug, slug, now_iso())
            )

    def _ensure_admin_token(self) -> int:
        path = self.token_file
        if path.exists():
            token = path.read_text().strip()
            row = self.db.one("SELECT id FROM tokens WHERE digest = ? AND revoked = 0", (auth.digest(token),))
            if row is not None:
                os.chmod(path, 0o600)
                return int(row["id"])
        org_id = int(self.db.scalar("SELECT id FROM orgs WHERE slug = ?", (self.config.organization,)))
        token, token_id = auth.create_token(
            self.db, list(auth.ALL_SCOPES), "user", org_id, self.config.organization, name="admin"
        )
        write_secret_file(path, token + "\n")
        self.db.set_meta("admin_token_id", str(token_id))
        return token_id

    def start_workers(self) -> None:
        """The built-in SMTP server (with --smtp-port) and the delivery worker, which is also Sentry's clock."""
        if self.config.smtp_port is not None:
            self.mailbox = Mailbox(self.db, self.config.host if self.config.host not in ("", "::") else "127.0.0.1",
                                   self.config.smtp_port)  # fmt: skip
            self.smtp = self.mailbox.start()
        settings = {**DEFAULTS, "url": self.url, "slack_url": self.config.slack_url,
                    "member_email": self.config.member_email}  # fmt: skip
        self.db.set_meta(SETTINGS_KEY, dumps(settings))
        self.worker = DeliveryWorker(self.db, lambda: self.smtp, self.now)
        self.worker.start()

    def wake(self) -> None:
        """Something was queued: the delivery worker sends it now instead of at its next poll."""
        if self.worker is not None:
            self.worker.wake()

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "organization": self.config.organization,
            "team": self.config.team,
            "token_file": str(self.token_file.resolve()),
            "pid": os.getpid(),
            "db": self.config.db if self.config.db == ":memory:" else str(Path(self.config.db).resolve()),
            "rate_limit": self.limiter.rate,
            "concurrent_limit": self.limiter.concurrent,
            "legacy_alerts": self.config.legacy_alerts,
            "smtp": None if self.smtp is None else f"{self.smtp[0]}:{self.smtp[1]}",
            "slack_url": self.config.slack_url,
        }

    # -- dispatch --------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes, client: str) -> Outcome:
        path, _, query = target.partition("?")
        req = Request(method, path, query, headers, body, client, self)
        decision = self.faults.decide(method, path)
        outcome = Outcome(Response())
        if decision.delay:
            self.stats.fault("delay")
        route, found = self.router.match(method, path)
        template = route.template if route is not None else "<unmatched>"
        req.template = template
        is_api = path.startswith("/api/0/")
        ticket: Ticket | None = None
        rate_limited = False
        try:
            if decision.action in ("drop", "rate_limit", "status"):
                self.stats.fault(decision.action if decision.action != "status" else str(decision.status))
                if decision.action == "drop":
                    outcome.drop = True
                    return outcome
                outcome.response = self._injected(decision.action, decision.status)
                return outcome
            auth_error: ApiError | None = None
            if is_api or path.startswith("/_localsentry/"):
                try:
                    req.principal = auth.authenticate(self.db, headers.get("Authorization"), self.admin_token_id)
                except ApiError as err:
                    auth_error = err
            if is_api:
                key = req.principal.rate_key if req.principal else f"ip:{client}"
                ticket = self.limiter.acquire(key)
                if not ticket.allowed:
                    rate_limited = True
                    raise ApiError(429, ticket.body)
            if decision.delay:
                time.sleep(decision.delay)  # a slow response holds its concurrency slot, as a slow server would
            if auth_error is not None and route is not None and route.scopes is not None:
                raise auth_error
            if route is None:
                if isinstance(found, list) and found and method != "OPTIONS":
                    raise ApiError(405, {"detail": f'Method "{method}" not allowed.'})
                raise ApiError(404, {"detail": "The requested resource does not exist"})
            assert isinstance(found, dict)
            req.params = found
            if route.scopes is not None:
                if req.principal is None:
                    raise ApiError(401, dict(auth.NO_CREDENTIALS), auth.WWW_AUTHENTICATE)
                if route.kind == "admin" and not req.principal.is_admin:
                    raise ApiError(403, {"detail": "You do not have permission to perform this action."})
                auth.require(req.principal, route.scopes)
            outcome.response = route.handler(req)
            for callback in req.after_commit:
                callback()
            if decision.action == "drop_after_commit":
                self.stats.fault("drop_after_commit")
                outcome.drop = True
        except ApiError as err:
            outcome.response = Response(err.status, err.body, dict(err.headers))
        except Exception:
            error_id = uuid.uuid4().hex
            log.exception("internal error %s on %s %s", error_id, method, template)
            outcome.response = Response(500, {"detail": "Internal Error", "errorId": error_id})
        finally:
            if ticket is not None:
                self.limiter.release(ticket)
                outcome.response.headers.update(ticket.headers)
            self.stats.record(method, template, 0 if outcome.drop else outcome.response.status,
                              rate_limited=rate_limited)  # fmt: skip
        return outcome

    def _injected(self, action: str | None, status: int) -> Response:
        if action == "rate_limit":
            limit = self.limiter.rate or 40
            window = self.limiter.window
            body = self.limiter.shaped(
                "You are attempting to use this endpoint too frequently. "
                f"Limit is {limit} requests in {window} seconds"
            )
            headers = {
                "X-Sentry-Rate-Limit-Limit": str(limit),
                "X-Sentry-Rate-Limit-Remaining": "0",
                "X-Sentry-Rate-Limit-Reset": str(int(time.time() // window + 1) * window),
                "X-Sentry-Rate-Limit-ConcurrentLimit": str(self.limiter.concurrent or 25),
                "X-Sentry-Rate-Limit-ConcurrentRemaining": str(max((self.limiter.concurrent or 25) - 1, 0)),
            }
            return Response(429, body, headers)
        if status == 500:
            return Response(500, {"detail": "Internal Error", "errorId": uuid.uuid4().hex})
        reason = {502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
        html = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
        return Response(status, raw=html.encode(), content_type="text/html")

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.mailbox is not None:
            self.mailbox.stop()
        self.db.close()
