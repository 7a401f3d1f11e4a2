"""Workflows ("Alerts"): `/api/0/organizations/{org}/workflows/[{id}/]`, with list filters and bulk updates."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import dumps, loads, now_iso
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row
from localsentry.models.engine import (
    action,
    condition_group,
    id_filter,
    normalize,
    owner_field,
    project_filter,
    sort_items,
)
from localsentry.models.workflows import insert, serialize
from localsentry.pagination import paginate

W = "/api/0/organizations/{organization_id_or_slug}/workflows"
READ = ("alerts:read", "org:admin", "org:read", "org:write")
WRITE = ("alerts:write", "org:admin", "org:write")


def validate(req: Request, org_id: int, raw: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    body = normalize(raw)
    db = req.app.db
    errors: dict[str, Any] = {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["This field is required." if name is None else "This field may not be blank."]
    elif len(name) > 256:
        errors["name"] = ["Ensure this field has no more than 256 characters."]
    enabled = body.get("enabled", old.get("enabled", True) if old else True)
    if not isinstance(enabled, bool):
        errors["enabled"] = ["Must be a valid boolean."]
    config = body.get("config", old.get("config", {}) if old else {"frequency": 30})
    if not isinstance(config, dict):
        errors["config"] = ["Expected a dictionary of items."]
    detector_ids = body.get("detectorIds", old.get("detectorIds", []) if old else [])
    if not isinstance(detector_ids, list) or not all(str(d).isdigit() for d in detector_ids):
        errors["detectorIds"] = ["Expected a list of integers."]
        detector_ids = []
    detector_ids = [int(d) for d in detector_ids]
    for detector_id in detector_ids:
        if db.one("SELECT id FROM detectors WHERE id = ? AND org_id = ?", (detector_id, org_id)) is None:
            errors["detectorIds"] = [f"Detector with id {detector_id} not found."]
    triggers = body.get("triggers", old.get("triggers") if old else None)
    if triggers is None:
        triggers = {"logicType": "any-short", "conditions": [], "actions": []}
    trig = condition_group(db, org_id, triggers, errors, "triggers", bool)
    filters = []
    for raw_filter in body.get("actionFilters", old.get("actionFilters", []) if old else []) or []:
        group = condition_group(db, org_id, raw_filter, errors, "actionFilters", bool)
        if group is not None and isinstance(raw_filter, dict):
            group["actions"] = [action(db, a, errors, "actionFilters") for a in raw_filter.get("actions") or []]
            filters.append(group)
    owner = owner_field(body.get("owner", old.get("owner") if old else None), errors)
    environment = body.get("environment", old.get("environment") if old else None)
    if environment is not None and not isinstance(environment, str):
        errors["environment"] = ["Not a valid string."]
    if errors:
        raise ApiError(400, errors)
    return {
        "name": name, "enabled": enabled, "config": config, "detectorIds": detector_ids, "triggers": trig,
        "actionFilters": filters, "owner": owner, "environment": environment or None,
        "createdBy": old.get("createdBy") if old else "1",
    }  # fmt: skip


def _workflow(req: Request, org: sqlite3.Row) -> sqlite3.Row:
    raw = req.params["workflow_id"]
    row = req.app.db.one(
        "SELECT * FROM workflows WHERE id = ? AND org_id = ?", (int(raw) if raw.isdigit() else -1, org["id"])
    )
    if row is None:
        raise not_found()
    return row


def _filtered(req: Request, org: sqlite3.Row) -> list[sqlite3.Row]:
    rows = req.app.db.all("SELECT * FROM workflows WHERE org_id = ? ORDER BY id", (org["id"],))
    ids = id_filter(req)
    if ids is not None:
        rows = [r for r in rows if int(r["id"]) in ids]
    projects = project_filter(req, int(org["id"]))
    if projects is not None:
        detector_projects = {
            int(r["id"]): int(r["project_id"])
            for r in req.app.db.all("SELECT id, project_id FROM detectors WHERE org_id = ?", (org["id"],))
        }
        rows = [
            r for r in rows
            if any(detector_projects.get(int(d)) in projects for d in loads(r["data"]).get("detectorIds", []))
        ]  # fmt: skip
    for token in (req.arg("query") or "").split():
        key, sep, value = token.partition(":")
        needle = (value if sep and key == "name" else token).strip('"').lower()
        rows = [r for r in rows if needle in loads(r["data"])["name"].lower()]
    return rows


def list_workflows(req: Request) -> Response:
    org = org_row(req)
    items = [serialize(r, req.app.db) for r in _filtered(req, org)]
    sort_items(items, req.arg("sortBy"), {
        "id": lambda w: int(w["id"]), "name": lambda w: w["name"].lower(), "dateCreated": lambda w: w["dateCreated"],
        "dateUpdated": lambda w: w["dateUpdated"], "connectedDetectors": lambda w: len(w["detectorIds"]),
        "actions": lambda w: sum(len(f["actions"]) for f in w["actionFilters"]),
        "priorityDetector": lambda w: int(w["id"]),
    })  # fmt: skip
    return paginate(req, items)


def create_workflow(req: Request) -> Response:
    org = org_row(req)
    data = validate(req, int(org["id"]), req.json_object())
    with req.app.db.tx():
        workflow_id = insert(req.app.db, int(org["id"]), data)
    row = req.app.db.fetch("workflows", workflow_id)
    return Response(201, serialize(row, req.app.db))


def get_workflow(req: Request) -> Response:
    return Response(200, serialize(_workflow(req, org_row(req)), req.app.db))


def update_workflow(req: Request) -> Response:
    org = org_row(req)
    row = _workflow(req, org)
    body = req.json_object()
    with req.app.db.tx():  # validated against the stored record and written in one step
        data = validate(req, int(org["id"]), body, loads(req.app.db.fetch("workflows", row["id"])["data"]))
        req.app.db.run("UPDATE workflows SET data = ?, updated = ? WHERE id = ?", (dumps(data), now_iso(), row["id"]))
    fresh = req.app.db.fetch("workflows", row["id"])
    return Response(200, serialize(fresh, req.app.db))


def delete_workflow(req: Request) -> Response:
    row = _workflow(req, org_row(req))
    with req.app.db.tx():
        req.app.db.run("DELETE FROM workflows WHERE id = ?", (row["id"],))
    return Response(204)


def _require_filter(req: Request) -> None:
    if not (req.args("id") or req.arg("query") or req.args("project")):
        raise ApiError(400, {"detail": "At least one of 'id', 'query', or 'project' must be provided."})


def bulk_update(req: Request) -> Response:
    org = org_row(req)
    _require_filter(req)
    body = req.json_object()
    if not isinstance(body.get("enabled"), bool):
        raise ApiError(400, {"enabled": ["This field is required."]})
    rows = _filtered(req, org)
    with req.app.db.tx():
        for row in rows:
            data = loads(req.app.db.fetch("workflows", row["id"])["data"])
            data["enabled"] = body["enabled"]
            req.app.db.run(
                "UPDATE workflows SET data = ?, updated = ? WHERE id = ?", (dumps(data), now_iso(), row["id"])
            )
    fresh = [req.app.db.one("SELECT * FROM workflows WHERE id = ?", (r["id"],)) for r in rows]
    return Response(200, [serialize(r, req.app.db) for r in fresh if r is not None])


def bulk_delete(req: Request) -> Response:
    org = org_row(req)
    _require_filter(req)
    rows = _filtered(req, org)
    if not rows:
        return Response(200, {"detail": "No workflows found."})
    with req.app.db.tx():
        for row in rows:
            req.app.db.run("DELETE FROM workflows WHERE id = ?", (row["id"],))
    return Response(204)


def register(router: Router) -> None:
    router.add("GET", W + "/", list_workflows, READ)
    router.add("POST", W + "/", create_workflow, WRITE)
    router.add("PUT", W + "/", bulk_update, WRITE)
    router.add("DELETE", W + "/", bulk_delete, WRITE)
    router.add("GET", W + "/{workflow_id}/", get_workflow, READ)
    router.add("PUT", W + "/{workflow_id}/", update_workflow, WRITE)
    router.add("DELETE", W + "/{workflow_id}/", delete_workflow, WRITE)
