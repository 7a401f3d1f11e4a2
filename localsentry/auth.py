"""API tokens and scopes, answered the way Sentry answers them (401 vs 403 bodies)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass

from localsentry.db import Database, now_iso
from localsentry.http import PERMISSION_DENIED, ApiError

ALL_SCOPES: tuple[str, ...] = (
    "org:read", "org:write", "org:admin", "org:integrations", "org:ci",
    "team:read", "team:write", "team:admin",
    "project:read", "project:write", "project:admin", "project:releases", "project:distribution",
    "event:read", "event:write", "event:admin",
    "member:read", "member:write", "member:admin", "member:invite",
    "alerts:read", "alerts:write",
)  # fmt: skip

NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
WWW_AUTHENTICATE = {"WWW-Authenticate": 'xBasic realm="api"'}
USER_PREFIX = "sntryu_"
ORG_PREFIX = "sntrys_"


@dataclass(frozen=True)
class Principal:
    token_id: int
    kind: str  # "user", "org" or "integration"
    scopes: frozenset[str]
    org_id: int | None
    is_admin: bool

    @property
    def rate_key(self) -> str:
        return f"token:{self.token_id}"

    def has_any(self, scopes: tuple[str, ...]) -> bool:
        return not scopes or any(s in self.scopes for s in scopes)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind: str, org_slug: str, url: str) -> str:
    if kind == "user":
        return USER_PREFIX + secrets.token_hex(32)
    if kind == "org":
        claims = {"iat": 0, "url": url, "region_url": url, "org": org_slug}
        payload = base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{ORG_PREFIX}{payload}_{base64.b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"
    if kind == "integration":
        return secrets.token_hex(32)
    raise ValueError(f"unknown token kind {kind!r} (user, org or integration)")


def create_token(
    db: Database, scopes: list[str], kind: str, org_id: int, org_slug: str, url: str = "", name: str = ""
) -> tuple[str, int]:
    """Create a token; returns (token, id). Org tokens always get `org:ci` only, as in Sentry."""
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    if kind == "org":
        scopes = ["org:ci"]
    token = new_token(kind, org_slug, url)
    with db.tx():
        token_id = db.run(
            "INSERT INTO tokens (digest, kind, scopes, org_id, name, created) VALUES (?, ?, ?, ?, ?, ?)",
            (digest(token), kind, ",".join(scopes), org_id if kind == "org" else None, name, now_iso()),
        )
    return token, token_id


def authenticate(db: Database, authorization: str | None, admin_id: int | None) -> Principal:
    """Resolve a Bearer header to a principal or raise the 401 Sentry gives."""
    if not authorization:
        raise ApiError(401, dict(NO_CREDENTIALS), WWW_AUTHENTICATE)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, dict(NO_CREDENTIALS), WWW_AUTHENTICATE)
    row = db.one("SELECT id, kind, scopes, org_id FROM tokens WHERE digest = ? AND revoked = 0", (digest(token),))
    if row is None:
        message = "Invalid org token" if token.startswith(ORG_PREFIX) else "Invalid token"
        raise ApiError(401, {"detail": message}, WWW_AUTHENTICATE)
    scopes = frozenset(s for s in str(row["scopes"]).split(",") if s)
    return Principal(int(row["id"]), str(row["kind"]), scopes, row["org_id"], int(row["id"]) == admin_id)


def require(principal: Principal, scopes: tuple[str, ...]) -> None:
    if not principal.has_any(scopes):
        raise ApiError(403, dict(PERMISSION_DENIED))


def check_org(principal: Principal, org_id: int) -> None:
    """Org auth tokens only reach their own organization."""
    if principal.org_id is not None and principal.org_id != org_id:
        raise ApiError(403, dict(PERMISSION_DENIED))
