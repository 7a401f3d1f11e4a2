"""Issues (Sentry's groups): assigning an error event to its group at ingest, and the issue shapes.

An issue's `count`, `userCount`, `firstSeen` and `lastSeen` are computed from its events (filtered by the
request's environments, as Sentry's are), `level` and `title` follow its latest event, the short id is the
project slug in capitals and a per-project number in Sentry's base 32, and the priority follows the level
(fatal and error high, warning medium, others low) as Sentry sets it without a model score.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localsentry.db import Database, dumps, loads
from localsentry.http import Request
from localsentry.models.events import title_of
from localsentry.models.grouping import culprit, group_hash, user_key

BASE32 = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PRIORITY = {"fatal": "high", "error": "high", "warning": "medium"}
LEVELS = ("sample", "debug", "info", "warning", "error", "fatal")
TYPES = ("default", "error", "csp", "nel", "hpkp", "expectct")
PRIORITY_NAMES = {75: "high", 50: "medium", 25: "low"}
#: A detector's issues: Sentry's group types and their categories.
DETECTOR_ISSUES = {"metric_issue": ("metric_issue", "metric"), "monitor_check_in_failure": ("monitor_check_in_failure",
                                                                                           "outage")}


def base32(n: int) -> str:
    out = ""
    while True:
        n, rest = divmod(n, len(BASE32))
        out = BASE32[rest] + out
        if n == 0:
            return out


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _level(payload: dict[str, Any]) -> str:
    level = str(payload.get("level") or "error").lower()
    level = "warning" if level == "warn" else level
    return level if level in LEVELS else "error"


def _type(payload: dict[str, Any]) -> str:
    if payload.get("type") in TYPES[2:]:
        return str(payload["type"])
    return "error" if payload.get("exception") else "default"


@dataclass(frozen=True)
class Assigned:
    """The issue an error event went to, and what the event did to it (Sentry's `group_state` and
    `has_reappeared`): made it (`is_new`), reopened it from resolved (`is_regression`) or brought it back from
    archived (`has_reappeared`)."""

    group_id: int
    is_new: bool = False
    is_regression: bool = False
    has_reappeared: bool = False


def record_activity(db: Database, group_id: int, kind: str, at: float, data: dict[str, Any] | None = None) -> None:
    """An entry of the issue's activity (`first_seen`, `set_regression`, `set_escalating`, `set_resolved`, …)."""
    db.run("INSERT INTO group_activity (group_id, type, data, created) VALUES (?, ?, ?, ?)",
           (group_id, kind, dumps(data or {}), at))  # fmt: skip


def create_group(db: Database, project_id: int, digest: str, fields: tuple[Any, ...], at: float,
                 detector_id: int | None = None, priority: int | None = None) -> int:  # fmt: skip
    """Insert an issue (`fields`: title, culprit, level, type, metadata, platform) with the project's next short
    id, and its `first_seen` activity."""
    seq = int(db.scalar("SELECT COALESCE(MAX(short_seq), 0) FROM groups WHERE project_id = ?", (project_id,))) + 1
    group_id = db.run(
        "INSERT INTO groups (project_id, hash, short_seq, title, culprit, level, type, metadata, platform, "
        "created, detector_id, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (project_id, digest, seq, *fields, at, detector_id, priority))  # fmt: skip
    record_activity(db, group_id, "first_seen", at)
    return group_id


def assign_group(db: Database, project_id: int, item_id: int, payload: Any, received: float) -> Assigned | None:
    """Group an error event (inside the ingest transaction); returns the issue and what the event did to it."""
    if not isinstance(payload, dict):
        return None
    title, message = title_of(payload, "event")
    digest = group_hash(payload, title)
    kind = _type(payload)
    metadata: dict[str, Any] = {"title": title}
    values = (payload.get("exception") or {}).get("values") if isinstance(payload.get("exception"), dict) else None
    if isinstance(values, list) and values and isinstance(values[-1], dict):
        metadata = {"type": values[-1].get("type"), "value": values[-1].get("value"), "title": title}
    elif message:
        metadata = {"title": title, "value": message}
    row = db.one("SELECT * FROM groups WHERE project_id = ? AND hash = ?", (project_id, digest))
    fields = (title, culprit(payload), _level(payload), kind, dumps(metadata), payload.get("platform"))
    db.run("UPDATE items SET user_key = ? WHERE id = ?", (user_key(payload), item_id))
    if row is None:
        group_id = create_group(db, project_id, digest, fields, received)
        db.run("UPDATE items SET group_id = ? WHERE id = ?", (group_id, item_id))
        return Assigned(group_id, is_new=True)
    group_id = int(row["id"])
    db.run("UPDATE items SET group_id = ? WHERE id = ?", (group_id, item_id))
    status, substatus = str(row["status"]), row["substatus"]
    regression = status == "resolved"
    reappeared = status == "ignored" and _unarchived(db, row)
    if regression:
        status, substatus = "unresolved", "regressed"
        record_activity(db, group_id, "set_regression", received)
    elif reappeared:
        status, substatus = "unresolved", "escalating"
        record_activity(db, group_id, "set_escalating", received)
    db.run("UPDATE groups SET title = ?, culprit = ?, level = ?, type = ?, metadata = ?, platform = ?, status = ?, "
           "substatus = ?, ignore_until = CASE WHEN ? = 'ignored' THEN ignore_until END, deleted = 0 WHERE id = ?",
           (*fields, status, substatus, status, group_id))  # fmt: skip
    return Assigned(group_id, is_regression=regression, has_reappeared=reappeared)


def _unarchived(db: Database, row: sqlite3.Row) -> bool:
    """An archived issue comes back on a new event unless archived forever; archived until a count
    (`statusDetails.ignoreCount`), once it has that many events."""
    if row["substatus"] == "archived_forever" and row["ignore_until"] is None:
        return False
    if row["ignore_until"] is None:
        return True
    seen = int(db.scalar("SELECT COUNT(*) FROM items WHERE group_id = ?", (row["id"],)))
    return seen >= int(row["ignore_until"])


def issue_priority(group: sqlite3.Row) -> int:
    """75 high, 50 medium, 25 low: a detector's priority, else by level (fatal and error high, warning medium)."""
    if group["priority"] is not None:
        return int(group["priority"])
    return {"high": 75, "medium": 50}.get(PRIORITY.get(str(group["level"]), "low"), 25)


def activity(db: Database, group: sqlite3.Row) -> list[dict[str, Any]]:
    """The issue's activity, newest first (an issue older than the activity log shows its first_seen)."""
    rows = db.all("SELECT * FROM group_activity WHERE group_id = ? ORDER BY id DESC", (group["id"],))
    found = [{"id": str(r["id"]), "type": str(r["type"]), "user": None, "data": loads(r["data"]) or {},
              "dateCreated": iso(float(r["created"]))} for r in rows]  # fmt: skip
    if not any(a["type"] == "first_seen" for a in found):
        found.append({"id": "0", "type": "first_seen", "user": None, "data": {}, "dateCreated": iso(group["created"])})
    return found


def group_stats(db: Database, group_id: int, environments: list[str]) -> dict[str, Any]:
    sql = ("SELECT COUNT(*) AS n, COUNT(DISTINCT user_key) AS users, MIN(COALESCE(timestamp, received)) AS first, "
           "MAX(COALESCE(timestamp, received)) AS last FROM items WHERE group_id = ?")  # fmt: skip
    args: list[Any] = [group_id]
    if environments:
        sql += f" AND environment IN ({','.join('?' * len(environments))})"
        args += environments
    row = db.one(sql, args)
    assert row is not None
    return {"count": int(row["n"]), "userCount": int(row["users"]), "firstSeen": row["first"], "lastSeen": row["last"]}


def hourly(db: Database, group_id: int, environments: list[str], hours: int = 24) -> list[list[int]]:
    now = time.time()
    end = int(now - now % 3600)
    buckets = {end - 3600 * i: 0 for i in range(hours - 1, -1, -1)}
    sql = "SELECT COALESCE(timestamp, received) AS ts FROM items WHERE group_id = ? "
    sql += "AND COALESCE(timestamp, received) >= ?"
    args: list[Any] = [group_id, end - 3600 * (hours - 1)]
    if environments:
        sql += f" AND environment IN ({','.join('?' * len(environments))})"
        args += environments
    for row in db.all(sql, args):
        slot = int(row["ts"] - row["ts"] % 3600)
        if slot in buckets:
            buckets[slot] += 1
    return [[ts, n] for ts, n in buckets.items()]


def _issue_type(db: Database, group: sqlite3.Row) -> dict[str, str]:
    if group["detector_id"] is None:
        return {"issueType": "error", "issueCategory": "error"}
    kind = db.scalar("SELECT type FROM detectors WHERE id = ?", (group["detector_id"],))
    issue_type, category = DETECTOR_ISSUES.get(str(kind), ("metric_issue", "metric"))
    return {"issueType": issue_type, "issueCategory": category}


def serialize_group(req: Request, group: sqlite3.Row, *, detailed: bool = False,
                    environments: list[str] | None = None, expand: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """The list shape (`detailed=False`: stats, lifetime, filtered; `inbox` and `owners` only when expanded,
    as Sentry adds them) or the detail shape (activity, releases, stats)."""
    db = req.app.db
    envs = environments or []
    project = db.fetch("projects", group["project_id"])
    stats = group_stats(db, int(group["id"]), envs)
    lifetime = group_stats(db, int(group["id"]), []) if envs else stats
    org = db.one("SELECT slug FROM orgs WHERE id = ?", (project["org_id"],))
    assert org is not None
    first, last = iso(lifetime["firstSeen"]), iso(lifetime["lastSeen"])
    latest = db.one("SELECT event_id, environment FROM items WHERE group_id = ? ORDER BY id DESC LIMIT 1",
                    (group["id"],))  # fmt: skip
    body: dict[str, Any] = {
        "id": str(group["id"]), "shareId": None,
        "shortId": f"{str(project['slug']).upper()}-{base32(int(group['short_seq']))}",
        "title": str(group["title"]), "culprit": group["culprit"],
        "permalink": f"{req.base_url}/organizations/{org['slug']}/issues/{group['id']}/",
        "logger": None, "level": str(group["level"]), "status": str(group["status"]), "statusDetails": {},
        "substatus": group["substatus"] if group["status"] == "unresolved" else None, "isPublic": False,
        "platform": group["platform"], "priority": PRIORITY_NAMES.get(issue_priority(group), "high"),
        "priorityLockedAt": None,
        "seerFixabilityScore": None, "seerAutofixLastTriggered": None, "seerExplorerAutofixLastTriggered": None,
        "project": {"id": str(project["id"]), "name": str(project["name"]), "slug": str(project["slug"]),
                    "platform": project["platform"]},
        "type": str(group["type"]), **_issue_type(db, group),
        "metadata": loads(group["metadata"]) or {}, "numComments": 0, "assignedTo": None,
        "isBookmarked": bool(group["is_bookmarked"]), "isSubscribed": False, "subscriptionDetails": None,
        "hasSeen": bool(group["has_seen"]), "annotations": [], "isUnhandled": False,
        "count": str(stats["count"]), "userCount": stats["userCount"],
        "firstSeen": iso(stats["firstSeen"]) or first, "lastSeen": iso(stats["lastSeen"]) or last,
    }  # fmt: skip
    if detailed:
        release = db.all("SELECT release, MIN(id) AS first_id, MAX(id) AS last_id FROM items WHERE group_id = ? "
                         "AND release IS NOT NULL GROUP BY release ORDER BY first_id", (group["id"],))  # fmt: skip
        body.update({
            "activity": activity(db, group),
            "seenBy": [], "participants": [], "userReportCount": 0, "tags": [],
            "firstRelease": {"version": release[0]["release"]} if release else None,
            "lastRelease": {"version": release[-1]["release"]} if release else None,
            "stats": {"24h": hourly(db, int(group["id"]), envs)},
        })  # fmt: skip
        return body
    body.update({
        "derivedData": {"blocker": "none", "progress": "not_started", "status": "open", "viewCount": 0,
                        "hasOpenFixPr": False, "isAssigned": False, "hasRootCause": False,
                        "lastCompletedAutofixStep": "none", "lastProgressedAt": None},
        "stats": {"24h": hourly(db, int(group["id"]), envs)},
        "lifetime": {"count": str(lifetime["count"]), "userCount": lifetime["userCount"], "firstSeen": first,
                     "lastSeen": last, "stats": None},
        "filtered": ({"count": str(stats["count"]), "userCount": stats["userCount"],
                      "firstSeen": iso(stats["firstSeen"]), "lastSeen": iso(stats["lastSeen"]), "stats": {}}
                     if envs else None),
        "sessionCount": 0, "integrationIssues": [], "sentryAppIssues": [],
        "latestEventHasAttachments": False,
        "matchingEventId": None if latest is None else str(latest["event_id"]),
        "matchingEventEnvironment": None if latest is None else latest["environment"],
    })  # fmt: skip
    if "inbox" in expand:
        body["inbox"] = {"reason": 0 if group["substatus"] == "new" else 2, "reason_details": None,
                         "date_added": first} if group["status"] == "unresolved" else None  # fmt: skip
    if "owners" in expand:
        body["owners"] = None  # no ownership rules in localsentry
    return body
