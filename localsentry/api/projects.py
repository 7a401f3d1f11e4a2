"""Projects: create (through a team or the organization, with Sentry's side effects), list, get, update, delete;
team membership."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.db import dumps, now_iso
from localsentry.http import ApiError, Request, Response, Router
from localsentry.models.client_keys import insert_key
from localsentry.models.common import (
    SLUG_ERROR,
    bool_field,
    has_feature,
    org_row,
    project_data,
    project_row,
    project_teams,
    save_project_data,
    slugify,
    team_row,
    unique_slug,
    valid_slug,
)
from localsentry.models.detectors import create_builtin_detectors
from localsentry.models.legacy_rules import create_default_rule
from localsentry.models.projects import (
    default_data,
    project_flags,
    serialize_project_detail,
    serialize_project_summary,
    validate_create,
)
from localsentry.models.teams import serialize_team
from localsentry.models.workflows import create_default_workflow
from localsentry.pagination import paginate
from localsentry.vocabulary import PERSONAL_TEAM, PLATFORMS, PROJECT_SLUG_MAX, RESERVED_SLUGS

ORG = "/api/0/organizations/{organization_id_or_slug}"
T = "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}"
P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
PROJECT_READ = ("project:admin", "project:read", "project:write")
PROJECT_WRITE = ("project:admin", "project:write")


def create_project(req: Request, org: sqlite3.Row, team_id: int, body: dict[str, Any]) -> sqlite3.Row:
    """Insert the project with its team, a "Default" key, `error`/`issue_stream` detectors and default alert."""
    name, slug, platform, default_rules = validate_create(body)
    db = req.app.db
    org_id = int(org["id"])
    with db.tx():
        if slug:
            taken = db.one("SELECT id FROM projects WHERE org_id = ? AND slug = ? AND deleted = 0", (org_id, slug))
            if taken is not None:
                raise ApiError(409, {"detail": "A project with this slug already exists."})
        else:
            slug = unique_slug(db, "projects", org_id, slugify(name, PROJECT_SLUG_MAX), PROJECT_SLUG_MAX)
        project_id = db.run(
            "INSERT INTO projects (org_id, slug, name, platform, created, data) VALUES (?, ?, ?, ?, ?, ?)",
            (org_id, slug, name, platform, now_iso(), dumps(default_data(platform))),
        )
        db.run("INSERT INTO project_teams (project_id, team_id) VALUES (?, ?)", (project_id, team_id))
        insert_key(db, project_id, "Default")
        issue_stream_id = create_builtin_detectors(db, org_id, project_id)
        if default_rules:
            create_default_rule(db, project_id)
            create_default_workflow(db, org_id, issue_stream_id)
    row = db.fetch("projects", project_id)
    return row


def create_in_team(req: Request) -> Response:
    org = org_row(req)
    team = team_row(req, org)
    row = create_project(req, org, int(team["id"]), req.json_object())
    return Response(201, serialize_project_summary(req, row))


def create_in_org(req: Request) -> Response:
    org = org_row(req)
    db = req.app.db
    body = req.json_object()
    with db.tx():
        team = db.one("SELECT id FROM teams WHERE org_id = ? AND slug = ? AND deleted = 0", (org["id"], PERSONAL_TEAM))
        team_id = int(team["id"]) if team is not None else db.run(
            "INSERT INTO teams (org_id, slug, name, created) VALUES (?, ?, ?, ?)",
            (org["id"], PERSONAL_TEAM, PERSONAL_TEAM, now_iso()),
        )  # fmt: skip
        row = create_project(req, org, team_id, body)
    return Response(201, serialize_project_summary(req, row))


def list_team_projects(req: Request) -> Response:
    org = org_row(req)
    team = team_row(req, org)
    period = req.arg("statsPeriod")
    if period not in (None, "", "24h", "14d", "30d"):
        message = "Invalid stats_period. Valid choices are '', '24h', '14d', and '30d'"
        raise ApiError(400, {"error": {"params": {"stats_period": {"message": message}}}})
    rows = req.app.db.all(
        "SELECT p.* FROM projects p JOIN project_teams pt ON pt.project_id = p.id "
        "WHERE pt.team_id = ? AND p.deleted = 0 ORDER BY p.slug",
        (team["id"],),
    )
    return paginate(req, rows, lambda r: serialize_project_summary(req, r))


def list_org_projects(req: Request) -> Response:
    org = org_row(req)
    rows = req.app.db.all("SELECT * FROM projects WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
    for token in (req.arg("query") or "").split():
        key, sep, value = token.partition(":")
        if sep and key == "slug":
            rows = [r for r in rows if r["slug"] == value]
        elif sep and key == "id":
            rows = [r for r in rows if str(r["id"]) == value]
        elif not sep:
            rows = [r for r in rows if token.lower() in str(r["slug"]) or token.lower() in str(r["name"]).lower()]
    return paginate(req, rows, lambda r: serialize_project_summary(req, r))


def get_project(req: Request) -> Response:
    org = org_row(req)
    return Response(200, serialize_project_detail(req, project_row(req, org)))


def _apply_update(req: Request, row: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Validate and apply a partial update; returns column changes (name/slug/platform) and updates data."""
    data = project_data(row)
    errors: dict[str, Any] = {}
    columns: dict[str, Any] = {}
    db = req.app.db
    name = body.get("name")
    if name:
        if not isinstance(name, str) or len(name) > 200:
            errors["name"] = ["Ensure this field has no more than 200 characters."]
        else:
            columns["name"] = name
    slug = body.get("slug")
    if slug:
        if not valid_slug(slug) or len(str(slug)) > 100:
            errors["slug"] = [SLUG_ERROR]
        elif slug in RESERVED_SLUGS:
            errors["slug"] = [f'The slug "{slug}" is reserved and not allowed.']
        elif slug != row["slug"]:
            other = db.one(
                "SELECT name FROM projects WHERE org_id = ? AND slug = ? AND deleted = 0", (row["org_id"], slug)
            )
            if other is not None:
                errors["slug"] = [f"Another project ({other['name']}) is already using that slug"]
            else:
                columns["slug"] = slug
    if "platform" in body:
        platform = body["platform"]
        if platform not in (None, "") and platform not in PLATFORMS:
            errors["platform"] = ["Invalid platform"]
        else:
            columns["platform"] = platform or None
    for fixed in ("groupingConfig", "secondaryGroupingConfig", "secondaryGroupingExpiry"):
        if fixed in body:
            errors[fixed] = ["This field cannot be manually set."]
    for text_field in ("subjectPrefix", "subjectTemplate"):
        if text_field in body:
            value = body[text_field]
            if not isinstance(value, str) or len(value) > 200:
                errors[text_field] = ["Ensure this field has no more than 200 characters."]
            elif value or text_field == "subjectPrefix":
                data[text_field] = value
    if "resolveAge" in body:
        value = body["resolveAge"]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors["resolveAge"] = ["A valid integer is required."]
        else:
            data["resolveAge"] = value or 0
    for delay in ("digestsMinDelay", "digestsMaxDelay"):
        if delay in body:
            value = body[delay]
            if not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= 3600:
                errors[delay] = ["Ensure this value is between 60 and 3600."]
            else:
                data[delay] = value
    if data["digestsMinDelay"] > data["digestsMaxDelay"] and not errors:
        errors["digestsMinDelay"] = "The minimum delay on digests must be lower than the maximum."
    if "allowedDomains" in body:
        domains = body["allowedDomains"]
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            errors["allowedDomains"] = ["Expected a list of items."]
        elif not [d for d in domains if d.strip()]:
            errors["allowedDomains"] = ["Empty value will block all requests, use * to accept from all domains"]
        else:
            data["allowedDomains"] = [d.strip() for d in domains if d.strip()]
    for flag in (
        "isBookmarked", "scrubIPAddresses", "dataScrubber", "dataScrubberDefaults", "verifySSL", "scrapeJavaScript",
        "enableAutoReleaseCreation", "scmSourceContextEnabled",
    ):  # fmt: skip
        flag_errors: dict[str, list[str]] = {}
        value = bool_field(body, flag, flag_errors)
        errors.update(flag_errors)
        if value is not None:
            data[flag] = value
    for listed in ("sensitiveFields", "safeFields", "highlightTags", "builtinSymbolSources"):
        if listed in body:
            value = body[listed]
            if not isinstance(value, list):
                errors[listed] = ["Expected a list of items."]
            else:
                data[listed] = [str(v) for v in value]
    for free in ("securityToken", "securityTokenHeader", "relayPiiConfig", "fingerprintingRules",
                 "groupingEnhancements", "symbolSources"):  # fmt: skip
        if free in body:
            data[free] = body[free]
    if "highlightContext" in body:
        if not isinstance(body["highlightContext"], dict):
            errors["highlightContext"] = ["Expected a dictionary of items."]
        else:
            data["highlightContext"] = body["highlightContext"]
    if "defaultEnvironment" in body:
        data["defaultEnvironment"] = body["defaultEnvironment"] or None
    if "storeCrashReports" in body:
        data["storeCrashReports"] = body["storeCrashReports"]
    if "options" in body and isinstance(body["options"], dict):
        custom = {"filters:blacklisted_ips", "filters:releases", "filters:error_messages"} & set(body["options"])
        org = db.one("SELECT * FROM orgs WHERE id = ?", (row["org_id"],))
        if custom and (org is None or not has_feature(org, "projects:custom-inbound-filters")):
            raise ApiError(400, {"detail": "You do not have that feature enabled"})
        data.setdefault("options", {}).update(body["options"])
    if errors:
        raise ApiError(400, errors)
    return {"columns": columns, "data": data}


def update_project(req: Request) -> Response:
    org = org_row(req)
    row = project_row(req, org)
    if req.principal is not None and req.principal.kind == "org":
        raise ApiError(400, "")
    body = req.json_object()
    db = req.app.db
    with db.tx():  # validated against and applied to the stored settings in one step: no concurrent change is lost
        row = db.fetch("projects", row["id"])
        changes = _apply_update(req, row, body)
        columns = changes["columns"]
        if "slug" in columns:
            db.run(
                "INSERT OR REPLACE INTO project_redirects (org_id, slug, project_id) VALUES (?, ?, ?)",
                (row["org_id"], row["slug"], row["id"]),
            )
            db.run("DELETE FROM project_redirects WHERE org_id = ? AND slug = ?", (row["org_id"], columns["slug"]))
        for column, value in columns.items():
            db.run(f"UPDATE projects SET {column} = ? WHERE id = ?", (value, row["id"]))  # noqa: S608
        save_project_data(db, int(row["id"]), changes["data"])
    fresh = db.fetch("projects", row["id"])
    return Response(200, serialize_project_detail(req, fresh))


def delete_project(req: Request) -> Response:
    org = org_row(req)
    row = project_row(req, org)
    db = req.app.db
    with db.tx():
        db.run(
            "UPDATE projects SET deleted = 1, slug = slug || '-deleted-' || id WHERE id = ?",
            (row["id"],),
        )
        db.run("DELETE FROM project_redirects WHERE project_id = ?", (row["id"],))
        db.run("UPDATE keys SET deleted = 1 WHERE project_id = ?", (row["id"],))
    return Response(204)


def list_project_teams(req: Request) -> Response:
    org = org_row(req)
    row = project_row(req, org)
    ids = [int(t["id"]) for t in project_teams(req.app.db, int(row["id"]))]
    teams = [req.app.db.one("SELECT * FROM teams WHERE id = ?", (i,)) for i in ids]
    return paginate(req, [t for t in teams if t is not None], lambda t: serialize_team(req, t))


def add_project_team(req: Request) -> Response:
    org = org_row(req)
    row = project_row(req, org)
    team = team_row(req, org)
    with req.app.db.tx():
        req.app.db.run(
            "INSERT OR IGNORE INTO project_teams (project_id, team_id) VALUES (?, ?)", (row["id"], team["id"])
        )
    fresh = req.app.db.fetch("projects", row["id"])
    return Response(201, {**serialize_project_summary(req, fresh), **project_flags(fresh)})


def remove_project_team(req: Request) -> Response:
    org = org_row(req)
    row = project_row(req, org)
    team = team_row(req, org)
    with req.app.db.tx():
        req.app.db.run("DELETE FROM project_teams WHERE project_id = ? AND team_id = ?", (row["id"], team["id"]))
    fresh = req.app.db.fetch("projects", row["id"])
    return Response(200, {**serialize_project_summary(req, fresh), **project_flags(fresh)})


def register(router: Router) -> None:
    router.add("POST", T + "/projects/", create_in_team, PROJECT_WRITE)
    router.add("GET", T + "/projects/", list_team_projects, PROJECT_READ)
    router.add("POST", ORG + "/projects/", create_in_org, PROJECT_READ)
    router.add("GET", ORG + "/projects/", list_org_projects, ("org:admin", "org:read", "org:write"))
    router.add("GET", P + "/", get_project, PROJECT_READ)
    router.add("PUT", P + "/", update_project, (*PROJECT_WRITE, "project:read"))
    router.add("DELETE", P + "/", delete_project, ("project:admin",))
    router.add("GET", P + "/teams/", list_project_teams, PROJECT_READ)
    router.add("POST", P + "/teams/{team_id_or_slug}/", add_project_team, PROJECT_WRITE)
    router.add("DELETE", P + "/teams/{team_id_or_slug}/", remove_project_team, PROJECT_WRITE)
