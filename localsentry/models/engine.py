"""Shared pieces of the workflow engine (workflows and detectors): CamelSnake keys, nested ids, list filters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localsentry.db import Database
from localsentry.http import ApiError, Request

LOGIC_TYPES = ("any", "any-short", "all", "none")
OPAQUE = {"comparison", "data", "config", "queryObj"}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def normalize(value: Any) -> Any:
    """snake_case request keys to camelCase (CamelSnake serializers accept both); opaque blobs untouched."""
    if isinstance(value, dict):
        return {camel(k): (v if camel(k) in OPAQUE else normalize(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def next_id(db: Database) -> str:
    """A fresh id for nested objects (conditions, actions, condition groups, data sources)."""
    with db.tx():
        current = int(db.get_meta("seq") or "100000")
        db.set_meta("seq", str(current + 1))
    return str(current + 1)


def condition_group(
    db: Database, org_id: int, group: Any, errors: dict[str, Any], field: str, result_type: type
) -> dict[str, Any] | None:
    """Validate `{logicType, conditions[]}` and give every part an id."""
    if group is None:
        return None
    if not isinstance(group, dict):
        errors[field] = {"nonFieldErrors": ["Invalid data. Expected a dictionary."]}
        return None
    logic = group.get("logicType")
    if logic not in LOGIC_TYPES:
        errors[field] = {"logicType": [f'"{logic}" is not a valid choice.' if logic else "This field is required."]}
        return None
    conditions = []
    for cond in group.get("conditions") or []:
        if not isinstance(cond, dict) or not cond.get("type"):
            errors[field] = {"conditions": ["Each condition needs a type."]}
            return None
        result = cond.get("conditionResult", True if result_type is bool else 75)
        conditions.append(
            {"id": str(cond.get("id") or next_id(db)), "type": str(cond["type"]),
             "comparison": cond.get("comparison", True), "conditionResult": result}
        )  # fmt: skip
    actions = [action(db, a, errors, field) for a in group.get("actions") or []]
    return {"id": str(group.get("id") or next_id(db)), "organizationId": str(org_id), "logicType": logic,
            "conditions": conditions, "actions": actions}  # fmt: skip


ACTION_TYPES = (
    "email", "slack", "pagerduty", "discord", "msteams", "opsgenie", "vsts", "jira", "jira_server", "github",
    "github_enterprise", "sentry_app", "plugin", "webhook",
)  # fmt: skip


def action(db: Database, raw: Any, errors: dict[str, Any], field: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("type") not in ACTION_TYPES:
        kind = raw.get("type") if isinstance(raw, dict) else raw
        errors[field] = {"actions": [f'"{kind}" is not a valid action type.']}
        return {}
    integration = raw.get("integrationId")
    return {
        "id": str(raw.get("id") or next_id(db)),
        "type": raw["type"],
        "integrationId": None if integration is None else str(integration),
        "data": raw.get("data") or {},
        "config": raw.get("config") or {},
        "status": raw.get("status", "active"),
    }


def owner_field(value: Any, errors: dict[str, Any]) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not re.match(r"^(user|team):\d+$", value):
        errors["owner"] = ["Could not parse actor. Format should be `type:id` where type is `team` or `user`."]
        return None
    return value


def id_filter(req: Request) -> set[int] | None:
    raw = req.args("id")
    if not raw:
        return None
    try:
        return {int(v) for v in raw}
    except ValueError:
        raise ApiError(400, {"id": ["Invalid ID format"]}) from None


def project_filter(req: Request, org_id: int) -> set[int] | None:
    raw = [v for v in req.args("project") if v != ""]
    if not raw or "-1" in raw:
        return None
    ids: set[int] = set()
    for value in raw:
        row = req.app.db.one(
            "SELECT id FROM projects WHERE org_id = ? AND deleted = 0 AND (slug = ? OR CAST(id AS TEXT) = ?)",
            (org_id, value, value),
        )
        if row is None:
            raise ApiError(403, {"detail": "You do not have permission to perform this action."})
        ids.add(int(row["id"]))
    return ids


def sort_items(items: list[dict[str, Any]], sort_by: str | None, keys: dict[str, Callable[[Any], Any]]) -> None:
    sort_by = sort_by or "id"
    field = sort_by.lstrip("-")
    if field not in keys:
        raise ApiError(400, {"sortBy": [f'"{sort_by}" is not a valid choice.']})
    items.sort(key=keys[field], reverse=sort_by.startswith("-"))
