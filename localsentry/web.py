"""The web page at `/` and its data: organizations, projects and keys (DSNs shown, secrets masked), issues per
project and environment, an issue's latest event (stack trace, breadcrumbs, tags, user, request), a trace as a
span waterfall, a live log tail, cron check-ins, and alerts: the workflows' firings, the deliveries of their actions,
the built-in SMTP server's mailbox and what the built-in webhook receiver (`POST /_localsentry/hooks/{name}`) got.

The page polls its JSON (`/_localsentry/ui…`) every 2 s. Like the DSNs it shows, that JSON is public (a local
tool on loopback); it never holds a key secret or a token.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from typing import Any

from localsentry.db import loads
from localsentry.http import Request, Response, Router, not_found
from localsentry.models.checkins import tick
from localsentry.models.client_keys import dsn_fields, ingest_base
from localsentry.models.events import iso, serialize_detail, serialize_summary
from localsentry.models.explore import log_fields, span_fields
from localsentry.models.inbox import receive_hook, serialize_hook, serialize_mail
from localsentry.models.issues import serialize_group
from localsentry.models.monitors import serialize_checkin, serialize_env
from localsentry.models.notifications import serialize_delivery

EVENTS_PER_ENVIRONMENT = 5
ISSUES_PER_PAGE = 50
LOG_TAIL = 200
CHECKINS_SHOWN = 12
FIRES_SHOWN = 5
DELIVERIES_SHOWN = 50
MAIL_SHOWN = 20
NO_STORE = {"Cache-Control": "no-store"}
U = "/_localsentry/ui"


def mask(secret: str) -> str:
    return secret[:4] + "*" * (len(secret) - 4)


def index(req: Request) -> Response:
    html = resources.files("localsentry").joinpath("static/index.html").read_bytes()
    return Response(200, raw=html, content_type="text/html; charset=utf-8", headers=dict(NO_STORE))


def _org(req: Request) -> sqlite3.Row:
    row = req.app.db.one("SELECT * FROM orgs WHERE slug = ?", (req.params["org"],))
    if row is None:
        raise not_found()
    return row


def _project_row(req: Request, org: sqlite3.Row) -> sqlite3.Row:
    row = req.app.db.one("SELECT * FROM projects WHERE org_id = ? AND slug = ? AND deleted = 0",
                         (org["id"], req.params["project"]))  # fmt: skip
    if row is None:
        raise not_found()
    return row


def _project(req: Request, project: Any) -> dict[str, Any]:
    db = req.app.db
    keys = []
    for key in db.all("SELECT * FROM keys WHERE project_id = ? AND deleted = 0 ORDER BY id", (project["id"],)):
        dsn = dsn_fields(ingest_base(req, int(project["org_id"])), int(project["id"]), str(key["public"]), "x")
        keys.append({"label": key["label"], "public": key["public"], "secret": mask(str(key["secret"])),
                     "dsn": dsn["public"], "isActive": bool(key["active"])})  # fmt: skip
    environments: dict[str, list[dict[str, Any]]] = {}
    envs = [str(r["name"]) for r in db.all("SELECT name FROM environments WHERE project_id = ? ORDER BY name",
                                            (project["id"],))]  # fmt: skip
    for env in [*envs, ""]:
        rows = db.all(
            "SELECT * FROM items WHERE project_id = ? AND type IN ('event', 'transaction') "
            "AND COALESCE(environment, '') = ? ORDER BY id DESC LIMIT ?",
            (project["id"], env, EVENTS_PER_ENVIRONMENT),
        )
        if rows:
            environments[env or "(none)"] = [
                {"eventID": s["eventID"], "title": s["title"], "type": r["type"], "received": iso(r["received"]),
                 "release": r["release"], "groupID": s["groupID"]}
                for r in rows for s in [serialize_summary(r)]
            ]  # fmt: skip
    counts = {str(r["type"]): int(r["n"]) for r in db.all(
        "SELECT type, COUNT(*) AS n FROM items WHERE project_id = ? GROUP BY type", (project["id"],))}  # fmt: skip
    records = {str(r["kind"]): int(r["n"]) for r in db.all(
        "SELECT kind, COUNT(*) AS n FROM records WHERE project_id = ? GROUP BY kind", (project["id"],))}  # fmt: skip
    issues = int(db.scalar("SELECT COUNT(*) FROM groups WHERE project_id = ? AND deleted = 0 AND status = 'unresolved'",
                           (project["id"],)))  # fmt: skip
    return {"id": str(project["id"]), "slug": project["slug"], "name": project["name"],
            "platform": project["platform"], "keys": keys, "environments": environments, "counts": counts,
            "records": records, "unresolvedIssues": issues, "allEnvironments": envs}  # fmt: skip


def ui_data(req: Request) -> Response:
    db = req.app.db
    orgs = []
    for org in db.all("SELECT * FROM orgs ORDER BY slug"):
        projects = db.all("SELECT * FROM projects WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
        teams = db.all("SELECT slug FROM teams WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
        orgs.append(
            {
                "slug": org["slug"],
                "name": org["name"],
                "features": loads(org["features"]),
                "teams": [t["slug"] for t in teams],
                "projects": [_project(req, p) for p in projects],
            }
        )
    return Response(200, {"url": req.base_url, "organizations": orgs}, dict(NO_STORE))


def ui_issues(req: Request) -> Response:
    """Unresolved issues of a project, in one environment when `environment` is given, last seen first."""
    org = _org(req)
    project = _project_row(req, org)
    env = req.arg("environment") or ""
    sql = "SELECT * FROM groups WHERE project_id = ? AND deleted = 0 AND status = 'unresolved'"
    args: list[Any] = [project["id"]]
    if env:
        sql += " AND id IN (SELECT group_id FROM items WHERE project_id = ? AND environment = ?)"
        args += [project["id"], env]
    rows = req.app.db.all(sql, args)
    issues = [serialize_group(req, r, environments=[env] if env else None) for r in rows]
    issues.sort(key=lambda i: str(i["lastSeen"] or ""), reverse=True)
    return Response(200, {"project": project["slug"], "environment": env or None, "issues": issues[:ISSUES_PER_PAGE]},
                    dict(NO_STORE))  # fmt: skip


def ui_issue(req: Request) -> Response:
    """One issue with its latest event in full (or the event named by `event`)."""
    org = _org(req)
    group = req.app.db.one(
        "SELECT g.* FROM groups g JOIN projects p ON p.id = g.project_id WHERE p.org_id = ? AND g.id = ?",
        (org["id"], int(req.params["issue"]) if req.params["issue"].isdigit() else -1),
    )
    if group is None:
        raise not_found()
    sql = "SELECT * FROM items WHERE group_id = ?"
    args: list[Any] = [group["id"]]
    if req.arg("event"):
        sql += " AND event_id = ?"
        args.append(str(req.arg("event")))
    row = req.app.db.one(sql + " ORDER BY id DESC LIMIT 1", args)
    event = None if row is None else serialize_detail(req, row)
    recent = req.app.db.all("SELECT * FROM items WHERE group_id = ? ORDER BY id DESC LIMIT 20", (group["id"],))
    return Response(200, {"issue": serialize_group(req, group, detailed=True), "event": event,
                          "events": [serialize_summary(r) for r in recent]}, dict(NO_STORE))  # fmt: skip


def ui_trace(req: Request) -> Response:
    """The spans of a trace (all projects of the organization), its errors and logs, for the waterfall."""
    org = _org(req)
    trace_id = req.params["trace"]
    db = req.app.db
    rows = db.all(
        "SELECT r.*, p.slug AS project_slug FROM records r JOIN projects p ON p.id = r.project_id "
        "WHERE p.org_id = ? AND r.trace_id = ? ORDER BY r.id",
        (org["id"], trace_id),
    )
    spans, logs = [], []
    for row in rows:
        record = loads(row["payload"]) or {}
        if row["kind"] == "span":
            spans.append({**span_fields(row, record, str(row["project_slug"])),
                          "attributes": record.get("attributes") or {}})  # fmt: skip
        elif row["kind"] == "log":
            logs.append(log_fields(row, record, str(row["project_slug"])))
    seen: set[str] = set()
    unique = []
    for span in spans:  # a span sent twice (transaction and stream) is shown once
        if span["id"] not in seen:
            seen.add(str(span["id"]))
            unique.append(span)
    errors = []
    for row in db.all(
        "SELECT i.*, p.slug AS project_slug FROM items i JOIN projects p ON p.id = i.project_id WHERE p.org_id = ? "
        "AND i.type = 'event' AND i.payload LIKE ? ORDER BY i.id", (org["id"], f"%{trace_id}%")):  # fmt: skip
        payload = loads(row["payload"]) or {}
        contexts = payload.get("contexts") if isinstance(payload.get("contexts"), dict) else {}
        trace = contexts.get("trace") if isinstance(contexts, dict) else None
        if isinstance(trace, dict) and trace.get("trace_id") == trace_id:
            errors.append({**serialize_summary(row), "project": row["project_slug"], "spanId": trace.get("span_id")})
    return Response(200, {"trace": trace_id, "spans": unique, "logs": logs, "errors": errors}, dict(NO_STORE))


def ui_traces(req: Request) -> Response:
    """The latest traces of a project: root span name, span count, duration."""
    org = _org(req)
    project = _project_row(req, org)
    rows = req.app.db.all(
        "SELECT trace_id, COUNT(*) AS n, MIN(received) AS first, MAX(id) AS last_id FROM records "
        "WHERE project_id = ? AND kind = 'span' AND trace_id IS NOT NULL GROUP BY trace_id ORDER BY last_id DESC "
        "LIMIT 25", (project["id"],))  # fmt: skip
    traces = []
    for row in rows:
        spans = [loads(r["payload"]) or {} for r in req.app.db.all(
            "SELECT payload FROM records WHERE project_id = ? AND kind = 'span' AND trace_id = ?",
            (project["id"], row["trace_id"]))]  # fmt: skip
        starts = [float(s["start_timestamp"]) for s in spans if isinstance(s.get("start_timestamp"), int | float)]
        ends = [float(s["end_timestamp"]) for s in spans if isinstance(s.get("end_timestamp"), int | float)]
        roots = [s for s in spans if s.get("is_segment")] or spans
        traces.append({"trace": row["trace_id"], "spans": int(row["n"]), "name": roots[0].get("name"),
                       "start": iso(min(starts)) if starts else None,
                       "durationMs": (max(ends) - min(starts)) * 1000 if starts and ends else None})  # fmt: skip
    return Response(200, {"project": project["slug"], "traces": traces}, dict(NO_STORE))


def ui_logs(req: Request) -> Response:
    """The newest logs of a project after the record id `after` (the tail), oldest first."""
    org = _org(req)
    project = _project_row(req, org)
    after = int(req.arg("after") or 0) if (req.arg("after") or "0").isdigit() else 0
    rows = req.app.db.all(
        "SELECT r.*, ? AS project_slug FROM records r WHERE r.project_id = ? AND r.kind = 'log' AND r.id > ? "
        "ORDER BY r.id DESC LIMIT ?", (project["slug"], project["id"], after, LOG_TAIL))  # fmt: skip
    logs = [{**log_fields(r, loads(r["payload"]) or {}, str(project["slug"])), "row": int(r["id"])}
            for r in reversed(rows)]  # fmt: skip
    return Response(200, {"project": project["slug"], "logs": logs}, dict(NO_STORE))


def ui_monitors(req: Request) -> Response:
    """Every cron monitor of the organization with its environments and latest check-ins."""
    org = _org(req)
    db = req.app.db
    tick(db, req.app.now())
    monitors = []
    for row in db.all("SELECT m.*, p.slug AS project_slug FROM monitors m JOIN projects p ON p.id = m.project_id "
                      "WHERE m.org_id = ? AND m.deleted = 0 ORDER BY m.name", (org["id"],)):  # fmt: skip
        envs = db.all("SELECT * FROM monitor_envs WHERE monitor_id = ? ORDER BY name", (row["id"],))
        checkins = db.all(
            "SELECT c.*, e.name AS env_name FROM checkins c JOIN monitor_envs e ON e.id = c.env_id "
            "WHERE c.monitor_id = ? ORDER BY c.date_added DESC, c.id DESC LIMIT ?",
            (row["id"], CHECKINS_SHOWN),
        )
        monitors.append({"slug": row["slug"], "name": row["name"], "project": row["project_slug"],
                         "status": row["status"], "config": loads(row["config"]),
                         "environments": [serialize_env(e) for e in envs],
                         "checkins": [serialize_checkin(c) for c in checkins]})  # fmt: skip
    return Response(200, {"monitors": monitors}, dict(NO_STORE))


def ui_alerts(req: Request) -> Response:
    """Every workflow with its latest firings, the latest deliveries, the mailbox and the webhook receiver."""
    db = req.app.db
    workflows = []
    for row in db.all("SELECT w.*, o.slug AS org_slug FROM workflows w JOIN orgs o ON o.id = w.org_id ORDER BY w.id"):
        data = loads(row["data"])
        fires = db.all("SELECT f.*, g.title FROM workflow_fires f JOIN groups g ON g.id = f.group_id "
                       "WHERE f.workflow_id = ? ORDER BY f.id DESC LIMIT ?", (row["id"], FIRES_SHOWN))  # fmt: skip
        fired = int(db.scalar("SELECT COUNT(*) FROM workflow_fires WHERE workflow_id = ?", (row["id"],)))
        workflows.append({"id": str(row["id"]), "name": data["name"], "organization": row["org_slug"],
                          "enabled": data.get("enabled", True), "fired": fired,
                          "fires": [{"groupId": str(f["group_id"]), "title": f["title"], "reason": f["reason"],
                                     "date": iso(float(f["date_added"]))} for f in fires]})  # fmt: skip
    workflows.sort(key=lambda w: (-int(w["fired"] > 0), w["name"]))
    deliveries = [serialize_delivery(r) for r in db.all("SELECT * FROM deliveries ORDER BY id DESC LIMIT ?",
                                                        (DELIVERIES_SHOWN,))]  # fmt: skip
    mail = [serialize_mail(r) for r in db.all("SELECT * FROM mail ORDER BY id DESC LIMIT ?", (MAIL_SHOWN,))]
    hooks = [serialize_hook(r) for r in db.all("SELECT * FROM webhook_inbox ORDER BY id DESC LIMIT ?", (MAIL_SHOWN,))]
    smtp = req.app.smtp
    return Response(200, {"workflows": workflows, "deliveries": deliveries, "mail": mail, "hooks": hooks,
                          "smtp": None if smtp is None else f"{smtp[0]}:{smtp[1]}"}, dict(NO_STORE))  # fmt: skip


def hook(req: Request) -> Response:
    """The built-in webhook receiver: records any POST (headers and body) and answers 200."""
    headers = {k: v for k, v in req.headers.items() if k.lower() in ("content-type", "user-agent")}
    receive_hook(req.app.db, req.params["name"], headers, req.body, req.app.now())
    return Response(200, {"ok": True})


def register(router: Router) -> None:
    router.add("GET", "/", index, None, kind="web")
    router.add("GET", "/_localsentry/ui.json", ui_data, None, kind="web")
    router.add("GET", U + "/issues/{org}/{project}", ui_issues, None, kind="web")
    router.add("GET", U + "/issue/{org}/{issue}", ui_issue, None, kind="web")
    router.add("GET", U + "/traces/{org}/{project}", ui_traces, None, kind="web")
    router.add("GET", U + "/trace/{org}/{trace}", ui_trace, None, kind="web")
    router.add("GET", U + "/logs/{org}/{project}", ui_logs, None, kind="web")
    router.add("GET", U + "/monitors/{org}", ui_monitors, None, kind="web")
    router.add("GET", U + "/alerts", ui_alerts, None, kind="web")
    router.add("POST", "/_localsentry/hooks/{name}", hook, None, kind="web")
