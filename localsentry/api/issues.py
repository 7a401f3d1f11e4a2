"""Issues: the organization's and a project's issue lists (query, sort, environment, project, time), bulk
update and delete, one issue (get, update, delete) and its events (list, latest, oldest, recommended, by id).

Query terms: `is:unresolved|resolved|ignored|archived`, `level:`, `release:`, `issue:` (short id), `has:user`,
free text in the title or culprit; the default query is `is:unresolved`, as in Sentry. Sorts: `date` (last
seen, the default), `new` (first seen), `freq` (events), `user` (users).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.http import ApiError, Request, Response, Router, not_found
from localsentry.models.common import org_row, project_row, time_range
from localsentry.models.engine import project_filter
from localsentry.models.events import serialize_detail, serialize_summary
from localsentry.models.issues import activity, base32, group_stats, record_activity, serialize_group
from localsentry.pagination import paginate

ORG = "/api/0/organizations/{organization_id_or_slug}"
I = ORG + "/issues/{issue_id}"  # noqa: E741
READ = ("event:admin", "event:read", "event:write")
WRITE = ("event:admin", "event:write")
ADMIN = ("event:admin",)
PROJECT_READ = ("event:read",)
SORTS = ("date", "freq", "inbox", "new", "recommended", "trends", "user")
STATUSES = {"resolved": "resolved", "unresolved": "unresolved", "ignored": "ignored", "muted": "ignored",
            "resolvedInNextRelease": "resolved"}  # fmt: skip


def _envs(req: Request) -> list[str]:
    return [e for e in req.args("environment") if e]


def _short_id(row: sqlite3.Row, slug: str) -> str:
    return f"{slug.upper()}-{base32(int(row['short_seq']))}"


def _matching(req: Request, org: sqlite3.Row, project_ids: set[int] | None) -> list[sqlite3.Row]:
    db = req.app.db
    sql = ("SELECT g.*, p.slug AS project_slug FROM groups g JOIN projects p ON p.id = g.project_id "
           "WHERE p.org_id = ? AND p.deleted = 0 AND g.deleted = 0")  # fmt: skip
    args: list[Any] = [org["id"]]
    ids = [int(i) for i in req.args("id") if i.isdigit()]
    if ids:
        sql += f" AND g.id IN ({','.join('?' * len(ids))})"
        args += ids
    if project_ids is not None:
        sql += f" AND g.project_id IN ({','.join('?' * len(project_ids))})"
        args += sorted(project_ids)
    rows = db.all(sql, args)
    envs = _envs(req)
    since, until = time_range(req)
    query = req.arg("query")
    if query is None:
        query = "" if ids else "is:unresolved"
    result = []
    for row in rows:
        seen_sql = "SELECT COUNT(*) FROM items WHERE group_id = ?"
        seen_args: list[Any] = [row["id"]]
        if envs:
            seen_sql += f" AND environment IN ({','.join('?' * len(envs))})"
            seen_args += envs
        if since is not None:
            seen_sql += " AND COALESCE(timestamp, received) >= ?"
            seen_args.append(since)
        if until is not None:
            seen_sql += " AND COALESCE(timestamp, received) <= ?"
            seen_args.append(until)
        if not db.scalar(seen_sql, seen_args):
            continue
        if _query_matches(req, row, query):
            result.append(row)
    return result


def _query_matches(req: Request, row: sqlite3.Row, query: str) -> bool:
    for token in query.split():
        negate = token.startswith("!")
        key, sep, value = token.lstrip("!").partition(":")
        value = value.strip('"')
        if not sep:
            text = f"{row['title']} {row['culprit'] or ''}".lower()
            found = token.lower().strip('"') in text
        elif key == "is":
            found = row["status"] == ("ignored" if value == "archived" else value) or (
                value == "unassigned") or (value == "new" and row["substatus"] == "new")  # fmt: skip
        elif key == "level":
            found = row["level"] == value
        elif key in ("release", "environment"):
            found = bool(req.app.db.scalar(f"SELECT 1 FROM items WHERE group_id = ? AND {key} = ? LIMIT 1",  # noqa: S608
                                           (row["id"], value)))  # fmt: skip
        elif key == "issue":
            found = _short_id(row, str(row["project_slug"])) == value.upper() or str(row["id"]) == value
        elif key == "has" and value == "user":
            found = bool(req.app.db.scalar("SELECT 1 FROM items WHERE group_id = ? AND user_key IS NOT NULL LIMIT 1",
                                           (row["id"],)))  # fmt: skip
        else:
            found = True  # an unknown key narrows nothing (Sentry would search tags)
        if found == negate:
            return False
    return True


def _sorted(req: Request, rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    sort = req.arg("sort") or "date"
    if sort not in SORTS:
        raise ApiError(400, {"detail": f"Invalid sort: {sort!r}"})
    envs = _envs(req)
    stats = {int(r["id"]): group_stats(req.app.db, int(r["id"]), envs) for r in rows}
    key = {"new": "firstSeen", "freq": "count", "user": "userCount"}.get(sort, "lastSeen")
    return sorted(rows, key=lambda r: (stats[int(r["id"])][key] or 0, int(r["id"])), reverse=True)


def _expand(req: Request) -> tuple[str, ...]:
    return tuple(req.args("expand"))


def list_org_issues(req: Request) -> Response:
    org = org_row(req)
    rows = _sorted(req, _matching(req, org, project_filter(req, int(org["id"]))))
    limit = req.arg("limit")
    if limit and limit.isdigit() and not req.arg("per_page"):
        req.query["per_page"] = [str(min(int(limit), 100))]
    return paginate(req, rows, lambda r: serialize_group(req, r, environments=_envs(req), expand=_expand(req)),
                    hits=len(rows))  # fmt: skip


def list_project_issues(req: Request) -> Response:
    org = org_row(req)
    project = project_row(req, org)
    rows = _sorted(req, _matching(req, org, {int(project["id"])}))
    return paginate(req, rows, lambda r: serialize_group(req, r, environments=_envs(req), expand=_expand(req)))


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    """Column changes of an issue update. Archiving (`ignored`) is forever, until escalating (`substatus`
    archived_until_escalating) or until `statusDetails.ignoreCount` more events (archived_until_condition_met)."""
    changes: dict[str, Any] = {}
    if "status" in body:
        status = body["status"]
        if status not in STATUSES:
            raise ApiError(400, {"status": [f'"{status}" is not a valid choice.']})
        changes["status"] = STATUSES[status]
        changes["substatus"] = {"unresolved": "ongoing", "ignored": "archived_forever"}.get(STATUSES[status])
        details: dict[str, Any] = body["statusDetails"] if isinstance(body.get("statusDetails"), dict) else {}
        count = details.get("ignoreCount")
        if changes["status"] == "ignored" and isinstance(count, int) and not isinstance(count, bool) and count > 0:
            changes["substatus"], changes["ignore_count"] = "archived_until_condition_met", count
        elif changes["status"] == "ignored" and body.get("substatus") == "archived_until_escalating":
            changes["substatus"] = "archived_until_escalating"
    for name, column in (("isBookmarked", "is_bookmarked"), ("hasSeen", "has_seen")):
        if name in body:
            if not isinstance(body[name], bool):
                raise ApiError(400, {name: ["Must be a valid boolean."]})
            changes[column] = int(body[name])
    return changes


ACTIVITY = {"resolved": "set_resolved", "ignored": "set_ignored", "unresolved": "set_unresolved"}


def _apply(req: Request, rows: list[sqlite3.Row], changes: dict[str, Any]) -> None:
    db = req.app.db
    with db.tx():
        for row in rows:
            if "status" in changes and "ignore_count" not in changes:
                db.run("UPDATE groups SET ignore_until = NULL WHERE id = ?", (row["id"],))
            for column, value in changes.items():
                if column == "ignore_count":
                    seen = int(db.scalar("SELECT COUNT(*) FROM items WHERE group_id = ?", (row["id"],)))
                    db.run("UPDATE groups SET ignore_until = ? WHERE id = ?", (seen + int(value), row["id"]))
                    continue
                db.run(f"UPDATE groups SET {column} = ? WHERE id = ?", (value, row["id"]))  # noqa: S608
            if changes.get("status") and changes["status"] != row["status"]:
                record_activity(db, int(row["id"]), ACTIVITY[str(changes["status"])], req.app.now())


def bulk_update(req: Request) -> Response:
    org = org_row(req)
    rows = _matching(req, org, project_filter(req, int(org["id"])))
    changes = _changes(req.json_object())
    if not rows:
        return Response(204)
    _apply(req, rows, changes)
    body = {k: v for k, v in req.json_object().items() if k in ("status", "isBookmarked", "hasSeen")}
    if "status" in body:
        body["statusDetails"] = {}
    return Response(200, body)


def _delete(req: Request, rows: list[sqlite3.Row]) -> None:
    with req.app.db.tx():
        for row in rows:
            req.app.db.run("UPDATE groups SET deleted = 1 WHERE id = ?", (row["id"],))
            req.app.db.run("UPDATE items SET group_id = NULL WHERE group_id = ?", (row["id"],))
            req.app.db.run("UPDATE groups SET hash = hash || '-deleted-' || id WHERE id = ?", (row["id"],))


def bulk_delete(req: Request) -> Response:
    org = org_row(req)
    if not req.args("id"):
        raise ApiError(400, {"detail": "You must specify a list of IDs for this operation"})
    _delete(req, _matching(req, org, project_filter(req, int(org["id"]))))
    return Response(204)


def _issue(req: Request) -> sqlite3.Row:
    org = org_row(req)
    value = req.params["issue_id"]
    sql = ("SELECT g.*, p.slug AS project_slug FROM groups g JOIN projects p ON p.id = g.project_id "
           "WHERE p.org_id = ? AND p.deleted = 0 AND g.deleted = 0")  # fmt: skip
    if value.isdigit():
        row = req.app.db.one(sql + " AND g.id = ?", (org["id"], int(value)))
    else:
        row = next((r for r in req.app.db.all(sql, (org["id"],)) if _short_id(r, str(r["project_slug"])) ==
                    value.upper()), None)  # fmt: skip
    if row is None:
        raise not_found()
    return row


def get_issue(req: Request) -> Response:
    return Response(200, serialize_group(req, _issue(req), detailed=True, environments=_envs(req)))


def update_issue(req: Request) -> Response:
    row = _issue(req)
    _apply(req, [row], _changes(req.json_object()))
    fresh = req.app.db.fetch("groups", row["id"])
    body = serialize_group(req, fresh)
    for name in (
        "derivedData",
        "stats",
        "lifetime",
        "filtered",
        "sessionCount",
        "integrationIssues",
        "sentryAppIssues",
        "latestEventHasAttachments",
        "matchingEventId",
        "matchingEventEnvironment",
    ):
        body.pop(name, None)  # fmt: skip
    return Response(200, body)


def issue_activities(req: Request) -> Response:
    """The issue's activity (`GET …/issues/{issue_id}/activities/`), newest first."""
    return Response(200, {"activity": activity(req.app.db, _issue(req))})


def delete_issue(req: Request) -> Response:
    _delete(req, [_issue(req)])
    return Response(202)


def _event_rows(req: Request, group: sqlite3.Row) -> list[sqlite3.Row]:
    sql = "SELECT * FROM items WHERE group_id = ?"
    args: list[Any] = [group["id"]]
    envs = _envs(req)
    if envs:
        sql += f" AND environment IN ({','.join('?' * len(envs))})"
        args += envs
    since, until = time_range(req)
    if since is not None:
        sql += " AND COALESCE(timestamp, received) >= ?"
        args.append(since)
    if until is not None:
        sql += " AND COALESCE(timestamp, received) <= ?"
        args.append(until)
    return req.app.db.all(sql + " ORDER BY id DESC", args)


def issue_events(req: Request) -> Response:
    group = _issue(req)
    rows = _event_rows(req, group)
    full = (req.arg("full") or "").lower() in ("1", "true")
    return paginate(req, rows, lambda r: serialize_detail(req, r) if full else serialize_summary(r))


def issue_event(req: Request) -> Response:
    group = _issue(req)
    rows = _event_rows(req, group)
    which = req.params["event_id"]
    if which in ("latest", "recommended"):
        row = rows[0] if rows else None
    elif which == "oldest":
        row = rows[-1] if rows else None
    else:
        row = next((r for r in rows if r["event_id"] == which.replace("-", "").lower()), None)
    if row is None:
        raise not_found()
    return Response(200, serialize_detail(req, row))


def register(router: Router) -> None:
    router.add("GET", ORG + "/issues/", list_org_issues, READ)
    router.add("PUT", ORG + "/issues/", bulk_update, WRITE)
    router.add("DELETE", ORG + "/issues/", bulk_delete, ADMIN)
    router.add("GET", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/issues/", list_project_issues,
               PROJECT_READ)  # fmt: skip
    router.add("GET", I + "/", get_issue, READ)
    router.add("PUT", I + "/", update_issue, WRITE)
    router.add("DELETE", I + "/", delete_issue, ADMIN)
    router.add("GET", I + "/activities/", issue_activities, READ)
    router.add("GET", I + "/events/", issue_events, READ)
    router.add("GET", I + "/events/{event_id}/", issue_event, READ)
