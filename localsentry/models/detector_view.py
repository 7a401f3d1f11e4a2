"""A detector as the detectors API answers it (`GET …/detectors/[{id}/]`, and the `detector` of a workflow's
group-history): its workflows, owner, data sources (a cron detector's one source is its monitor) and
`latestGroup`, the last issue it opened."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import loads
from localsentry.http import Request
from localsentry.models.detectors import CRON_DATA_SOURCE
from localsentry.models.issues import serialize_group
from localsentry.models.monitors import serialize_monitor


def _latest_group(req: Request, row: sqlite3.Row) -> dict[str, Any] | None:
    group = req.app.db.one("SELECT * FROM groups WHERE detector_id = ? AND deleted = 0 ORDER BY id DESC LIMIT 1",
                           (row["id"],))  # fmt: skip
    return None if group is None else serialize_group(req, group)


def _owner(req: Request, owner: str | None) -> dict[str, Any] | None:
    if owner is None:
        return None
    kind, _, ident = owner.partition(":")
    if kind == "team":
        team = req.app.db.one("SELECT slug FROM teams WHERE id = ?", (int(ident),))
        return {"type": "team", "id": ident, "name": str(team["slug"]) if team else ident}
    return {"type": "user", "id": ident, "name": "admin@localsentry.invalid", "email": "admin@localsentry.invalid"}


def serialize(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    data = loads(row["data"])
    workflows = [
        str(r["id"]) for r in req.app.db.all("SELECT id, data FROM workflows WHERE org_id = ?", (row["org_id"],))
        if int(row["id"]) in loads(r["data"]).get("detectorIds", [])
    ]  # fmt: skip
    return {
        "id": str(row["id"]),
        "projectId": str(row["project_id"]),
        "name": data["name"],
        "description": data.get("description"),
        "type": str(row["type"]),
        "workflowIds": workflows,
        "owner": _owner(req, data.get("owner")),
        "createdBy": data.get("createdBy"),
        "dateCreated": row["created"],
        "dateUpdated": row["updated"],
        "dataSources": _cron_sources(req, row, data) if row["monitor_id"] is not None else data.get("dataSources"),
        "conditionGroup": data.get("conditionGroup"),
        "config": data.get("config", {}),
        "enabled": data.get("enabled", True),
        "latestGroup": _latest_group(req, row),
    }


def _cron_sources(req: Request, row: sqlite3.Row, data: dict[str, Any]) -> list[dict[str, Any]]:
    monitor = req.app.db.fetch("monitors", row["monitor_id"])
    return [{"id": str(data.get("dataSourceId")), "organizationId": str(row["org_id"]), "type": CRON_DATA_SOURCE,
             "sourceId": str(monitor["id"]), "queryObj": serialize_monitor(req, monitor)}]  # fmt: skip




__all__ = ["serialize"]
