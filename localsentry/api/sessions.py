"""Release health: `GET /api/0/organizations/{org}/sessions/`, computed from the stored `session` updates and
`sessions` aggregates as Sentry's release-health does.

A session counts once (its `init` update) at the hour it started; its status is that of its last update:
`crashed`, `abnormal`, `errored` (status errored or any error counted), else `healthy`. Aggregates add their
`exited` (healthy), `errored`, `abnormal` and `crashed` counts. `count_unique(user)` counts distinct `did`.
Fields `sum(session)`, `count_unique(user)`, `crash_free_rate(session)`, `crash_free_rate(user)`,
`crash_rate(session)`; groupBy `project`, `release`, `environment`, `session.status`.
"""

from __future__ import annotations

import time
from typing import Any

from localsentry.db import loads
from localsentry.http import ApiError, Request, Response, Router
from localsentry.models.attributes import parse_timestamp
from localsentry.models.common import org_row, time_range
from localsentry.models.engine import project_filter
from localsentry.models.explore import matches, parse_query

ORG = "/api/0/organizations/{organization_id_or_slug}"
READ = ("org:admin", "org:read", "org:write")
FIELDS = ("sum(session)", "count_unique(user)", "crash_free_rate(session)", "crash_free_rate(user)",
          "crash_rate(session)")  # fmt: skip
GROUPS = ("project", "release", "environment", "session.status")
INTERVALS = {"1h": 3600, "2h": 7200, "3h": 10800, "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400}
BUCKET_STATUS = {"exited": "healthy", "errored": "errored", "abnormal": "abnormal", "crashed": "crashed"}


def _final_status(status: str, errors: int) -> str:
    if status in ("crashed", "abnormal"):
        return status
    if status == "errored" or errors > 0:
        return "errored"
    return "healthy"


def _sessions(req: Request, org_id: int, since: float, until: float) -> list[dict[str, Any]]:
    """One entry per session (or aggregate count): project, release, environment, status, user, started, n."""
    sql = ("SELECT i.*, p.slug FROM items i JOIN projects p ON p.id = i.project_id WHERE p.org_id = ? "
           "AND p.deleted = 0 AND i.type IN ('session', 'sessions')")  # fmt: skip
    args: list[Any] = [org_id]
    projects = project_filter(req, org_id)
    if projects is not None:
        sql += f" AND i.project_id IN ({','.join('?' * len(projects))})"
        args += sorted(projects)
    envs = [e for e in req.args("environment") if e]
    if envs:
        sql += f" AND i.environment IN ({','.join('?' * len(envs))})"
        args += envs
    found: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for row in req.app.db.all(sql + " ORDER BY i.id", args):
        payload = loads(row["payload"]) or {}
        base = {"project": int(row["project_id"]), "release": row["release"], "environment": row["environment"]}
        if row["type"] == "sessions":
            for bucket in payload.get("aggregates") or []:
                started = parse_timestamp(bucket.get("started")) or float(row["received"])
                for field, status in BUCKET_STATUS.items():
                    count = int(bucket.get(field) or 0)
                    if count:
                        out.append({**base, "session.status": status, "user": bucket.get("did"), "started": started,
                                    "n": count})  # fmt: skip
            continue
        sid = str(payload.get("sid") or row["id"])
        entry = found.get(sid)
        if entry is None:
            if not payload.get("init"):
                continue  # updates of a session whose start was not seen are not counted
            entry = {**base, "user": payload.get("did"), "n": 1,
                     "started": parse_timestamp(payload.get("started")) or float(row["received"])}  # fmt: skip
            found[sid] = entry
            out.append(entry)
        entry["session.status"] = _final_status(str(payload.get("status") or "ok"), int(payload.get("errors") or 0))
    return [e for e in out if since <= e["started"] <= until]


def _value(field: str, entries: list[dict[str, Any]]) -> float | None:
    total = sum(int(e["n"]) for e in entries)
    if field == "sum(session)":
        return total
    users = {e["user"] for e in entries if e["user"]}
    if field == "count_unique(user)":
        return len(users)
    if field == "crash_free_rate(user)":
        crashed = {e["user"] for e in entries if e["user"] and e["session.status"] == "crashed"}
        return None if not users else 1 - len(crashed) / len(users)
    crashed_n = sum(int(e["n"]) for e in entries if e["session.status"] == "crashed")
    if not total:
        return None
    return crashed_n / total if field == "crash_rate(session)" else 1 - crashed_n / total


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def org_sessions(req: Request) -> Response:
    org = org_row(req)
    fields = [f for f in req.args("field") if f]
    groups = [g for g in req.args("groupBy") if g]
    if not fields:
        raise ApiError(400, {"detail": 'Request is missing a "field"'})
    for field in fields:
        if field not in FIELDS:
            raise ApiError(400, {"detail": f'Invalid field: "{field}"'})
    for name in groups:
        if name not in GROUPS:
            raise ApiError(400, {"detail": f'Invalid groupBy: "{name}"'})
    interval = req.arg("interval") or "1h"
    if interval not in INTERVALS:
        raise ApiError(400, {"detail": f"Invalid interval {interval!r}: one of {', '.join(INTERVALS)}"})
    step = INTERVALS[interval]
    since, until = time_range(req, "24h")
    end = until or time.time()
    start = since or end - 86400
    first = int(start - start % step)
    intervals = list(range(first, int(end - end % step) + 1, step))
    query = req.arg("query") or ""
    terms = parse_query(query)
    entries = [e for e in _sessions(req, int(org["id"]), first, end) if matches(e, {}, terms)]
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for entry in entries:
        grouped.setdefault(tuple(entry[g] for g in groups), []).append(entry)
    if not groups and not grouped:
        grouped[()] = []
    include_totals = req.arg("includeTotals") != "0"
    include_series = req.arg("includeSeries") != "0"
    out = []
    for key, members in sorted(grouped.items(), key=lambda kv: str(kv[0])):
        group: dict[str, Any] = {"by": dict(zip(groups, key, strict=True)), "totals": {}, "series": {}}
        for field in fields:
            if include_totals:
                group["totals"][field] = _value(field, members)
            if include_series:
                slots: list[list[dict[str, Any]]] = [[] for _ in intervals]
                for member in members:
                    slots[min(max(int((member["started"] - first) // step), 0), len(intervals) - 1)].append(member)
                group["series"][field] = [_value(field, slot) for slot in slots]
        out.append(group)
    order = req.arg("orderBy")
    if order and order.lstrip("-") in fields:
        out.sort(key=lambda g: g["totals"].get(order.lstrip("-")) or 0, reverse=order.startswith("-"))
    body = {"start": _iso(first), "end": _iso(end), "intervals": [_iso(t) for t in intervals], "groups": out,
            "query": query}  # fmt: skip
    return Response(200, body)


def register(router: Router) -> None:
    router.add("GET", ORG + "/sessions/", org_sessions, READ)
