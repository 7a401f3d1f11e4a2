"""Sentry's organization-wide read APIs for stored telemetry: the events endpoint (Explore tables of spans,
transactions, logs, trace metrics and errors) and the outcome counts of `stats_v2`.

`GET /api/0/organizations/{org}/events/?dataset=spans|logs|tracemetrics|errors&field=…` answers
`{"data": [row…], "meta": {"fields": …, "units": …}}` with Sentry's `Link` pagination (100 rows a page at
most), filtered by `project`, `environment`, `statsPeriod` or `start`/`end`, and `query`. `dataset=ourlogs` is
the older name of `logs`, accepted as Sentry accepts it. `dataset=transactions`
(the older name) reads the spans that are transactions (segments).

`GET /api/0/organizations/{org}/stats_v2/?field=sum(quantity)&groupBy=outcome&groupBy=category…` sums the
outcomes recorded at ingest (accepted, filtered, rate_limited, invalid, client_discard from client reports).
"""

from __future__ import annotations

import time
from typing import Any

from localsentry.http import ApiError, Request, Response, Router
from localsentry.models.common import org_row, time_range
from localsentry.models.engine import project_filter
from localsentry.models.explore import DATASETS, flat_row, matches, meta, parse_query, select, sort_rows
from localsentry.pagination import paginate

ORG = "/api/0/organizations/{organization_id_or_slug}"
ORG_READ = ("org:admin", "org:read", "org:write")
MAX_FIELDS = 20
STATS_GROUPS = ("outcome", "category", "reason", "project")
STATS_FIELDS = ("sum(quantity)", "sum(times_seen)")
INTERVALS = {"1m": 60, "5m": 300, "10m": 600, "1h": 3600, "1d": 86400}


def _scope_sql(req: Request, org_id: int, alias: str, *, environments: bool = True) -> tuple[str, list[Any]]:
    """WHERE clauses for the organization, its projects and (with `environments`) the environment."""
    sql = " AND p.org_id = ? AND p.deleted = 0"
    args: list[Any] = [org_id]
    projects = project_filter(req, org_id)
    if projects is not None:
        sql += f" AND {alias}.project_id IN ({','.join('?' * len(projects))})"
        args += sorted(projects)
    envs = [e for e in req.args("environment") if e] if environments else []
    if envs:
        sql += f" AND {alias}.environment IN ({','.join('?' * len(envs))})"
        args += envs
    return sql, args


def org_events(req: Request) -> Response:
    org = org_row(req)
    dataset = req.arg("dataset") or "errors"
    if dataset not in DATASETS:
        raise ApiError(400, {"detail": f"dataset must be one of: {', '.join(sorted(DATASETS))}"})
    names = [f for f in req.args("field") if f]
    if not names:
        raise ApiError(400, {"detail": "No columns selected"})
    if len(names) > MAX_FIELDS:
        raise ApiError(
            400, {"detail": f"You can view up to {MAX_FIELDS} fields at a time. Please delete some and try again."}
        )
    kind = DATASETS[dataset]
    since, until = time_range(req, "14d")
    select_sql = "SELECT r.*, p.slug AS project_slug FROM {} r JOIN projects p ON p.id = r.project_id WHERE "
    if kind is None:
        sql = select_sql.format("items") + "r.type = 'event'"
        args: list[Any] = []
    else:
        sql = select_sql.format("records") + "r.kind = ?"
        args = [kind]
    scope, scope_args = _scope_sql(req, int(org["id"]), "r")
    sql += scope
    args += scope_args
    if since is not None:
        sql += " AND COALESCE(r.timestamp, r.received) >= ?"
        args.append(since)
    if until is not None:
        sql += " AND COALESCE(r.timestamp, r.received) <= ?"
        args.append(until)
    groups = parse_query(req.arg("query") or "")
    if dataset == "transactions":
        groups = [[*g, ("is_transaction", "true", False)] for g in groups]
    rows = []
    for row in req.app.db.all(sql + " ORDER BY r.id DESC", args):
        fields, attrs = flat_row(kind, row, str(row["project_slug"]))
        if matches(fields, attrs, groups):
            rows.append((fields, attrs))
    table = select(rows, names)
    sort_rows(table, req.arg("sort") or req.arg("orderby"), names)
    page = paginate(req, table)
    page.body = {"data": page.body, "meta": meta(names, dataset)}
    return page


def _stats_args(req: Request) -> tuple[list[str], str, int]:
    groups = [g for g in req.args("groupBy") if g]
    field = req.arg("field")
    errors: dict[str, list[str]] = {}
    if not groups:
        errors["groupBy"] = ["This field is required."]
    for group in groups:
        if group not in STATS_GROUPS:
            errors["groupBy"] = [f'"{group}" is not a valid choice.']
    if field not in STATS_FIELDS:
        errors["field"] = ["This field is required."] if not field else [f'"{field}" is not a valid choice.']
    interval = req.arg("interval") or "1d"
    if interval not in INTERVALS:
        errors["interval"] = [f"Invalid interval {interval!r}, valid values are: {', '.join(INTERVALS)}"]
    if errors:
        raise ApiError(400, errors)
    assert field is not None
    return groups, field, INTERVALS[interval]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def stats_v2(req: Request) -> Response:
    org = org_row(req)
    groups, field, step = _stats_args(req)
    since, until = time_range(req, "14d")
    end = until or time.time()
    start = since or end - 14 * 86400
    first = int(start - start % step)
    intervals = list(range(first, int(end) + 1, step))
    sql = (
        "SELECT o.ts, o.outcome, o.category, o.n, k.project_id FROM outcomes o JOIN keys k ON k.id = o.key_id "
        "JOIN projects p ON p.id = k.project_id WHERE o.ts >= ? AND o.ts <= ?"
    )
    args: list[Any] = [first, end]
    scope, scope_args = _scope_sql(req, int(org["id"]), "k", environments=False)
    sql += scope
    args += scope_args
    for name in ("category", "outcome"):
        wanted = req.arg(name)
        if wanted:
            sql += f" AND o.{name} = ?"
            args.append(wanted)
    series: dict[tuple[Any, ...], list[int]] = {}
    for row in req.app.db.all(sql, args):
        by = {"outcome": row["outcome"], "category": row["category"], "reason": None, "project": int(row["project_id"])}
        key = tuple(by[g] for g in groups)
        points = series.setdefault(key, [0] * len(intervals))
        points[min((int(row["ts"]) - first) // step, len(intervals) - 1)] += int(row["n"])
    body = {
        "start": _iso(first), "end": _iso(end), "intervals": [_iso(t) for t in intervals],
        "groups": [
            {"by": dict(zip(groups, key, strict=True)), "totals": {field: sum(points)}, "series": {field: points}}
            for key, points in sorted(series.items(), key=lambda kv: str(kv[0]))
        ],
    }  # fmt: skip
    return Response(200, body)


def register(router: Router) -> None:
    router.add("GET", ORG + "/events/", org_events, ORG_READ)
    router.add("GET", ORG + "/stats_v2/", stats_v2, ORG_READ)
