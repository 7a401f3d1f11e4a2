"""Workflows ("Alerts") as stored and answered: the row shape, inserts and the default alert of a new project."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.models.engine import next_id

DEFAULT_NAME = "Send a notification for high priority issues"


def last_triggered(db: Database, workflow_id: int) -> str | None:
    """When the workflow last fired (its latest fire history entry)."""
    value = db.scalar("SELECT MAX(date_added) FROM workflow_fires WHERE workflow_id = ?", (workflow_id,))
    return None if value is None else datetime.fromtimestamp(float(value), UTC).isoformat().replace("+00:00", "Z")


def serialize(row: sqlite3.Row, db: Database | None = None) -> dict[str, Any]:
    data = loads(row["data"])
    return {
        "id": str(row["id"]),
        "name": data["name"],
        "organizationId": str(row["org_id"]),
        "createdBy": data.get("createdBy"),
        "dateCreated": row["created"],
        "dateUpdated": row["updated"],
        "triggers": data.get("triggers"),
        "actionFilters": data.get("actionFilters", []),
        "environment": data.get("environment"),
        "config": data.get("config", {}),
        "detectorIds": [str(d) for d in data.get("detectorIds", [])],
        "enabled": data.get("enabled", True),
        "lastTriggered": None if db is None else last_triggered(db, int(row["id"])),
        "owner": data.get("owner"),
    }


def insert(db: Database, org_id: int, data: dict[str, Any]) -> int:
    now = now_iso()
    return db.run(
        "INSERT INTO workflows (org_id, data, created, updated) VALUES (?, ?, ?, ?)", (org_id, dumps(data), now, now)
    )


def create_default_workflow(db: Database, org_id: int, issue_stream_id: int) -> int:
    """The default alert of a new project, as Sentry migrates it to a workflow."""
    conditions = [
        {"id": next_id(db), "type": t, "comparison": True, "conditionResult": True}
        for t in ("new_high_priority_issue", "existing_high_priority_issue")
    ]
    email = {"id": next_id(db), "type": "email", "integrationId": None, "data": {"fallthroughType": "ActiveMembers"},
             "config": {"targetType": "issue_owners", "targetIdentifier": None, "targetDisplay": None},
             "status": "active"}  # fmt: skip
    data = {
        "name": DEFAULT_NAME, "enabled": True, "config": {"frequency": 30}, "detectorIds": [issue_stream_id],
        "triggers": {"id": next_id(db), "organizationId": str(org_id), "logicType": "any-short",
                     "conditions": conditions, "actions": []},
        "actionFilters": [{"id": next_id(db), "organizationId": str(org_id), "logicType": "all", "conditions": [],
                           "actions": [email]}],
        "owner": None, "environment": None, "createdBy": None,
    }  # fmt: skip
    return insert(db, org_id, data)
