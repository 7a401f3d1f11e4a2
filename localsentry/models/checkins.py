"""Check-ins of cron monitors and Sentry's clock, as Sentry's monitor consumer and clock tasks handle them.

- A check-in (`in_progress`, `ok`, `error`) arrives at ingest (an SDK's `check_in` item or Relay's HTTP check-in
  endpoint); the same `check_in_id` closes an in-progress one (duration from the client in seconds, else the
  time since it opened, stored in milliseconds). A finished check-in is never changed again. A check-in without
  an id (the nil UUID, as Relay sends an HTTP check-in without `check_in_id`) updates the latest in-progress
  check-in of its monitor environment, or starts a new one when there is none. Unknown monitors are created by
  a check-in that carries `monitor_config` (upsert) and otherwise dropped; disabled monitors drop check-ins.
- Sentry's clock (once a minute) marks what did not happen: no check-in by `next_checkin + checkin_margin`
  (default 1 minute) adds a `missed` check-in for that expected time; an in-progress check-in older than
  `max_runtime` (default 30 minutes) becomes `timeout`. localsentry runs that clock whenever monitors or their
  check-ins are read or a check-in arrives (`tick`), and on its own clock thread, with the same result.
- An environment turning `error` opens the monitor's detector issue and turning `ok` again resolves it
  (`models.detector_issues`), which runs the workflows that name the detector.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any

from localsentry.db import Database, dumps, now_iso
from localsentry.models.common import valid_slug
from localsentry.models.detector_issues import cron_incident
from localsentry.models.monitors import config_of, create_monitor, sdk_config
from localsentry.models.schedule import next_after

DEFAULT_MARGIN = 1
DEFAULT_RUNTIME = 30
DEFAULT_ENVIRONMENT = "production"
FAILURES = ("error", "missed", "timeout")
MAX_MISSED_PER_TICK = 500
NIL_ID = "0" * 32


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
        cron_incident(db, monitor, str(env["name"]), True, at)
    elif status == "error" and len(recent) >= recoveries and all(s == "ok" for s in recent[:recoveries]):
        db.run("UPDATE monitor_envs SET status = 'ok', incident_start = NULL WHERE id = ?", (env["id"],))
        cron_incident(db, monitor, str(env["name"]), False, at)
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


def _find_checkin(
    db: Database, monitor: sqlite3.Row, env: sqlite3.Row, raw_id: Any
) -> tuple[str, sqlite3.Row | None]:
    """(the check-in's id, the stored check-in it updates or None). No id or the nil UUID means the latest
    in-progress check-in of the monitor environment, as Sentry reads it (then a new id when there is none)."""
    guid = str(raw_id or "").replace("-", "").lower()
    if guid in ("", NIL_ID):
        latest = db.one("SELECT * FROM checkins WHERE env_id = ? AND status = 'in_progress' "
                        "ORDER BY date_added DESC, id DESC LIMIT 1", (env["id"],))  # fmt: skip
        return (str(latest["guid"]), latest) if latest is not None else (uuid.uuid4().hex, None)
    return guid, db.one("SELECT * FROM checkins WHERE monitor_id = ? AND guid = ?", (monitor["id"], guid))


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
    guid, existing = _find_checkin(db, monitor, env, payload.get("check_in_id"))
    seconds = payload.get("duration")
    duration = (
        int(float(seconds) * 1000) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None
    )
    if existing is not None:
        if existing["status"] != "in_progress":
            return "checkin_finished"
        if status == "in_progress":  # a heartbeat of a running job: its timeout starts again
            runtime = 60 * int(config_of(monitor).get("max_runtime") or DEFAULT_RUNTIME)
            db.run("UPDATE checkins SET date_updated = ?, timeout_at = ? WHERE id = ?",
                   (received, received + runtime, existing["id"]))  # fmt: skip
        else:
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
