"""What workflows did: a workflow's fire history (`GET …/workflows/{id}/group-history/`) and the test-fire of actions
(`POST …/test-fire-actions/`), as Sentry's workflow engine answers them.

- group-history: the issues the workflow fired for in the period (`statsPeriod`, or `start`/`end`; 14 days by
  default here), each `{group, count, lastTriggered, eventId, detector}` (`eventId` and `detector` of the latest
  firing), most firings first, then the latest; cursor-paginated.
- test-fire-actions: `{"actions": [{type, integrationId, data, config}]}` fires each action once against a sample
  event of the organization's first project, now (not queued): 200 with no body when every action was delivered,
  400 `{"actions": ["<error>", …]}` otherwise (404 without a project). The deliveries are recorded like any other.
"""

from __future__ import annotations

import time
from typing import Any

from localsentry.delivery import Undeliverable, send
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row, time_range
from localsentry.models.detector_view import serialize as serialize_detector
from localsentry.models.engine import ACTION_TYPES
from localsentry.models.issues import iso, serialize_group
from localsentry.models.notifications import Firing, enqueue, requests_for
from localsentry.pagination import paginate

ORG = "/api/0/organizations/{organization_id_or_slug}"
READ = ("alerts:read", "org:admin", "org:read", "org:write")
WRITE = ("alerts:write", "org:admin", "org:write")
SAMPLE = {"id": 0, "short_seq": 0, "title": "This is an example Python exception", "culprit": "raven.scripts.runner in "
          "main", "level": "error", "substatus": "new", "status": "unresolved"}  # fmt: skip


def group_history(req: Request) -> Response:
    org = org_row(req)
    raw = req.params["workflow_id"]
    workflow = req.app.db.one("SELECT id FROM workflows WHERE id = ? AND org_id = ?",
                              (int(raw) if raw.isdigit() else -1, org["id"]))  # fmt: skip
    if workflow is None:
        raise not_found()
    since, until = time_range(req, "14d")
    rows = req.app.db.all(
        "SELECT f.group_id, COUNT(*) AS n, MAX(f.date_added) AS last FROM workflow_fires f JOIN groups g "
        "ON g.id = f.group_id WHERE f.workflow_id = ? AND g.deleted = 0 AND f.date_added >= ? AND f.date_added < ? "
        "GROUP BY f.group_id ORDER BY n DESC, last DESC",
        (workflow["id"], since or 0.0, until or time.time() + 10 * 365 * 86400))  # fmt: skip
    items = []
    for row in rows:
        latest = req.app.db.one("SELECT event_id, detector_id FROM workflow_fires WHERE workflow_id = ? AND "
                                "group_id = ? ORDER BY date_added DESC, id DESC LIMIT 1",
                                (workflow["id"], row["group_id"]))  # fmt: skip
        assert latest is not None
        item: dict[str, Any] = {"group": serialize_group(req, req.app.db.fetch("groups", row["group_id"])),
                                "count": int(row["n"]), "lastTriggered": iso(float(row["last"])),
                                "eventId": latest["event_id"]}  # fmt: skip
        detector = None if latest["detector_id"] is None else req.app.db.one(
            "SELECT * FROM detectors WHERE id = ?", (latest["detector_id"],))  # fmt: skip
        if detector is not None:
            item["detector"] = serialize_detector(req, detector)
        items.append(item)
    return paginate(req, items)


def test_fire(req: Request) -> Response:
    org = org_row(req)
    actions = req.json_object().get("actions")
    if not isinstance(actions, list):
        raise ApiError(400, {"actions": ["This field is required."]})
    for action in actions:
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            kind = action.get("type") if isinstance(action, dict) else action
            raise ApiError(400, {"type": [f'"{kind}" is not a valid choice.']})
    db = req.app.db
    project = db.one("SELECT * FROM projects WHERE org_id = ? AND deleted = 0 ORDER BY id LIMIT 1", (org["id"],))
    if project is None:
        raise ApiError(404, {"detail": "No projects found for this organization"})
    payload = {"message": SAMPLE["title"], "level": "error", "platform": project["platform"] or "python",
               "tags": {"sample_event": "yes"}}  # fmt: skip
    firing = Firing(None, "Test Alert", str(org["slug"]), project, SAMPLE, None, payload, None,  # type: ignore[arg-type]
                    [("level", "error"), ("sample_event", "yes")])  # fmt: skip
    errors: list[str] = []
    for raw in actions:
        action = {"type": raw["type"], "integrationId": raw.get("integrationId", raw.get("integration_id")),
                  "data": raw.get("data") or {}, "config": _camel(raw.get("config") or {})}  # fmt: skip
        requests = requests_for(db, action, firing)
        with db.tx():
            ids = enqueue(db, None, None, action, requests, req.app.now())
        for delivery_id, request in zip(ids, requests, strict=True):
            if request.failure:
                errors.append(f"{request.type}: {request.failure}")
                continue
            status, detail = "sent", ""
            try:
                detail = send(request.body, req.app.smtp)
            except Undeliverable as exc:
                status, detail = "failed", exc.detail
                errors.append(f"{request.type}: {exc.detail}")
            with db.tx():
                db.run("UPDATE deliveries SET status = ?, attempts = 1, detail = ?, finished = ? WHERE id = ?",
                       (status, detail, req.app.now(), delivery_id))  # fmt: skip
    if errors:
        return Response(400, {"actions": errors})
    return Response(200)


def _camel(config: dict[str, Any]) -> dict[str, Any]:
    names = {"target_type": "targetType", "target_identifier": "targetIdentifier", "target_display": "targetDisplay"}
    return {names.get(k, k): v for k, v in config.items()}


def register(router: Router) -> None:
    router.add("GET", ORG + "/workflows/{workflow_id}/group-history/", group_history, READ)
    router.add("POST", ORG + "/test-fire-actions/", test_fire, WRITE)


__all__ = ["group_history", "register", "test_fire"]
