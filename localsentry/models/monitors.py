"""Cron monitors, their environments and check-ins, as Sentry keeps them.

- A monitor belongs to a project and has a slug unique in its organization, a `config` (`schedule_type`
  crontab|interval, `schedule`, `checkin_margin` and `max_runtime` in minutes, `timezone`,
  `failure_issue_threshold`, `recovery_threshold`, `alert_rule_id`), a status `active`|`disabled` and a mute.
- Each environment that checked in has a status: `active` before its first check-in, then `ok` or `error`.
  It turns `error` after `failure_issue_threshold` failures in a row (default 1) and back to `ok` after
  `recovery_threshold` successes in a row (default 1); an incident is open while it is `error`.
- A check-in (`in_progress`, `ok`, `error`) arrives at ingest; the same `check_in_id` closes an in-progress
  one (duration from the SDK in seconds, else the time since it opened, stored in milliseconds). A finished
  check-in is never changed again. Unknown monitors are created by a check-in that carries `monitor_config`
  (upsert) and otherwise dropped; disabled monitors drop check-ins.
- Sentry's clock (once a minute) marks what did not happen: no check-in by `next_checkin + checkin_margin`
  (default 1 minute) adds a `missed` check-in for that expected time; an in-progress check-in older than
  `max_runtime` (default 30 minutes) becomes `timeout`. localsentry runs that clock whenever monitors or their
  check-ins are read or a check-in arrives (`tick`), with the same result.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.http import Request
from localsentry.models.common import slugify, valid_slug
from localsentry.models.projects import project_flags, serialize_project_summary
from localsentry.models.schedule import INTERVAL_UNITS, check_schedule, next_after

DEFAULT_MARGIN = 1
DEFAULT_RUNTIME = 30
DEFAULT_ENVIRONMENT = "production"
FAILURES = ("error", "missed", "timeout")
CONFIG_LIMITS = {"checkin_margin": 40320, "max_runtime": 40320, "failure_issue_threshold": 720,
                 "recovery_threshold": 720}  # fmt: skip
MAX_MISSED_PER_TICK = 500


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


# -- the clock and check-ins ----------------------------------------------------------------------------------


def _minute(ts: float) -> float:
    return ts - ts % 60


def _schedule_from(config: dict[str, Any], env: sqlite3.Row, reference: float) -> tuple[float, float]:
    expected = next_after(str(config["schedule_type"]), config["schedule"], config.get("timezone"), reference)
    return expected, expected + 60 * int(config.get("checkin_margin") or DEFAULT_MARGIN)


def _update_status(db: Database, monitor: sqlite3.Row, env: sqlite3.Row, at: float) -> None:
    """Open or close the environment's incident after a finished check-in, by the thresholds."""
    config = config_of(monitor)
    failures = int(config.get("failure_issue_threshold") or 1)
    recoveries = int(config.get("recovery_threshold") or 1)
    recent = [str(r["status"]) for r in db.all(
        "SELECT status FROM checkins WHERE env_id = ? AND status != 'in_progress' ORDER BY date_added DESC, id DESC "
        "LIMIT ?", (env["id"], max(failures, recoveries)))]  # fmt: skip
    status = str(env["status"])
    if status != "error" and len(recent) >= failures and all(s in FAILURES for s in recent[:failures]):
        db.run("UPDATE monitor_envs SET status = 'error', incident_start = ? WHERE id = ?", (at, env["id"]))
    elif status == "error" and len(recent) >= recoveries and all(s == "ok" for s in recent[:recoveries]):
        db.run("UPDATE monitor_envs SET status = 'ok', incident_start = NULL WHERE id = ?", (env["id"],))
    elif status == "active" and recent and recent[0] == "ok":
        db.run("UPDATE monitor_envs SET status = 'ok' WHERE id = ?", (env["id"],))


def _insert_checkin(
    db: Database, monitor: sqlite3.Row, env: sqlite3.Row, status: str, at: float, *, guid: str | None = None,
    duration: int | None = None, expected: float | None = None, trace_id: str | None = None,
) -> None:  # fmt: skip
    config = config_of(monitor)
    timeout_at = at + 60 * int(config.get("max_runtime") or DEFAULT_RUNTIME) if status == "in_progress" else None
    db.run(
        "INSERT INTO checkins (guid, monitor_id, env_id, status, duration, date_added, date_updated, "
        "date_in_progress, date_clock, expected_time, timeout_at, trace_id, config) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (guid or uuid.uuid4().hex, monitor["id"], env["id"], status, duration, at, at,
         at if status == "in_progress" else None, _minute(at), expected, timeout_at, trace_id, dumps(config)),
    )  # fmt: skip


def tick(db: Database, now: float | None = None) -> None:
    """Mark missed and timed-out check-ins up to `now`, as Sentry's clock does each minute."""
    now = time.time() if now is None else now
    with db.tx():
        for checkin in db.all(
            "SELECT c.* FROM checkins c JOIN monitors m ON m.id = c.monitor_id WHERE c.status = 'in_progress' "
            "AND c.timeout_at IS NOT NULL AND c.timeout_at <= ? AND m.deleted = 0", (now,)):  # fmt: skip
            db.run("UPDATE checkins SET status = 'timeout', date_updated = ? WHERE id = ?",
                   (checkin["timeout_at"], checkin["id"]))  # fmt: skip
            _after_checkin(db, int(checkin["monitor_id"]), int(checkin["env_id"]), float(checkin["timeout_at"]))
        for env in db.all(
            "SELECT e.* FROM monitor_envs e JOIN monitors m ON m.id = e.monitor_id WHERE m.deleted = 0 "
            "AND m.status = 'active' AND e.next_checkin_latest IS NOT NULL AND e.next_checkin_latest <= ?",
            (now,),
        ):
            monitor = db.fetch("monitors", env["monitor_id"])
            config = config_of(monitor)
            expected, latest = float(env["next_checkin"]), float(env["next_checkin_latest"])
            for _ in range(MAX_MISSED_PER_TICK):
                if latest > now:
                    break
                _insert_checkin(db, monitor, env, "missed", latest, expected=expected)
                fresh = db.fetch("monitor_envs", env["id"])
                _update_status(db, monitor, fresh, latest)
                expected, latest = _schedule_from(config, env, expected)
            db.run("UPDATE monitor_envs SET next_checkin = ?, next_checkin_latest = ? WHERE id = ?",
                   (expected, latest, env["id"]))  # fmt: skip


def _after_checkin(db: Database, monitor_id: int, env_id: int, at: float) -> None:
    monitor = db.one("SELECT * FROM monitors WHERE id = ?", (monitor_id,))
    env = db.one("SELECT * FROM monitor_envs WHERE id = ?", (env_id,))
    if monitor is not None and env is not None:
        _update_status(db, monitor, env, at)


def _env(db: Database, monitor_id: int, name: str) -> sqlite3.Row:
    db.run("INSERT OR IGNORE INTO monitor_envs (monitor_id, name, created) VALUES (?, ?, ?)",
           (monitor_id, name, now_iso()))  # fmt: skip
    env = db.one("SELECT * FROM monitor_envs WHERE monitor_id = ? AND name = ?", (monitor_id, name))
    assert env is not None
    return env


def create_monitor(
    db: Database, org_id: int, project_id: int, name: str, slug: str, config: dict[str, Any], *,
    status: str = "active", owner: str | None = None, is_muted: bool = False,
) -> int:  # fmt: skip
    return db.run(
        "INSERT INTO monitors (guid, org_id, project_id, slug, name, status, is_muted, owner, config, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), org_id, project_id, slug, name, status, int(is_muted), owner, dumps(config), now_iso()),
    )  # fmt: skip


def process_checkin(db: Database, project: sqlite3.Row, payload: Any, received: float) -> str | None:
    """Apply an SDK check-in; returns why it was dropped, or None. Runs inside the ingest transaction."""
    if not isinstance(payload, dict) or not isinstance(payload.get("monitor_slug"), str):
        return "invalid"
    slug = payload["monitor_slug"].lower()
    status = payload.get("status")
    if status not in ("in_progress", "ok", "error"):
        return "invalid"
    monitor = db.one("SELECT * FROM monitors WHERE org_id = ? AND slug = ? AND deleted = 0",
                     (project["org_id"], slug))  # fmt: skip
    upsert = sdk_config(payload.get("monitor_config"))
    if monitor is None:
        if upsert is None or not valid_slug(slug):
            return "monitor_not_found"
        monitor_id = create_monitor(db, int(project["org_id"]), int(project["id"]), slug, slug, upsert)
        monitor = db.fetch("monitors", monitor_id)
    elif int(monitor["project_id"]) != int(project["id"]):
        return "monitor_not_found"
    elif upsert is not None:
        db.run(
            "UPDATE monitors SET config = ? WHERE id = ?",
            # Sentry updates only the keys the SDK sent (plus the schedule): a declared margin or max runtime stays
            (dumps({**config_of(monitor), **{k: v for k, v in upsert.items()
                                             if k in ("schedule", "schedule_type")
                                             or k in (payload.get("monitor_config") or {})}}), monitor["id"]),
        )
        monitor = db.fetch("monitors", monitor["id"])
    if monitor["status"] == "disabled":
        return "monitor_disabled"
    env = _env(db, int(monitor["id"]), str(payload.get("environment") or DEFAULT_ENVIRONMENT))
    guid = str(payload.get("check_in_id") or uuid.uuid4().hex).replace("-", "")
    seconds = payload.get("duration")
    duration = (
        int(float(seconds) * 1000) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None
    )
    existing = db.one("SELECT * FROM checkins WHERE monitor_id = ? AND guid = ?", (monitor["id"], guid))
    if existing is not None:
        if existing["status"] != "in_progress" or status == "in_progress":
            return "checkin_finished"
        if duration is None:
            duration = int((received - float(existing["date_added"])) * 1000)
        db.run("UPDATE checkins SET status = ?, duration = ?, date_updated = ? WHERE id = ?",
               (status, duration, received, existing["id"]))  # fmt: skip
    else:
        contexts = payload.get("contexts")
        trace = contexts.get("trace") if isinstance(contexts, dict) else None
        trace = trace if isinstance(trace, dict) else {}
        _insert_checkin(db, monitor, env, status, received, guid=guid, duration=duration,
                        expected=env["next_checkin"], trace_id=trace.get("trace_id"))  # fmt: skip
    config = config_of(monitor)
    expected, latest = _schedule_from(config, env, received)
    db.run("UPDATE monitor_envs SET last_checkin = ?, next_checkin = ?, next_checkin_latest = ? WHERE id = ?",
           (received, expected, latest, env["id"]))  # fmt: skip
    if status != "in_progress":
        fresh = db.fetch("monitor_envs", env["id"])
        _update_status(db, monitor, fresh, received)
    return None
