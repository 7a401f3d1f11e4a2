"""The routes clients call before their work: the API index (`GET /api/0/`, sentry-cli's `info` and `login`) and
the system health check (`GET /api/0/internal/health/`, the Terraform provider's configure step).

As Sentry serves them: the index is public and answers `{"version": "0", "auth": …, "user": …}` (an invalid
token is still a 401); the health check needs any valid token (401 without) and answers 200 with an empty body
unless the caller is an active superuser, which an API token never is.
"""

from __future__ import annotations

from typing import Any

from localsentry import auth
from localsentry.http import Request, Response, Router

#: The one user every user token of localsentry belongs to (Sentry's user serializer shape, trimmed).
LOCAL_USER: dict[str, Any] = {
    "id": "1",
    "name": "localsentry",
    "username": "localsentry@localhost",
    "email": "localsentry@localhost",
    "avatarUrl": None,
    "isActive": True,
    "hasPasswordAuth": False,
    "isManaged": False,
    "isSuperuser": False,
    "isStaff": False,
    "has2fa": False,
    "emails": [{"id": "1", "email": "localsentry@localhost", "is_verified": True}],
    "avatar": {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None},
}


def index(req: Request) -> Response:
    principal = req.principal
    if principal is None and req.header("Authorization"):
        auth.authenticate(req.app.db, req.header("Authorization"), req.app.admin_token_id)  # raises Sentry's 401
    if principal is None:
        return Response(200, {"version": "0", "auth": None, "user": None})
    user = dict(LOCAL_USER) if principal.kind == "user" else None
    return Response(200, {"version": "0", "auth": {"scopes": sorted(principal.scopes)}, "user": user})


def health(req: Request) -> Response:
    return Response(200, raw=b"")


def register(router: Router) -> None:
    router.add("GET", "/api/0/", index, None)
    router.add("GET", "/api/0/internal/health/", health, ())
