"""A project's legacy WebHooks plugin (`/api/0/projects/{org}/{project}/plugins/webhooks/`), as Sentry's
ProjectPluginDetailsEndpoint answers it: GET the plugin with its config, PUT `{"urls": "one URL per line"}` (each
http or https, else 400 `{"errors": {"urls": "Not a valid URL."}}`), POST to enable it (201; `{"reset": true}`
clears its options), DELETE to disable it (204). A workflow's `webhook` action with `targetIdentifier` "webhooks"
POSTs to these URLs. Other plugins answer 404 (localsentry has only this one)."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlsplit

from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row, project_data, project_row, save_project_data
from localsentry.models.notifications import VERSION

P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/plugins/{plugin_id}/"
READ = ("project:admin", "project:read", "project:write")
WRITE = ("project:admin", "project:write")


def _project(req: Request) -> sqlite3.Row:
    if req.params["plugin_id"] != "webhooks":
        raise not_found()
    return project_row(req, org_row(req))


def _options(project: sqlite3.Row) -> dict[str, Any]:
    return dict(project_data(project).get("plugins", {}).get("webhooks", {}))


def _save(req: Request, project: sqlite3.Row, options: dict[str, Any]) -> None:
    db = req.app.db
    with db.tx():
        data = project_data(db.fetch("projects", project["id"]))
        data.setdefault("plugins", {})["webhooks"] = options
        save_project_data(db, int(project["id"]), data)


def serialize(options: dict[str, Any]) -> dict[str, Any]:
    urls = options.get("urls") or ""
    return {
        "id": "webhooks", "name": "WebHooks", "slug": "webhooks", "shortName": "WebHooks", "type": "notification",
        "canDisable": True, "isTestable": True, "hasConfiguration": True, "metadata": {}, "contexts": [],
        "status": "unknown", "assets": [], "doc": "", "firstPartyAlternative": None, "deprecationDate": None,
        "altIsSentryApp": None, "enabled": bool(options.get("enabled")), "version": VERSION,
        "author": {"name": "Sentry Team", "url": "https://github.com/getsentry/sentry"}, "isDeprecated": False,
        "isHidden": False, "description": "Trigger outgoing HTTP POST requests from Sentry.",
        "features": ["alert-rule"], "featureDescriptions": [], "resourceLinks": [],
        "config": [{"name": "urls", "label": "Callback URLs", "type": "textarea", "required": False,
                    "help": "Enter callback URLs to POST new events to (one per line).",
                    "placeholder": "https://sentry.io/callback/url", "choices": None, "readonly": False,
                    "defaultValue": None, "value": urls or None}],
    }  # fmt: skip


def get_plugin(req: Request) -> Response:
    return Response(200, serialize(_options(_project(req))))


def put_plugin(req: Request) -> Response:
    project = _project(req)
    raw = req.json_object().get("urls")
    urls = [u.strip() for u in str(raw or "").splitlines() if u.strip()]
    if any(urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).netloc for u in urls):
        raise ApiError(400, {"errors": {"urls": "Not a valid URL."}})
    options = dict(_options(project), urls="\n".join(urls))
    _save(req, project, options)
    return Response(200, serialize(options))


def post_plugin(req: Request) -> Response:
    project = _project(req)
    body = req.json() if req.body.strip() else {}
    if isinstance(body, dict) and body.get("reset"):
        options = {"enabled": _options(project).get("enabled", False)}
        _save(req, project, options)
        return Response(200, serialize(options))
    _save(req, project, dict(_options(project), enabled=True))
    return Response(201)


def delete_plugin(req: Request) -> Response:
    project = _project(req)
    _save(req, project, dict(_options(project), enabled=False))
    return Response(204)


def register(router: Router) -> None:
    router.add("GET", P, get_plugin, READ)
    router.add("PUT", P, put_plugin, WRITE)
    router.add("POST", P, post_plugin, WRITE)
    router.add("DELETE", P, delete_plugin, WRITE)


__all__ = ["register", "serialize"]
