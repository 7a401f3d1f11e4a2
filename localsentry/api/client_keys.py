"""Client keys (DSNs): list, create, get, partial update, delete, the org-wide list and per-key stats."""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

from localsentry.db import dumps, loads
from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.client_keys import (
    DEFAULT_LOADER,
    LOADER_KEYS,
    USE_CASES,
    insert_key,
    serialize_key,
)
from localsentry.models.common import has_feature, org_row, project_row
from localsentry.pagination import paginate
from localsentry.vocabulary import BROWSER_SDK_CHOICES, DEFAULT_BROWSER_SDK

P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
K = P + "/keys/{key_id}"
KEY_RE = re.compile(r"^[a-f0-9]{32}$")
MAX_WINDOW = 86400


def _rate_limit(body: dict[str, Any], errors: dict[str, Any], *, allow_null: bool) -> tuple[Any, bool]:
    """Parse `rateLimit`; returns (value, present). value None means clear, a tuple means set."""
    if "rateLimit" not in body:
        return None, False
    value = body["rateLimit"]
    if value is None:
        if not allow_null:
            errors["rateLimit"] = ["This field may not be null."]
        return None, True
    if not isinstance(value, dict):
        errors["rateLimit"] = {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}
        return None, True
    if not value:
        return None, False
    nested: dict[str, list[str]] = {}
    count, window = value.get("count"), value.get("window")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        nested["count"] = ["Ensure this value is greater than or equal to 0."]
    if window is not None and (
        not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= MAX_WINDOW
    ):
        nested["window"] = [f"Ensure this value is less than or equal to {MAX_WINDOW}."]
    if nested:
        errors["rateLimit"] = nested
        return None, True
    if not count or not window:
        return None, True
    return (count, window), True


def _key_row(req: Request) -> tuple[sqlite3.Row, sqlite3.Row, sqlite3.Row]:
    org = org_row(req)
    project = project_row(req, org)
    key = req.app.db.one(
        "SELECT * FROM keys WHERE project_id = ? AND public = ? AND deleted = 0", (project["id"], req.params["key_id"])
    )
    if key is None:
        raise not_found()
    return org, project, key


def list_keys(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    status = req.arg("status")
    sql = "SELECT * FROM keys WHERE project_id = ? AND deleted = 0"
    if status == "active":
        sql += " AND active = 1"
    elif status == "inactive":
        sql += " AND active = 0"
    elif status:
        sql += " AND 0"
    rows = req.app.db.all(sql + " ORDER BY id DESC", (project["id"],))
    return paginate(req, rows, lambda k: serialize_key(req, k, int(org["id"])), default=10)


def create_key(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    body = req.json_object()
    errors: dict[str, Any] = {}
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        errors["name"] = ["Ensure this field has no more than 64 characters."]
    rate, _ = _rate_limit(body, errors, allow_null=False)
    use_case = body.get("useCase", "user")
    if use_case not in USE_CASES:
        errors["useCase"] = [f'"{use_case}" is not a valid choice.']
    for field in ("public", "secret"):
        if field in body and (not isinstance(body[field], str) or not KEY_RE.match(body[field])):
            errors[field] = ["This value does not match the required pattern."]
    if errors:
        raise ApiError(400, errors)
    if not has_feature(org, "projects:rate-limits"):
        rate = None
    db = req.app.db
    with db.tx():
        if body.get("public") and db.one("SELECT id FROM keys WHERE public = ?", (body["public"],)):
            raise ApiError(400, {"public": ["A key with this public key already exists."]})
        key_id = insert_key(
            db, int(project["id"]), name or None, body.get("public"), body.get("secret"), rate,
            use_case if req.principal is not None and req.principal.is_admin else "user",
        )  # fmt: skip
    key = db.fetch("keys", key_id)
    return Response(201, serialize_key(req, key, int(org["id"])))


def get_key(req: Request) -> Response:
    org, _, key = _key_row(req)
    return Response(200, serialize_key(req, key, int(org["id"])))


def update_key(req: Request) -> Response:
    org, _, key = _key_row(req)
    body = req.json_object()
    errors: dict[str, Any] = {}
    sets: dict[str, Any] = {}
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        errors["name"] = ["Ensure this field has no more than 64 characters."]
    elif name:
        sets["label"] = name
    if "isActive" in body:
        if not isinstance(body["isActive"], bool):
            errors["isActive"] = ["Must be a valid boolean."]
        else:
            sets["active"] = 1 if body["isActive"] else 0
    rate, present = _rate_limit(body, errors, allow_null=True)
    if present and has_feature(org, "projects:rate-limits"):
        sets["rl_count"], sets["rl_window"] = rate if rate else (None, None)
    version = body.get("browserSdkVersion")
    if version is None:
        sets["browser_sdk"] = DEFAULT_BROWSER_SDK
    elif version not in BROWSER_SDK_CHOICES:
        errors["browserSdkVersion"] = [f'"{version}" is not a valid choice.']
    else:
        sets["browser_sdk"] = version
    options = body.get("dynamicSdkLoaderOptions")
    loader_changes: dict[str, bool] = {}
    if options is not None:
        if not isinstance(options, dict):
            errors["dynamicSdkLoaderOptions"] = ["Expected a dictionary of items."]
        else:
            loader_changes = {k: bool(v) for k, v in options.items() if k in LOADER_KEYS}
    if errors:
        raise ApiError(400, errors)
    db = req.app.db
    with db.tx():
        if loader_changes:  # merged into the stored options in the same step: a concurrent change of another stays
            stored = loads(db.fetch("keys", key["id"])["loader"]) or {}
            sets["loader"] = dumps({**DEFAULT_LOADER, **stored, **loader_changes})
        for column, value in sets.items():
            db.run(f"UPDATE keys SET {column} = ? WHERE id = ?", (value, key["id"]))  # noqa: S608
    fresh = db.fetch("keys", key["id"])
    return Response(200, serialize_key(req, fresh, int(org["id"])))


def delete_key(req: Request) -> Response:
    _, _, key = _key_row(req)
    with req.app.db.tx():
        req.app.db.run("DELETE FROM keys WHERE id = ?", (key["id"],))
    return Response(204)


def org_keys(req: Request) -> Response:
    org = org_row(req)
    sql = (
        "SELECT k.* FROM keys k JOIN projects p ON p.id = k.project_id WHERE p.org_id = ? AND p.deleted = 0 "
        "AND k.deleted = 0"
    )
    args: list[Any] = [org["id"]]
    team = req.arg("team")
    if team:
        sql += " AND k.project_id IN (SELECT pt.project_id FROM project_teams pt JOIN teams t ON t.id = pt.team_id "
        sql += "WHERE t.org_id = ? AND t.deleted = 0 AND (t.slug = ? OR CAST(t.id AS TEXT) = ?))"
        args += [org["id"], team, team]
    status = req.arg("status")
    if status in ("active", "inactive"):
        sql += " AND k.active = ?"
        args.append(1 if status == "active" else 0)
    elif status:
        sql += " AND 0"
    rows = req.app.db.all(sql + " ORDER BY k.id DESC", args)
    return paginate(req, rows, lambda k: serialize_key(req, k, int(org["id"])))


RESOLUTIONS = {"10s": 10, "1m": 60, "1h": 3600, "1d": 86400}
ERROR_CATEGORIES = ("default", "error", "security")


def key_stats(req: Request) -> Response:
    """Outcomes of one key per time bucket: `[{ts, total, accepted, dropped, filtered}]`. Like Sentry it counts
    error events; `category=<name>|all` (localsentry extension) counts other data categories."""
    _, _, key = _key_row(req)
    resolution = req.arg("resolution") or "1h"
    if resolution not in RESOLUTIONS:
        raise ApiError(400, {"detail": f"Invalid resolution {resolution!r}, valid values are: {sorted(RESOLUTIONS)}"})
    step = RESOLUTIONS[resolution]
    try:
        until = int(float(req.arg("until") or time.time()))
        since = int(float(req.arg("since") or until - 86400))
    except ValueError:
        raise ApiError(400, {"detail": "since and until must be Unix timestamps"}) from None
    start = since - since % step
    if until < since or (until - start) // step > 2000:
        raise ApiError(400, {"detail": "Too many data points requested; use a coarser resolution"})
    buckets: dict[int, dict[str, int]] = {}
    ts = start
    while ts <= until:
        buckets[ts] = {"ts": ts, "total": 0, "dropped": 0, "accepted": 0, "filtered": 0}
        ts += step
    category = req.arg("category") or "error"
    categories = ERROR_CATEGORIES if category == "error" else None if category == "all" else (category,)
    sql = "SELECT ts, outcome, SUM(n) AS n FROM outcomes WHERE key_id = ? AND ts >= ? AND ts <= ?"
    args: list[Any] = [key["id"], start, until]
    if categories is not None:
        sql += f" AND category IN ({','.join('?' * len(categories))})"
        args += categories
    rows = req.app.db.all(sql + " GROUP BY ts, outcome", args)
    for row in rows:
        bucket = buckets.get(int(row["ts"]) - int(row["ts"]) % step)
        if bucket is None:
            continue
        field = {"accepted": "accepted", "filtered": "filtered"}.get(str(row["outcome"]), "dropped")
        bucket[field] += int(row["n"])
        bucket["total"] += int(row["n"])
    return Response(200, list(buckets.values()))


def register(router: Router) -> None:
    read = ("project:admin", "project:read", "project:write")
    write = ("project:admin", "project:write")
    router.add("GET", P + "/keys/", list_keys, read)
    router.add("POST", P + "/keys/", create_key, write)
    router.add("GET", K + "/", get_key, read)
    router.add("PUT", K + "/", update_key, write)
    router.add("DELETE", K + "/", delete_key, ("project:admin",))
    router.add("GET", K + "/stats/", key_stats, read)
    router.add("GET", "/api/0/organizations/{organization_id_or_slug}/project-keys/", org_keys,
               ("org:admin", "org:read", "org:write"))  # fmt: skip
