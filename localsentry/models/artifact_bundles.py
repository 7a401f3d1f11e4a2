"""Artifact bundles (JavaScript source maps), stored as Sentry stores them.

Upload is Sentry's chunk protocol, as `sentry-cli sourcemaps upload` speaks it: the client reads the chunk-upload
options, asks `artifactbundle/assemble/` which chunks of its bundle (a zip with a `manifest.json`) are missing,
POSTs those (SHA-1 named, plain or gzip), and asks `assemble` again until the state is `ok` or `error`.

* A chunk is a file blob keyed by organization and SHA-1 (a wrong name is refused, as Sentry's `FileBlob` refuses it);
  a bundle's bytes are its chunks in order (Sentry's File and FileBlobIndex), so an upload of the same content
  stores nothing twice.
* Assembly checks that the chunks add up to the reported checksum, reads the manifest, and upserts the bundle by its
  `bundle_id` (the manifest's `debug_id`, which sentry-cli derives from the files): the same bundle uploaded again,
  by another stack or for another release, is one bundle with one more project or release bound to it, never a
  duplicate. A bundle with neither debug ids nor a release is refused ("uploading a bundle without debug ids or
  release is prohibited"); an empty one is dropped and reported `ok`.
* The state of each assembly (`created`, `assembling`, `ok`, `error` with its detail) is kept by checksum, as Sentry
  caches it: asking again for an assembled checksum answers `ok` without assembling again.

Lookups (symbolication, `artifact-lookup`) find files by debug id, or by release, dist and URL in the bundles bound
to that release, always among the bundles bound to the asking project.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import threading
import time
import uuid
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from localsentry.db import Database, dumps, loads, now_iso

CHUNK_SIZE = 8 * 1024 * 1024
MAX_CHUNKS_PER_REQUEST = 64
MAX_REQUEST_SIZE = 32 * 1024 * 1024
MAX_FILE_SIZE = 256 * 1024 * 1024  # Sentry's is per organization (2 GiB on sentry.io); a bundle is held in memory here
CONCURRENCY = 8
HASH_ALGORITHM = "sha1"
#: what this server assembles (Sentry also lists debug files, PDBs, ProGuard...: localsentry takes source maps only)
ACCEPT = ("artifact_bundles", "artifact_bundles_v2")
#: Sentry's SourceFileType numbers, as the bundle files endpoint answers them (0: a type it does not know)
FILE_TYPES = {"source": 1, "minified_source": 2, "source_map": 3, "indexed_ram_bundle": 4}
NO_DEBUG_IDS = "uploading a bundle without debug ids or release is prohibited"
CHECKSUM_MISMATCH = "Reported checksum mismatch"
STATES = ("created", "assembling", "ok", "error", "not_found")


class ChunkError(ValueError):
    """A chunk upload Sentry refuses (the message is Sentry's `error`)."""


@dataclass(frozen=True)
class BundleFile:
    """One file of a bundle: its path in the zip, URL (`~/…` or absolute), type, debug id and headers."""

    bundle: int  # artifact_bundles.id
    path: str
    url: str
    type: str
    debug_id: str | None
    headers: dict[str, str]
    size: int = 0

    @staticmethod
    def of(row: sqlite3.Row) -> BundleFile:
        return BundleFile(int(row["bundle_id"]), str(row["path"]), str(row["url"]), str(row["type"]),
                          row["debug_id"], dict(loads(row["headers"]) or {}), int(row["size"]))  # fmt: skip

    @property
    def sourcemap(self) -> str | None:
        return sourcemap_header(self.headers)


def sourcemap_header(headers: dict[str, str]) -> str | None:
    """A file's source map reference: its `Sourcemap` (or `X-SourceMap`) header, any case."""
    for name, value in headers.items():
        if name.lower() in ("sourcemap", "x-sourcemap"):
            return value
    return None


def normalize_debug_id(value: Any) -> str | None:
    """A debug id as Sentry stores it: a lowercase UUID with dashes (an appendix after it dropped), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower().replace("-", "")[:32]
    try:
        return str(uuid.UUID(hex=text))
    except ValueError:
        return None


# --------------------------------------------------------------------------- chunks


def store_chunks(db: Database, org_id: int, chunks: list[tuple[str, bytes]]) -> None:
    """Store uploaded chunks; each one's name must be the SHA-1 of its (decompressed) bytes."""
    for name, data in chunks:
        if len(data) > CHUNK_SIZE:
            raise ChunkError("Chunk size too large")
        if hashlib.sha1(data, usedforsecurity=False).hexdigest() != name.lower():
            raise ChunkError("Checksum mismatch")
    if sum(len(d) for _, d in chunks) > MAX_REQUEST_SIZE:
        raise ChunkError("Request too large")
    with db.tx():
        for name, data in chunks:
            db.run("INSERT OR IGNORE INTO file_blobs (org_id, checksum, size, data, created) VALUES (?, ?, ?, ?, ?)",
                   (org_id, name.lower(), len(data), data, time.time()))  # fmt: skip


def missing_chunks(db: Database, org_id: int, checksums: list[str]) -> list[str]:
    """The checksums (in the order asked, once each) no blob of the organization has."""
    wanted = list(dict.fromkeys(c.lower() for c in checksums))
    have: set[str] = set()
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ",".join("?" * len(part))
        rows = db.all(f"SELECT checksum FROM file_blobs WHERE org_id = ? AND checksum IN ({marks})",  # noqa: S608
                      (org_id, *part))  # fmt: skip
        have |= {str(r["checksum"]) for r in rows}
    return [c for c in wanted if c not in have]


def _bytes_of(db: Database, org_id: int, chunks: list[str]) -> bytes:
    parts: list[bytes] = []
    for checksum in chunks:
        data = db.scalar("SELECT data FROM file_blobs WHERE org_id = ? AND checksum = ?", (org_id, checksum))
        if data is None:
            raise LookupError(f"chunk {checksum} is gone")
        parts.append(bytes(data))
    return b"".join(parts)


# --------------------------------------------------------------------------- assembly


def assemble_state(db: Database, org_id: int, checksum: str) -> tuple[str, str | None] | None:
    row = db.one("SELECT state, detail FROM assemble_status WHERE org_id = ? AND checksum = ?", (org_id, checksum))
    return None if row is None else (str(row["state"]), row["detail"])


def set_state(db: Database, org_id: int, checksum: str, state: str, detail: str | None = None) -> None:
    db.run("INSERT INTO assemble_status (org_id, checksum, state, detail, updated) VALUES (?, ?, ?, ?, ?) "
           "ON CONFLICT(org_id, checksum) DO UPDATE SET state = excluded.state, detail = excluded.detail, "
           "updated = excluded.updated", (org_id, checksum, state, detail, time.time()))  # fmt: skip


class AssembleError(ValueError):
    """Why a bundle could not be assembled (the `detail` of the `error` state)."""


def _manifest(data: bytes) -> tuple[dict[str, Any], zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise AssembleError(f"Invalid artifact bundle: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files") or {}, dict):
        raise AssembleError("Invalid artifact bundle: the manifest has no files")
    return manifest, archive


def _bundle_files(manifest: dict[str, Any], archive: zipfile.ZipFile) -> list[dict[str, Any]]:
    out = []
    for path, info in sorted((manifest.get("files") or {}).items()):
        info = info if isinstance(info, dict) else {}
        headers = {str(k): str(v) for k, v in (info.get("headers") or {}).items()}
        debug_id = next((normalize_debug_id(v) for k, v in headers.items() if k.lower() == "debug-id"), None)
        try:
            size = archive.getinfo(str(path)).file_size
        except KeyError:
            continue  # listed, not stored: Sentry skips it too
        out.append({"path": str(path), "url": str(info.get("url") or ""), "type": str(info.get("type") or ""),
                    "debug_id": debug_id, "headers": headers, "size": size})  # fmt: skip
    return out


def assemble(db: Database, org_id: int, project_ids: list[int], checksum: str, chunks: list[str],
             release: str | None, dist: str | None) -> None:  # fmt: skip
    """Assemble the bundle now and record the outcome as the checksum's state (`ok` or `error` with its detail)."""
    with db.tx():
        set_state(db, org_id, checksum, "assembling")
    try:
        data = _bytes_of(db, org_id, chunks)
        if hashlib.sha1(data, usedforsecurity=False).hexdigest() != checksum:
            raise AssembleError(CHECKSUM_MISMATCH)
        if len(data) > MAX_FILE_SIZE:
            raise AssembleError(f"File size too large (at most {MAX_FILE_SIZE} bytes)")
        manifest, archive = _manifest(data)
        files = _bundle_files(manifest, archive)
        release = release or (str(manifest["release"]) if manifest.get("release") else None)
        dist = dist or (str(manifest["dist"]) if manifest.get("dist") else None)
        if files and not any(f["debug_id"] for f in files) and not release:
            raise AssembleError(NO_DEBUG_IDS)
        with db.tx():
            if files:
                bundle_id = normalize_debug_id(manifest.get("debug_id")) or str(uuid.UUID(hex=checksum[:32]))
                _upsert(db, org_id, bundle_id, checksum, chunks, len(data), files, project_ids, release, dist)
            set_state(db, org_id, checksum, "ok")
    except (AssembleError, LookupError) as exc:
        with db.tx():
            set_state(db, org_id, checksum, "error", str(exc))


def _upsert(db: Database, org_id: int, bundle_id: str, checksum: str, chunks: list[str], size: int,
            files: list[dict[str, Any]], project_ids: list[int], release: str | None,
            dist: str | None) -> None:  # fmt: skip
    now = now_iso()
    row = db.one("SELECT id FROM artifact_bundles WHERE org_id = ? AND bundle_id = ?", (org_id, bundle_id))
    if row is None:
        bundle = db.run(
            "INSERT INTO artifact_bundles (org_id, bundle_id, checksum, chunks, size, file_count, date_uploaded, "
            "date_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (org_id, bundle_id, checksum, dumps(chunks), size, len(files), now, now),
        )
    else:  # the same bundle again (another project, release or upload): its files are replaced, never duplicated
        bundle = int(row["id"])
        db.run("UPDATE artifact_bundles SET checksum = ?, chunks = ?, size = ?, file_count = ?, date_modified = ? "
               "WHERE id = ?", (checksum, dumps(chunks), size, len(files), now, bundle))  # fmt: skip
        db.run("DELETE FROM artifact_bundle_files WHERE bundle_id = ?", (bundle,))
    for f in files:
        db.run("INSERT INTO artifact_bundle_files (bundle_id, path, url, type, debug_id, headers, size) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (bundle, f["path"], f["url"], f["type"], f["debug_id"], dumps(f["headers"]), f["size"]))  # fmt: skip
    for project_id in project_ids:
        db.run("INSERT INTO project_artifact_bundles (project_id, bundle_id, date_added) VALUES (?, ?, ?) "
               "ON CONFLICT(project_id, bundle_id) DO UPDATE SET date_added = excluded.date_added",
               (project_id, bundle, now))  # fmt: skip
    if release:
        db.run("INSERT INTO release_artifact_bundles (org_id, release, dist, bundle_id, date_added) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT(org_id, release, dist, bundle_id) DO UPDATE SET "
               "date_added = excluded.date_added", (org_id, release, dist or "", bundle, now))  # fmt: skip


# --------------------------------------------------------------------------- reading bundles


def project_has_bundles(db: Database, project_id: int) -> bool:
    return db.one("SELECT 1 FROM project_artifact_bundles WHERE project_id = ? LIMIT 1", (project_id,)) is not None


def files_by_debug_id(db: Database, project_id: int, debug_id: str) -> list[BundleFile]:
    """The files carrying `debug_id` in the project's bundles, newest bundle first."""
    rows = db.all(
        "SELECT f.* FROM artifact_bundle_files f JOIN project_artifact_bundles pb ON pb.bundle_id = f.bundle_id "
        "WHERE pb.project_id = ? AND f.debug_id = ? ORDER BY pb.date_added DESC, f.bundle_id DESC",
        (project_id, debug_id),
    )
    return [BundleFile.of(r) for r in rows]


def release_bundles(db: Database, project_id: int, release: str, dist: str | None) -> list[int]:
    """The project's bundles bound to the release and dist, newest first."""
    rows = db.all(
        "SELECT rb.bundle_id FROM release_artifact_bundles rb JOIN project_artifact_bundles pb "
        "ON pb.bundle_id = rb.bundle_id JOIN artifact_bundles b ON b.id = rb.bundle_id "
        "WHERE pb.project_id = ? AND rb.release = ? AND rb.dist = ? AND b.org_id = rb.org_id "
        "ORDER BY rb.date_added DESC, rb.bundle_id DESC",
        (project_id, release, dist or ""),
    )
    return [int(r["bundle_id"]) for r in rows]


def files_by_url(db: Database, bundles: list[int], urls: list[str]) -> list[BundleFile]:
    """Files of `bundles` whose URL is one of `urls`, in the order of `bundles` (newest first)."""
    if not bundles or not urls:
        return []
    rows = db.all(
        f"SELECT * FROM artifact_bundle_files WHERE bundle_id IN ({','.join('?' * len(bundles))}) "  # noqa: S608
        f"AND url IN ({','.join('?' * len(urls))})", (*bundles, *urls))  # fmt: skip
    order = {b: n for n, b in enumerate(bundles)}
    return sorted((BundleFile.of(r) for r in rows), key=lambda f: (order[f.bundle], urls.index(f.url)))


def bundle_file(db: Database, bundle: int, path: str) -> BundleFile | None:
    row = db.one("SELECT * FROM artifact_bundle_files WHERE bundle_id = ? AND path = ?", (bundle, path))
    return None if row is None else BundleFile.of(row)


_ZIPS: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
_ZIPS_LOCK = threading.Lock()
ZIP_CACHE_BYTES = 64 * 1024 * 1024


def bundle_bytes(db: Database, bundle: int) -> bytes:
    """The bundle's zip, from a small in-process cache (keyed by database, bundle and checksum)."""
    row = db.one("SELECT org_id, checksum, chunks FROM artifact_bundles WHERE id = ?", (bundle,))
    if row is None:
        raise LookupError(f"artifact bundle {bundle} is gone")
    key = (db.path, bundle, str(row["checksum"]))
    with _ZIPS_LOCK:
        if key in _ZIPS:
            _ZIPS.move_to_end(key)
            return _ZIPS[key]
    data = _bytes_of(db, int(row["org_id"]), [str(c) for c in loads(row["chunks"]) or []])
    with _ZIPS_LOCK:
        _ZIPS[key] = data
        while sum(len(v) for v in _ZIPS.values()) > ZIP_CACHE_BYTES and len(_ZIPS) > 1:
            _ZIPS.popitem(last=False)
    return data


def file_content(db: Database, file: BundleFile) -> bytes:
    with zipfile.ZipFile(io.BytesIO(bundle_bytes(db, file.bundle))) as archive:
        return archive.read(file.path)


def serialize_bundle(db: Database, row: sqlite3.Row) -> dict[str, Any]:
    """A bundle as Sentry's artifact bundles list answers it."""
    associations = db.all("SELECT release, dist FROM release_artifact_bundles WHERE bundle_id = ? ORDER BY id DESC",
                          (row["id"],))  # fmt: skip
    return {
        "bundleId": str(row["bundle_id"]),
        "associations": [{"release": a["release"] or None, "dist": a["dist"] or None} for a in associations],
        "fileCount": int(row["file_count"]),
        "dateModified": str(row["date_modified"])[:19] + "Z",
        "date": str(row["date_uploaded"])[:19] + "Z",
    }


def serialize_file(file: BundleFile) -> dict[str, Any]:
    """A file of a bundle as Sentry's bundle files endpoint answers it (`id`: the zip path, URL-safe base64)."""
    return {
        "id": base64.urlsafe_b64encode(file.path.encode()).decode(),
        "fileType": FILE_TYPES.get(file.type, 0),
        "filePath": file.url,
        "fileSize": file.size,
        "debugId": file.debug_id,
        "sourcemap": file.sourcemap,
    }
