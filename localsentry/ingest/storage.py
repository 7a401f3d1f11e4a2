"""Storing accepted envelope items by type, with environment, release, sdk, user, tags and the receiving key."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from typing import Any

from localsentry.db import Database, dumps, now_iso
from localsentry.ingest.items import (
    CONTAINERS,
    client_report_outcomes,
    container_records,
    item_facts,
    quantities,
    record_facts,
    transaction_spans,
)
from localsentry.ingest.protocol import Auth, Item
from localsentry.models.alerting import process_event
from localsentry.models.checkins import process_checkin
from localsentry.models.detector_issues import evaluate_project
from localsentry.models.issues import assign_group


def record_outcome(db: Database, key_id: int, outcome: str, category: str, n: int = 1) -> None:
    if category == "internal" or n <= 0:
        return
    db.run(
        "INSERT INTO outcomes (key_id, ts, outcome, category, n) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(key_id, ts, outcome, category) DO UPDATE SET n = n + excluded.n",
        (key_id, int(time.time()), outcome, category, n),
    )


def record_outcomes(db: Database, key_id: int, outcome: str, item: Item) -> None:
    """Count an item in each of its categories with its quantity (a batch counts its records)."""
    for category, n in quantities(item):
        record_outcome(db, key_id, outcome, category, n)


def _insert_records(
    db: Database, item_id: int, project_id: int, key_id: int, received: float, item: Item,
    envelope_headers: dict[str, Any],
) -> None:  # fmt: skip
    """One row per span, log or trace metric of a batch (and per span of a transaction)."""
    if item.type == "transaction":
        payload = item.json()
        kind, records = "span", transaction_spans(payload) if isinstance(payload, dict) else []
    else:
        kind, records = CONTAINERS.get(item.type, ""), container_records(item) or []
    for record in records:
        facts = record_facts(kind, record, envelope_headers)
        db.run(
            "INSERT INTO records (item_id, project_id, key_id, kind, trace_id, record_id, environment, release, "
            "timestamp, received, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item_id, project_id, key_id, kind, facts.trace_id, facts.event_id, facts.environment, facts.release,
             facts.timestamp, received, json.dumps(record, separators=(",", ":"))),
        )  # fmt: skip


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
    auth: Auth, clock_offset: float = 0.0,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """Insert accepted items and their side effects (environments, releases, first event, issues, the workflows
    and metric monitors an error reaches); count outcomes. Returns facts to remember once the transaction has
    committed (`Database.memo`)."""
    project_id, key_id = int(project["id"]), int(key["id"])
    received = time.time()
    envelope_event_id = envelope_headers.get("event_id")
    envelope = {k: v for k, v in envelope_headers.items() if k != "dsn"}
    facts: list[tuple[Any, ...]] = []
    events = 0
    for item in items:
        payload = item.json()
        found = item_facts(item, envelope_headers)
        env, release, timestamp, event_id = found.environment, found.release, found.timestamp, found.event_id
        if item.type in ("event", "transaction", "feedback") and envelope_event_id and not event_id:
            event_id = str(envelope_event_id)
        headers = dict(item.headers, envelope=envelope, auth=auth.source, client=auth.client)
        item_id = db.run(
            "INSERT INTO items (project_id, key_id, event_id, type, environment, release, received, timestamp, "
            "payload, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (project_id, key_id, event_id, item.type, env, release, received, timestamp,
             _stored_text(item, payload, event_id), dumps(headers)),
        )  # fmt: skip
        if item.type == "check_in":
            process_checkin(db, project, payload, received + clock_offset)
        if item.type == "event":
            assigned = assign_group(db, project_id, item_id, payload, received)
            if assigned is not None and isinstance(payload, dict):
                process_event(db, project, db.fetch("items", item_id), payload, assigned, received + clock_offset)
                events += 1
        if item.type in CONTAINERS or item.type == "transaction":
            _insert_records(db, item_id, project_id, key_id, received, item, envelope_headers)
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
        record_outcomes(db, key_id, "accepted", item)
        for outcome, category, quantity in client_report_outcomes(item):
            record_outcome(db, key_id, outcome, category, quantity)
    if events:
        evaluate_project(db, project_id, received + clock_offset)
    return facts
