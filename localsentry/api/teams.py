"""Teams: list and create under an organization; get, update and delete under `/api/0/teams/`."""

from __future__ import annotations

from localsentry.db import now_iso
from localsentry.http import ApiError, Request, Response, Router
from localsentry.models.common import SLUG_ERROR, org_row, slugify, team_row, unique_slug, valid_slug
from localsentry.models.teams import serialize_team
from localsentry.pagination import paginate

ORG = "/api/0/organizations/{organization_id_or_slug}"
T = "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}"
DUPLICATE = "A team with this slug already exists."


def list_teams(req: Request) -> Response:
    org = org_row(req)
    rows = req.app.db.all("SELECT * FROM teams WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
    query = (req.arg("query") or "").strip()
    for token in query.split():
        key, sep, value = token.partition(":")
        if sep and key == "slug":
            rows = [r for r in rows if r["slug"] == value]
        elif sep and key == "id":
            if not value.isdigit():
                raise ApiError(400, {"detail": "Invalid id value"})
            rows = [r for r in rows if int(r["id"]) == int(value)]
        elif sep and key == "hasExternalTeams":
            rows = rows if value == "false" else []
        else:
            rows = [r for r in rows if token.lower() in str(r["slug"]) or token.lower() in str(r["name"]).lower()]
    detailed = req.arg("detailed") != "0"
    return paginate(req, rows, lambda r: serialize_team(req, r, projects=detailed))


def create_team(req: Request) -> Response:
    org = org_row(req)
    body = req.json_object()
    slug, name = body.get("slug"), body.get("name")
    errors: dict[str, list[str]] = {}
    if slug is not None and (not valid_slug(slug) or len(str(slug)) > 50):
        errors["slug"] = [SLUG_ERROR]
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        errors["name"] = ["Ensure this field has no more than 64 characters."]
    if errors:
        raise ApiError(400, errors)
    if not slug and not name:
        raise ApiError(400, {"non_field_errors": ["Name or slug is required"]})
    db = req.app.db
    with db.tx():
        if slug:
            taken = db.one("SELECT id FROM teams WHERE org_id = ? AND slug = ? AND deleted = 0", (org["id"], slug))
            if taken is not None:
                raise ApiError(409, {"non_field_errors": [DUPLICATE], "detail": DUPLICATE})
        else:
            slug = unique_slug(db, "teams", int(org["id"]), slugify(str(name)))
        team_id = db.run(
            "INSERT INTO teams (org_id, slug, name, created) VALUES (?, ?, ?, ?)",
            (org["id"], slug, name or slug, now_iso()),
        )
    team = db.fetch("teams", team_id)
    return Response(201, serialize_team(req, team))


def get_team(req: Request) -> Response:
    org = org_row(req)
    return Response(200, serialize_team(req, team_row(req, org)))


def update_team(req: Request) -> Response:
    org = org_row(req)
    team = team_row(req, org)
    body = req.json_object()
    slug, name = body.get("slug"), body.get("name")
    if slug is None:
        raise ApiError(400, {"slug": ["This field is required."]})
    if not valid_slug(slug) or len(str(slug)) > 50:
        raise ApiError(400, {"slug": [SLUG_ERROR]})
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        raise ApiError(400, {"name": ["Ensure this field has no more than 64 characters."]})
    db = req.app.db
    with db.tx():
        other = db.one(
            "SELECT id FROM teams WHERE org_id = ? AND slug = ? AND deleted = 0 AND id != ?",
            (org["id"], slug, team["id"]),
        )
        if other is not None:
            raise ApiError(400, {"slug": ["Another team is already using that slug"]})
        db.run("UPDATE teams SET slug = ?, name = ? WHERE id = ?", (slug, name or team["name"], team["id"]))
    fresh = db.fetch("teams", team["id"])
    return Response(200, serialize_team(req, fresh))


def delete_team(req: Request) -> Response:
    org = org_row(req)
    team = team_row(req, org)
    db = req.app.db
    with db.tx():
        db.run("UPDATE teams SET deleted = 1, slug = slug || '-deleted-' || id WHERE id = ?", (team["id"],))
        db.run("DELETE FROM project_teams WHERE team_id = ?", (team["id"],))
    return Response(204)


def register(router: Router) -> None:
    router.add("GET", ORG + "/teams/", list_teams, ("org:admin", "org:read", "org:write"))
    router.add("POST", ORG + "/teams/", create_team, ("org:admin", "org:write", "team:write"))
    router.add("GET", T + "/", get_team, ("team:admin", "team:read", "team:write"))
    router.add("PUT", T + "/", update_team, ("team:admin", "team:write"))
    router.add("DELETE", T + "/", delete_team, ("team:admin",))
