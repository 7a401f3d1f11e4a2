"""Legacy metric-alert rules (`/api/0/organizations/{org}/alert-rules/`, also under a project as go-sentry
calls them), gated by the legacy-alerts mode and the `incidents` feature. CamelSnake: errors in camelCase.
As Sentry: create 201, list default per_page 25 with hit headers, DELETE 204 (the schema says 202).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from localsentry.api.legacy import gated
from localsentry.db import dumps, loads, now_iso
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import has_feature, org_row
from localsentry.models.engine import next_id, normalize, owner_field
from localsentry.pagination import paginate

ORG = "/api/0/organizations/{organization_id_or_slug}/alert-rules"
PROJ = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/alert-rules"
READ = ("alerts:read", "org:admin", "org:read", "org:write")
WRITE = ("alerts:write", "org:admin", "org:read", "org:write")
DETAIL_WRITE = ("alerts:write", "org:admin", "org:write")
DATASETS = {"events": 0, "transactions": 1, "generic_metrics": 1, "metrics": 2, "sessions": 2,
            "events_analytics_platform": 1}  # fmt: skip
EVENT_TYPES = ("error", "default", "transaction", "trace_item_span", "trace_item_log")
ACTION_TYPES = ("email", "slack", "msteams", "pagerduty", "opsgenie", "discord", "sentry_app")
AGGREGATE = re.compile(r"^[a-z_0-9]+\(.*\)( AS [A-Za-z_]+)?$")
ADMIN_USER = {"id": 1, "name": "admin", "email": "admin@localsentry.invalid"}
RULE_LIMIT = 1000


def _require_incidents(req: Request) -> sqlite3.Row:
    org = org_row(req)
    if not has_feature(org, "incidents"):
        raise not_found()
    return org


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _triggers(body: dict[str, Any], errors: dict[str, Any]) -> list[dict[str, Any]]:
    triggers = body.get("triggers")
    if not isinstance(triggers, list) or not 1 <= len(triggers) <= 2:
        errors["triggers"] = ["Must send 1 or 2 triggers."]
        return []
    out = []
    for index, trigger in enumerate(triggers):
        want = ("critical", "warning")[index]
        if not isinstance(trigger, dict) or trigger.get("label") != want:
            errors["nonFieldErrors"] = [f'Trigger {index + 1} must be labeled "{want}"']
            return []
        if not _number(trigger.get("alertThreshold")):
            errors["triggers"] = [{"alertThreshold": ["This field is required."]}]
            return []
        actions = trigger.get("actions") or []
        if not actions:
            errors["nonFieldErrors"] = ["Each trigger must have an associated action for this alert to fire."]
            return []
        for action in actions:
            if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
                errors["triggers"] = [{"actions": ["Invalid action type"]}]
                return []
            if action["type"] not in ("email", "sentry_app") and not action.get("integrationId"):
                errors["triggers"] = [{"actions": ["integrationId is required for this action type"]}]
                return []
        out.append(trigger)
    if body.get("thresholdType", 0) == 0 and len(out) == 2 and out[0]["alertThreshold"] < out[1]["alertThreshold"]:
        errors["nonFieldErrors"] = ["Critical trigger must have a higher threshold than warning trigger"]
    resolve = body.get("resolveThreshold")
    if _number(resolve) and out and not errors:
        critical = out[0]["alertThreshold"]
        above = body.get("thresholdType", 0) == 0
        if (above and resolve > critical) or (not above and resolve < critical):
            side = "above" if above else "below"
            errors["nonFieldErrors"] = [f"critical alert threshold must be {side} resolution threshold"]
    return out


def validate(req: Request, org: sqlite3.Row, raw: dict[str, Any]) -> dict[str, Any]:
    body = normalize(raw)
    errors: dict[str, Any] = {}
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 256:
        errors["name"] = ["This field is required." if name is None else "Ensure this field has 1 to 256 characters."]
    aggregate = body.get("aggregate")
    if not isinstance(aggregate, str) or not AGGREGATE.match(aggregate):
        errors["aggregate"] = ["This field is required." if aggregate is None else f"Invalid Metric: {aggregate}"]
    window = body.get("timeWindow")
    if not isinstance(window, int | float) or isinstance(window, bool) or not 1 <= window <= 1440:
        errors["timeWindow"] = ["This field is required." if window is None else "Invalid Time Window"]
    if not isinstance(body.get("query"), str):
        errors["query"] = ["This field is required."]
    if body.get("thresholdType") not in (0, 1):
        errors["thresholdType"] = ["Invalid threshold type, valid values are [0, 1]"]
    dataset = body.get("dataset", "events")
    if dataset not in DATASETS:
        errors["dataset"] = [f"Invalid dataset, valid values are {sorted(DATASETS)}"]
    query_type = body.get("queryType", DATASETS.get(dataset, 0))
    if query_type not in (0, 1, 2):
        errors["queryType"] = ["Invalid query type"]
    event_types = body.get("eventTypes") or (["error", "default"] if query_type == 0 else ["transaction"])
    if not isinstance(event_types, list) or any(e not in EVENT_TYPES for e in event_types):
        errors["eventTypes"] = ["Invalid event_type, valid values are " + str(list(EVENT_TYPES))]
    delta = body.get("comparisonDelta")
    if delta is not None and (not isinstance(delta, int) or not 1 <= delta <= 128160):
        errors["comparisonDelta"] = ["Ensure this value is between 1 and 128160."]
    projects = body.get("projects") or []
    if not isinstance(projects, list) or len(projects) > 1:
        errors["projects"] = ["Metric alerts take at most one project."]
    for slug in projects if isinstance(projects, list) else []:
        sql = "SELECT id FROM projects WHERE org_id = ? AND slug = ? AND deleted = 0"
        if req.app.db.one(sql, (org["id"], slug)) is None:
            errors["projects"] = [f"Invalid project: {slug}"]
    triggers = _triggers(body, errors)
    owner = owner_field(body.get("owner"), errors)
    if errors:
        raise ApiError(400, errors)
    keep = ("environment", "resolveThreshold", "thresholdPeriod", "description", "detectionType", "sensitivity",
            "seasonality")  # fmt: skip
    data = {k: body.get(k) for k in keep}
    data.update(name=name, aggregate=aggregate, timeWindow=window, query=body["query"], dataset=dataset,
                thresholdType=body["thresholdType"], queryType=query_type, eventTypes=event_types,
                comparisonDelta=delta, projects=projects, owner=owner, triggers=triggers)  # fmt: skip
    data["detectionType"] = data["detectionType"] or ("percent" if delta else "static")
    data["thresholdPeriod"] = data["thresholdPeriod"] or 1
    return data


def _store_triggers(data: dict[str, Any], rule_id: int, old: list[dict[str, Any]], db: Any) -> None:
    """Give triggers and actions ids; a trigger keeps its id when the body names it."""
    known = {str(t["id"]) for t in old}
    now = now_iso()
    stored = []
    for trigger in data["triggers"]:
        trigger_id = str(trigger["id"]) if str(trigger.get("id")) in known else next_id(db)
        actions = []
        for action in trigger.get("actions") or []:
            actions.append({
                "id": next_id(db), "alertRuleTriggerId": trigger_id, "type": action["type"],
                "targetType": action.get("targetType", "specific"),
                "targetIdentifier": None if action.get("targetIdentifier") is None else str(action["targetIdentifier"]),
                "inputChannelId": action.get("inputChannelId"), "integrationId": action.get("integrationId"),
                "sentryAppId": action.get("sentryAppId"), "priority": action.get("priority"),
                "dateCreated": now, "desc": f"Send a notification via {action['type']}",
            })  # fmt: skip
        stored.append({
            "id": trigger_id, "alertRuleId": str(rule_id), "label": trigger["label"],
            "thresholdType": data["thresholdType"], "alertThreshold": trigger["alertThreshold"],
            "resolveThreshold": data.get("resolveThreshold"), "dateCreated": now, "actions": actions,
        })  # fmt: skip
    data["triggers"] = stored


def serialize(row: sqlite3.Row) -> dict[str, Any]:
    data = loads(row["data"])
    extras = {k: data.get(k) for k in ("environment", "projects", "queryType", "resolveThreshold", "dataset",
                                       "thresholdType", "eventTypes", "owner", "comparisonDelta", "thresholdPeriod",
                                       "description", "detectionType", "sensitivity", "seasonality")}  # fmt: skip
    return {
        "id": str(row["id"]), "name": data["name"], "organizationId": str(row["org_id"]), "query": data["query"],
        "aggregate": data["aggregate"], "timeWindow": float(data["timeWindow"]), "triggers": data["triggers"],
        **extras, "originalAlertRuleId": None, "snooze": False, "errors": [], "extrapolationMode": "unknown",
        "dateModified": row["updated"], "dateCreated": row["created"], "createdBy": ADMIN_USER, "status": 0,
        "resolution": 1, "latestIncident": None,
    }  # fmt: skip


def _rule(req: Request, org: sqlite3.Row) -> sqlite3.Row:
    raw = req.params["alert_rule_id"]
    row = req.app.db.one(
        "SELECT * FROM alert_rules WHERE id = ? AND org_id = ?", (int(raw) if raw.isdigit() else -1, org["id"])
    )
    if row is None:
        raise not_found()
    return row


@gated("detectors")
def list_rules(req: Request) -> Response:
    org = _require_incidents(req)
    rows = req.app.db.all("SELECT * FROM alert_rules WHERE org_id = ? ORDER BY created DESC, id DESC", (org["id"],))
    if "project_id_or_slug" in req.params:
        slug = req.params["project_id_or_slug"]
        rows = [r for r in rows if slug in loads(r["data"]).get("projects", [])]
    resp = paginate(req, rows, serialize, default=25, hits=len(rows))
    resp.headers.update({"X-Sentry-Alert-Rule-Hits": str(len(rows)), "X-Sentry-Rule-Limit": str(RULE_LIMIT)})
    return resp


@gated("detectors")
def create_rule(req: Request) -> Response:
    org = _require_incidents(req)
    body = req.json_object()
    if "project_id_or_slug" in req.params and not body.get("projects"):
        body = dict(body, projects=[req.params["project_id_or_slug"]])
    data = validate(req, org, body)
    db = req.app.db
    with db.tx():
        now = now_iso()
        rule_id = db.run("INSERT INTO alert_rules (org_id, data, created, updated) VALUES (?, ?, ?, ?)",
                         (org["id"], "{}", now, now))  # fmt: skip
        _store_triggers(data, rule_id, [], db)
        db.run("UPDATE alert_rules SET data = ? WHERE id = ?", (dumps(data), rule_id))
    row = db.fetch("alert_rules", rule_id)
    return Response(201, serialize(row))


@gated("detectors")
def get_rule(req: Request) -> Response:
    return Response(200, serialize(_rule(req, _require_incidents(req))))


@gated("detectors")
def update_rule(req: Request) -> Response:
    org = _require_incidents(req)
    row = _rule(req, org)
    data = validate(req, org, req.json_object())
    db = req.app.db
    with db.tx():  # the stored triggers keep their ids: read and written in one step
        _store_triggers(data, int(row["id"]), loads(db.fetch("alert_rules", row["id"])["data"])["triggers"], db)
        db.run("UPDATE alert_rules SET data = ?, updated = ? WHERE id = ?", (dumps(data), now_iso(), row["id"]))
    fresh = db.fetch("alert_rules", row["id"])
    return Response(200, serialize(fresh))


@gated("detectors")
def delete_rule(req: Request) -> Response:
    row = _rule(req, _require_incidents(req))
    with req.app.db.tx():
        req.app.db.run("DELETE FROM alert_rules WHERE id = ?", (row["id"],))
    return Response(204)


def register(router: Router) -> None:
    for base in (ORG, PROJ):
        router.add("GET", base + "/", list_rules, READ)
        router.add("POST", base + "/", create_rule, WRITE)
        router.add("GET", base + "/{alert_rule_id}/", get_rule, READ)
        router.add("PUT", base + "/{alert_rule_id}/", update_rule, DETAIL_WRITE)
        router.add("DELETE", base + "/{alert_rule_id}/", delete_rule, DETAIL_WRITE)
