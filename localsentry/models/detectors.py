"""Detectors ("Monitors") as stored: inserts and the built-in `error` and `issue_stream` detectors of a project."""

from __future__ import annotations

from typing import Any

from localsentry.db import Database, dumps, now_iso

BUILTIN = ("error", "issue_stream")


def insert(db: Database, org_id: int, project_id: int, kind: str, data: dict[str, Any]) -> int:
    now = now_iso()
    return db.run(
        "INSERT INTO detectors (org_id, project_id, type, data, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
        (org_id, project_id, kind, dumps(data), now, now),
    )


def create_builtin_detectors(db: Database, org_id: int, project_id: int) -> int:
    """Create the `error` and `issue_stream` detectors; returns the issue_stream detector id."""
    base: dict[str, Any] = {"description": None, "owner": None, "createdBy": None, "dataSources": None,
                            "conditionGroup": None, "config": {}, "enabled": True, "workflowIds": []}  # fmt: skip
    insert(db, org_id, project_id, "error", dict(base, name="Error Monitor"))
    return insert(db, org_id, project_id, "issue_stream", dict(base, name="Issue Stream"))
