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


def store_items(
    db: Database, project: sqlite3.Row, key: sqlite3.Row, envelope_headers: dict[str, Any], items: list[Item],
    auth: Auth,
) -> None:  # fmt: skip
    """Insert accepted items and their side effects (environments, releases, first event); count outcomes."""
    project_id, key_id = int(project["id"]), int(key["id"])
    received = time.time()
    envelope_event_id = envelope_headers.get("event_id")
    for item in items:
        payload = item.json()
        raw_json = payload is not None or item.type in ("event", "transaction")
        env, release, timestamp, event_id = _attrs(item.type, payload)
        if item.type in ("event", "transaction", "feedback") and envelope_event_id and not event_id:
            event_id = str(envelope_event_id)
        if item.type in ("event", "transaction") and isinstance(payload, dict):
            payload.setdefault("event_id", event_id)
        stored = (
            payload if raw_json and payload is not None else {"raw_base64": base64.b64encode(item.payload).decode()}
        )
        headers = dict(item.headers, envelope={k: v for k, v in envelope_headers.items() if k != "dsn"},
                       auth=auth.source, client=auth.client)  # fmt: skip
        db.run(
            "INSERT INTO items (project_id, key_id, event_id, type, environment, release, received, timestamp, "
            "payload, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (project_id, key_id, event_id, item.type, env, release, received, timestamp,
             json.dumps(stored, separators=(",", ":")), dumps(headers)),
        )  # fmt: skip
        db.run("INSERT OR IGNORE INTO project_item_types (project_id, type) VALUES (?, ?)", (project_id, item.type))
        if env:
            db.run("INSERT OR IGNORE INTO environments (project_id, name) VALUES (?, ?)", (project_id, env))
        if release and item.type in ("event", "transaction", "session", "sessions"):
            db.run("INSERT OR IGNORE INTO releases (project_id, version) VALUES (?, ?)", (project_id, release))
        if item.type == "event":
            db.run("UPDATE projects SET first_event = ? WHERE id = ? AND first_event IS NULL", (now_iso(), project_id))
        record_outcome(db, key_id, "accepted", category_of(item))
