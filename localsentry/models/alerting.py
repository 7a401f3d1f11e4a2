"""Workflow processing, as Sentry's workflow engine does it: which workflows an event or a detector's issue
reaches, whether each fires, its fire history and the deliveries of its actions.

- An error event reaches the enabled workflows whose `detectorIds` hold its project's `issue_stream` (or `error`)
  detector; a metric or cron detector's issue reaches the workflows that name that detector.
- A workflow with an `environment` sees only events of that environment.
- It fires when its `triggers` pass and, for each `actionFilters` group that passes, its actions run (the
  conditions: `models.conditions`); a workflow fires at most once per `config.frequency` minutes for one issue.
- A firing is recorded (`workflow_fires`: the workflow's group-history) and each action's delivery is queued
  (`deliveries`, sent by the delivery worker) in the ingest transaction, so nothing is lost on a restart and ingest
  never waits for a receiver.

Runs inside the caller's transaction; `now` is the server's clock (`App.now()`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from localsentry.db import Database, loads
from localsentry.models.conditions import CATEGORY_ERROR, Facts, group_passes
from localsentry.models.events import event_tags
from localsentry.models.issues import Assigned, issue_priority
from localsentry.models.notifications import Firing, enqueue, requests_for

DEFAULT_FREQUENCY = 30


def _tags(payload: dict[str, Any], environment: str | None, release: str | None) -> list[tuple[str, str]]:
    return sorted(event_tags(payload, environment, release).items())


def _counter(db: Database, group_id: int) -> Callable[[float, bool], int]:
    def count(since: float, users: bool) -> int:
        what = "COUNT(DISTINCT user_key)" if users else "COUNT(*)"
        sql = f"SELECT {what} FROM items WHERE group_id = ? AND received >= ?"  # noqa: S608 - one of two
        return int(db.scalar(sql, (group_id, since)))

    return count


def _workflows(db: Database, org_id: int, detector_ids: set[int]) -> list[tuple[sqlite3.Row, dict[str, Any]]]:
    found = []
    for row in db.all("SELECT * FROM workflows WHERE org_id = ? ORDER BY id", (org_id,)):
        data = loads(row["data"])
        if data.get("enabled", True) and detector_ids & {int(d) for d in data.get("detectorIds", [])}:
            found.append((row, data))
    return found


def latest_release(db: Database, project_id: int) -> str | None:
    value = db.scalar("SELECT version FROM releases WHERE project_id = ? ORDER BY id DESC LIMIT 1", (project_id,))
    return None if value is None else str(value)


def process_event(
    db: Database, project: sqlite3.Row, item: sqlite3.Row, payload: dict[str, Any], assigned: Assigned, now: float
) -> int:
    """Evaluate the workflows an error event reaches; returns the number of firings."""
    detectors = {int(r["id"]) for r in db.all(
        "SELECT id FROM detectors WHERE project_id = ? AND type IN ('issue_stream', 'error')", (project["id"],))}
    workflows = _workflows(db, int(project["org_id"]), detectors)
    if not workflows:
        return 0
    group = db.fetch("groups", assigned.group_id)
    environment, release = item["environment"], item["release"]
    tags = _tags(payload, environment, release)
    facts = Facts(
        group_id=assigned.group_id, level=str(group["level"]), environment=environment, release=release,
        tags=dict(tags), payload=payload, is_new=assigned.is_new, is_regression=assigned.is_regression,
        has_reappeared=assigned.has_reappeared, priority=issue_priority(group), category=CATEGORY_ERROR,
        first_seen=float(group["created"]), now=now, latest_release=latest_release(db, int(project["id"])),
        times_seen=int(db.scalar("SELECT COUNT(*) FROM items WHERE group_id = ?", (assigned.group_id,))),
        count=_counter(db, assigned.group_id),
    )  # fmt: skip
    org_slug = str(db.scalar("SELECT slug FROM orgs WHERE id = ?", (project["org_id"],)))
    fired = 0
    for row, data in workflows:
        detector = next(int(d) for d in data.get("detectorIds", []) if int(d) in detectors)
        firing = Firing(int(row["id"]), str(data["name"]), org_slug, project, group, item["event_id"], payload,
                        environment, tags)  # fmt: skip
        fired += fire(db, data, detector, facts, firing, now)
    return fired


def process_detector_issue(db: Database, detector: sqlite3.Row, group: sqlite3.Row, facts: Facts, now: float) -> int:
    """Evaluate the workflows that name a metric or cron detector, for its issue opening or resolving."""
    project = db.fetch("projects", detector["project_id"])
    org_slug = str(db.scalar("SELECT slug FROM orgs WHERE id = ?", (project["org_id"],)))
    fired = 0
    for row, data in _workflows(db, int(detector["org_id"]), {int(detector["id"])}):
        payload = {"title": group["title"], "level": group["level"], "culprit": group["culprit"],
                   "metadata": loads(group["metadata"]) or {}}  # fmt: skip
        tags = [("environment", facts.environment)] if facts.environment else []
        firing = Firing(int(row["id"]), str(data["name"]), org_slug, project, group, None, payload, facts.environment,
                        [*tags, ("level", str(group["level"]))], resolved=facts.is_resolution)  # fmt: skip
        fired += fire(db, data, int(detector["id"]), facts, firing, now)
    return fired


def fire(db: Database, workflow: dict[str, Any], detector_id: int, facts: Facts, firing: Firing, now: float) -> int:
    """Fire one workflow for an event if its environment, triggers, action filters and frequency allow; 1 if so."""
    if workflow.get("environment") and workflow["environment"] != facts.environment:
        return 0
    if not group_passes(workflow.get("triggers"), facts):
        return 0
    actions = [a for group in workflow.get("actionFilters") or [] if group_passes(group, facts)
               for a in group.get("actions") or [] if a.get("status", "active") == "active"]  # fmt: skip
    if not actions:
        return 0
    minutes = (workflow.get("config") or {}).get("frequency", DEFAULT_FREQUENCY)
    last = db.scalar("SELECT MAX(date_added) FROM workflow_fires WHERE workflow_id = ? AND group_id = ?",
                     (firing.workflow_id, facts.group_id))  # fmt: skip
    if last is not None and isinstance(minutes, int | float) and now - float(last) < minutes * 60:
        return 0
    reason = "resolved" if facts.is_resolution else "new" if facts.is_new else "regression" if facts.is_regression \
        else "reappeared" if facts.has_reappeared else "event"
    fire_id = db.run(
        "INSERT INTO workflow_fires (workflow_id, group_id, event_id, detector_id, reason, date_added) "
        "VALUES (?, ?, ?, ?, ?, ?)", (firing.workflow_id, facts.group_id, firing.event_id, detector_id, reason, now))
    for action in actions:
        enqueue(db, fire_id, firing.workflow_id, action, requests_for(db, action, firing), now)
    return 1


__all__ = ["fire", "latest_release", "process_detector_issue", "process_event"]
