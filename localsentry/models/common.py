"""Lookups shared by the endpoints: organizations, teams and projects by id or slug, slug rules, body helpers."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from localsentry.db import Database, dumps, loads
from localsentry.http import ApiError, Request, not_found

SLUG_RE = re.compile(r"^(?![0-9]+$)[a-z0-9_\-]+$")
SLUG_ERROR = (
    "Enter a valid slug consisting of lowercase letters, numbers, underscores or hyphens. "
    "It cannot be entirely numeric."
)


def valid_slug(value: Any) -> bool:
    return isinstance(value, str) and bool(SLUG_RE.match(value))


def slugify(name: str, max_length: int = 50) -> str:
    slug = re.sub(r"[^a-z0-9_\-]+", "-", name.lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)[:max_length].strip("-")
    if not slug or slug.isdigit():
        slug = f"{slug or 'x'}-project"[:max_length]
    return slug


def unique_slug(db: Database, table: str, org_id: int, base: str, max_length: int = 50) -> str:
    taken = {
        str(r["slug"])
        for r in db.all(f"SELECT slug FROM {table} WHERE org_id = ? AND deleted = 0", (org_id,))  # noqa: S608
    }
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def org_row(req: Request) -> sqlite3.Row:
    """The organization named in the path, checked against an org token's own org."""
    value = req.params["organization_id_or_slug"]
    db = req.app.db
    row = db.one("SELECT * FROM orgs WHERE slug = ?", (value,))
    if row is None and value.isdigit():
        row = db.one("SELECT * FROM orgs WHERE id = ?", (int(value),))
    if row is None:
        raise not_found()
    principal = req.principal
    if principal is not None and principal.org_id is not None and principal.org_id != int(row["id"]):
        raise ApiError(403, {"detail": "You do not have permission to perform this action."})
    return row


def org_features(org: sqlite3.Row) -> list[str]:
    return [str(f) for f in loads(org["features"]) or []]


def org_settings(org: sqlite3.Row) -> dict[str, Any]:
    return dict(loads(org["settings"]) or {})


def has_feature(org: sqlite3.Row, feature: str) -> bool:
    return feature in org_features(org)


def _live(db: Database, table: str, org: sqlite3.Row, value: str) -> sqlite3.Row | None:
    """A live team or project of the organization by slug, else by id."""
    sql = f"SELECT * FROM {table} WHERE org_id = ? AND deleted = 0 AND "  # noqa: S608 - teams or projects
    row = db.one(sql + "slug = ?", (org["id"], value))
    if row is None and value.isdigit():
        row = db.one(sql + "id = ?", (org["id"], int(value)))
    return row


def team_row(req: Request, org: sqlite3.Row, param: str = "team_id_or_slug") -> sqlite3.Row:
    row = _live(req.app.db, "teams", org, req.params[param])
    if row is None:
        raise not_found()
    return row


def project_row(req: Request, org: sqlite3.Row, param: str = "project_id_or_slug") -> sqlite3.Row:
    """A live project by slug or id; an old slug of a renamed project answers 302 like Sentry."""
    value = req.params[param]
    db = req.app.db
    row = _live(db, "projects", org, value)
    if row is not None:
        return row
    moved = db.one(
        "SELECT p.slug FROM project_redirects r JOIN projects p ON p.id = r.project_id "
        "WHERE r.org_id = ? AND r.slug = ? AND p.deleted = 0",
        (org["id"], value),
    )
    if moved is not None:
        new_slug = str(moved["slug"])
        segments = req.path.split("/")
        new_path = "/".join(new_slug if s == value else s for s in segments)
        url = f"{req.base_url}{new_path}"
        detail = {
            "code": "resource-moved",
            "message": "Resource has been moved",
            "extra": {"url": url, "slug": new_slug},
        }
        raise ApiError(302, {"detail": detail})
    raise not_found()


def project_data(row: sqlite3.Row) -> dict[str, Any]:
    return dict(loads(row["data"]) or {})


def save_project_data(db: Database, project_id: int, data: dict[str, Any]) -> None:
    db.run("UPDATE projects SET data = ? WHERE id = ?", (dumps(data), project_id))


def project_teams(db: Database, project_id: int) -> list[dict[str, str]]:
    rows = db.all(
        "SELECT t.id, t.name, t.slug FROM project_teams pt JOIN teams t ON t.id = pt.team_id "
        "WHERE pt.project_id = ? AND t.deleted = 0 ORDER BY t.slug",
        (project_id,),
    )
    return [{"id": str(r["id"]), "name": str(r["name"]), "slug": str(r["slug"])} for r in rows]


def field_errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ApiError(400, errors)


def bool_field(body: dict[str, Any], name: str, errors: dict[str, list[str]]) -> bool | None:
    if name not in body:
        return None
    value = body[name]
    if isinstance(value, bool):
        return value
    if value in ("true", "True", 1, "1"):
        return True
    if value in ("false", "False", 0, "0"):
        return False
    errors[name] = ["Must be a valid boolean."]
    return None


def str_field(
    body: dict[str, Any], name: str, errors: dict[str, list[str]], max_length: int, *, nullable: bool = True
) -> str | None:
    value = body.get(name)
    if value is None:
        if name in body and not nullable:
            errors[name] = ["This field may not be null."]
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors[name] = ["Not a valid string."]
        return None
    text = str(value)
    if len(text) > max_length:
        errors[name] = [f"Ensure this field has no more than {max_length} characters."]
    return text


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _instant(req: Request, name: str) -> float | None:
    raw = req.arg(name)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, {"detail": f"{name} must be an ISO 8601 date, not {raw!r}"}) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def time_range(req: Request, default_period: str | None = None) -> tuple[float | None, float | None]:
    """(since, until) from `statsPeriod` (overrides `start`/`end`, as in Sentry) or `start` and `end`."""
    period = req.arg("statsPeriod") or req.arg("period")
    if not period and not req.arg("start"):
        period = default_period
    if period:
        unit = PERIODS.get(period[-1:])
        if unit is None or not period[:-1].isdigit():
            raise ApiError(400, {"detail": f"Invalid statsPeriod: {period!r}"})
        return time.time() - int(period[:-1]) * unit, None
    return _instant(req, "start"), _instant(req, "end")
