"""Inbound data filters: list (not paginated) and PUT per filter id, incl. legacy-browsers subfilters."""

from __future__ import annotations

from typing import Any

from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row, project_data, project_row, save_project_data

P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
FILTER_IDS = ("browser-extensions", "filtered-transaction", "legacy-browsers", "localhost", "web-crawlers")
SUBFILTERS = (
    "ie", "edge", "safari", "firefox", "chrome", "opera", "android", "opera_mini",
    "ie_pre_9", "ie9", "ie10", "ie11", "opera_pre_15", "android_pre_4", "safari_pre_6", "opera_mini_pre_8",
    "edge_pre_79",
)  # fmt: skip


def list_filters(req: Request) -> Response:
    org = org_row(req)
    state = project_data(project_row(req, org)).get("filters", {})
    body: list[dict[str, Any]] = []
    for fid in FILTER_IDS:
        value = state.get(fid, [] if fid == "legacy-browsers" else False)
        if fid == "legacy-browsers":  # like Sentry: none is stored as "0" (listed false), `active: true` as "1"
            body.append({"id": fid, "active": (sorted(value) or False) if isinstance(value, list) else value is True})
        else:
            body.append({"id": fid, "active": bool(value)})
    return Response(200, body)


def update_filter(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    fid = req.params["filter_id"]
    if fid not in FILTER_IDS:
        raise not_found()
    value = _filter_value(fid, req.json_object())
    db = req.app.db
    with db.tx():  # read, change and write the project's settings as one step: a concurrent PUT is never lost
        data = project_data(db.fetch("projects", project["id"]))
        data.setdefault("filters", {})[fid] = value
        save_project_data(db, int(project["id"]), data)
    return Response(204)


def _filter_value(fid: str, body: dict[str, Any]) -> Any:
    if fid == "legacy-browsers":
        subfilters = body.get("subfilters")
        if "active" in body:  # Sentry: `active` wins; true = all legacy browsers (stored "1"), false = none
            return True if body["active"] else []
        if not isinstance(subfilters, list) or not all(s in SUBFILTERS for s in subfilters):
            raise ApiError(400, {"subfilters": ["Not a valid list of legacy browser subfilters."]})
        return sorted(set(subfilters))
    active = body.get("active")
    if not isinstance(active, bool):
        raise ApiError(400, {"active": ["This field is required." if active is None else "Must be a valid boolean."]})
    return active


def register(router: Router) -> None:
    router.add("GET", P + "/filters/", list_filters, ("project:admin", "project:read", "project:write"))
    router.add("PUT", P + "/filters/{filter_id}/", update_filter, ("project:admin", "project:write"))
