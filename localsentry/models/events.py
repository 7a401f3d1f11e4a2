"""Stored events in Sentry's shapes: the list summary and the detail with its entries (exception, breadcrumbs...)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from localsentry.db import loads
from localsentry.http import Request


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def title_of(payload: dict[str, Any], kind: str) -> tuple[str, str]:
    """(title, message) as Sentry derives them."""
    if kind == "transaction":
        name = str(payload.get("transaction") or "<unlabeled transaction>")
        return name, ""
    logentry: dict[str, Any] = payload["logentry"] if isinstance(payload.get("logentry"), dict) else {}
    message = payload.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    message = str(logentry.get("formatted") or logentry.get("message") or message or "")
    exc = payload.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc if isinstance(exc, list) else None
    if values and isinstance(values[-1], dict):
        last = values[-1]
        title = f"{last.get('type') or 'Error'}: {last.get('value') or ''}".rstrip(": ")
        return title, message or str(last.get("value") or "")
    return (message.splitlines()[0][:100] if message else "<unlabeled event>"), message


def event_tags(payload: dict[str, Any], environment: str | None, release: str | None, kind: str = "event"
               ) -> dict[str, str]:  # fmt: skip
    """An event's tags as Sentry lists them: the SDK's, plus environment, release, level, server_name and
    transaction."""
    tags: dict[str, str] = {}
    raw = payload.get("tags")
    if isinstance(raw, dict):
        tags.update({str(k): str(v) for k, v in raw.items()})
    elif isinstance(raw, list):
        tags.update({str(p[0]): str(p[1]) for p in raw if isinstance(p, list | tuple) and len(p) == 2})
    for name, value in (
        ("environment", environment),
        ("release", release),
        ("level", payload.get("level") or ("info" if kind == "transaction" else "error")),
        ("server_name", payload.get("server_name")),
        ("transaction", payload.get("transaction")),
    ):
        if value:
            tags.setdefault(name, str(value))
    return tags


def _tags(payload: dict[str, Any], row: sqlite3.Row) -> list[dict[str, str]]:
    tags = event_tags(payload, row["environment"], row["release"], str(row["type"]))
    return [{"key": k, "value": v, "query": f'{k}:"{v}"'} for k, v in sorted(tags.items())]


def _user(payload: dict[str, Any]) -> dict[str, Any] | None:
    user = payload.get("user")
    if not isinstance(user, dict) or not user:
        return None
    out = {
        k: (None if user.get(k) is None else str(user.get(k)))
        for k in ("id", "email", "username", "ip_address", "name")
    }
    if isinstance(user.get("data"), dict):
        out["data"] = user["data"]
    return out


def _kind(row: sqlite3.Row, payload: dict[str, Any]) -> str:
    if row["type"] == "transaction":
        return "transaction"
    if payload.get("type") in ("csp", "nel", "hpkp", "expectct", "expectstaple", "feedback"):
        return str(payload["type"])
    return "error" if payload.get("exception") else "default"


def _column(row: sqlite3.Row, name: str) -> Any:
    return row[name] if name in row.keys() else None


def serialize_summary(row: sqlite3.Row) -> dict[str, Any]:
    payload = loads(row["payload"]) or {}
    kind = _kind(row, payload)
    title, message = title_of(payload, str(row["type"]))
    culprit = payload.get("culprit") or payload.get("transaction")
    return {
        "id": str(row["event_id"]),
        "event.type": kind,
        "groupID": None if _column(row, "group_id") is None else str(row["group_id"]),
        "eventID": str(row["event_id"]),
        "projectID": str(row["project_id"]),
        "message": message,
        "title": title,
        "location": None if culprit is None else str(culprit),
        "culprit": None if culprit is None else str(culprit),
        "user": _user(payload),
        "tags": _tags(payload, row),
        "platform": payload.get("platform") or "other",  # Sentry normalises a missing platform
        "dateCreated": iso(row["timestamp"] or row["received"]),
        "crashFile": None,
        "metadata": {"title": title, "value": message} if kind == "error" else {"title": title},
    }


def _context(frame: dict[str, Any]) -> list[list[Any]]:
    """Sentry's `context` of a frame: `[[line number, line], …]` from `pre_context`, `context_line`, `post_context`."""
    line, lineno = frame.get("context_line"), frame.get("lineno")
    if not isinstance(line, str) or not isinstance(lineno, int):
        return []
    pre = [x for x in frame.get("pre_context") or [] if isinstance(x, str)]
    post = [x for x in frame.get("post_context") or [] if isinstance(x, str)]
    first = lineno - len(pre)
    return [[first + n, text] for n, text in enumerate([*pre, line, *post])]


#: the messages of Sentry's processing errors (`EventError`) this server writes
ERROR_MESSAGES = {
    "js_no_source": "Source code was not found",
    "js_invalid_source": "Sourcemap was invalid or not parseable",
    "js_invalid_sourcemap_location": "Invalid location in sourcemap",
    "js_missing_sources_content": "Source code missing from the source map's sourcesContent",
    "unknown_error": "Unknown error",
}


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("file:", "http:", "https:", "blob:"))


def _source_map(frame: dict[str, Any]) -> dict[str, Any]:
    """What Sentry's event API adds to a frame resolved through a source map (its `data.sourcemap`)."""
    data = frame.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("sourcemap"), str):
        return {}
    out = {"map": data["sourcemap"].rsplit("/", 1)[-1],
           **{k: data.get(v, "?") for k, v in (("origFunction", "orig_function"), ("origAbsPath", "orig_abs_path"),
                                               ("origFilename", "orig_filename"), ("origLineNo", "orig_lineno"),
                                               ("origColNo", "orig_colno"))}}  # fmt: skip
    if _is_url(data["sourcemap"]):
        out["mapUrl"] = data["sourcemap"]
    return out


def errors_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's processing errors as Sentry's event API answers them: type, message and the rest as data."""
    out = []
    for error in payload.get("errors") or []:
        if isinstance(error, dict) and error.get("type"):
            kind = str(error["type"])
            out.append({"type": kind, "message": ERROR_MESSAGES.get(kind, ERROR_MESSAGES["unknown_error"]),
                        "data": {k: v for k, v in error.items() if k != "type"}})  # fmt: skip
    return out


def _frame(frame: dict[str, Any]) -> dict[str, Any]:
    """A stack frame as Sentry's event API answers it (camelCase, context as numbered lines, the source map it was
    resolved with)."""
    return {
        "filename": frame.get("filename"), "absPath": frame.get("abs_path"), "module": frame.get("module"),
        "package": frame.get("package"), "platform": frame.get("platform"),
        "instructionAddr": frame.get("instruction_addr"), "symbolAddr": frame.get("symbol_addr"),
        "function": frame.get("function"), "rawFunction": frame.get("raw_function"), "symbol": frame.get("symbol"),
        "context": _context(frame), "lineNo": frame.get("lineno"), "colNo": frame.get("colno"),
        "inApp": frame.get("in_app"), "trust": frame.get("trust"), "errors": None, "lock": frame.get("lock"),
        "vars": frame.get("vars"), **_source_map(frame),
    }  # fmt: skip


def _stacktrace(stack: Any) -> dict[str, Any] | None:
    if not isinstance(stack, dict):
        return None
    frames = [_frame(f) for f in stack.get("frames") or [] if isinstance(f, dict)]
    in_app = [f["inApp"] is True for f in frames]
    return {"frames": frames, "framesOmitted": stack.get("frames_omitted"), "registers": stack.get("registers"),
            "hasSystemFrames": any(in_app) and not all(in_app)}  # fmt: skip


MECHANISM_NAMES = {"help_link": "helpLink", "exception_id": "exceptionId", "parent_id": "parentId",
                   "is_exception_group": "isExceptionGroup"}  # fmt: skip


def exception_entry(exc: Any) -> dict[str, Any]:
    """The `exception` entry's data as Sentry's event API answers it: frames in camelCase with numbered context
    lines, `hasSystemFrames` (some frames in app, some not), the mechanism's names in camelCase."""
    values = exc.get("values") if isinstance(exc, dict) else exc
    out = []
    for value in values if isinstance(values, list) else []:
        if not isinstance(value, dict):
            continue
        mechanism = value.get("mechanism")
        out.append({
            "type": value.get("type"), "value": value.get("value"), "module": value.get("module"),
            "threadId": value.get("thread_id"),
            "mechanism": ({MECHANISM_NAMES.get(k, k): v for k, v in mechanism.items()}
                          if isinstance(mechanism, dict) else None),
            "stacktrace": _stacktrace(value.get("stacktrace")),
            "rawStacktrace": _stacktrace(value.get("raw_stacktrace")),
        })  # fmt: skip
    return {"values": out, "hasSystemFrames": any((v["stacktrace"] or {}).get("hasSystemFrames") for v in out),
            "excOmitted": exc.get("exc_omitted") if isinstance(exc, dict) else None}  # fmt: skip


def _entries(payload: dict[str, Any], message: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    exc = payload.get("exception")
    if isinstance(exc, dict | list):
        entries.append({"type": "exception", "data": exception_entry(exc)})
    if message and (payload.get("logentry") or payload.get("message")):  # an exception's value is no message entry
        entries.append({"type": "message", "data": {"formatted": message}})
    if isinstance(payload.get("breadcrumbs"), dict | list):
        crumbs = payload["breadcrumbs"]
        entries.append({"type": "breadcrumbs", "data": crumbs if isinstance(crumbs, dict) else {"values": crumbs}})
    if isinstance(payload.get("request"), dict):
        entries.append({"type": "request", "data": payload["request"]})
    if isinstance(payload.get("spans"), list):
        entries.append({"type": "spans", "data": payload["spans"]})
    return entries


def _neighbour(req: Request, row: sqlite3.Row, direction: str) -> str | None:
    order = "ASC" if direction == ">" else "DESC"
    sql = f"SELECT event_id FROM items WHERE project_id = ? AND type = ? AND id {direction} ? "  # noqa: S608
    found = req.app.db.one(sql + f"ORDER BY id {order} LIMIT 1", (row["project_id"], row["type"], row["id"]))
    return None if found is None else str(found["event_id"])


def _hashes(req: Request, row: sqlite3.Row) -> list[str]:
    """The event's grouping hashes (Sentry's `fingerprints` field), here the one of its issue."""
    group_id = _column(row, "group_id")
    found = None if group_id is None else req.app.db.one("SELECT hash FROM groups WHERE id = ?", (group_id,))
    return [] if found is None else [str(found["hash"])]


def serialize_detail(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    payload = loads(row["payload"]) or {}
    body = serialize_summary(row)
    kind = body.pop("event.type")
    sdk = payload.get("sdk") if isinstance(payload.get("sdk"), dict) else None
    release = None
    if row["release"]:
        rel = req.app.db.one(
            "SELECT id FROM releases WHERE project_id = ? AND version = ?", (row["project_id"], row["release"])
        )
        release = {"id": int(rel["id"]) if rel else 0, "version": row["release"], "shortVersion": row["release"],
                   "dateCreated": body["dateCreated"], "commitCount": 0, "deployCount": 0, "data": {}, "status": "open",
                   "dateReleased": None, "ref": None, "url": None}  # fmt: skip
    body.update(
        {
            "type": kind,
            "dateReceived": iso(row["received"]),
            "contexts": payload.get("contexts") or {},
            "size": len(row["payload"]),
            "entries": _entries(payload, body["message"]),
            "dist": payload.get("dist"),
            "sdk": {"name": sdk.get("name"), "version": sdk.get("version")} if sdk else None,
            "context": payload.get("extra") or {},
            "packages": payload.get("modules") or {},
            "errors": errors_of(payload),
            "occurrence": None,
            "_meta": {},
            "fingerprints": _hashes(req, row),
            "groupingConfig": {"id": "newstyle:2023-01-11", "enhancements": ""},
            "release": release,
            "environment": row["environment"],
            "level": payload.get("level"),
            "nextEventID": _neighbour(req, row, ">"),
            "previousEventID": _neighbour(req, row, "<"),
            "resolvedWith": [],
            "sdkUpdates": [],
            "userReport": None,
        }
    )
    if kind == "transaction":
        body["startTimestamp"] = payload.get("start_timestamp")
        body["endTimestamp"] = payload.get("timestamp")
    return body
