"""Cron monitors: list and create under the organization; get, update, delete and list check-ins under the
organization or the project (`models.monitors` and `models.checkins` say what Sentry does with them)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.checkins import tick
from localsentry.models.common import org_row, project_row, time_range
from localsentry.models.engine import project_filter
from localsentry.models.monitors import (
    change_monitor,
    check_slug,
    config_of,
    create_monitor,
    remove_monitor,
    serialize_checkin,
    serialize_monitor,
    unique_monitor_slug,
    validate_config,
)
from localsentry.pagination import paginate

ORG = "/api/0/organizations/{organization_id_or_slug}"
PROJ = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
M = "/monitors/{monitor_id_or_slug}"
READ = ("alerts:read", "org:admin", "org:read", "org:write")
WRITE = ("alerts:write", "org:admin", "org:read", "org:write")
ONE_READ = ("alerts:read", "alerts:write", "project:admin", "project:read", "project:write")
ONE_WRITE = ("alerts:write", "project:admin", "project:write")
NAME_MAX = 128
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _project_of(req: Request, org: sqlite3.Row, value: Any, errors: dict[str, Any]) -> sqlite3.Row | None:
    row = req.app.db.one(
        "SELECT * FROM projects WHERE org_id = ? AND deleted = 0 AND (slug = ? OR CAST(id AS TEXT) = ?)",
        (org["id"], str(value), str(value)),
    )
    if row is None:
        errors["project"] = ["Invalid project"]
    return row


def _owner(req: Request, org: sqlite3.Row, value: Any, errors: dict[str, Any]) -> str | None:
    if value in (None, ""):
        return None
    kind, _, ident = str(value).partition(":")
    if kind == "team" and ident.isdigit():
        if req.app.db.one("SELECT 1 FROM teams WHERE id = ? AND org_id = ? AND deleted = 0", (int(ident), org["id"])):
            return f"team:{ident}"
    elif kind == "user" and ident == "1":
        return "user:1"
    errors["owner"] = ["Could not parse actor. Format should be `type:id` where type is `team` or `user`."]
    return None


def _validate(req: Request, org: sqlite3.Row, body: dict[str, Any], old: sqlite3.Row | None) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    if old is None:
        for field in ("project", "name", "config"):
            if field not in body:
                errors[field] = ["This field is required."]
    if "project" in body:
        project = _project_of(req, org, body["project"], errors)
        if project is not None:
            changes["project_id"] = int(project["id"])
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            errors["name"] = ["This field may not be blank."]
        elif len(name) > NAME_MAX:
            errors["name"] = [f"Ensure this field has no more than {NAME_MAX} characters."]
        else:
            changes["name"] = name
    slug = check_slug(body.get("slug"), errors)
    if slug is not None and (old is None or slug != old["slug"]):
        taken = req.app.db.one("SELECT 1 FROM monitors WHERE org_id = ? AND slug = ? AND deleted = 0",
                               (org["id"], slug))  # fmt: skip
        if taken:
            errors["slug"] = [f'The slug "{slug}" is already in use.']
        changes["slug"] = slug
    if "config" in body:
        config = validate_config(body["config"], None if old is None else config_of(old), errors)
        if config:
            changes["config"] = config
    if "status" in body:
        if body["status"] not in ("active", "disabled"):
            errors["status"] = [f'"{body["status"]}" is not a valid choice.']
        else:
            changes["status"] = body["status"]
    if "owner" in body:
        changes["owner"] = _owner(req, org, body["owner"], errors)
    muted = body.get("is_muted", body.get("isMuted"))
    if muted is not None:
        if not isinstance(muted, bool):
            errors["isMuted"] = ["Must be a valid boolean."]
        else:
            changes["is_muted"] = int(muted)
    if errors:
        raise ApiError(400, errors)
    return changes


def create(req: Request) -> Response:
    org = org_row(req)
    body = req.json_object()
    db = req.app.db
    with db.tx():
        changes = _validate(req, org, body, None)
        slug = changes.get("slug") or unique_monitor_slug(db, int(org["id"]), str(changes["name"]))
        monitor_id = create_monitor(
            db, int(org["id"]), int(changes["project_id"]), str(changes["name"]), slug, changes["config"],
            status=str(changes.get("status", "active")), owner=changes.get("owner"),
            is_muted=bool(changes.get("is_muted", 0)),
        )  # fmt: skip
    row = db.fetch("monitors", monitor_id)
    return Response(201, serialize_monitor(req, row))


def _monitor(req: Request, org: sqlite3.Row, project: sqlite3.Row | None = None) -> sqlite3.Row:
    value = req.params["monitor_id_or_slug"]
    column = "guid" if GUID.match(value) else "slug"
    row = req.app.db.one(f"SELECT * FROM monitors WHERE org_id = ? AND {column} = ? AND deleted = 0",  # noqa: S608
                         (org["id"], value))  # fmt: skip
    if row is None or (project is not None and int(row["project_id"]) != int(project["id"])):
        raise not_found()
    return row


def _scope(req: Request) -> tuple[sqlite3.Row, sqlite3.Row | None]:
    org = org_row(req)
    project = project_row(req, org) if "project_id_or_slug" in req.params else None
    return org, project


def list_monitors(req: Request) -> Response:
    org = org_row(req)
    tick(req.app.db, req.app.now())
    sql = "SELECT * FROM monitors WHERE org_id = ? AND deleted = 0"
    args: list[Any] = [org["id"]]
    projects = project_filter(req, int(org["id"]))
    if projects is not None:
        sql += f" AND project_id IN ({','.join('?' * len(projects))})"
        args += sorted(projects)
    owner = req.arg("owner")
    if owner:
        sql += " AND owner = ?"
        args.append(owner)
    rows = req.app.db.all(sql + " ORDER BY name, id", args)
    envs = [e for e in req.args("environment") if e]
    if envs:
        marks = ",".join("?" * len(envs))
        env_sql = f"SELECT monitor_id FROM monitor_envs WHERE name IN ({marks})"  # noqa: S608 - placeholders only
        with_env = {int(r["monitor_id"]) for r in req.app.db.all(env_sql, envs)}
        rows = [r for r in rows if int(r["id"]) in with_env]
    for token in (req.arg("query") or "").split():
        rows = [r for r in rows if token.lower() in str(r["name"]).lower() or token.lower() in str(r["slug"])]
    return paginate(req, rows, lambda r: serialize_monitor(req, r, envs or None))


def get_monitor(req: Request) -> Response:
    org, project = _scope(req)
    tick(req.app.db, req.app.now())
    envs = [e for e in req.args("environment") if e]
    return Response(200, serialize_monitor(req, _monitor(req, org, project), envs or None))


def update_monitor(req: Request) -> Response:
    org, project = _scope(req)
    db = req.app.db
    with db.tx():
        row = _monitor(req, org, project)
        changes = _validate(req, org, req.json_object(), row)
        change_monitor(db, int(row["id"]), changes)
    fresh = db.fetch("monitors", row["id"])
    return Response(200, serialize_monitor(req, fresh))


def delete_monitor(req: Request) -> Response:
    org, project = _scope(req)
    db = req.app.db
    envs = [e for e in req.args("environment") if e]
    with db.tx():
        row = _monitor(req, org, project)
        if envs:
            marks = ",".join("?" * len(envs))
            found = db.all(f"SELECT id FROM monitor_envs WHERE monitor_id = ? AND name IN ({marks})",  # noqa: S608
                           (row["id"], *envs))  # fmt: skip
            if not found:
                raise not_found()
            for env in found:
                db.run("DELETE FROM checkins WHERE env_id = ?", (env["id"],))
                db.run("DELETE FROM monitor_envs WHERE id = ?", (env["id"],))
        else:
            remove_monitor(db, int(row["id"]))
    return Response(202)


def list_checkins(req: Request) -> Response:
    org, project = _scope(req)
    tick(req.app.db, req.app.now())
    row = _monitor(req, org, project)
    sql = ("SELECT c.*, e.name AS env_name FROM checkins c JOIN monitor_envs e ON e.id = c.env_id "
           "WHERE c.monitor_id = ?")  # fmt: skip
    args: list[Any] = [row["id"]]
    envs = [e for e in req.args("environment") if e]
    if envs:
        sql += f" AND e.name IN ({','.join('?' * len(envs))})"
        args += envs
    since, until = time_range(req)
    if since is not None:
        sql += " AND c.date_added >= ?"
        args.append(since)
    if until is not None:
        sql += " AND c.date_added <= ?"
        args.append(until)
    rows = req.app.db.all(sql + " ORDER BY c.date_added DESC, c.id DESC", args)
    return paginate(req, rows, serialize_checkin)


def register(router: Router) -> None:
    router.add("GET", ORG + "/monitors/", list_monitors, READ)
    router.add("POST", ORG + "/monitors/", create, WRITE)
    for base in (ORG, PROJ):
        router.add("GET", base + M + "/", get_monitor, ONE_READ)
        router.add("PUT", base + M + "/", update_monitor, ONE_WRITE)
        router.add("DELETE", base + M + "/", delete_monitor, ONE_WRITE)
        router.add("GET", base + M + "/checkins/", list_checkins, ONE_READ)
