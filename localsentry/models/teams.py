"""The team shape (with its projects on request)."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.http import Request
from localsentry.models.projects import serialize_project_summary


def serialize_team(req: Request, team: sqlite3.Row, projects: bool = False) -> dict[str, Any]:
    scopes = req.principal.scopes if req.principal else frozenset()
    body: dict[str, Any] = {
        "id": str(team["id"]),
        "slug": str(team["slug"]),
        "name": str(team["name"]),
        "dateCreated": str(team["created"]),
        "isMember": req.principal is not None and req.principal.kind == "user",
        "teamRole": "admin" if req.principal is not None and req.principal.kind == "user" else None,
        "flags": {"idp:provisioned": False},
        "access": sorted(s for s in scopes if s.startswith(("team:", "project:", "event:", "alerts:"))),
        "hasAccess": True,
        "isPending": False,
        "memberCount": 1,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None},
    }
    if projects:
        rows = req.app.db.all(
            "SELECT p.* FROM projects p JOIN project_teams pt ON pt.project_id = p.id "
            "WHERE pt.team_id = ? AND p.deleted = 0 ORDER BY p.slug",
            (team["id"],),
        )
        body["externalTeams"] = []
        body["projects"] = [serialize_project_summary(req, r) for r in rows]
    return body
