"""Project environments: created only by ingest; list with `visibility`, get, hide/unhide, bulk hide."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import unquote

from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row, project_row

P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
READ = ("project:admin", "project:read", "project:write")
WRITE = ("project:admin", "project:write")
VISIBILITY = {"visible": " AND hidden = 0", "hidden": " AND hidden = 1", "all": ""}


def serialize(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": str(row["id"]), "name": str(row["name"]), "isHidden": bool(row["hidden"])}


def list_environments(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    visibility = req.arg("visibility") or "visible"
    if visibility not in VISIBILITY:
        raise ApiError(
            400, {"detail": "Invalid value for 'visibility', valid values are: ['all', 'hidden', 'visible']"}
        )
    rows = req.app.db.all(
        f"SELECT * FROM environments WHERE project_id = ? AND name != ''{VISIBILITY[visibility]} ORDER BY name",  # noqa: S608
        (project["id"],),
    )
    return Response(200, [serialize(r) for r in rows])


def _environment(req: Request) -> sqlite3.Row:
    org = org_row(req)
    project = project_row(req, org)
    row = req.app.db.one(
        "SELECT * FROM environments WHERE project_id = ? AND name = ?",
        (project["id"], unquote(req.params["environment"])),
    )
    if row is None:
        raise not_found()
    return row


def get_environment(req: Request) -> Response:
    return Response(200, serialize(_environment(req)))


def _hidden(body: dict[str, Any]) -> bool:
    value = body.get("isHidden")
    if not isinstance(value, bool):
        raise ApiError(400, {"isHidden": ["This field is required." if value is None else "Must be a valid boolean."]})
    return value


def update_environment(req: Request) -> Response:
    row = _environment(req)
    hidden = _hidden(req.json_object())
    with req.app.db.tx():
        req.app.db.run("UPDATE environments SET hidden = ? WHERE id = ?", (int(hidden), row["id"]))
    fresh = req.app.db.fetch("environments", row["id"])
    return Response(200, serialize(fresh))


def bulk_update(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    body = req.json_object()
    hidden = _hidden(body)
    names = body.get("environmentNames")
    if not isinstance(names, list) or not names or len(names) > 1000:
        raise ApiError(400, {"environmentNames": ["Provide between 1 and 1000 environment names."]})
    with req.app.db.tx():
        for name in names:
            req.app.db.run(
                "UPDATE environments SET hidden = ? WHERE project_id = ? AND name = ?",
                (int(hidden), project["id"], name),
            )
    rows = req.app.db.all(
        f"SELECT * FROM environments WHERE project_id = ? AND name IN ({','.join('?' * len(names))}) ORDER BY name",  # noqa: S608
        (project["id"], *names),
    )
    return Response(200, [serialize(r) for r in rows])


def register(router: Router) -> None:
    router.add("GET", P + "/environments/", list_environments, READ)
    router.add("PUT", P + "/environments/", bulk_update, WRITE)
    router.add("GET", P + "/environments/{environment}/", get_environment, READ)
    router.add("PUT", P + "/environments/{environment}/", update_environment, WRITE)
