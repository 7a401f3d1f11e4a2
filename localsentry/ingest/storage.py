"""Storing accepted envelope items by type, with environment, release, sdk, user, tags and the receiving key."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from datetime import datetime
from typing import Any

from localsentry.db import Database, dumps, now_iso
from localsentry.ingest.protocol import Auth, Item

CATEGORIES = {
    "event": "error", "transaction": "transaction", "security": "security", "raw_security": "security",
    "session": "session", "sessions": "session", "attachment": "attachment", "replay_event": "replay",
    "replay_recording": "replay", "replay_video": "replay", "profile": "profile", "profile_chunk": "profile_chunk",
    "check_in": "monitor", "log": "log_item", "span": "span", "otel_span": "span", "user_report": "user_report_v2",
    "feedback": "user_report_v2", "statsd": "metric_bucket", "metric_buckets": "metric_bucket",
    "client_report": "internal",
}  # fmt: skip


def category_of(item: Item) -> str:
    if item.type == "event":
        payload = item.json()
        if isinstance(payload, dict) and payload.get("type") in ("csp", "hpkp", "expectct", "expectstaple", "nel"):
            return "security"
        return "error"
    return CATEGORIES.get(item.type, "default")


def record_outcome(db: Database, key_id: int, outcome: str, category: str, n: int = 1) -> None:
    if category == "internal":
        return
    db.run(
        "INSERT INTO outcomes (key_id, ts, outcome, category, n) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(key_id, ts, outcome, category) DO UPDATE SET n = n + excluded.n",
        (key_id, int(time.time()), outcome, category, n),
    )


def parse_timestamp(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _attrs(item_type: str, payload: Any) -> tuple[str | None, str | None, float | None, str | None]:
    """environment, release, timestamp and event id of an item payload."""
    if not isinstance(payload, dict):
        return None, None, None, None
    source = payload
    if item_type in ("session", "sessions") and isinstance(payload.get("attrs"), dict):
        source = payload["attrs"]
    env, release = source.get("environment"), source.get("release")
    if item_type == "profile" and isinstance(payload.get("transaction"), dict):
        env = env or payload.get("environment")
    timestamp = parse_timestamp(payload.get("timestamp") or payload.get("started") or payload.get("received"))
    event_id = payload.get("event_id") or payload.get("replay_id") or payload.get("check_in_id")
    return (
        None if env is None else str(env),
        None if release is None else str(release),
        timestamp,
        None if event_id is None else str(event_id).replace("-", ""),
    )


def _once(db: Database, facts: list[tuple[Any, ...]], fact: tuple[Any, ...], sql: str, args: tuple[Any, ...]) -> None:
    """Run an idempotent statement unless the fact is already known to be stored."""
    if fact not in db.memo:
        db.run(sql, args)
        facts.append(fact)


def _stored_text(item: Item, payload: Any, event_id: str | None) -> str:
    """The payload as stored: the JSON as sent (event id filled in when missing), else base64 of the bytes."""
    if payload is None:
        return json.dumps({"raw_base64": base64.b64encode(item.payload).decode()})
    if item.type in ("event", "transaction") and isinstance(payload, dict) and "event_id" not in payload:
        payload["event_id"] = event_id
        return json.dumps(payload, separators=(",", ":"))
    return item.payload.decode("utf-8", errors="replace")


def store_items(
    db: Database, project: sqlite3.Row, key: sqlite3.Row, envelope_headers: dict[str, Any], items: list[Item],
    auth: Auth,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """Insert accepted items and their side effects (environments, releases, first event); count outcomes.
    Returns facts to remember once the transaction has committed (`Database.memo`)."""
    project_id, key_id = int(project["id"]), int(key["id"])
    received = time.time()
    envelope_event_id = envelope_headers.get("event_id")
    envelope = {k: v for k, v in envelope_headers.items() if k != "dsn"}
    facts: list[tuple[Any, ...]] = []
    for item in items:
        payload = item.json()
        env, release, timestamp, event_id = _attrs(item.type, payload)
        if item.type in ("event", "transaction", "feedback") and envelope_event_id and not event_id:
            event_id = str(envelope_event_id)
        headers = dict(item.headers, envelope=envelope, auth=auth.source, client=auth.client)
        db.run(
            "INSERT INTO items (project_id, key_id, event_id, type, environment, release, received, timestamp, "
            "payload, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (project_id, key_id, event_id, item.type, env, release, received, timestamp,
             _stored_text(item, payload, event_id), dumps(headers)),
        )  # fmt: skip
        kind_sql = "INSERT OR IGNORE INTO project_item_types (project_id, type) VALUES (?, ?)"
        _once(db, facts, ("type", project_id, item.type), kind_sql, (project_id, item.type))
        if env:
            env_sql = "INSERT OR IGNORE INTO environments (project_id, name) VALUES (?, ?)"
            _once(db, facts, ("env", project_id, env), env_sql, (project_id, env))
        if release and item.type in ("event", "transaction", "session", "sessions"):
            release_sql = "INSERT OR IGNORE INTO releases (project_id, version) VALUES (?, ?)"
            _once(db, facts, ("release", project_id, release), release_sql, (project_id, release))
        if item.type == "event":
            first_sql = "UPDATE projects SET first_event = ? WHERE id = ? AND first_event IS NULL"
            _once(db, facts, ("first_event", project_id), first_sql, (now_iso(), project_id))
        record_outcome(db, key_id, "accepted", category_of(item))
    return facts
