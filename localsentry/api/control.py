"""localsentry's own control endpoints under `/_localsentry/` (admin token only): faults, limits, features,
legacy-alert mode, organizations, tokens, request stats and raw ingested items."""

from __future__ import annotations

from typing import Any

from localsentry import auth
from localsentry.db import dumps, loads
from localsentry.http import ApiError, Request, Response, Router
from localsentry.models.common import org_features, org_row, org_settings, project_row, valid_slug
from localsentry.models.inbox import serialize_hook, serialize_mail
from localsentry.models.notifications import serialize_delivery
from localsentry.ratelimit import BODY_SHAPES
from localsentry.vocabulary import LEGACY_MODES

C = "/_localsentry"
CO = C + "/organizations/{organization_id_or_slug}"


def get_info(req: Request) -> Response:
    return Response(200, req.app.info())


def put_faults(req: Request) -> Response:
    spec = req.json()
    try:
        req.app.faults.configure(spec)
    except (ValueError, TypeError, KeyError) as exc:
        raise ApiError(400, {"detail": f"invalid fault spec: {exc}"}) from None
    return Response(200, req.app.faults.describe())


def get_faults(req: Request) -> Response:
    return Response(200, req.app.faults.describe())


def put_limits(req: Request) -> Response:
    body = req.json_object()
    values: dict[str, int | None] = {}
    for name in ("rate_limit", "concurrent_limit"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ApiError(400, {name: ["Must be an integer >= 0 (0 turns the limit off)."]})
        values[name] = value
    window, shape = body.get("window"), body.get("body")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 3600):
        raise ApiError(400, {"window": ["Must be an integer number of seconds, 1..3600."]})
    if shape is not None and shape not in BODY_SHAPES:
        raise ApiError(400, {"body": [f"Must be one of: {', '.join(BODY_SHAPES)}."]})
    req.app.limiter.set_limits(values["rate_limit"], values["concurrent_limit"], window, shape)
    return Response(200, req.app.limiter.limits())


def put_features(req: Request) -> Response:
    org = org_row(req)
    body = req.json_object()
    for name, enabled in body.items():
        if not isinstance(enabled, bool):
            raise ApiError(400, {name: ["Must be a valid boolean."]})
    db = req.app.db
    with db.tx():  # read and write the feature list in one step: concurrent changes of other features stay
        features = set(org_features(db.fetch("orgs", org["id"])))
        for name, enabled in body.items():
            (features.add if enabled else features.discard)(name)
        db.run("UPDATE orgs SET features = ? WHERE id = ?", (dumps(sorted(features)), org["id"]))
    return Response(200, {"features": sorted(features)})


def put_legacy_alerts(req: Request) -> Response:
    org = org_row(req)
    mode = req.json_object().get("mode")
    if mode not in LEGACY_MODES:
        raise ApiError(400, {"mode": [f"Must be one of {', '.join(LEGACY_MODES)}."]})
    db = req.app.db
    with db.tx():
        settings = org_settings(db.fetch("orgs", org["id"]))
        settings["legacyAlertsMode"] = mode
        db.run("UPDATE orgs SET settings = ? WHERE id = ?", (dumps(settings), org["id"]))
    return Response(200, {"mode": mode})


def create_org(req: Request) -> Response:
    body = req.json_object()
    slug = body.get("slug")
    if not valid_slug(slug):
        raise ApiError(400, {"slug": ["Enter a valid slug."]})
    if req.app.db.one("SELECT id FROM orgs WHERE slug = ?", (slug,)) is not None:
        raise ApiError(409, {"detail": "An organization with this slug already exists."})
    org_id = req.app.ensure_org(str(slug), body.get("name"))
    team = body.get("team")
    if team:
        req.app.ensure_team(org_id, str(team))
    return Response(201, {"id": str(org_id), "slug": slug})


def create_token(req: Request) -> Response:
    body = req.json_object()
    scopes = body.get("scopes", [])
    kind = body.get("kind", "user")
    org_slug = body.get("organization") or req.app.config.organization
    org = req.app.db.one("SELECT id, slug FROM orgs WHERE slug = ?", (org_slug,))
    if org is None or not isinstance(scopes, list):
        raise ApiError(400, {"detail": "unknown organization or scopes not a list"})
    try:
        token, token_id = auth.create_token(req.app.db, [str(s) for s in scopes], str(kind), int(org["id"]),
                                            str(org["slug"]), req.base_url)  # fmt: skip
    except ValueError as exc:
        raise ApiError(400, {"detail": str(exc)}) from None
    return Response(201, {"id": token_id, "token": token, "kind": kind})


def put_clock(req: Request) -> Response:
    """Move the clock of cron monitors (missed and timed-out check-ins) by `offset` seconds from now."""
    offset = req.json_object().get("offset")
    if not isinstance(offset, int | float) or isinstance(offset, bool) or offset < 0:
        raise ApiError(400, {"offset": ["Must be a number of seconds >= 0."]})
    req.app.clock_offset = float(offset)
    return Response(200, {"offset": req.app.clock_offset, "now": req.app.now()})


def get_stats(req: Request) -> Response:
    return Response(200, req.app.stats.snapshot())


def reset_stats(req: Request) -> Response:
    req.app.stats.reset()
    return Response(204)


def serialize_item(row: Any) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "type": row["type"],
        "eventId": row["event_id"],
        "environment": row["environment"],
        "release": row["release"],
        "key": row["public"],
        "received": row["received"],
        "timestamp": row["timestamp"],
        "payload": loads(row["payload"]),
        "headers": loads(row["headers"]),
    }


def list_items(req: Request) -> Response:
    """Every stored item of a project, newest first, filtered by type, environment, release and key."""
    org = org_row(req)
    project = project_row(req, org)
    sql = "SELECT i.*, k.public FROM items i LEFT JOIN keys k ON k.id = i.key_id WHERE i.project_id = ?"
    filters = (("type", "i.type"), ("environment", "i.environment"), ("release", "i.release"), ("key", "k.public"),
               ("event_id", "i.event_id"))  # fmt: skip
    rows = _filtered_rows(req, sql, [project["id"]], filters, "i.id", 1000, 10000)
    return Response(200, [serialize_item(r) for r in rows])


def _filtered_rows(req: Request, sql: str, args: list[Any], filters: tuple[tuple[str, str], ...], order: str,
                   default_limit: int, max_limit: int) -> list[Any]:  # fmt: skip
    """Rows of `sql` narrowed by each query parameter of `filters` (`param`, column: one or more values), newest
    first, at most `limit`."""
    for param, column in filters:
        values = req.args(param)
        if values:
            sql += f" AND {column} IN ({','.join('?' * len(values))})"
            args = [*args, *values]
    limit = min(int(req.arg("limit") or default_limit), max_limit)
    return req.app.db.all(sql + f" ORDER BY {order} DESC LIMIT {limit}", args)


def list_deliveries(req: Request) -> Response:
    """The deliveries of firing workflows and test-fires, newest first (`workflow`, `group` (the issue a firing
    was for), `status`, `type` filters)."""
    sql = "SELECT d.*, f.group_id FROM deliveries d LEFT JOIN workflow_fires f ON f.id = d.fire_id WHERE 1 = 1"
    filters = (("workflow", "d.workflow_id"), ("group", "f.group_id"), ("status", "d.status"), ("type", "d.type"))
    return Response(200, [serialize_delivery(r) for r in _filtered_rows(req, sql, [], filters, "d.id", 200, 5000)])


def list_mail(req: Request) -> Response:
    """The messages the built-in SMTP server received, newest first."""
    return Response(200, [serialize_mail(r, full=True) for r in req.app.db.all("SELECT * FROM mail ORDER BY id DESC")])


def list_hooks(req: Request) -> Response:
    """What the built-in webhook receiver (`POST /_localsentry/hooks/{name}`) received, newest first."""
    return Response(200, [serialize_hook(r) for r in req.app.db.all("SELECT * FROM webhook_inbox ORDER BY id DESC")])


def register(router: Router) -> None:
    admin: tuple[str, ...] = ()
    for method, path, handler in (
        ("GET", C + "/info", get_info),
        ("GET", C + "/faults", get_faults),
        ("PUT", C + "/faults", put_faults),
        ("PUT", C + "/limits", put_limits),
        ("PUT", CO + "/features", put_features),
        ("PUT", CO + "/legacy-alerts", put_legacy_alerts),
        ("POST", C + "/organizations", create_org),
        ("POST", C + "/tokens", create_token),
        ("PUT", C + "/clock", put_clock),
        ("GET", C + "/stats", get_stats),
        ("POST", C + "/stats/reset", reset_stats),
        ("GET", C + "/projects/{organization_id_or_slug}/{project_id_or_slug}/items/", list_items),
        ("GET", C + "/deliveries", list_deliveries),
        ("GET", C + "/mail", list_mail),
        ("GET", C + "/hooks", list_hooks),
    ):
        router.add(method, path, handler, admin, kind="admin")
