"""Release files: the older upload of one file at a time to a release (`POST …/releases/{version}/files/`).

A file belongs to a release of the organization (and a dist, '' when none) under its name, the URL it is served at
(`~/static/app.js` or an absolute URL), with optional headers (`Sourcemap: app.js.map`). The bytes are one blob of
`file_blobs`, by SHA-1. Symbolication uses them for a release whose bundles do not hold a frame's file, as Sentry
does (`resolved_with: release-old`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.models.artifact_bundles import sourcemap_header

MAX_NAME = 200


@dataclass(frozen=True)
class ReleaseFile:
    id: int
    release: str
    dist: str
    name: str
    checksum: str
    size: int
    headers: dict[str, str]
    created: str

    @staticmethod
    def of(row: sqlite3.Row) -> ReleaseFile:
        return ReleaseFile(int(row["id"]), str(row["release"]), str(row["dist"]), str(row["name"]),
                           str(row["checksum"]), int(row["size"]), dict(loads(row["headers"]) or {}),
                           str(row["created"]))  # fmt: skip

    @property
    def sourcemap(self) -> str | None:
        return sourcemap_header(self.headers)


def store_release_file(db: Database, org_id: int, release: str, dist: str, name: str, data: bytes,
                       headers: dict[str, str]) -> ReleaseFile | None:  # fmt: skip
    """Store a file; None when the release already has a file of that name and dist."""
    checksum = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    with db.tx():
        if db.one("SELECT 1 FROM release_files WHERE org_id = ? AND release = ? AND dist = ? AND name = ?",
                  (org_id, release, dist, name)) is not None:  # fmt: skip
            return None
        db.run("INSERT OR IGNORE INTO file_blobs (org_id, checksum, size, data, created) VALUES (?, ?, ?, ?, ?)",
               (org_id, checksum, len(data), data, time.time()))  # fmt: skip
        file_id = db.run("INSERT INTO release_files (org_id, release, dist, name, checksum, size, headers, created) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (org_id, release, dist, name, checksum, len(data), dumps(headers), now_iso()))  # fmt: skip
    return ReleaseFile.of(db.fetch("release_files", file_id))


def release_files(db: Database, org_id: int, release: str, query: str = "") -> list[ReleaseFile]:
    rows = db.all("SELECT * FROM release_files WHERE org_id = ? AND release = ? ORDER BY name, id",
                  (org_id, release))  # fmt: skip
    files = [ReleaseFile.of(r) for r in rows]
    return [f for f in files if query.lower() in f.name.lower()] if query else files


def release_file(db: Database, org_id: int, release: str, file_id: str) -> ReleaseFile | None:
    if not file_id.isdigit():
        return None
    row = db.one("SELECT * FROM release_files WHERE org_id = ? AND release = ? AND id = ?",
                 (org_id, release, int(file_id)))  # fmt: skip
    return None if row is None else ReleaseFile.of(row)


def release_files_by_url(db: Database, org_id: int, release: str, dist: str, url: str) -> list[ReleaseFile]:
    """Files of the release and dist whose name contains `url` (Sentry's lookup: a substring match)."""
    rows = db.all("SELECT * FROM release_files WHERE org_id = ? AND release = ? AND dist = ? ORDER BY id",
                  (org_id, release, dist))  # fmt: skip
    return [ReleaseFile.of(r) for r in rows if url.lower() in str(r["name"]).lower()]


def release_file_content(db: Database, org_id: int, file_id: int) -> tuple[str, bytes] | None:
    row = db.one("SELECT f.name, b.data FROM release_files f JOIN file_blobs b ON b.org_id = f.org_id AND "
                 "b.checksum = f.checksum WHERE f.org_id = ? AND f.id = ?", (org_id, file_id))  # fmt: skip
    return None if row is None else (str(row["name"]), bytes(row["data"]))


def serialize_release_file(file: ReleaseFile) -> dict[str, Any]:
    """A release file as Sentry's release files endpoints answer it."""
    return {"id": str(file.id), "name": file.name, "dist": file.dist or None, "headers": file.headers,
            "size": file.size, "sha1": file.checksum, "dateCreated": file.created}  # fmt: skip


__all__ = [
    "MAX_NAME",
    "ReleaseFile",
    "release_file",
    "release_file_content",
    "release_files",
    "release_files_by_url",
    "serialize_release_file",
    "store_release_file",
]
