"""Releases and their deploys: ``/api/0/organizations/{org}/releases/[{version}/[deploys/]]``, and a project's
releases ``/api/0/projects/{org}/{project}/releases/`` (list, and create as the org's upsert for that project).

``POST releases/`` is Sentry's upsert: it creates the version or adds the listed projects to it, answering
201 when something changed and 208 (with the release) when nothing did. Deploys can be listed and added,
never changed or removed. A deploy adds its environment to each of its projects, as in Sentry.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any
from urllib.parse import unquote

from localsentry.db import dumps, loads, now_iso
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row, project_row, valid_slug
from localsentry.models.releases import (
    add_project,
    release_projects,
    release_row,
    save_data,
    serialize_deploy,
    serialize_release,
    valid_version,
)
from localsentry.pagination import paginate
from localsentry.vocabulary import RELEASE_DELETE, RELEASE_READ, RELEASE_WRITE

R = "/api/0/organizations/{organization_id_or_slug}/releases"
P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/releases"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
URL = re.compile(r"^https?://\S+$")


def _projects(req: Request, org: sqlite3.Row, value: Any, errors: dict[str, list[str]]) -> list[sqlite3.Row]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        errors["projects"] = [f"Expected a list of items but got type \"{type(value).__name__}\"."]
        return []
    rows: list[sqlite3.Row] = []
    for ref in value:
        text = str(ref)
        row = req.app.db.one("SELECT * FROM projects WHERE org_id = ? AND slug = ? AND deleted = 0", (org["id"], text))
        if row is None and text.isdigit():
            row = req.app.db.one("SELECT * FROM projects WHERE org_id = ? AND id = ? AND deleted = 0",
                                 (org["id"], int(text)))
        if row is None:
            errors["projects"] = ["Invalid project ids or slugs"]
            return []
        rows.append(row)
    return rows


def _date(body: dict[str, Any], name: str, errors: dict[str, list[str]]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not ISO.match(value):
        errors[name] = ["Datetime has wrong format. Use one of these formats instead: "
                        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]
        return None
    return value


def _url(body: dict[str, Any], errors: dict[str, list[str]]) -> str | None:
    value = body.get("url")
    if value is None:
        return None
    if not isinstance(value, str) or not URL.match(value):
        errors["url"] = ["Enter a valid URL."]
        return None
    return value


def _release(req: Request) -> tuple[sqlite3.Row, sqlite3.Row]:
    org = org_row(req)
    row = release_row(req.app.db, int(org["id"]), unquote(req.params["version"]))
    if row is None:
        raise not_found()
    return org, row


def list_releases(req: Request) -> Response:
    org = org_row(req)
    return _list(req, org, [p for p in req.args("project") if p and p != "-1"])


def list_project_releases(req: Request) -> Response:
    """A project's releases (what `sentry-cli releases list` reads), newest first; `environment` keeps the releases
    seen in (or deployed to) those environments."""
    org = org_row(req)
    project = project_row(req, org)
    return _list(req, org, [str(project["id"])], [e for e in req.args("environment") if e])


def create_project_release(req: Request) -> Response:
    """`POST …/projects/{org}/{project}/releases/`: the organization's upsert with this project as `projects`."""
    org = org_row(req)
    project = project_row(req, org)
    body = req.json_object()
    if body.get("projects") is None:
        body = {**body, "projects": [str(project["slug"])]}
    return _create(req, org, body)


def _list(req: Request, org: sqlite3.Row, projects: list[str], environments: list[str] | None = None) -> Response:
    db = req.app.db
    query = req.arg("query") or ""
    sql = "SELECT * FROM org_releases WHERE org_id = ?"
    args: list[Any] = [org["id"]]
    if query:
        sql += " AND version LIKE ? ESCAPE '\\'"
        args.append(query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if projects:
        sql += (f" AND version IN (SELECT version FROM releases WHERE project_id IN ({','.join('?' * len(projects))}))")  # noqa: S608
        args.extend(int(p) if p.isdigit() else -1 for p in projects)
    if environments:
        project_marks, marks = ",".join("?" * len(projects)), ",".join("?" * len(environments))
        seen = f"SELECT release FROM items WHERE project_id IN ({project_marks}) AND environment IN ({marks})"  # noqa: S608
        deployed = f"SELECT release_id FROM deploys WHERE environment IN ({marks})"  # noqa: S608
        sql += f" AND (version IN ({seen}) OR id IN ({deployed}))"
        args.extend([*(int(p) if p.isdigit() else -1 for p in projects), *environments, *environments])
    rows = db.all(sql + " ORDER BY id DESC", args)
    return paginate(req, rows, lambda r: serialize_release(db, r))


def create_release(req: Request) -> Response:
    org = org_row(req)
    return _create(req, org, req.json_object())


def _create(req: Request, org: sqlite3.Row, body: dict[str, Any]) -> Response:
    db = req.app.db
    errors: dict[str, list[str]] = {}
    version = body.get("version")
    if version is None or version == "":
        errors["version"] = ["This field is required." if version is None else "This field may not be blank."]
    elif not isinstance(version, str):
        errors["version"] = ["Not a valid string."]
    elif len(version) > 200:
        errors["version"] = ["Ensure this field has no more than 200 characters."]
    elif not valid_version(version):
        errors["version"] = ["Release with name %s is not allowed" % version]  # noqa: UP031
    if "projects" not in body:
        errors["projects"] = ["This field is required."]
        projects: list[sqlite3.Row] = []
    else:
        projects = _projects(req, org, body["projects"], errors)
    url = _url(body, errors)
    released = _date(body, "dateReleased", errors)
    for name in ("ref",):
        if body.get(name) is not None and (not isinstance(body[name], str) or len(body[name]) > 200):
            errors[name] = ["Ensure this field has no more than 200 characters."]
    if errors:
        raise ApiError(400, errors)
    assert isinstance(version, str)
    with db.tx():
        row = db.one("SELECT * FROM org_releases WHERE org_id = ? AND version = ?", (org["id"], version))
        created = row is None
        if row is None:
            data = {k: v for k, v in (("url", url), ("ref", body.get("ref")), ("dateReleased", released),
                                      ("userAgent", req.header("User-Agent"))) if v is not None}
            db.run("INSERT INTO org_releases (org_id, version, data, created) VALUES (?, ?, ?, ?)",
                   (org["id"], version, dumps(data), now_iso()))
        added = [add_project(db, int(p["id"]), version) for p in projects]
    fresh = db.one("SELECT * FROM org_releases WHERE org_id = ? AND version = ?", (org["id"], version))
    assert fresh is not None
    return Response(201 if created or any(added) else 208, serialize_release(db, fresh))


def get_release(req: Request) -> Response:
    _org, row = _release(req)
    return Response(200, serialize_release(req.app.db, row))


def update_release(req: Request) -> Response:
    _org, row = _release(req)
    body = req.json_object()
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if "url" in body:
        changes["url"] = _url(body, errors)
    if "ref" in body:
        changes["ref"] = body["ref"] if isinstance(body["ref"], str) else None
    if "dateReleased" in body:
        changes["dateReleased"] = _date(body, "dateReleased", errors)
    if "status" in body:
        if body["status"] not in ("open", "archived"):
            errors["status"] = ["Invalid status"]
        changes["status"] = body["status"]
    if errors:
        raise ApiError(400, errors)
    db = req.app.db
    with db.tx():  # merged into the stored record in one step
        save_data(db, int(row["id"]), {**(loads(db.fetch("org_releases", row["id"])["data"]) or {}), **changes})
    fresh = db.fetch("org_releases", row["id"])
    return Response(200, serialize_release(db, fresh))


def delete_release(req: Request) -> Response:
    org, row = _release(req)
    db = req.app.db
    version = str(row["version"])
    used = db.one(
        "SELECT 1 FROM items i JOIN projects p ON p.id = i.project_id "
        "WHERE p.org_id = ? AND i.release = ? AND i.type IN ('event', 'transaction') LIMIT 1",
        (org["id"], version),
    )
    if used is not None:
        raise ApiError(400, {"detail": "This release is referenced by active issues and cannot be removed."})
    with db.tx():
        db.run("DELETE FROM deploys WHERE release_id = ?", (row["id"],))
        for project in release_projects(db, int(org["id"]), version):
            db.run("DELETE FROM releases WHERE project_id = ? AND version = ?", (project["id"], version))
        db.run("DELETE FROM org_releases WHERE id = ?", (row["id"],))
    return Response(204)


def list_deploys(req: Request) -> Response:
    _org, row = _release(req)
    rows = req.app.db.all("SELECT * FROM deploys WHERE release_id = ? ORDER BY id DESC", (row["id"],))
    return paginate(req, rows, serialize_deploy)


def create_deploy(req: Request) -> Response:
    org, row = _release(req)
    db = req.app.db
    body = req.json_object()
    errors: dict[str, list[str]] = {}
    environment = body.get("environment")
    if environment is None or environment == "":
        errors["environment"] = ["This field is required." if environment is None else "This field may not be blank."]
    elif not isinstance(environment, str) or len(environment) > 64 or "/" in environment:
        errors["environment"] = ["Invalid value for environment"]
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        errors["name"] = ["Ensure this field has no more than 64 characters."]
    url = _url(body, errors)
    started = _date(body, "dateStarted", errors)
    finished = _date(body, "dateFinished", errors) or now_iso()
    members = {str(p["slug"]): p for p in release_projects(db, int(org["id"]), str(row["version"]))}
    targets = list(members.values())
    if body.get("projects") is not None:
        wanted = body["projects"]
        if not isinstance(wanted, list) or not all(isinstance(s, str) and valid_slug(s) for s in wanted):
            errors["projects"] = ["Expected a list of project slugs."]
        elif any(s not in members for s in wanted):
            errors["projects"] = ["Invalid projects for this release."]
        else:
            targets = [members[s] for s in wanted]
    if errors:
        raise ApiError(400, errors)
    assert isinstance(environment, str)
    with db.tx():
        deploy_id = db.run(
            "INSERT INTO deploys (release_id, environment, name, url, date_started, date_finished, projects) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row["id"], environment, name, url, started, finished, dumps([int(p["id"]) for p in targets])),
        )
        for project in targets:
            db.run("INSERT OR IGNORE INTO environments (project_id, name) VALUES (?, ?)", (project["id"], environment))
    fresh = db.fetch("deploys", deploy_id)
    return Response(201, serialize_deploy(fresh))


def register(router: Router) -> None:
    router.add("GET", P + "/", list_project_releases, RELEASE_READ)
    router.add("POST", P + "/", create_project_release, RELEASE_WRITE)
    router.add("GET", R + "/", list_releases, RELEASE_READ)
    router.add("POST", R + "/", create_release, RELEASE_WRITE)
    router.add("GET", R + "/{version}/", get_release, RELEASE_READ)
    router.add("PUT", R + "/{version}/", update_release, RELEASE_WRITE)
    router.add("DELETE", R + "/{version}/", delete_release, RELEASE_DELETE)
    router.add("GET", R + "/{version}/deploys/", list_deploys, RELEASE_READ)
    router.add("POST", R + "/{version}/deploys/", create_deploy, RELEASE_WRITE)
