"""Source map uploads and lookups, as `sentry-cli sourcemaps upload` and Sentry's symbolication use them.

* `GET`/`POST /api/0/organizations/{org}/chunk-upload/`: the upload options, then the chunks (multipart parts named
  `file` or `file_gzip`, each named by the SHA-1 of its bytes).
* `POST /api/0/organizations/{org}/artifactbundle/assemble/`: `{checksum, chunks, projects, version?, dist?}` ->
  `{state, missingChunks, detail?}` with Sentry's states `not_found`, `created`, `assembling`, `ok`, `error`.
* `GET`/`DELETE /api/0/projects/{org}/{project}/files/artifact-bundles/`: a project's bundles (`query` matches the
  bundle id, release or dist; `sortBy` `date_added`/`-date_added`; 10 a page), and removing one (`?bundleId=`).
* `GET /api/0/projects/{org}/{project}/artifact-bundles/{bundle_id}/files/`: a bundle's files (`query`: a URL or
  debug id).
* `GET /api/0/projects/{org}/{project}/artifact-lookup/`: the bundles (and release files) holding a file, by
  `debug_id`, or by `release`, `dist` and `url`; `?download=<id>` returns one of them.

See `localsentry/models/artifact_bundles.py` for how they are stored.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from typing import Any
from urllib.parse import quote

from localsentry.http import ApiError, Request, Response, Router, form_parts, not_found
from localsentry.models import artifact_bundles as bundles
from localsentry.models.common import org_row, project_row
from localsentry.models.release_files import release_file_content, release_files_by_url
from localsentry.pagination import link_header, parse_cursor, per_page
from localsentry.vocabulary import RELEASE_DELETE, RELEASE_READ, RELEASE_WRITE

ORG = "/api/0/organizations/{organization_id_or_slug}"
P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
SHA1 = re.compile(r"^[0-9a-f]{40}$")
ASSEMBLE_FIELDS = ("checksum", "chunks", "projects", "version", "dist")
FIELD_ERRORS = {
    "version": 'The version field cannot be empty and cannot contain any "/" characters.',
    "dist": "The dist field must be a string.",
    "projects": "The projects field is required and must be provided as an array of strings.",
    "checksum": "The checksum field is required and must be a 40-character hexadecimal string.",
    "chunks": "The chunks field is required and must be provided as an array of 40-character hexadecimal strings.",
}


def _error(message: str, status: int = 400) -> ApiError:
    return ApiError(status, {"error": message})


def chunk_options(req: Request) -> Response:
    """The options sentry-cli reads first; `url` is absolute, on the host the client reached (as Sentry answers
    sentry-cli 2.30 and later)."""
    org = org_row(req)
    host = req.header("Host")
    base = f"http://{host}" if host else req.base_url
    return Response(200, {
        "url": f"{base}/api/0/organizations/{org['slug']}/chunk-upload/",
        "chunkSize": bundles.CHUNK_SIZE, "chunksPerRequest": bundles.MAX_CHUNKS_PER_REQUEST,
        "maxFileSize": bundles.MAX_FILE_SIZE, "maxRequestSize": bundles.MAX_REQUEST_SIZE,
        "concurrency": bundles.CONCURRENCY, "hashAlgorithm": bundles.HASH_ALGORITHM,
        "compression": ["gzip"], "accept": list(bundles.ACCEPT),
    })  # fmt: skip


def upload_chunks(req: Request) -> Response:
    org = org_row(req)
    if not req.body:
        return Response(200, raw=b"", content_type="text/plain")  # no files uploaded is ok
    chunks: list[tuple[str, bytes]] = []
    for part in form_parts(req):
        if part.name not in ("file", "file_gzip") or part.filename is None:
            continue
        data = part.data
        if part.name == "file_gzip":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise _error(f"Invalid gzip chunk {part.filename}: {exc}") from None
        chunks.append((part.filename, data))
    if len(chunks) > bundles.MAX_CHUNKS_PER_REQUEST:
        raise _error("Too many chunks")
    try:
        bundles.store_chunks(req.app.db, int(org["id"]), chunks)
    except bundles.ChunkError as exc:
        raise _error(str(exc)) from None
    return Response(200, raw=b"", content_type="text/plain")


def _valid(name: str, value: Any) -> bool:
    if name == "checksum":
        return isinstance(value, str) and bool(SHA1.match(value))
    if name == "chunks":
        return isinstance(value, list) and all(isinstance(c, str) and SHA1.match(c) for c in value)
    if name == "projects":
        return isinstance(value, list) and all(isinstance(p, str) for p in value)
    if name == "version":
        return isinstance(value, str) and bool(value) and "/" not in value
    return isinstance(value, str)  # dist


def _assemble_body(req: Request) -> dict[str, Any]:
    try:
        body = json.loads(req.body)
    except ValueError:
        raise _error("Invalid json body") from None
    if not isinstance(body, dict):
        raise _error("Invalid json body")
    for name in body:
        if name not in ASSEMBLE_FIELDS:
            raise _error(f"Additional properties are not allowed ('{name}' was unexpected)")
    for name in ("checksum", "chunks", "projects"):
        if name not in body:
            raise _error(f"'{name}' is a required property")
    for name in FIELD_ERRORS:
        if name in body and not _valid(name, body[name]):
            raise _error(FIELD_ERRORS[name])
    return body


def assemble(req: Request) -> Response:
    org = org_row(req)
    db, org_id = req.app.db, int(org["id"])
    body = _assemble_body(req)
    if not body["projects"]:
        raise _error("You need to specify at least one project")
    projects: list[int] = []
    for ref in body["projects"]:
        column = "id" if ref.isdecimal() else "slug"
        row = db.one(f"SELECT id FROM projects WHERE org_id = ? AND deleted = 0 AND {column} = ?",  # noqa: S608
                     (org_id, int(ref) if ref.isdecimal() else ref))  # fmt: skip
        if row is not None and int(row["id"]) not in projects:
            projects.append(int(row["id"]))
    if len(projects) != len(body["projects"]):
        raise _error("One or more projects are invalid")
    checksum, chunks = str(body["checksum"]), [str(c) for c in body["chunks"]]
    missing = bundles.missing_chunks(db, org_id, chunks)
    if missing:
        return Response(200, {"state": "not_found", "missingChunks": missing})
    known = bundles.assemble_state(db, org_id, checksum)
    if known is not None and known[0] == "ok":
        return Response(200, {"state": "ok", "detail": None, "missingChunks": []})
    if known is not None:
        return Response(200, {"state": known[0], "detail": known[1], "missingChunks": []})
    if not chunks:
        return Response(200, {"state": "not_found", "missingChunks": []})  # a poll for something never started
    version, dist = body.get("version"), body.get("dist")
    if dist and not version:
        raise _error("You need to specify a release together with a dist")
    with db.tx():
        bundles.set_state(db, org_id, checksum, "created")
    # Sentry starts a task and answers `created`; here the bundle is assembled before the answer, so the next poll
    # finds `ok` (or `error`)
    bundles.assemble(db, org_id, projects, checksum, chunks, version, dist)
    return Response(200, {"state": "created", "missingChunks": []})


def _bundle_rows(req: Request, project: sqlite3.Row) -> list[sqlite3.Row]:
    sort = req.arg("sortBy") or "-date_added"
    if sort.strip("-") != "date_added":
        message = "You can either sort via 'date_added' or '-date_added'"
        raise ApiError(400, {"detail": {"code": "invalid_sort_by_parameter", "message": message, "extra": None}})
    sql = ("SELECT b.* FROM artifact_bundles b JOIN project_artifact_bundles pb ON pb.bundle_id = b.id "
           "WHERE pb.project_id = ?")  # fmt: skip
    args: list[Any] = [project["id"]]
    query = req.arg("query")
    if query:
        like = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql += (" AND (lower(b.bundle_id) LIKE ? ESCAPE '\\' OR b.id IN (SELECT bundle_id FROM "
                "release_artifact_bundles WHERE lower(release) LIKE ? ESCAPE '\\' OR lower(dist) LIKE ? ESCAPE '\\'))")
        args += [like, like, like]
    order = "DESC" if sort.startswith("-") else "ASC"
    return req.app.db.all(sql + f" ORDER BY b.date_uploaded {order}, b.id {order}", args)


def list_bundles(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    rows = _bundle_rows(req, project)
    limit = per_page(req, 10)
    cursor = parse_cursor(req.arg("cursor"))
    page = cursor[1] if cursor else 0
    chosen = rows[page * limit : page * limit + limit + 1]
    body = [bundles.serialize_bundle(req.app.db, r) for r in chosen[:limit]]
    return Response(200, body, {"Link": link_header(req, limit, page, len(chosen) > limit)})


def delete_bundle(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    db = req.app.db
    bundle_id = req.arg("bundleId")
    row = None if not bundle_id else db.one(
        "SELECT * FROM artifact_bundles WHERE org_id = ? AND bundle_id = ?", (org["id"], bundle_id))  # fmt: skip
    if row is None:
        raise _error(f"Supplied an invalid bundle_id {bundle_id}", 404)
    bound = {int(r["project_id"]) for r in db.all("SELECT project_id FROM project_artifact_bundles WHERE bundle_id = ?",
                                                  (row["id"],))}  # fmt: skip
    if int(project["id"]) not in bound:
        raise _error(f"Artifact bundle with {bundle_id} found but it is not connected to project {project['id']}", 404)
    with db.tx():
        if bound == {int(project["id"])}:  # the last project: the bundle goes, with everything bound to it
            for table in ("artifact_bundle_files", "release_artifact_bundles", "project_artifact_bundles"):
                db.run(f"DELETE FROM {table} WHERE bundle_id = ?", (row["id"],))  # noqa: S608
            db.run("DELETE FROM artifact_bundles WHERE id = ?", (row["id"],))
        else:
            db.run("DELETE FROM project_artifact_bundles WHERE bundle_id = ? AND project_id = ?",
                   (row["id"], project["id"]))  # fmt: skip
    return Response(204)


def bundle_files(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    db = req.app.db
    bundle_id = req.params["bundle_id"]
    row = db.one("SELECT b.* FROM artifact_bundles b JOIN project_artifact_bundles pb ON pb.bundle_id = b.id "
                 "WHERE b.org_id = ? AND b.bundle_id = ? AND pb.project_id = ?",
                 (org["id"], bundle_id, project["id"]))  # fmt: skip
    if row is None:
        raise _error(f"The artifact bundle with {bundle_id} is not bound to this project or doesn't exist")
    files = [bundles.BundleFile.of(r) for r in db.all(
        "SELECT * FROM artifact_bundle_files WHERE bundle_id = ? ORDER BY path", (row["id"],))]  # fmt: skip
    query = (req.arg("query") or "").strip().lower()
    if query:
        debug_id = bundles.normalize_debug_id(query)
        files = [f for f in files if query in f.url.lower() or (f.debug_id or "").startswith(debug_id or query)]
    limit = per_page(req, 100)
    cursor = parse_cursor(req.arg("cursor"))
    page = cursor[1] if cursor else 0
    chosen = files[page * limit : page * limit + limit + 1]
    body = {**bundles.serialize_bundle(db, row), "files": [bundles.serialize_file(f) for f in chosen[:limit]]}
    return Response(200, body, {"Link": link_header(req, limit, page, len(chosen) > limit)})


def _download(req: Request, project: sqlite3.Row, download: str) -> Response:
    principal = req.principal
    if principal is not None and principal.kind == "org":
        return Response(403)  # organization tokens are no members: Sentry lets only members download artifacts
    kind, _, ident = download.partition("/")
    db = req.app.db
    if kind == "artifact_bundle" and ident.isdigit() and db.one(
            "SELECT 1 FROM project_artifact_bundles WHERE bundle_id = ? AND project_id = ?",
            (int(ident), project["id"])) is not None:  # fmt: skip
        data = bundles.bundle_bytes(db, int(ident))
        name = f"bundle-artifacts-{ident}.zip"
    elif kind == "release_file" and ident.isdigit():
        found = release_file_content(db, int(project["org_id"]), int(ident))
        if found is None:
            raise not_found()
        name, data = found
    else:
        raise not_found()
    return Response(200, raw=data, content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{quote(name.rsplit("/", 1)[-1])}"'})  # fmt: skip


def artifact_lookup(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    download = req.arg("download")
    if download is not None:
        return _download(req, project, download)
    db, project_id = req.app.db, int(project["id"])
    debug_id = bundles.normalize_debug_id(req.arg("debug_id"))
    url, release, dist = req.arg("url") or "", req.arg("release") or "", req.arg("dist") or ""
    found: dict[str, str] = {}
    if debug_id:
        for f in bundles.files_by_debug_id(db, project_id, debug_id):
            found.setdefault(f"artifact_bundle/{f.bundle}", "debug-id")
    if release:
        for bundle in bundles.release_bundles(db, project_id, release, dist):
            names = [str(r["url"]) for r in db.all("SELECT url FROM artifact_bundle_files WHERE bundle_id = ?",
                                                   (bundle,))]  # fmt: skip
            if not url or any(url in n for n in names):
                found.setdefault(f"artifact_bundle/{bundle}", "release")
    base = f"{req.base_url}{req.path}"
    out: list[dict[str, Any]] = [{"id": i, "type": "bundle", "url": f"{base}?download={i}", "resolved_with": how}
                                 for i, how in found.items()]  # fmt: skip
    if not found and release:  # the older release files (localsentry stores no release archives)
        for file in release_files_by_url(db, int(org["id"]), release, dist, url):
            ident = f"release_file/{file.id}"
            out.append({"id": ident, "type": "file", "url": f"{base}?download={ident}", "abs_path": file.name,
                        "headers": file.headers, "resolved_with": "release-old"})
    out.sort(key=lambda a: (a["id"].split("/")[0], int(a["id"].split("/")[-1])))
    return Response(200, out)


def register(router: Router) -> None:
    router.add("GET", ORG + "/chunk-upload/", chunk_options, RELEASE_READ)
    router.add("POST", ORG + "/chunk-upload/", upload_chunks, RELEASE_WRITE)
    router.add("POST", ORG + "/artifactbundle/assemble/", assemble, RELEASE_WRITE)
    router.add("GET", P + "/files/artifact-bundles/", list_bundles, RELEASE_READ)
    router.add("DELETE", P + "/files/artifact-bundles/", delete_bundle, RELEASE_DELETE)
    router.add("GET", P + "/artifact-bundles/{bundle_id}/files/", bundle_files, RELEASE_READ)
    router.add("GET", P + "/artifact-lookup/", artifact_lookup, RELEASE_READ)
