"""Issues that detectors open and resolve: metric monitors (`metric_issue`) and cron monitors
(`monitor_check_in_failure`), as Sentry's stateful detectors do.

- A metric monitor's query (its data source's `snubaQuery`: `count()` or `count_unique(user)` of the project's
  error events of the `events` dataset, in its `environment`, matching its `query`, over the last `timeWindow`
  seconds) is evaluated against its `conditionGroup`: each condition (`gt`: value > comparison, `lte`: value <=
  comparison) that holds gives its `conditionResult` (75 high, 50 low, 0 resolved); the highest one is the new
  priority, and none holding is 0. Evaluated at each ingested error of its project and on the server's clock
  (every few seconds, so a window that empties resolves it). Other datasets and aggregates are not evaluated.
- Going from 0 to a priority opens the detector's issue (a new one, or the last one regressed); a change of
  priority while open changes the issue's priority; back to 0 resolves it. The state (`detector_state`) is in the
  database, so a restart neither reopens nor forgets an open issue.
- A cron monitor environment that turns `error` opens its detector's issue ("Cron failure: <monitor>"); one that
  turns `ok` again resolves it.
- Opening and resolving run the workflows that name the detector (`models.alerting`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import Database, dumps, loads
from localsentry.models.alerting import process_detector_issue
from localsentry.models.conditions import CATEGORY_METRIC, CATEGORY_OUTAGE, Facts
from localsentry.models.explore import error_fields, matches, parse_query
from localsentry.models.issues import create_group, issue_priority, record_activity

AGGREGATES = ("count()", "count_unique(user)")
LEVEL_OF = {75: "error", 50: "warning", 25: "info"}


def _source(data: dict[str, Any]) -> dict[str, Any] | None:
    for source in data.get("dataSources") or []:
        snuba = ((source or {}).get("queryObj") or {}).get("snubaQuery")
        if isinstance(snuba, dict):
            return snuba
    return None


def measure(db: Database, project: sqlite3.Row, snuba: dict[str, Any], now: float) -> float | None:
    """The value of a metric monitor's query now (None: a dataset or aggregate localsentry does not evaluate)."""
    aggregate = str(snuba.get("aggregate") or "").replace(" ", "")
    if snuba.get("dataset", "events") != "events" or aggregate not in AGGREGATES:
        return None
    since = now - float(snuba.get("timeWindow") or 3600)  # events are stored at their real time: a clock moved
    sql = "SELECT * FROM items WHERE project_id = ? AND type = 'event' AND received > ?"  # ahead leaves them behind
    args: list[Any] = [project["id"], since]
    if snuba.get("environment"):
        sql += " AND environment = ?"
        args.append(snuba["environment"])
    query = str(snuba.get("query") or "").strip()
    if not query and aggregate == "count()":
        return float(db.scalar(sql.replace("SELECT *", "SELECT COUNT(*)", 1), args))
    groups = parse_query(query)
    rows = [r for r in db.all(sql, args) if matches(error_fields(r, str(project["slug"])), {}, groups)]
    if aggregate == "count()":
        return float(len(rows))
    return float(len({r["user_key"] for r in rows if r["user_key"]}))


def priority_of(data: dict[str, Any], value: float) -> int:
    best = 0
    for cond in (data.get("conditionGroup") or {}).get("conditions") or []:
        threshold, kind = cond.get("comparison"), cond.get("type")
        if not isinstance(threshold, int | float):
            continue
        if (kind == "gt" and value > threshold) or (kind == "lte" and value <= threshold):
            best = max(best, int(cond.get("conditionResult") or 0))
    return best


def evaluate(db: Database, detector: sqlite3.Row, now: float) -> int | None:
    """Evaluate one metric monitor; returns its priority (None when not evaluated)."""
    data = loads(detector["data"])
    snuba = _source(data)
    if not data.get("enabled", True) or snuba is None:
        return None
    project = db.fetch("projects", detector["project_id"])
    value = measure(db, project, snuba, now)
    if value is None:
        return None
    priority = priority_of(data, value)
    state = db.one("SELECT * FROM detector_state WHERE detector_id = ?", (detector["id"],))
    before = int(state["priority"]) if state is not None else 0
    db.run("INSERT INTO detector_state (detector_id, priority, value, evaluated, changed) VALUES (?, ?, ?, ?, ?) "
           "ON CONFLICT(detector_id) DO UPDATE SET priority = excluded.priority, value = excluded.value, "
           "evaluated = excluded.evaluated, changed = CASE WHEN detector_state.priority != excluded.priority "
           "THEN excluded.changed ELSE detector_state.changed END", (detector["id"], priority, value, now, now))
    if priority == before:
        return priority
    title = f"{data['name']}: {snuba.get('aggregate')} = {value:g}"
    if priority and not before:
        open_issue(db, detector, title, priority, snuba.get("environment"), now, {"value": value})
    elif priority:
        group_id = db.scalar("SELECT group_id FROM detector_state WHERE detector_id = ?", (detector["id"],))
        if group_id is not None:
            db.run("UPDATE groups SET priority = ?, level = ? WHERE id = ?", (priority, LEVEL_OF.get(priority, "error"),
                                                                                group_id))  # fmt: skip
            record_activity(db, int(group_id), "set_priority", now, {"priority": priority, "value": value})
    else:
        resolve_issue(db, detector, snuba.get("environment"), now)
    return priority


def evaluate_project(db: Database, project_id: int, now: float) -> None:
    for detector in db.all("SELECT * FROM detectors WHERE project_id = ? AND type = 'metric_issue'", (project_id,)):
        evaluate(db, detector, now)


def evaluate_all(db: Database, now: float) -> None:
    """Every metric monitor, on the server's clock (a window that empties resolves its issue)."""
    with db.tx():
        for detector in db.all("SELECT d.* FROM detectors d JOIN projects p ON p.id = d.project_id "
                               "WHERE d.type = 'metric_issue' AND p.deleted = 0"):  # fmt: skip
            evaluate(db, detector, now)


def _facts(group: sqlite3.Row, environment: str | None, now: float, category: int, *, is_new: bool = False,
           is_regression: bool = False, is_resolution: bool = False) -> Facts:  # fmt: skip
    return Facts(group_id=int(group["id"]), level=str(group["level"]), environment=environment,
                 priority=issue_priority(group), category=category, first_seen=float(group["created"]), now=now,
                 times_seen=1, is_new=is_new, is_regression=is_regression, is_resolution=is_resolution)  # fmt: skip


def _category(detector: sqlite3.Row) -> int:
    return CATEGORY_METRIC if detector["type"] == "metric_issue" else CATEGORY_OUTAGE


def open_issue(db: Database, detector: sqlite3.Row, title: str, priority: int, environment: str | None, now: float,
               metadata: dict[str, Any]) -> int:  # fmt: skip
    """Open the detector's issue (new, or the last one regressed) and run its workflows."""
    digest = f"detector-{detector['id']}"
    group = db.one("SELECT * FROM groups WHERE project_id = ? AND hash = ?", (detector["project_id"], digest))
    level = LEVEL_OF.get(priority, "error")
    fields = (title, loads(detector["data"]).get("name"), level, "default", dumps({"title": title, **metadata}), None)
    is_new = group is None
    if group is None:
        group_id = create_group(db, int(detector["project_id"]), digest, fields, now, int(detector["id"]), priority)
    else:
        group_id = int(group["id"])
        db.run("UPDATE groups SET title = ?, level = ?, metadata = ?, priority = ?, status = 'unresolved', "
               "substatus = 'regressed', deleted = 0 WHERE id = ?", (title, level, fields[4], priority, group_id))
        record_activity(db, group_id, "set_regression", now)
    db.run("UPDATE detector_state SET group_id = ? WHERE detector_id = ?", (group_id, detector["id"]))
    fresh = db.fetch("groups", group_id)
    facts = _facts(fresh, environment, now, _category(detector), is_new=is_new, is_regression=not is_new)
    process_detector_issue(db, detector, fresh, facts, now)
    return group_id


def resolve_issue(db: Database, detector: sqlite3.Row, environment: str | None, now: float) -> None:
    """Resolve the detector's open issue and run its workflows (for `issue_resolved_trigger`)."""
    group = db.one("SELECT * FROM groups WHERE project_id = ? AND hash = ? AND status = 'unresolved'",
                   (detector["project_id"], f"detector-{detector['id']}"))  # fmt: skip
    if group is None:
        return
    db.run("UPDATE groups SET status = 'resolved', substatus = NULL WHERE id = ?", (group["id"],))
    record_activity(db, int(group["id"]), "set_resolved", now)
    fresh = db.fetch("groups", group["id"])
    process_detector_issue(db, detector, fresh, _facts(fresh, environment, now, _category(detector),
                                                      is_resolution=True), now)  # fmt: skip


def cron_incident(db: Database, monitor: sqlite3.Row, environment: str, failing: bool, now: float) -> None:
    """A cron monitor environment turned `error` (open the detector's issue) or `ok` again (resolve it)."""
    detector = db.one("SELECT * FROM detectors WHERE monitor_id = ?", (monitor["id"],))
    if detector is None or not loads(detector["data"]).get("enabled", True):
        return
    if failing:
        open_issue(db, detector, f"Cron failure: {monitor['name']}", 75, environment, now,
                   {"monitor": monitor["slug"], "environment": environment})  # fmt: skip
    else:
        resolve_issue(db, detector, environment, now)


__all__ = ["AGGREGATES", "cron_incident", "evaluate", "evaluate_all", "evaluate_project", "measure", "open_issue",
           "priority_of", "resolve_issue"]
