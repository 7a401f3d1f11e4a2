"""Reading ingested events back: Sentry's project events list and event details.

The list holds error events, as Sentry's does. localsentry extension: `query=event.type:transaction` lists
transactions instead (Sentry keeps them elsewhere); every item type is readable through
`/_localsentry/projects/{org}/{project}/items/`.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from localsentry.api.common import org_row, project_row
from localsentry.db import loads
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.pagination import paginate

P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
READ = ("project:admin", "project:read", "project:write")
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _title(payload: dict[str, Any], kind: str) -> tuple[str, str]:
    """(title, message) as Sentry derives them."""
    if kind == "transaction":
        name = str(payload.get("transaction") or "<unlabeled transaction>")
        return name, ""
    logentry: dict[str, Any] = payload["logentry"] if isinstance(payload.get("logentry"), dict) else {}
    message = payload.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    message = str(logentry.get("formatted") or logentry.get("message") or message or "")
    exc = payload.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc if isinstance(exc, list) else None
    if values and isinstance(values[-1], dict):
        last = values[-1]
        title = f"{last.get('type') or 'Error'}: {last.get('value') or ''}".rstrip(": ")
        return title, message or str(last.get("value") or "")
    return (message.splitlines()[0][:100] if message else "<unlabeled event>"), message


def _tags(payload: dict[str, Any], row: sqlite3.Row) -> list[dict[str, str]]:
    tags: dict[str, str] = {}
    raw = payload.get("tags")
    if isinstance(raw, dict):
        tags.update({str(k): str(v) for k, v in raw.items()})
    elif isinstance(raw, list):
        tags.update({str(p[0]): str(p[1]) for p in raw if isinstance(p, list | tuple) and len(p) == 2})
    for name, value in (
        ("environment", row["environment"]),
        ("release", row["release"]),
        ("level", payload.get("level") or ("info" if row["type"] == "transaction" else "error")),
        ("server_name", payload.get("server_name")),
        ("transaction", payload.get("transaction")),
    ):
        if value:
            tags.setdefault(name, str(value))
    return [{"key": k, "value": v, "query": f'{k}:"{v}"'} for k, v in sorted(tags.items())]


def _user(payload: dict[str, Any]) -> dict[str, Any] | None:
    user = payload.get("user")
    if not isinstance(user, dict) or not user:
        return None
    out = {
        k: (None if user.get(k) is None else str(user.get(k)))
        for k in ("id", "email", "username", "ip_address", "name")
    }
    if isinstance(user.get("data"), dict):
        out["data"] = user["data"]
    return out


def _kind(row: sqlite3.Row, payload: dict[str, Any]) -> str:
    if row["type"] == "transaction":
        return "transaction"
    if payload.get("type") in ("csp", "nel", "hpkp", "expectct", "expectstaple", "feedback"):
        return str(payload["type"])
    return "error" if payload.get("exception") else "default"


def serialize_summary(row: sqlite3.Row) -> dict[str, Any]:
    payload = loads(row["payload"]) or {}
    kind = _kind(row, payload)
    title, message = _title(payload, str(row["type"]))
    culprit = payload.get("culprit") or payload.get("transaction")
    return {
        "id": str(row["event_id"]),
        "event.type": kind,
        "groupID": None,
        "eventID": str(row["event_id"]),
        "projectID": str(row["project_id"]),
        "message": message,
        "title": title,
        "location": None if culprit is None else str(culprit),
        "culprit": None if culprit is None else str(culprit),
        "user": _user(payload),
        "tags": _tags(payload, row),
        "platform": payload.get("platform"),
        "dateCreated": iso(row["timestamp"] or row["received"]),
        "crashFile": None,
        "metadata": {"title": title, "value": message} if kind == "error" else {"title": title},
    }


def _entries(payload: dict[str, Any], message: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    exc = payload.get("exception")
    if isinstance(exc, dict | list):
        entries.append({"type": "exception", "data": exc if isinstance(exc, dict) else {"values": exc}})
    if message:
        entries.append({"type": "message", "data": {"formatted": message}})
    if isinstance(payload.get("breadcrumbs"), dict | list):
        crumbs = payload["breadcrumbs"]
        entries.append({"type": "breadcrumbs", "data": crumbs if isinstance(crumbs, dict) else {"values": crumbs}})
    if isinstance(payload.get("request"), dict):
        entries.append({"type": "request", "data": payload["request"]})
    if isinstance(payload.get("spans"), list):
        entries.append({"type": "spans", "data": payload["spans"]})
    return entries


def _neighbour(req: Request, row: sqlite3.Row, direction: str) -> str | None:
    order = "ASC" if direction == ">" else "DESC"
    sql = f"SELECT event_id FROM items WHERE project_id = ? AND type = ? AND id {direction} ? "  # noqa: S608
    found = req.app.db.one(sql + f"ORDER BY id {order} LIMIT 1", (row["project_id"], row["type"], row["id"]))
    return None if found is None else str(found["event_id"])


def serialize_detail(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    payload = loads(row["payload"]) or {}
    body = serialize_summary(row)
    kind = body.pop("event.type")
    sdk = payload.get("sdk") if isinstance(payload.get("sdk"), dict) else None
    release = None
    if row["release"]:
        rel = req.app.db.one(
            "SELECT id FROM releases WHERE project_id = ? AND version = ?", (row["project_id"], row["release"])
        )
        release = {"id": int(rel["id"]) if rel else 0, "version": row["release"], "shortVersion": row["release"],
                   "dateCreated": body["dateCreated"], "commitCount": 0, "deployCount": 0, "data": {}, "status": "open",
                   "dateReleased": None, "ref": None, "url": None}  # fmt: skip
    body.update(
        {
            "type": kind,
            "dateReceived": iso(row["received"]),
            "contexts": payload.get("contexts") or {},
            "size": len(row["payload"]),
            "entries": _entries(payload, body["message"]),
            "dist": payload.get("dist"),
            "sdk": {"name": sdk.get("name"), "version": sdk.get("version")} if sdk else None,
            "context": payload.get("extra") or {},
            "packages": payload.get("modules") or {},
            "errors": [],
            "occurrence": None,
            "_meta": {},
            "fingerprints": [str(f) for f in payload.get("fingerprint") or ["{{ default }}"]],
            "groupingConfig": {"id": "newstyle:2023-01-11", "enhancements": ""},
            "release": release,
            "environment": row["environment"],
            "level": payload.get("level"),
            "nextEventID": _neighbour(req, row, ">"),
            "previousEventID": _neighbour(req, row, "<"),
            "resolvedWith": [],
            "sdkUpdates": [],
            "userReport": None,
        }
    )
    if kind == "transaction":
        body["startTimestamp"] = payload.get("start_timestamp")
        body["endTimestamp"] = payload.get("timestamp")
    return body


def _since(req: Request) -> float | None:
    period = req.arg("statsPeriod")
    if period:
        unit = PERIODS.get(period[-1:])
        if unit is None or not period[:-1].isdigit():
            raise ApiError(400, {"detail": f"Invalid statsPeriod: {period!r}"})
        return time.time() - int(period[:-1]) * unit
    start = req.arg("start")
    if start:
        try:
            return datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ApiError(400, {"detail": f"Invalid start: {start!r}"}) from None
    return None


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
    since = _since(req)
    if since is not None:
        sql += " AND received >= ?"
        args.append(since)
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


def get_event(req: Request) -> Response:
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
    return Response(200, serialize_detail(req, row))


def register(router: Router) -> None:
    router.add("GET", P + "/events/", list_events, READ)
    router.add("GET", P + "/events/{event_id}/", get_event, READ)
