"""Detectors ("Monitors"): create per project, get/update/delete per id, org-wide list with filters, bulk ops.

Each project gets an `error` and an `issue_stream` detector at creation; workflows reference the latter. Each cron
monitor has a `monitor_check_in_failure` detector whose one data source is the monitor (`type: cron_monitor`,
`sourceId` the monitor's id, `queryObj` the monitor as its API answers it): creating one with a data source
`{name, slug?, config}` creates the monitor, disabling it disables the monitor, deleting it deletes the monitor.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row, project_row
from localsentry.models.detector_view import serialize
from localsentry.models.detectors import BUILTIN, CRON_DETECTOR, insert, link_workflows
from localsentry.models.engine import (
    condition_group,
    id_filter,
    next_id,
    normalize,
    owner_field,
    project_filter,
    sort_items,
)
from localsentry.models.monitors import (
    change_monitor,
    check_slug,
    create_monitor,
    remove_monitor,
    unique_monitor_slug,
    validate_config,
)
from localsentry.pagination import paginate

ORG = "/api/0/organizations/{organization_id_or_slug}"
D = ORG + "/detectors"
READ = ("alerts:read", "org:admin", "org:read", "org:write")
WRITE = ("alerts:write", "org:admin", "org:read", "org:write")
CREATE = ("alerts:write", "project:admin", "project:write")
CREATABLE = ("metric_issue", "uptime_domain_failure", "monitor_check_in_failure")
DATASETS = ("events", "transactions", "generic_metrics", "metrics", "sessions", "events_analytics_platform")


def _data_sources(db: Database, org_id: int, raw: Any, errors: dict[str, Any]) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        errors["dataSources"] = ["Expected a list of items."]
        return None
    out = []
    for source in raw:
        source = normalize(source) if isinstance(source, dict) else {}
        if "queryObj" in source:
            out.append(dict(source, id=str(source.get("id") or next_id(db)), organizationId=str(org_id)))
            continue
        dataset = source.get("dataset", "events")
        if dataset not in DATASETS:
            errors["dataSources"] = [f"Invalid dataset, valid values are {list(DATASETS)}"]
            return None
        if not source.get("aggregate"):
            errors["dataSources"] = {"aggregate": ["This field is required."]}
            return None
        window = source.get("timeWindow", 3600)
        snuba = {
            "id": next_id(db), "dataset": dataset, "query": source.get("query", ""),
            "aggregate": source["aggregate"], "timeWindow": window, "environment": source.get("environment"),
            "eventTypes": source.get("eventTypes") or ["error", "default"],
            "extrapolationMode": source.get("extrapolationMode", "unknown"),
        }  # fmt: skip
        out.append({"id": next_id(db), "organizationId": str(org_id), "type": "snuba_query_subscription",
                    "sourceId": next_id(db), "queryObj": {"id": next_id(db), "status": 1, "subscription": None,
                                                          "snubaQuery": snuba}})  # fmt: skip
    return out


def validate(req: Request, org_id: int, raw: dict[str, Any], old: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    body = normalize(raw)
    db = req.app.db
    errors: dict[str, Any] = {}
    name = body.get("name", old.get("name") if old else None)
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["This field is required."]
    elif len(name) > 200:
        errors["name"] = ["Ensure this field has no more than 200 characters."]
    data: dict[str, Any] = dict(old or {"createdBy": "1", "enabled": True, "config": {}, "dataSources": None,
                                        "conditionGroup": None, "description": None, "owner": None})  # fmt: skip
    data["name"] = name
    if "dataSources" in body and kind != CRON_DETECTOR:  # a cron detector's data source is its monitor
        data["dataSources"] = _data_sources(db, org_id, body["dataSources"], errors)
    if "conditionGroup" in body:
        data["conditionGroup"] = condition_group(db, org_id, body["conditionGroup"], errors, "conditionGroup", int)
    if "config" in body:
        if not isinstance(body["config"], dict):
            errors["config"] = ["Expected a dictionary of items."]
        else:
            data["config"] = body["config"]
    if kind == "metric_issue":
        data["config"].setdefault("detectionType", "static")
        if data["config"]["detectionType"] not in ("static", "percent", "dynamic"):
            errors["config"] = ["detectionType must be static, percent or dynamic"]
        if old is None and not data.get("dataSources"):
            errors.setdefault("dataSources", ["This field is required."])
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            errors["enabled"] = ["Must be a valid boolean."]
        data["enabled"] = body["enabled"]
    if "description" in body:
        data["description"] = body["description"]
    if "owner" in body:
        data["owner"] = owner_field(body["owner"], errors)
    if errors:
        raise ApiError(400, errors)
    return data


def create_detector(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    body = normalize(req.json_object())
    kind = body.get("type")
    if kind not in CREATABLE:
        raise ApiError(400, {"type": [f"Unknown detector type '{kind}'. Must be one of: {', '.join(CREATABLE)}"]})
    data = validate(req, int(org["id"]), body, None, str(kind))
    with req.app.db.tx():
        if kind == CRON_DETECTOR:
            detector_id = _create_cron_detector(req, org, project, body, data)
        else:
            detector_id = insert(req.app.db, int(org["id"]), int(project["id"]), str(kind), data)
        link_workflows(req.app.db, int(org["id"]), detector_id, body.get("workflowIds"))
    row = req.app.db.fetch("detectors", detector_id)
    return Response(201, serialize(req, row))


def _create_cron_detector(
    req: Request, org: sqlite3.Row, project: sqlite3.Row, body: dict[str, Any], data: dict[str, Any]
) -> int:
    """The monitor of the one data source `{name, slug?, config, …}` with its detector, as Sentry creates both."""
    db = req.app.db
    sources = body.get("dataSources")
    if not isinstance(sources, list) or len(sources) != 1 or not isinstance(sources[0], dict):
        raise ApiError(400, {"dataSources": ["A cron monitor detector takes exactly one data source: the monitor."]})
    source, errors = sources[0], {}
    name = source.get("name") or source.get("slug")
    if not isinstance(name, str) or not name.strip():
        errors["nonFieldErrors"] = ["Either name or slug must be provided"]
    config = validate_config(source.get("config"), None, errors)
    slug = check_slug(source.get("slug"), errors)
    if slug and db.one("SELECT 1 FROM monitors WHERE org_id = ? AND slug = ? AND deleted = 0", (org["id"], slug)):
        errors["slug"] = [f'The slug "{slug}" is already in use.']
    if errors:
        raise ApiError(400, {"dataSources": [errors]})
    slug = slug or unique_monitor_slug(db, int(org["id"]), str(name))
    monitor_id = create_monitor(db, int(org["id"]), int(project["id"]), str(name), slug, config,
                                status="active" if data["enabled"] else "disabled", owner=data["owner"])  # fmt: skip
    detector = db.one("SELECT * FROM detectors WHERE monitor_id = ?", (monitor_id,))
    assert detector is not None
    stored = dict(data, dataSources=None, dataSourceId=loads(detector["data"]).get("dataSourceId"))
    db.run("UPDATE detectors SET data = ? WHERE id = ?", (dumps(stored), detector["id"]))
    return int(detector["id"])


def _follow_enabled(db: Database, row: sqlite3.Row, enabled: Any) -> None:
    """A cron detector switched on or off switches its monitor (`active` / `disabled`), as in Sentry."""
    if row["monitor_id"] is not None and isinstance(enabled, bool):
        change_monitor(db, int(row["monitor_id"]), {"status": "active" if enabled else "disabled"})


def _delete(db: Database, org_id: int, row: sqlite3.Row) -> None:
    """Delete a detector (a cron detector takes its monitor along)."""
    if row["monitor_id"] is not None:
        remove_monitor(db, int(row["monitor_id"]))
        return
    link_workflows(db, org_id, int(row["id"]), [])
    db.run("DELETE FROM detectors WHERE id = ?", (row["id"],))


def _detector(req: Request, org: sqlite3.Row) -> sqlite3.Row:
    raw = req.params["detector_id"]
    row = req.app.db.one(
        "SELECT d.* FROM detectors d JOIN projects p ON p.id = d.project_id "
        "WHERE d.id = ? AND d.org_id = ? AND p.deleted = 0",
        (int(raw) if raw.isdigit() else -1, org["id"]),
    )
    if row is None:
        raise not_found()
    return row


def get_detector(req: Request) -> Response:
    return Response(200, serialize(req, _detector(req, org_row(req))))


def update_detector(req: Request) -> Response:
    org = org_row(req)
    row = _detector(req, org)
    body = normalize(req.json_object())
    with req.app.db.tx():  # validated against the stored record and written in one step
        row = req.app.db.fetch("detectors", row["id"])
        data = validate(req, int(org["id"]), body, loads(row["data"]), str(row["type"]))
        req.app.db.run("UPDATE detectors SET data = ?, updated = ? WHERE id = ?", (dumps(data), now_iso(), row["id"]))
        link_workflows(req.app.db, int(org["id"]), int(row["id"]), body.get("workflowIds"))
        _follow_enabled(req.app.db, row, body.get("enabled"))
    fresh = req.app.db.fetch("detectors", row["id"])
    return Response(200, serialize(req, fresh))


def delete_detector(req: Request) -> Response:
    org = org_row(req)
    row = _detector(req, org)
    if row["type"] in BUILTIN:
        raise ApiError(403, {"detail": f"Detectors of type {row['type']} cannot be deleted."})
    with req.app.db.tx():
        _delete(req.app.db, int(org["id"]), row)
    return Response(204)


def _filtered(req: Request, org: sqlite3.Row) -> list[sqlite3.Row]:
    rows = req.app.db.all(
        "SELECT d.* FROM detectors d JOIN projects p ON p.id = d.project_id WHERE d.org_id = ? AND p.deleted = 0 "
        "ORDER BY d.id",
        (org["id"],),
    )
    ids = id_filter(req)
    if ids is not None:
        rows = [r for r in rows if int(r["id"]) in ids]
    projects = project_filter(req, int(org["id"]))
    if projects is not None:
        rows = [r for r in rows if int(r["project_id"]) in projects]
    for token in (req.arg("query") or "").split():
        key, sep, value = token.partition(":")
        value = value.strip('"')
        if sep and key == "type":
            rows = [r for r in rows if r["type"] in value.split(",")]
        elif sep and key == "name":
            rows = [r for r in rows if value.lower() in loads(r["data"])["name"].lower()]
        elif sep and key == "assignee":
            rows = [r for r in rows if (loads(r["data"]).get("owner") or "") == value]
        else:
            rows = [r for r in rows if token.lower() in loads(r["data"])["name"].lower()]
    return rows


def list_detectors(req: Request) -> Response:
    org = org_row(req)
    items = [serialize(req, r) for r in _filtered(req, org)]
    sort_items(items, req.arg("sortBy"), {
        "id": lambda d: int(d["id"]), "name": lambda d: d["name"].lower(), "type": lambda d: d["type"],
        "connectedWorkflows": lambda d: len(d["workflowIds"]), "latestGroup": lambda d: int(d["id"]),
        "openIssues": lambda d: int(d["id"]), "dateCreated": lambda d: d["dateCreated"],
    })  # fmt: skip
    return paginate(req, items)


def bulk_update(req: Request) -> Response:
    org = org_row(req)
    if not (req.args("id") or req.arg("query") or req.args("project")):
        raise ApiError(400, {"detail": "At least one of 'id', 'query', or 'project' must be provided."})
    enabled = req.json_object().get("enabled")
    if not isinstance(enabled, bool):
        raise ApiError(400, {"enabled": ["This field is required."]})
    rows = _filtered(req, org)
    with req.app.db.tx():
        for row in rows:
            data = dict(loads(req.app.db.fetch("detectors", row["id"])["data"]), enabled=enabled)
            req.app.db.run(
                "UPDATE detectors SET data = ?, updated = ? WHERE id = ?", (dumps(data), now_iso(), row["id"])
            )
            _follow_enabled(req.app.db, row, enabled)
    fresh = [req.app.db.one("SELECT * FROM detectors WHERE id = ?", (r["id"],)) for r in rows]
    return Response(200, [serialize(req, r) for r in fresh if r is not None])


def bulk_delete(req: Request) -> Response:
    org = org_row(req)
    if not (req.args("id") or req.arg("query") or req.args("project")):
        raise ApiError(400, {"detail": "At least one of 'id', 'query', or 'project' must be provided."})
    rows = [r for r in _filtered(req, org) if r["type"] not in BUILTIN]
    if not rows:
        return Response(200, {"detail": "No detectors found."})
    with req.app.db.tx():
        for row in rows:
            _delete(req.app.db, int(org["id"]), row)
    return Response(204)


def register(router: Router) -> None:
    router.add("POST", ORG + "/projects/{project_id_or_slug}/detectors/", create_detector, CREATE)
    router.add("GET", D + "/", list_detectors, READ)
    router.add("PUT", D + "/", bulk_update, WRITE)
    router.add("DELETE", D + "/", bulk_delete, WRITE)
    router.add("GET", D + "/{detector_id}/", get_detector, READ)
    router.add("PUT", D + "/{detector_id}/", update_detector, WRITE)
    router.add("DELETE", D + "/{detector_id}/", delete_detector, WRITE)
