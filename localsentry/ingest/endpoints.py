"""Ingest endpoints (`/api/{project_id}/envelope/`, `/store/`, `/cron/…`): Relay's checks, answers and storage by item
type."""

from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote

from localsentry.http import ApiError, Request, Response, Router
from localsentry.ingest.cors import cors_allowed, cors_headers, origin_of, preflight
from localsentry.ingest.filters import filter_reason
from localsentry.ingest.items import category_of
from localsentry.ingest.protocol import (
    Auth,
    Envelope,
    Item,
    checked_key,
    decode_body,
    dsn_auth,
    parse_envelope,
    relay_error,
    request_auth,
)
from localsentry.ingest.scrub import scrub_items
from localsentry.ingest.storage import record_outcomes, store_items
from localsentry.models.common import has_feature, project_data
from localsentry.models.symbolication import needs_processing, symbolicate

REJECTED = "event submission rejected with_reason: ProjectId"
RATE_LIMITED = (
    "Sentry dropped data due to a quota or internal rate limit being reached. This will not affect your application. "
    "See https://docs.sentry.io/product/accounts/quotas/ for more information."
)
KEY_QUOTA_CATEGORIES = ("default", "error", "security")
CRON_STATUSES = ("in_progress", "ok", "error")
NIL_CHECK_IN = "0" * 32  # Relay's check-in id when the request names none: "the latest in-progress check-in"


def _project_id(req: Request) -> int | None:
    raw = req.params.get("project_id")
    if raw is None:
        return None
    if not raw.isdigit():
        raise relay_error(400, "bad project path parameter")
    return int(raw)


def _resolve_key(
    req: Request, auth: Auth, project_id: int | None, items: list[Item]
) -> tuple[sqlite3.Row, sqlite3.Row]:
    db = req.app.db
    key = db.one("SELECT * FROM keys WHERE public = ? AND deleted = 0", (auth.key,))
    project = None if key is None else db.one("SELECT * FROM projects WHERE id = ?", (key["project_id"],))
    if key is None or project is None or project["deleted"]:
        raise relay_error(403, REJECTED)
    if not key["active"] or (project_id is not None and project_id != int(project["id"])):
        with db.tx():
            for item in items:
                record_outcomes(db, int(key["id"]), "invalid", item)
        raise relay_error(403, REJECTED)
    return key, project


def _check_cors(req: Request, project: sqlite3.Row, key: sqlite3.Row, items: list[Item]) -> None:
    origin = origin_of(req.headers)
    if origin is None:
        return
    if not cors_allowed(origin, project_data(project).get("allowedDomains", ["*"])):
        with req.app.db.tx():
            for item in items:
                record_outcomes(req.app.db, int(key["id"]), "invalid", item)
        raise relay_error(403, "event submission rejected with_reason: Cors")


def _quota_left(req: Request, project: sqlite3.Row, key: sqlite3.Row) -> tuple[int | None, int]:
    """Events the key may still accept in its current window (None = unlimited) and seconds to window end."""
    count, window = key["rl_count"], key["rl_window"]
    if not count or not window:
        return None, 0
    org = req.app.db.one("SELECT * FROM orgs WHERE id = ?", (project["org_id"],))
    if org is None or not has_feature(org, "projects:rate-limits"):
        return None, 0
    now = time.time()
    start = int(now - now % window)
    used = req.app.db.scalar(
        "SELECT COALESCE(SUM(n), 0) FROM outcomes WHERE key_id = ? AND ts >= ? AND outcome = 'accepted' "
        "AND category IN ('default', 'error', 'security')",
        (key["id"], start),
    )
    return max(int(count) - int(used), 0), max(math.ceil(start + window - now), 1)


def _symbolicated(req: Request, project: sqlite3.Row, items: list[Item]) -> list[Item]:
    """Error events with JavaScript frames resolved through the project's source maps (before grouping, as Sentry
    processes events); every other item as it came, untouched."""
    out: list[Item] = []
    for item in items:
        payload = item.json() if item.type == "event" else None
        if isinstance(payload, dict) and needs_processing(payload):
            processed = symbolicate(req.app.db, int(project["id"]), int(project["org_id"]), payload)
            headers = {k: v for k, v in item.headers.items() if k != "length"}
            item = Item(headers, json.dumps(processed, separators=(",", ":")).encode())
        out.append(item)
    return out


def _accept(req: Request, envelope: Envelope, auth: Auth | None, project_id: int | None) -> Response:
    if auth is None:
        if "dsn" not in envelope.headers:
            raise relay_error(401, "missing authorization information")
        auth = dsn_auth(envelope.headers["dsn"])
    key, project = _resolve_key(req, auth, project_id, envelope.items)
    _check_cors(req, project, key, envelope.items)
    envelope.items = _symbolicated(req, project, envelope.items)
    db = req.app.db
    with db.tx():
        left, retry_after = _quota_left(req, project, key)
        accepted: list[Item] = []
        limited = 0
        data = project_data(project)
        filters, options = data.get("filters", {}), data.get("options", {})
        for item in envelope.items:
            if filter_reason(item, filters, options) is not None:
                record_outcomes(db, int(key["id"]), "filtered", item)
                continue
            if left is not None and category_of(item) in KEY_QUOTA_CATEGORIES:
                if left <= 0:
                    limited += 1
                    record_outcomes(db, int(key["id"]), "rate_limited", item)
                    continue
                left -= 1
            accepted.append(item)
        accepted = scrub_items(accepted, data)  # the project's Security & Privacy settings, before storage
        facts = store_items(db, project, key, envelope.headers, accepted, auth, req.app.clock_offset)
    db.memo.update(facts)
    req.app.wake()  # firings queued deliveries: the worker sends them, ingest does not wait
    headers = cors_headers(req.headers)
    if limited:
        limits = f"{retry_after}:{';'.join(KEY_QUOTA_CATEGORIES)}:key:key_quota"
        headers.update({"Retry-After": str(retry_after), "X-Sentry-Rate-Limits": limits})
        raise relay_error(429, RATE_LIMITED, headers=headers)
    event_id = envelope.headers.get("event_id")
    return Response(200, {"id": event_id} if event_id else {}, headers)


def _body(req: Request) -> bytes:
    if not req.body:
        raise relay_error(400, "empty request body")
    data = decode_body(req.body, req.headers.get("Content-Encoding"))
    if not data.strip():
        raise relay_error(400, "empty request body")
    return data


def with_cors(req: Request, err: ApiError) -> ApiError:
    err.headers.update(cors_headers(req.headers))
    return err


def envelope_endpoint(req: Request) -> Response:
    try:
        project_id = _project_id(req)
        auth = request_auth(req.headers, req.query_string)
        envelope = parse_envelope(_body(req))
        return _accept(req, envelope, auth, project_id)
    except ApiError as err:
        raise with_cors(req, err) from None


def store_endpoint(req: Request) -> Response:
    try:
        project_id = _project_id(req)
        auth = request_auth(req.headers, req.query_string)
        if auth is None:
            raise relay_error(401, "missing authorization information")
        data = _body(req)
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise relay_error(400, "invalid JSON data", [str(exc)]) from None
        if not isinstance(event, dict):
            raise relay_error(400, "invalid JSON data", ["expected an object"])
        event_id = str(event.get("event_id") or "").replace("-", "") or uuid.uuid4().hex
        event["event_id"] = event_id
        kind = "transaction" if event.get("type") == "transaction" else "event"
        envelope = Envelope({"event_id": event_id}, [Item({"type": kind}, json.dumps(event).encode())])
        return _accept(req, envelope, auth, project_id)
    except ApiError as err:
        raise with_cors(req, err) from None


def _cron_auth(req: Request) -> Auth:
    """The key in the path (`…/cron/{slug}/{key}/`), else the request's auth header or query, as Relay reads it."""
    auth = request_auth(req.headers, req.query_string)
    path_key = req.params.get("sentry_key")
    if path_key is None:
        if auth is None:
            raise relay_error(401, "missing authorization information")
        return auth
    if auth is not None and auth.key != path_key.split(".")[0]:
        raise relay_error(401, "multiple authorization payloads detected")
    return auth or checked_key(path_key, "path")


def _cron_check_in(req: Request) -> dict[str, Any]:
    """The check-in of an HTTP request: a JSON body (Relay's `CheckIn`, with `monitor_config` to upsert) or the
    query `status`, `check_in_id`, `environment`, `duration`; the monitor slug always comes from the path."""
    slug = unquote(req.params["monitor_slug"])
    if (req.headers.get("Content-Type") or "").lower().startswith("application/json"):
        try:
            body = json.loads(decode_body(req.body, req.headers.get("Content-Encoding")) or b"null")
        except ValueError as exc:
            raise relay_error(400, "invalid JSON data", [str(exc)]) from None
        if not isinstance(body, dict):
            raise relay_error(400, "invalid JSON data", ["expected an object"])
        check_in = {**body, "monitor_slug": slug}
    else:
        query = {k: v[-1] for k, v in parse_qs(req.query_string).items()}
        check_in = {"monitor_slug": slug, "status": query.get("status")}
        for name in ("check_in_id", "environment"):
            if query.get(name):
                check_in[name] = query[name]
        if query.get("duration"):
            try:
                check_in["duration"] = float(query["duration"])
            except ValueError:
                raise relay_error(400, f"invalid duration {query['duration']!r}") from None
    if check_in.get("status") not in CRON_STATUSES:
        wanted = ", ".join(f"`{s}`" for s in CRON_STATUSES)
        raise relay_error(400, f"invalid check-in status {check_in.get('status')!r}, expected one of {wanted}")
    raw_id = check_in.get("check_in_id")
    try:
        check_in["check_in_id"] = uuid.UUID(str(raw_id)).hex if raw_id else NIL_CHECK_IN
    except ValueError:
        raise relay_error(400, f"invalid check_in_id {raw_id!r}: not a UUID") from None
    return check_in


def cron_endpoint(req: Request) -> Response:
    """Relay's HTTP check-in (`GET`/`POST /api/{project_id}/cron/{monitor_slug}/{sentry_key}/`): a `check_in` item
    of the project, answered 202 (never 429: a rate-limited check-in is dropped, the answer stays 202)."""
    try:
        project_id = _project_id(req)
        auth = _cron_auth(req)
        item = Item({"type": "check_in"}, json.dumps(_cron_check_in(req)).encode())
        try:
            _accept(req, Envelope({}, [item]), auth, project_id)
        except ApiError as err:
            if err.status != 429:
                raise
        return Response(202, headers=cors_headers(req.headers))
    except ApiError as err:
        raise with_cors(req, err) from None


def options_endpoint(req: Request) -> Response:
    return preflight(req.headers)


def register(router: Router) -> None:
    for template in ("/api/{project_id}/envelope/", "/api/{project_id}/store/", "/api/store/"):
        handler = envelope_endpoint if template.endswith("envelope/") else store_endpoint
        router.add("POST", template, handler, None, kind="ingest")
        router.add("OPTIONS", template, options_endpoint, None, kind="ingest")
    cron = "/api/{project_id}/cron/{monitor_slug}"
    for template in (cron + "/{sentry_key}/", cron + "/{sentry_key}", cron + "/", cron):
        for method in ("GET", "POST"):
            router.add(method, template, cron_endpoint, None, kind="ingest")
        router.add("OPTIONS", template, options_endpoint, None, kind="ingest")
