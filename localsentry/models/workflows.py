"""Workflows ("Alerts") as stored and answered: the row shape, inserts and the default alert of a new project."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.models.engine import next_id

DEFAULT_NAME = "Send a notification for high priority issues"


def serialize(row: sqlite3.Row) -> dict[str, Any]:
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
        "lastTriggered": None,
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
