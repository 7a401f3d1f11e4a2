"""What an envelope item means, as Relay reads it: its data categories and quantities, the records inside a
batch (spans, logs, trace metrics), and where its environment, release and time come from.

Facts (Relay's `ItemType`, `DataCategory` and envelope item headers; the SDKs' wire format):

- `span` items with content type `application/vnd.sentry.items.span.v2+json`, `log` items
  (`application/vnd.sentry.items.log+json`) and `trace_metric` items
  (`application/vnd.sentry.items.trace-metric+json`) are containers `{"version": 2, "items": [...]}` whose
  item header says how many records they hold (`item_count`). Relay counts each record: categories `span`,
  `log_item` (plus `log_byte`, the payload size) and `trace_metric`.
- A record's environment and release are its attributes `sentry.environment` / `sentry.release`
  (`{"value": …, "type": "string"}`); a check-in's and an event's are top-level fields; a session's are in
  `attrs`. Missing ones come from the envelope header's dynamic sampling context (`trace.environment`,
  `trace.release`), as the SDKs put them there for every envelope of a trace.
- A transaction counts 1 `transaction` and its spans plus the root span as `span`.
- An attachment counts its bytes as `attachment` and 1 as `attachment_item`.
- A client report (`discarded_events`, `rate_limited_events`, `filtered_events`, `filtered_sampling_events`,
  each `[{reason, category, quantity}]`) is not stored data: it becomes outcomes `client_discard`,
  `rate_limited`, `filtered` and `filtered` (sampling) with the SDK's category and quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localsentry.ingest.protocol import Item
from localsentry.models.attributes import attribute, parse_timestamp

CATEGORIES = {
    "event": "error", "transaction": "transaction", "security": "security", "raw_security": "security",
    "session": "session", "sessions": "session", "attachment": "attachment", "replay_event": "replay",
    "replay_recording": "replay", "replay_video": "replay", "profile": "profile", "profile_chunk": "profile_chunk",
    "check_in": "monitor", "log": "log_item", "span": "span", "otel_span": "span", "user_report": "user_report_v2",
    "feedback": "user_report_v2", "statsd": "metric_bucket", "metric_buckets": "metric_bucket",
    "trace_metric": "trace_metric", "client_report": "internal",
}  # fmt: skip
SECURITY_TYPES = ("csp", "hpkp", "expectct", "expectstaple", "nel")
#: Item types that hold a batch of records (`{"items": [...]}`), and the record kind stored for each.
CONTAINERS = {"span": "span", "log": "log", "trace_metric": "trace_metric"}
#: Client-report sections and the outcome each becomes.
CLIENT_REPORT_OUTCOMES = {
    "discarded_events": "client_discard",
    "rate_limited_events": "rate_limited",
    "filtered_events": "filtered",
    "filtered_sampling_events": "filtered",
}


def category_of(item: Item) -> str:
    """The item's main data category (the one quotas and filters speak of)."""
    if item.type == "event":
        payload = item.json()
        if isinstance(payload, dict) and payload.get("type") in SECURITY_TYPES:
            return "security"
        return "error"
    return CATEGORIES.get(item.type, "default")


def _item_count(item: Item, records: list[dict[str, Any]] | None) -> int:
    count = item.headers.get("item_count")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    return len(records) if records is not None else 1


def quantities(item: Item) -> list[tuple[str, int]]:
    """(category, quantity) pairs the item counts for, as Relay counts them."""
    category = category_of(item)
    if category == "internal":
        return []
    if item.type in CONTAINERS:
        counted = [(category, _item_count(item, container_records(item)))]
        if item.type == "log":
            counted.append(("log_byte", len(item.payload)))
        return counted
    if item.type == "transaction":
        payload = item.json()
        spans = payload.get("spans") if isinstance(payload, dict) else None
        return [("transaction", 1), ("span", 1 + (len(spans) if isinstance(spans, list) else 0))]
    if item.type == "attachment":
        return [("attachment", len(item.payload)), ("attachment_item", 1)]
    if item.type == "sessions":
        payload = item.json()
        aggregates = payload.get("aggregates") if isinstance(payload, dict) else None
        total = 0
        for bucket in aggregates if isinstance(aggregates, list) else []:
            if isinstance(bucket, dict):
                total += sum(int(bucket.get(k) or 0) for k in ("exited", "errored", "abnormal", "crashed"))
        return [("session", total or 1)]
    return [(category, 1)]


def container_records(item: Item) -> list[dict[str, Any]] | None:
    """The records of a batch item (None when the item is no batch). A v1 span item is one record."""
    if item.type not in CONTAINERS:
        return None
    payload = item.json()
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return [r for r in payload["items"] if isinstance(r, dict)]
    if item.type == "span" and isinstance(payload, dict):
        return [payload]
    return []


def client_report_outcomes(item: Item) -> list[tuple[str, str, int]]:
    """(outcome, category, quantity) of a client report's entries."""
    payload = item.json()
    if item.type != "client_report" or not isinstance(payload, dict):
        return []
    found: list[tuple[str, str, int]] = []
    for section, outcome in CLIENT_REPORT_OUTCOMES.items():
        for entry in payload.get(section) or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("category"), str):
                continue
            quantity = entry.get("quantity")
            if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0:
                found.append((outcome, entry["category"], quantity))
    return found


@dataclass(frozen=True)
class Facts:
    """Where an item or record belongs: environment, release, time and ids."""

    environment: str | None
    release: str | None
    timestamp: float | None
    event_id: str | None = None
    trace_id: str | None = None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _trace_header(envelope_headers: dict[str, Any]) -> dict[str, Any]:
    return _dict(envelope_headers.get("trace"))


def record_facts(kind: str, record: dict[str, Any], envelope_headers: dict[str, Any]) -> Facts:
    """A span, log or trace-metric record: attributes first, then the envelope's trace header."""
    trace = _trace_header(envelope_headers)
    env = _text(attribute(record, "sentry.environment")) or _text(trace.get("environment"))
    release = _text(attribute(record, "sentry.release")) or _text(trace.get("release"))
    if kind == "span":
        stamp = parse_timestamp(record.get("end_timestamp") or record.get("timestamp"))
        stamp = stamp if stamp is not None else parse_timestamp(record.get("start_timestamp"))
        event_id = _text(record.get("span_id"))
    else:
        stamp = parse_timestamp(record.get("timestamp"))
        event_id = None
    return Facts(env, release, stamp, event_id, _text(record.get("trace_id")) or _text(trace.get("trace_id")))


def item_facts(item: Item, envelope_headers: dict[str, Any]) -> Facts:
    """An item's environment, release, time and event id, from where the protocol puts them."""
    payload = item.json()
    trace = _trace_header(envelope_headers)
    records = container_records(item)
    if records is not None:
        first = record_facts(CONTAINERS[item.type], records[0], envelope_headers) if records else None
        if first is None:
            return Facts(_text(trace.get("environment")), _text(trace.get("release")), None, None,
                         _text(trace.get("trace_id")))  # fmt: skip
        return Facts(first.environment, first.release, first.timestamp, None, first.trace_id)
    if not isinstance(payload, dict):
        return Facts(_text(trace.get("environment")), _text(trace.get("release")), None)
    source = payload
    if item.type in ("session", "sessions") and isinstance(payload.get("attrs"), dict):
        source = payload["attrs"]
    env, release = _text(source.get("environment")), _text(source.get("release"))
    if item.type != "event":
        env = env or _text(trace.get("environment"))
        release = release or _text(trace.get("release"))
    stamp_source = payload.get("timestamp") or payload.get("started") or payload.get("received")
    if item.type == "sessions" and stamp_source is None:
        aggregates = payload.get("aggregates")
        if isinstance(aggregates, list) and aggregates and isinstance(aggregates[0], dict):
            stamp_source = aggregates[0].get("started")
    event_id = payload.get("event_id") or payload.get("replay_id") or payload.get("check_in_id")
    if item.type == "check_in":
        event_id = payload.get("check_in_id") or event_id
    trace_ctx = _dict(_dict(payload.get("contexts")).get("trace"))
    return Facts(
        env, release, parse_timestamp(stamp_source),
        None if event_id is None else str(event_id).replace("-", ""),
        _text(trace_ctx.get("trace_id")) or _text(trace.get("trace_id")),
    )  # fmt: skip


def transaction_spans(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """A transaction event as span-v2-like records: the root (segment) span first, then its child spans."""
    trace = _dict(_dict(payload.get("contexts")).get("trace"))
    root_id = _text(trace.get("span_id"))
    name = str(payload.get("transaction") or "<unlabeled transaction>")
    env, release = _text(payload.get("environment")), _text(payload.get("release"))
    common: dict[str, Any] = {"sentry.segment.name": {"value": name, "type": "string"}}
    if env:
        common["sentry.environment"] = {"value": env, "type": "string"}
    if release:
        common["sentry.release"] = {"value": release, "type": "string"}
    root = {
        "trace_id": trace.get("trace_id"), "span_id": root_id, "parent_span_id": trace.get("parent_span_id"),
        "name": name, "status": trace.get("status") or "ok", "is_segment": True,
        "start_timestamp": parse_timestamp(payload.get("start_timestamp")),
        "end_timestamp": parse_timestamp(payload.get("timestamp")),
        "attributes": {**common, "sentry.op": {"value": trace.get("op") or "default", "type": "string"}},
    }  # fmt: skip
    spans = [root]
    for span in payload.get("spans") or []:
        if not isinstance(span, dict):
            continue
        spans.append({
            "trace_id": span.get("trace_id") or trace.get("trace_id"), "span_id": span.get("span_id"),
            "parent_span_id": span.get("parent_span_id") or root_id,
            "name": str(span.get("description") or span.get("op") or ""), "status": span.get("status") or "ok",
            "is_segment": False, "start_timestamp": parse_timestamp(span.get("start_timestamp")),
            "end_timestamp": parse_timestamp(span.get("timestamp")),
            "attributes": {**common, "sentry.op": {"value": span.get("op") or "default", "type": "string"}},
        })  # fmt: skip
    return spans
