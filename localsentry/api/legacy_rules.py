"""Legacy issue-alert rules (`/api/0/projects/{org}/{project}/rules/`), gated by the org's legacy-alerts mode.

As Sentry: create answers 200 (201 with the org feature `workflow-engine-rule-serializers`; 202 `{"uuid"}`
when a Slack channel must be looked up, then `rule-task/{uuid}/`), PUT is a full overwrite, DELETE 202.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from typing import Any

from localsentry.api.legacy import gated
from localsentry.db import Database, dumps, loads, now_iso
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import has_feature, org_row, project_row
from localsentry.models.legacy_rules import MATCHES, needs_channel_lookup, serialize_nodes, validate_nodes
from localsentry.pagination import paginate

P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
READ = ("alerts:read", "alerts:write", "project:admin", "project:read", "project:write")
WRITE = ("alerts:write", "project:admin", "project:write")
ADMIN_USER = {"id": 1, "name": "admin", "email": "admin@localsentry.invalid"}


def serialize(row: sqlite3.Row, project_slug: str) -> dict[str, Any]:
    data = loads(row["data"])
    return {
        "id": str(row["id"]),
        **serialize_nodes(data),
        "actionMatch": data.get("actionMatch") or "all",
        "filterMatch": data.get("filterMatch") or "all",
        "frequency": data.get("frequency") or 30,
        "name": data["name"],
        "dateCreated": row["created"],
        "owner": data.get("owner"),
        "createdBy": data.get("createdBy"),
        "environment": data.get("environment"),
        "projects": [project_slug],
        "status": "active",
        "snooze": False,
        "lastTriggered": None,
    }


def _owner(req: Request, org: sqlite3.Row, value: Any, errors: dict[str, Any]) -> str | None:
    if value in (None, ""):
        return None
    match = re.match(r"^(user|team):(\d+)$", str(value))
    ok = match is not None and (
        (match.group(1) == "user" and match.group(2) == "1")
        or (match.group(1) == "team" and req.app.db.one(
            "SELECT id FROM teams WHERE id = ? AND org_id = ? AND deleted = 0", (int(match.group(2)), org["id"])
        ) is not None)
    )  # fmt: skip
    if not ok:
        errors["owner"] = ["Could not resolve owner"]
    return str(value)


def validate(req: Request, org: sqlite3.Row, project: sqlite3.Row, exclude: int | None = None) -> dict[str, Any]:
    body = req.json_object()
    errors: dict[str, Any] = {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["This field is required."]
    elif len(name) > 256:
        errors["name"] = ["Ensure this field has no more than 256 characters."]
    for field in ("actionMatch", "filterMatch"):
        value = body.get(field)
        if value is not None and value not in MATCHES:
            errors[field] = [f'"{value}" is not a valid choice.']
    if body.get("actionMatch") is None:
        errors.setdefault("actionMatch", ["This field is required."])
    frequency = body.get("frequency")
    if not isinstance(frequency, int) or isinstance(frequency, bool) or not 5 <= frequency <= 43200:
        errors["frequency"] = ["Ensure this value is between 5 and 43200 (minutes)." if frequency is not None
                               else "This field is required."]  # fmt: skip
    nodes = validate_nodes(body, errors)
    if nodes["filters"] and not body.get("filterMatch"):
        errors["filterMatch"] = ["Must select a filter match (all, any, none) if filters are supplied."]
    environment = body.get("environment")
    if environment is not None and req.app.db.one(
        "SELECT id FROM environments WHERE project_id = ? AND name = ?", (project["id"], environment)
    ) is None:  # fmt: skip
        errors["environment"] = ["This environment has not been created."]
    owner = _owner(req, org, body.get("owner"), errors)
    if errors:
        raise ApiError(400, errors)
    data = {"name": name, "actionMatch": body["actionMatch"], "filterMatch": body.get("filterMatch") or "all",
            "frequency": frequency, **nodes, "environment": environment, "owner": owner,
            "createdBy": ADMIN_USER}  # fmt: skip
    _check_duplicate(req.app.db, int(project["id"]), data, exclude)
    return data


def _signature(data: dict[str, Any]) -> str:
    strip = [{k: v for k, v in n.items() if k not in ("uuid", "name")} for f in ("conditions", "filters", "actions")
             for n in data.get(f, [])]  # fmt: skip
    keys = ("actionMatch", "filterMatch", "frequency", "environment")
    return dumps([strip, [data.get(k) for k in keys]])


def _check_duplicate(db: Database, project_id: int, data: dict[str, Any], exclude: int | None) -> None:
    mine = _signature(data)
    for row in db.all("SELECT id, data FROM rules WHERE project_id = ? AND deleted = 0", (project_id,)):
        if int(row["id"]) != exclude and _signature(loads(row["data"])) == mine:
            other = loads(row["data"])["name"]
            message = f"This rule is an exact duplicate of '{other}' in this project and may not be created."
            raise ApiError(400, {"name": [message], "ruleId": [int(row["id"])]})


def _rule(req: Request) -> tuple[sqlite3.Row, sqlite3.Row, sqlite3.Row]:
    org = org_row(req)
    project = project_row(req, org)
    raw = req.params["rule_id"]
    row = req.app.db.one(
        "SELECT * FROM rules WHERE id = ? AND project_id = ? AND deleted = 0",
        (int(raw) if raw.isdigit() else -1, project["id"]),
    )
    if row is None:
        raise not_found()
    return org, project, row


def _task(db: Database, rule_id: int) -> str:
    task = uuid.uuid4().hex
    db.set_meta(f"rule-task:{task}", str(rule_id))
    return task


@gated("workflows")
def list_rules(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    rows = req.app.db.all("SELECT * FROM rules WHERE project_id = ? AND deleted = 0 ORDER BY id DESC", (project["id"],))
    return paginate(req, rows, lambda r: serialize(r, str(project["slug"])))


@gated("workflows")
def create_rule(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    data = validate(req, org, project)
    db = req.app.db
    with db.tx():
        rule_id = db.run(
            "INSERT INTO rules (project_id, data, created) VALUES (?, ?, ?)", (project["id"], dumps(data), now_iso())
        )
        if needs_channel_lookup(data["actions"]):
            return Response(202, {"uuid": _task(db, rule_id)})
    row = db.fetch("rules", rule_id)
    status = 201 if has_feature(org, "workflow-engine-rule-serializers") else 200
    return Response(status, serialize(row, str(project["slug"])))


@gated("workflows")
def get_rule(req: Request) -> Response:
    _, project, row = _rule(req)
    return Response(200, serialize(row, str(project["slug"])))


@gated("workflows")
def update_rule(req: Request) -> Response:
    org, project, row = _rule(req)
    db = req.app.db
    with db.tx():  # checked for duplicates and written in one step
        data = validate(req, org, project, exclude=int(row["id"]))
        data["createdBy"] = loads(db.fetch("rules", row["id"])["data"]).get("createdBy")
        db.run("UPDATE rules SET data = ? WHERE id = ?", (dumps(data), row["id"]))
        if needs_channel_lookup(data["actions"]):
            return Response(202, {"uuid": _task(db, int(row["id"]))})
    fresh = db.fetch("rules", row["id"])
    return Response(200, serialize(fresh, str(project["slug"])))


@gated("workflows")
def delete_rule(req: Request) -> Response:
    _, _, row = _rule(req)
    with req.app.db.tx():
        req.app.db.run("UPDATE rules SET deleted = 1 WHERE id = ?", (row["id"],))
    return Response(202)


@gated("workflows")
def rule_task(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    rule_id = req.app.db.get_meta(f"rule-task:{req.params['task_uuid']}")
    row = None if rule_id is None else req.app.db.one(
        "SELECT * FROM rules WHERE id = ? AND project_id = ?", (int(rule_id), project["id"])
    )  # fmt: skip
    if row is None:
        raise not_found()
    return Response(200, {"status": "success", "rule": serialize(row, str(project["slug"])), "error": None})


def register(router: Router) -> None:
    router.add("GET", P + "/rules/", list_rules, READ)
    router.add("POST", P + "/rules/", create_rule, WRITE)
    router.add("GET", P + "/rules/{rule_id}/", get_rule, READ)
    router.add("PUT", P + "/rules/{rule_id}/", update_rule, WRITE)
    router.add("DELETE", P + "/rules/{rule_id}/", delete_rule, WRITE)
    router.add("GET", P + "/rule-task/{task_uuid}/", rule_task, READ)
