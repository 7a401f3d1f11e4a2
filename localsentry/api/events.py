"""Reading ingested events back: Sentry's project events list and event details.

The list holds error events, as Sentry's does; `…/events/{event_id}/json/` is the event as stored after
processing (Sentry's event JSON). localsentry extension: `query=event.type:transaction` lists
transactions instead (Sentry keeps them elsewhere); every item type is readable through
`/_localsentry/projects/{org}/{project}/items/`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import loads
from localsentry.http import Request, Response, Router, not_found
from localsentry.models.common import org_row, project_row, time_range
from localsentry.models.events import serialize_detail, serialize_summary
from localsentry.pagination import paginate

P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
READ = ("project:admin", "project:read", "project:write")


def list_events(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    sql = "SELECT * FROM items WHERE project_id = ? AND type = ?"
    kind = "event"
    filters: list[tuple[str, str, bool]] = []
    for token in (req.arg("query") or "").split():
        negate = token.startswith("!")
        key, sep, value = token.lstrip("!").partition(":")
        if sep and key == "event.type" and value == "transaction" and not negate:
            kind = "transaction"
        elif sep:
            filters.append((key, value.strip('"'), negate))
        else:
            filters.append(("message", token, negate))
    args: list[Any] = [project["id"], kind]
    envs = req.args("environment")
    if envs:
        sql += f" AND environment IN ({','.join('?' * len(envs))})"
        args += envs
    since, until = time_range(req)
    if since is not None:
        sql += " AND received >= ?"
        args.append(since)
    if until is not None:
        sql += " AND received <= ?"
        args.append(until)
    rows = req.app.db.all(sql + " ORDER BY id DESC", args)
    if filters:
        rows = [r for r in rows if all(_matches(r, *f) for f in filters)]
    full = (req.arg("full") or "").lower() in ("1", "true")
    return paginate(req, rows, lambda r: _full(req, r) if full else serialize_summary(r))


def _full(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    body = serialize_detail(req, row)
    body["event.type"] = body["type"]
    return body


def _matches(row: sqlite3.Row, key: str, value: str, negate: bool) -> bool:
    summary = serialize_summary(row)
    tags = {t["key"]: t["value"] for t in summary["tags"]}
    user = summary["user"] or {}
    if key in ("environment", "release"):
        found = (row[key] or "") == value
    elif key.startswith("user."):
        found = str(user.get(key[5:]) or "") == value
    elif key in ("message", "title"):
        found = value.lower() in (summary["message"] + " " + summary["title"]).lower()
    elif key == "event.type":
        found = summary["event.type"] == value
    elif key == "id":
        found = summary["id"] == value
    else:
        found = tags.get(key.removeprefix("tags[").removesuffix("]")) == value
    return found != negate


def _event_row(req: Request) -> sqlite3.Row:
    org = org_row(req)
    project = project_row(req, org)
    event_id = req.params["event_id"].replace("-", "").lower()
    sql = "SELECT * FROM items WHERE project_id = ? AND event_id = ? AND type IN ('event', 'transaction')"
    args: list[Any] = [project["id"], event_id]
    envs = req.args("environment")
    if envs:
        sql += f" AND environment IN ({','.join('?' * len(envs))})"
        args += envs
    row = req.app.db.one(sql + " ORDER BY id DESC LIMIT 1", args)
    if row is None:
        raise not_found()
    return row


def get_event(req: Request) -> Response:
    return Response(200, serialize_detail(req, _event_row(req)))


def get_event_json(req: Request) -> Response:
    """The event as stored after processing (Sentry's event JSON: snake_case, resolved frames with their `data`,
    the frames as they arrived in `raw_stacktrace`, processing `errors`)."""
    row = _event_row(req)
    payload = loads(row["payload"]) or {}
    return Response(200, {**payload, "event_id": str(row["event_id"]), "project": int(row["project_id"])})


def register(router: Router) -> None:
    router.add("GET", P + "/events/", list_events, READ)
    router.add("GET", P + "/events/{event_id}/", get_event, READ)
    router.add("GET", P + "/events/{event_id}/json/", get_event_json, READ)
