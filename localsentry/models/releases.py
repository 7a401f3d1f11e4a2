"""Releases and deploys: storage and the serializers of Sentry's release and deploy responses.

A release is an organization object (``org_releases``) that belongs to projects; the membership is the
``releases`` table (``project_id``, ``version``), which ingest also fills when an event names a release, so a
release first seen in an event is a release of the API too. Deploys (``deploys``) belong to a release.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso

VERSION_BAD = re.compile(r"[\n\r\t\f\v/\\]")
VERSION_RESERVED = frozenset({".", "..", "latest"})
_SEMVER = re.compile(
    r"^(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?(?:\.\d+)?(?:-(?P<pre>[0-9A-Za-z.-]+))?"
    r"(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_HASH = re.compile(r"^[0-9a-f]{7,64}$")


def valid_version(version: str) -> bool:
    return bool(version) and version not in VERSION_RESERVED and not VERSION_BAD.search(version) and (
        version == version.strip()
    )


def version_info(version: str) -> dict[str, Any]:
    """``versionInfo`` as Sentry derives it: ``package@version``, semver parts, or a build hash."""
    package, sep, raw = version.rpartition("@")
    if not sep:
        package, raw = "", version
    match = _SEMVER.match(raw)
    if match:
        parts = [match.group(g) for g in ("major", "minor", "patch")]
        return {
            "package": package or None,
            "version": {
                "raw": raw, "major": int(parts[0]), "minor": int(parts[1] or 0), "patch": int(parts[2] or 0),
                "pre": match.group("pre"), "buildCode": match.group("build"),
                "components": sum(1 for p in parts if p is not None),
            },
            "description": raw,
            "buildHash": None,
        }
    if _HASH.match(raw):
        return {"package": package or None, "version": {"raw": raw}, "description": raw[:12], "buildHash": raw}
    return {"package": package or None, "version": {"raw": raw}, "description": raw, "buildHash": None}


def short_version(version: str) -> str:
    info = version_info(version)
    description = str(info["description"])
    package = info["package"]
    return f"{package}@{description}" if package and info["buildHash"] is None else description


def release_row(db: Database, org_id: int, version: str) -> sqlite3.Row | None:
    """The release `version` of the organization; one that only ingest has seen is created on first ask."""
    row = db.one("SELECT * FROM org_releases WHERE org_id = ? AND version = ?", (org_id, version))
    if row is not None:
        return row
    seen = db.one(
        "SELECT r.id FROM releases r JOIN projects p ON p.id = r.project_id "
        "WHERE p.org_id = ? AND p.deleted = 0 AND r.version = ?",
        (org_id, version),
    )
    if seen is None:
        return None
    with db.tx():
        db.run("INSERT OR IGNORE INTO org_releases (org_id, version, data, created) VALUES (?, ?, '{}', ?)",
               (org_id, version, now_iso()))
    return db.one("SELECT * FROM org_releases WHERE org_id = ? AND version = ?", (org_id, version))


def release_projects(db: Database, org_id: int, version: str) -> list[sqlite3.Row]:
    return db.all(
        "SELECT p.* FROM releases r JOIN projects p ON p.id = r.project_id "
        "WHERE p.org_id = ? AND p.deleted = 0 AND r.version = ? ORDER BY p.slug",
        (org_id, version),
    )


def add_project(db: Database, project_id: int, version: str) -> bool:
    """Add the project to the release; True when it was not in it yet."""
    before = db.one("SELECT id FROM releases WHERE project_id = ? AND version = ?", (project_id, version))
    if before is not None:
        return False
    db.run("INSERT INTO releases (project_id, version) VALUES (?, ?)", (project_id, version))
    return True


def serialize_deploy(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "environment": str(row["environment"]),
        "dateStarted": row["date_started"],
        "dateFinished": str(row["date_finished"]),
        "name": row["name"],
        "url": row["url"],
    }


def serialize_release(db: Database, row: sqlite3.Row) -> dict[str, Any]:
    org_id, version = int(row["org_id"]), str(row["version"])
    data = dict(loads(row["data"]) or {})
    projects = release_projects(db, org_id, version)
    deploys = db.all("SELECT * FROM deploys WHERE release_id = ? ORDER BY id DESC", (row["id"],))
    events = db.one(
        "SELECT MIN(i.received) AS first, MAX(i.received) AS last FROM items i JOIN projects p ON p.id = i.project_id "
        "WHERE p.org_id = ? AND i.release = ? AND i.type = 'event'",
        (org_id, version),
    )
    return {
        "id": int(row["id"]),
        "version": version,
        "shortVersion": short_version(version),
        "status": str(data.get("status") or "open"),
        "versionInfo": version_info(version),
        "ref": data.get("ref"),
        "url": data.get("url"),
        "dateReleased": data.get("dateReleased"),
        "dateCreated": str(row["created"]),
        "data": {},
        "newGroups": 0,
        "owner": None,
        "commitCount": 0,
        "lastCommit": None,
        "deployCount": len(deploys),
        # the schema's lastDeploy.name is a string (never null, unlike the deploy list's)
        "lastDeploy": {**serialize_deploy(deploys[0]), "name": deploys[0]["name"] or ""} if deploys else None,
        "authors": [],
        "projects": [
            {"id": int(p["id"]), "slug": str(p["slug"]), "name": str(p["name"]), "newGroups": 0,
             "platform": p["platform"], "platforms": [p["platform"]] if p["platform"] else [],
             "hasHealthData": False}
            for p in projects
        ],
        "firstEvent": _iso(events["first"]) if events is not None else None,
        "lastEvent": _iso(events["last"]) if events is not None else None,
        "currentProjectMeta": {},
        "userAgent": data.get("userAgent"),
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), UTC).isoformat().replace("+00:00", "Z")


def save_data(db: Database, release_id: int, data: dict[str, Any]) -> None:
    db.run("UPDATE org_releases SET data = ? WHERE id = ?", (dumps(data), release_id))


__all__ = [
    "add_project",
    "release_projects",
    "release_row",
    "save_data",
    "serialize_deploy",
    "serialize_release",
    "short_version",
    "valid_version",
    "version_info",
]
