"""Organization details (`/api/0/organizations/{org}/`) and the org-wide environment list."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import dumps
from localsentry.http import ApiError, Request, Response, Router
from localsentry.models.common import org_row, org_settings
from localsentry.models.orgs import serialize_org_base
from localsentry.models.projects import serialize_project_summary
from localsentry.models.teams import serialize_team

ORG = "/api/0/organizations/{organization_id_or_slug}"
ORG_READ = ("org:admin", "org:read", "org:write")
ORG_WRITE = ("org:admin", "org:write")


def serialize_org(req: Request, org: sqlite3.Row, detailed: bool = True) -> dict[str, Any]:
    body = serialize_org_base(req, org, detailed)
    if detailed:
        body["projects"], body["teams"] = _projects_and_teams(req, org)
    return body


def _projects_and_teams(req: Request, org: sqlite3.Row) -> tuple[list[Any], list[Any]]:
    db = req.app.db
    projects = db.all("SELECT * FROM projects WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
    teams = db.all("SELECT * FROM teams WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
    return [serialize_project_summary(req, p) for p in projects], [serialize_team(req, t) for t in teams]


def get_org(req: Request) -> Response:
    org = org_row(req)
    return Response(200, serialize_org(req, org, detailed=req.arg("detailed") != "0"))


def list_orgs(req: Request) -> Response:
    principal = req.principal
    rows = req.app.db.all("SELECT * FROM orgs ORDER BY slug")
    if principal is not None and principal.org_id is not None:
        rows = [r for r in rows if int(r["id"]) == principal.org_id]
    return Response(200, [serialize_org(req, r, detailed=False) for r in rows])


def update_org(req: Request) -> Response:
    org = org_row(req)
    body = req.json_object()
    db = req.app.db
    with db.tx():
        settings = org_settings(db.fetch("orgs", org["id"]))
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not name.strip() or len(name) > 64:
                raise ApiError(400, {"name": ["Enter a valid name (1-64 characters)."]})
            db.run("UPDATE orgs SET name = ? WHERE id = ?", (name, org["id"]))
        if "relayDsnEndpoint" in body:
            value = body["relayDsnEndpoint"]
            if value is not None and not (isinstance(value, str) and value.startswith(("http://", "https://"))):
                raise ApiError(400, {"relayDsnEndpoint": ["Enter a valid URL."]})
            settings["relayDsnEndpoint"] = value.rstrip("/") if isinstance(value, str) else None
            db.run("UPDATE orgs SET settings = ? WHERE id = ?", (dumps(settings), org["id"]))
    fresh = db.fetch("orgs", org["id"])
    return Response(200, serialize_org(req, fresh))


def org_environments(req: Request) -> Response:
    org = org_row(req)
    visibility = req.arg("visibility", "visible")
    hidden_filter = {"visible": " AND e.hidden = 0", "hidden": " AND e.hidden = 1", "all": ""}.get(visibility or "")
    if hidden_filter is None:
        raise ApiError(
            400, {"detail": "Invalid value for 'visibility', valid values are: ['all', 'hidden', 'visible']"}
        )
    where = "WHERE p.org_id = ? AND p.deleted = 0 AND e.name != ''" + hidden_filter
    sql = "SELECT MIN(e.id) AS id, e.name FROM environments e JOIN projects p ON p.id = e.project_id "
    sql += where + " GROUP BY e.name ORDER BY e.name"
    rows = req.app.db.all(sql, (org["id"],))
    return Response(200, [{"id": str(r["id"]), "name": str(r["name"])} for r in rows])


def register(router: Router) -> None:
    router.add("GET", "/api/0/organizations/", list_orgs, ORG_READ)
    router.add("GET", ORG + "/", get_org, ORG_READ)
    router.add("PUT", ORG + "/", update_org, ORG_WRITE)
    router.add("GET", ORG + "/environments/", org_environments, ORG_READ)
