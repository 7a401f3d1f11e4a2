"""Detectors ("Monitors") as stored: inserts, the built-in `error` and `issue_stream` detectors of a project, the
`monitor_check_in_failure` detector of each cron monitor, and the links from workflows to detectors."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.models.engine import next_id

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


#: The detector Sentry's workflow engine keeps for each cron monitor (`MonitorIncidentType`); its data source is
#: the monitor (`{"type": "cron_monitor", "sourceId": "<monitor id>", "queryObj": <the monitor>}`).
CRON_DETECTOR = "monitor_check_in_failure"
CRON_DATA_SOURCE = "cron_monitor"


def ensure_cron_detector(db: Database, monitor: sqlite3.Row) -> int:
    """The monitor's detector, created as Sentry's `ensure_cron_detector` creates it: named like the monitor, its
    owner, enabled while the monitor is active, no conditions (the monitor's thresholds decide)."""
    found = db.one("SELECT id FROM detectors WHERE monitor_id = ?", (monitor["id"],))
    if found is not None:
        return int(found["id"])
    data: dict[str, Any] = {
        "name": monitor["name"], "description": None, "owner": monitor["owner"], "createdBy": None,
        "dataSources": None, "conditionGroup": None, "config": {}, "enabled": monitor["status"] == "active",
        "dataSourceId": next_id(db),
    }  # fmt: skip
    detector_id = insert(db, int(monitor["org_id"]), int(monitor["project_id"]), CRON_DETECTOR, data)
    db.run("UPDATE detectors SET monitor_id = ? WHERE id = ?", (monitor["id"], detector_id))
    return detector_id


def sync_cron_detector(db: Database, monitor: sqlite3.Row) -> None:
    """Keep the detector's `enabled` in line with the monitor's status, as Sentry's `sync_cron_detector_enabled`."""
    row = db.one("SELECT id, data FROM detectors WHERE monitor_id = ?", (monitor["id"],))
    if row is not None:
        data = dict(loads(row["data"]), enabled=monitor["status"] == "active")
        db.run("UPDATE detectors SET data = ?, updated = ? WHERE id = ?", (dumps(data), now_iso(), row["id"]))


def delete_cron_detector(db: Database, monitor_id: int) -> None:
    """A deleted monitor takes its detector along, unlinked from every workflow."""
    for row in db.all("SELECT id, org_id FROM detectors WHERE monitor_id = ?", (monitor_id,)):
        link_workflows(db, int(row["org_id"]), int(row["id"]), [])
        db.run("DELETE FROM detectors WHERE id = ?", (row["id"],))


def link_workflows(db: Database, org_id: int, detector_id: int, workflow_ids: Any) -> None:
    """Make exactly `workflow_ids` (None: leave as is) the workflows whose `detectorIds` hold this detector."""
    if workflow_ids is None:
        return
    wanted = {int(w) for w in workflow_ids}
    for row in db.all("SELECT id, data FROM workflows WHERE org_id = ?", (org_id,)):
        data = loads(row["data"])
        ids = [int(d) for d in data.get("detectorIds", [])]
        linked = detector_id in ids
        if (int(row["id"]) in wanted) != linked:
            data["detectorIds"] = [d for d in ids if d != detector_id] if linked else [*ids, detector_id]
            db.run("UPDATE workflows SET data = ? WHERE id = ?", (dumps(data), row["id"]))
