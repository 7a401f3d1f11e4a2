"""The web page at `/`: organizations, projects, keys (DSNs shown, secrets masked), latest events per environment.

The page fetches `/_localsentry/ui.json` every 2 s. It is public like the DSNs it shows; key secrets are masked.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from localsentry.api.client_key_model import dsn_fields, ingest_base
from localsentry.api.event_model import iso, serialize_summary
from localsentry.db import loads
from localsentry.http import Request, Response, Router

EVENTS_PER_ENVIRONMENT = 5


def mask(secret: str) -> str:
    return secret[:4] + "*" * (len(secret) - 4)


def index(req: Request) -> Response:
    html = resources.files("localsentry").joinpath("static/index.html").read_bytes()
    return Response(200, raw=html, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


def _project(req: Request, project: Any) -> dict[str, Any]:
    db = req.app.db
    keys = []
    for key in db.all("SELECT * FROM keys WHERE project_id = ? AND deleted = 0 ORDER BY id", (project["id"],)):
        dsn = dsn_fields(ingest_base(req, int(project["org_id"])), int(project["id"]), str(key["public"]), "x")
        keys.append({"label": key["label"], "public": key["public"], "secret": mask(str(key["secret"])),
                     "dsn": dsn["public"], "isActive": bool(key["active"])})  # fmt: skip
    environments: dict[str, list[dict[str, Any]]] = {}
    envs = [str(r["name"]) for r in db.all("SELECT name FROM environments WHERE project_id = ? ORDER BY name",
                                            (project["id"],))]  # fmt: skip
    for env in [*envs, ""]:
        rows = db.all(
            "SELECT * FROM items WHERE project_id = ? AND type IN ('event', 'transaction') "
            "AND COALESCE(environment, '') = ? ORDER BY id DESC LIMIT ?",
            (project["id"], env, EVENTS_PER_ENVIRONMENT),
        )
        if rows:
            environments[env or "(none)"] = [
                {"eventID": s["eventID"], "title": s["title"], "type": r["type"], "received": iso(r["received"]),
                 "release": r["release"]}
                for r in rows for s in [serialize_summary(r)]
            ]  # fmt: skip
    counts = {str(r["type"]): int(r["n"]) for r in db.all(
        "SELECT type, COUNT(*) AS n FROM items WHERE project_id = ? GROUP BY type", (project["id"],))}  # fmt: skip
    return {"id": str(project["id"]), "slug": project["slug"], "name": project["name"],
            "platform": project["platform"], "keys": keys, "environments": environments, "counts": counts}  # fmt: skip


def ui_data(req: Request) -> Response:
    db = req.app.db
    orgs = []
    for org in db.all("SELECT * FROM orgs ORDER BY slug"):
        projects = db.all("SELECT * FROM projects WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
        teams = db.all("SELECT slug FROM teams WHERE org_id = ? AND deleted = 0 ORDER BY slug", (org["id"],))
        orgs.append(
            {
                "slug": org["slug"],
                "name": org["name"],
                "features": loads(org["features"]),
                "teams": [t["slug"] for t in teams],
                "projects": [_project(req, p) for p in projects],
            }
        )
    return Response(200, {"url": req.base_url, "organizations": orgs}, {"Cache-Control": "no-store"})


def register(router: Router) -> None:
    router.add("GET", "/", index, None, kind="web")
    router.add("GET", "/_localsentry/ui.json", ui_data, None, kind="web")
