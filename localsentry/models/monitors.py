"""Cron monitors, their environments and check-ins, as Sentry keeps them.

- A monitor belongs to a project and has a slug unique in its organization, a `config` (`schedule_type`
  crontab|interval, `schedule`, `checkin_margin` and `max_runtime` in minutes, `timezone`,
  `failure_issue_threshold`, `recovery_threshold`, `alert_rule_id`), a status `active`|`disabled` and a mute.
- Each environment that checked in has a status: `active` before its first check-in, then `ok` or `error`.
  It turns `error` after `failure_issue_threshold` failures in a row (default 1) and back to `ok` after
  `recovery_threshold` successes in a row (default 1); an incident is open while it is `error`.
- Each monitor has its `monitor_check_in_failure` detector (`models.detectors`), created with it and deleted
  with it, enabled while the monitor is active: alerts (workflows) watch a monitor through it.
- Check-ins and Sentry's clock: `models.checkins`.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.http import Request
from localsentry.models.common import slugify, valid_slug
from localsentry.models.detectors import delete_cron_detector, ensure_cron_detector, sync_cron_detector
from localsentry.models.projects import project_flags, serialize_project_summary
from localsentry.models.schedule import INTERVAL_UNITS, check_schedule

CONFIG_LIMITS = {"checkin_margin": 40320, "max_runtime": 40320, "failure_issue_threshold": 720,
                 "recovery_threshold": 720}  # fmt: skip


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def config_of(row: sqlite3.Row) -> dict[str, Any]:
    return dict(loads(row["config"]) or {})


# -- validation -----------------------------------------------------------------------------------------------


def validate_config(raw: Any, old: dict[str, Any] | None, errors: dict[str, Any]) -> dict[str, Any]:
    """A complete config from a request's `config` (snake or camel case) over the old one."""
    if not isinstance(raw, dict):
        errors["config"] = {"nonFieldErrors": ["Invalid data. Expected a dictionary."]}
        return {}
    given = {_snake(k): v for k, v in raw.items()}
    config: dict[str, Any] = dict(old or {
        "schedule_type": None, "schedule": None, "checkin_margin": None, "max_runtime": None, "timezone": "UTC",
        "failure_issue_threshold": None, "recovery_threshold": None, "alert_rule_id": None,
    })  # fmt: skip
    problems: dict[str, list[str]] = {}
    if "schedule" not in given and old is None:
        problems["schedule"] = ["This field is required."]
    schedule = given.get("schedule", config.get("schedule"))
    kind = given.get("schedule_type") or ("interval" if isinstance(schedule, list) else "crontab")
    if kind not in ("crontab", "interval"):
        problems["schedule_type"] = [f'"{kind}" is not a valid choice.']
    for name, maximum in CONFIG_LIMITS.items():
        if name not in given:
            continue
        value = given[name]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum):
            problems[name] = [f"Ensure this value is less than or equal to {maximum}." if isinstance(value, int)
                              and not isinstance(value, bool) and value > maximum
                              else "Ensure this value is greater than or equal to 1." if isinstance(value, int)
                              and not isinstance(value, bool) else "A valid integer is required."]  # fmt: skip
        else:
            config[name] = value
    timezone = given.get("timezone", config.get("timezone")) or "UTC"
    if "schedule" not in problems and "schedule_type" not in problems:
        problem = check_schedule(kind, schedule, timezone)
        if problem is not None:
            problems["timezone" if problem.endswith("valid choice.") else "schedule"] = [problem]
    if problems:
        errors["config"] = problems
        return {}
    config.update({"schedule_type": kind, "schedule": schedule, "timezone": timezone})
    return config


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def sdk_config(raw: Any) -> dict[str, Any] | None:
    """An SDK check-in's `monitor_config` (schedule `{type, value, unit}`) in the API's config shape."""
    if not isinstance(raw, dict) or not isinstance(raw.get("schedule"), dict):
        return None
    schedule = raw["schedule"]
    if schedule.get("type") == "interval":
        unit = str(schedule.get("unit") or "").rstrip("s")
        if unit not in INTERVAL_UNITS:
            return None
        body: dict[str, Any] = {"schedule_type": "interval", "schedule": [schedule.get("value"), unit]}
    else:
        body = {"schedule_type": "crontab", "schedule": schedule.get("value")}
    for name in ("checkin_margin", "max_runtime", "timezone", "failure_issue_threshold", "recovery_threshold"):
        if raw.get(name) is not None:
            body[name] = raw[name]
    errors: dict[str, Any] = {}
    config = validate_config(body, None, errors)
    return None if errors else config


def unique_monitor_slug(db: Database, org_id: int, name: str) -> str:
    base = slugify(name, 50)
    slug, n = base, 2
    while db.one("SELECT 1 FROM monitors WHERE org_id = ? AND slug = ? AND deleted = 0", (org_id, slug)):
        slug = f"{base[: 50 - len(str(n)) - 1]}-{n}"
        n += 1
    return slug


def check_slug(value: Any, errors: dict[str, Any]) -> str | None:
    if value is None:
        return None
    if not valid_slug(value) or len(str(value)) > 50:
        errors["slug"] = ["Enter a valid slug consisting of lowercase letters, numbers, underscores or hyphens. "
                          "It cannot be entirely numeric."]  # fmt: skip
        return None
    return str(value)


# -- serializers ----------------------------------------------------------------------------------------------


def _owner(db: Database, owner: str | None) -> dict[str, Any] | None:
    if not owner:
        return None
    kind, _, ident = owner.partition(":")
    if kind == "team":
        team = db.one("SELECT name FROM teams WHERE id = ?", (int(ident),))
        return {"type": "team", "id": ident, "name": str(team["name"]) if team else ident}
    return {"type": "user", "id": ident, "name": "localsentry", "email": "localsentry@localhost"}


def serialize_env(row: sqlite3.Row) -> dict[str, Any]:
    incident = None
    if row["status"] == "error" and row["incident_start"] is not None:
        incident = {"startingTimestamp": iso(row["incident_start"]), "resolvingTimestamp": None, "brokenNotice": None}
    return {
        "name": str(row["name"]), "status": str(row["status"]), "isMuted": bool(row["is_muted"]),
        "dateCreated": str(row["created"]), "lastCheckIn": iso(row["last_checkin"]),
        "nextCheckIn": iso(row["next_checkin"]), "nextCheckInLatest": iso(row["next_checkin_latest"]),
        "activeIncident": incident,
    }  # fmt: skip


def serialize_monitor(req: Request, row: sqlite3.Row, environments: list[str] | None = None) -> dict[str, Any]:
    db = req.app.db
    project = db.fetch("projects", row["project_id"])
    envs = db.all("SELECT * FROM monitor_envs WHERE monitor_id = ? ORDER BY name", (row["id"],))
    if environments:
        envs = [e for e in envs if e["name"] in environments]
    return {
        "id": str(row["guid"]), "name": str(row["name"]), "slug": str(row["slug"]), "status": str(row["status"]),
        "isMuted": bool(row["is_muted"]), "isUpserting": False, "config": config_of(row),
        "dateCreated": str(row["created"]),
        "project": {**serialize_project_summary(req, project), **project_flags(project)},
        "environments": [serialize_env(e) for e in envs], "owner": _owner(db, row["owner"]),
    }  # fmt: skip


def serialize_checkin(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["guid"]), "environment": str(row["env_name"]), "status": str(row["status"]),
        "duration": row["duration"], "dateCreated": iso(row["date_added"]), "dateAdded": iso(row["date_added"]),
        "dateUpdated": iso(row["date_updated"]), "dateInProgress": iso(row["date_in_progress"]),
        "dateClock": iso(row["date_clock"]), "expectedTime": iso(row["expected_time"]),
        "monitorConfig": loads(row["config"]) or {}, "groups": [],
    }  # fmt: skip


def create_monitor(
    db: Database, org_id: int, project_id: int, name: str, slug: str, config: dict[str, Any], *,
    status: str = "active", owner: str | None = None, is_muted: bool = False,
) -> int:  # fmt: skip
    """Insert a monitor and its `monitor_check_in_failure` detector (inside the caller's transaction)."""
    monitor_id = db.run(
        "INSERT INTO monitors (guid, org_id, project_id, slug, name, status, is_muted, owner, config, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), org_id, project_id, slug, name, status, int(is_muted), owner, dumps(config), now_iso()),
    )  # fmt: skip
    ensure_cron_detector(db, db.fetch("monitors", monitor_id))
    return monitor_id


#: Columns a monitor update may set (from the API's validated changes).
COLUMNS = ("project_id", "name", "slug", "config", "status", "owner", "is_muted")


def change_monitor(db: Database, monitor_id: int, changes: dict[str, Any]) -> sqlite3.Row:
    """Apply validated changes; the detector follows the monitor's status, as Sentry keeps them in line."""
    for column, value in changes.items():
        if column not in COLUMNS:
            raise ValueError(f"not a monitor column: {column}")
        db.run(f"UPDATE monitors SET {column} = ? WHERE id = ?",  # noqa: S608 - a column of COLUMNS
               (dumps(value) if column == "config" else value, monitor_id))  # fmt: skip
    row = db.fetch("monitors", monitor_id)
    if "status" in changes:
        sync_cron_detector(db, row)
    if "project_id" in changes:
        db.run("UPDATE detectors SET project_id = ? WHERE monitor_id = ?", (changes["project_id"], monitor_id))
    return row


def remove_monitor(db: Database, monitor_id: int) -> None:
    """Delete a monitor (its slug is free again) and its detector."""
    db.run("UPDATE monitors SET deleted = 1, slug = slug || '-deleted-' || id WHERE id = ?", (monitor_id,))
    delete_cron_detector(db, monitor_id)
