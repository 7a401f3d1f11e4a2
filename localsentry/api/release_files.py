"""A release's files: `GET`/`POST /api/0/organizations/{org}/releases/{version}/files/`, `GET`/`PUT`/`DELETE
…/files/{file_id}/` (`?download=1` returns the bytes), and the same under `/api/0/projects/{org}/{project}/` for a
release of that project. The older one-file upload: a multipart `file` with `name` (the URL it is served at, `~/…`
or absolute), `dist` and `header` (`Key:Value`, repeatable). Debug-id uploads (`sentry-cli sourcemaps upload`) are
artifact bundles instead (`…/files/artifact-bundles/`), as in Sentry.
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import quote, unquote

from localsentry.http import ApiError, Request, Response, Router, form_parts, not_found
from localsentry.models.common import org_row, project_row
from localsentry.models.release_files import (
    MAX_NAME,
    ReleaseFile,
    release_file,
    release_file_content,
    release_files,
    serialize_release_file,
    store_release_file,
)
from localsentry.models.releases import release_projects, release_row
from localsentry.pagination import paginate
from localsentry.vocabulary import RELEASE_DELETE, RELEASE_READ, RELEASE_WRITE

ORG = "/api/0/organizations/{organization_id_or_slug}/releases/{version}/files"
P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/releases/{version}/files"
SPECIAL_WHITESPACE = re.compile(r"[\n\t\r\f\v\\]")


def _release(req: Request) -> tuple[sqlite3.Row, str]:
    """The organization and the release version of the path (a project path: a release of that project)."""
    org = org_row(req)
    version = unquote(req.params["version"])
    if release_row(req.app.db, int(org["id"]), version) is None:
        raise not_found()
    if "project_id_or_slug" in req.params:
        project = project_row(req, org)
        if int(project["id"]) not in {int(p["id"]) for p in release_projects(req.app.db, int(org["id"]), version)}:
            raise not_found()
    return org, version


def list_files(req: Request) -> Response:
    org, version = _release(req)
    files = release_files(req.app.db, int(org["id"]), version, req.arg("query") or "")
    checksums = set(req.args("checksum"))
    if checksums:
        files = [f for f in files if f.checksum in checksums]
    return paginate(req, files, serialize_release_file)


def upload_file(req: Request) -> Response:
    org, version = _release(req)
    parts = form_parts(req)
    upload = next((p for p in parts if p.name == "file" and p.filename is not None), None)
    if upload is None:
        raise ApiError(400, {"detail": "Missing uploaded file"})
    fields = {p.name: p.data.decode("utf-8", "replace") for p in parts if p.filename is None}
    name = fields.get("name") or upload.filename or ""
    if not name or name == "file":
        raise ApiError(400, {"detail": "File name must be specified"})
    if SPECIAL_WHITESPACE.search(name.rsplit("/", 1)[-1]) or len(name) > MAX_NAME:
        raise ApiError(400, {"detail": "File name must not contain special whitespace characters"})
    headers: dict[str, str] = {}
    for part in parts:
        if part.name != "header" or part.filename is not None:
            continue
        key, sep, value = part.data.decode("utf-8", "replace").partition(":")
        if not sep:
            raise ApiError(400, {"detail": "header value was not formatted correctly"})
        if SPECIAL_WHITESPACE.search(value):
            raise ApiError(400, {"detail": "header value must not contain special whitespace characters"})
        headers[key.strip()] = value.strip()
    stored = store_release_file(req.app.db, int(org["id"]), version, fields.get("dist") or "", name, upload.data,
                                headers)  # fmt: skip
    if stored is None:
        raise ApiError(409, {"detail": "A file matching this name already exists for the given release"})
    return Response(201, serialize_release_file(stored))


def _file(req: Request) -> tuple[sqlite3.Row, str, ReleaseFile]:
    org, version = _release(req)
    file = release_file(req.app.db, int(org["id"]), version, req.params["file_id"])
    if file is None:
        raise not_found()
    return org, version, file


def get_file(req: Request) -> Response:
    org, _version, file = _file(req)
    if req.arg("download") in ("1", "true"):
        found = release_file_content(req.app.db, int(org["id"]), file.id)
        assert found is not None
        name = quote(file.name.rsplit("/", 1)[-1])
        return Response(200, raw=found[1], content_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
    return Response(200, serialize_release_file(file))


def update_file(req: Request) -> Response:
    org, version, file = _file(req)
    db = req.app.db
    name = req.json_object().get("name")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise ApiError(400, {"name": ["This field is required." if name is None else "Not a valid string."]})
    with db.tx():
        db.run("UPDATE release_files SET name = ? WHERE id = ?", (name, file.id))
    fresh = release_file(db, int(org["id"]), version, str(file.id))
    assert fresh is not None
    return Response(200, serialize_release_file(fresh))


def delete_file(req: Request) -> Response:
    _org, _version, file = _file(req)
    db = req.app.db
    with db.tx():
        db.run("DELETE FROM release_files WHERE id = ?", (file.id,))
    return Response(204)


def register(router: Router) -> None:
    for base in (ORG, P):
        router.add("GET", base + "/", list_files, RELEASE_READ)
        router.add("POST", base + "/", upload_file, RELEASE_WRITE)
        router.add("GET", base + "/{file_id}/", get_file, RELEASE_READ)
        router.add("PUT", base + "/{file_id}/", update_file, RELEASE_WRITE)
        router.add("DELETE", base + "/{file_id}/", delete_file, RELEASE_DELETE)
