"""Rows of the organization events endpoint (Sentry's Explore): one flat row per span, log, trace metric or
error, its field values by Sentry's field names, the search query language (a subset) and `count()`.

Field names are those Sentry's datasets use: `id`, `trace`, `project`, `project.id`, `environment`, `release`,
`timestamp` everywhere; spans add `span.name`, `span.op`, `span.description`, `span.status`, `span.duration`
(ms), `is_transaction`, `transaction`, `parent_span`, `precise.start_ts`, `precise.finish_ts`; logs add
`sentry.item_id`, `message`, `severity`, `severity_number`; trace metrics add `metric.name`, `metric.type`,
`value`. Any other name is read as a record attribute (`http.request.method`), also written `tags[name]`.
"""

from __future__ import annotations

import re
import shlex
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from localsentry.db import loads
from localsentry.http import ApiError
from localsentry.models.attributes import attribute
from localsentry.models.events import serialize_summary

#: dataset name → stored record kind (None: error events from `items`)
DATASETS: dict[str, str | None] = {
    "spans": "span", "transactions": "span", "logs": "log", "ourlogs": "log", "tracemetrics": "trace_metric",
    "errors": None,
}  # fmt: skip  (`ourlogs` is the older name of `logs`, still accepted by Sentry)
SEVERITY_NUMBERS = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "warning": 13, "error": 17, "fatal": 21}
FIELD_TYPES = {
    "timestamp": "date", "span.duration": "duration", "is_transaction": "boolean", "precise.start_ts": "number",
    "precise.finish_ts": "number", "severity_number": "integer", "value": "number", "project.id": "integer",
    "count()": "integer",
}  # fmt: skip
UNITS = {"span.duration": "millisecond", "timestamp": None}
AGGREGATE = re.compile(r"^[a-z_]+\(.*\)$")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _common(row: sqlite3.Row, project_slug: str) -> dict[str, Any]:
    return {
        "project": project_slug, "project.id": int(row["project_id"]), "project.name": project_slug,
        "environment": row["environment"], "release": row["release"],
        "timestamp": iso(row["timestamp"] if row["timestamp"] is not None else row["received"]),
    }  # fmt: skip


def span_fields(row: sqlite3.Row, record: dict[str, Any], project_slug: str) -> dict[str, Any]:
    start, end = record.get("start_timestamp"), record.get("end_timestamp")
    duration = (
        (float(end) - float(start)) * 1000 if isinstance(start, int | float) and isinstance(end, int | float) else None
    )
    op = attribute(record, "sentry.op") or "default"
    segment = attribute(record, "sentry.segment.name")
    return {
        **_common(row, project_slug),
        "id": record.get("span_id"), "span_id": record.get("span_id"), "trace": record.get("trace_id"),
        "span.name": record.get("name"), "span.description": record.get("name"), "span.op": op,
        "span.status": record.get("status"), "span.duration": duration,
        "is_transaction": bool(record.get("is_segment")),
        "transaction": segment or (record.get("name") if record.get("is_segment") else None),
        "parent_span": record.get("parent_span_id"), "precise.start_ts": start, "precise.finish_ts": end,
    }  # fmt: skip


def log_fields(row: sqlite3.Row, record: dict[str, Any], project_slug: str) -> dict[str, Any]:
    level = str(record.get("level") or "info")
    number = record.get("severity_number") or SEVERITY_NUMBERS.get(level, 9)
    return {
        **_common(row, project_slug),
        "id": f"{int(row['id']):032x}", "sentry.item_id": f"{int(row['id']):032x}", "trace": record.get("trace_id"),
        "span_id": record.get("span_id") or attribute(record, "sentry.trace.parent_span_id"),
        "message": record.get("body"), "severity": level,
        "severity_number": number, "sentry.observed_timestamp_nanos": str(int(float(row["received"]) * 1e9)),
    }  # fmt: skip


def metric_fields(row: sqlite3.Row, record: dict[str, Any], project_slug: str) -> dict[str, Any]:
    return {
        **_common(row, project_slug),
        "id": f"{int(row['id']):032x}", "trace": record.get("trace_id"), "span_id": record.get("span_id"),
        "metric.name": record.get("name"), "metric.type": record.get("type"), "metric.unit": record.get("unit"),
        "value": record.get("value"),
    }  # fmt: skip


def error_fields(row: sqlite3.Row, project_slug: str) -> dict[str, Any]:
    summary = serialize_summary(row)
    payload = loads(row["payload"]) or {}
    trace = _dict(_dict(payload.get("contexts")).get("trace"))
    tags = {t["key"]: t["value"] for t in summary["tags"]}
    return {
        **_common(row, project_slug), **{f"tags[{k}]": v for k, v in tags.items()}, **tags,
        "id": summary["id"], "title": summary["title"], "message": summary["message"], "level": payload.get("level"),
        "trace": trace.get("trace_id"), "issue.id": summary["groupID"], "group_id": summary["groupID"],
        "culprit": summary["culprit"], "user.id": (summary["user"] or {}).get("id"),
        "user.email": (summary["user"] or {}).get("email"),
    }  # fmt: skip


def flat_row(kind: str | None, row: sqlite3.Row, project_slug: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(named fields, the record's own attributes) of a stored row."""
    if kind is None:
        return error_fields(row, project_slug), {}
    record = loads(row["payload"]) or {}
    builder: Callable[[sqlite3.Row, dict[str, Any], str], dict[str, Any]] = {
        "span": span_fields, "log": log_fields, "trace_metric": metric_fields,
    }[kind]  # fmt: skip
    attrs = _dict(record.get("attributes"))
    values = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in attrs.items()}
    return builder(row, record, project_slug), values


def field_value(fields: dict[str, Any], attrs: dict[str, Any], name: str) -> Any:
    if name in fields:
        return fields[name]
    if name.startswith("tags[") and name.endswith("]"):
        name = name[5:-1].split(",")[0]
    return fields.get(name, attrs.get(name))


# -- the search query language (a subset): `key:value`, `!key:value`, `key:[a,b]`, `has:key`, free text, OR ----


def _tokens(query: str) -> list[str]:
    try:
        return shlex.split(query.replace("(", " ").replace(")", " "), posix=True)
    except ValueError:
        raise ApiError(400, {"detail": f"Parse error at '{query[:50]}' (column 1). Invalid quote."}) from None


def parse_query(query: str) -> list[list[tuple[str, str, bool]]]:
    """OR-groups of AND-terms `(key, value, negated)`; key "" is free text."""
    groups: list[list[tuple[str, str, bool]]] = [[]]
    for token in _tokens(query):
        if token == "OR":  # noqa: S105 - a query operator
            groups.append([])
            continue
        if token == "AND":  # noqa: S105 - a query operator
            continue
        negate = token.startswith("!")
        key, sep, value = token.lstrip("!").partition(":")
        if sep and key and not key.startswith("http"):
            groups[-1].append((key, value, negate))
        else:
            groups[-1].append(("", token.lstrip("!"), negate))
    return [g for g in groups if g] or [[]]


def _matches_term(value: Any, wanted: str) -> bool:
    if wanted.startswith("[") and wanted.endswith("]"):
        return any(_matches_term(value, w.strip()) for w in wanted[1:-1].split(","))
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    text = "" if value is None else str(value)
    if "*" in wanted:
        return re.fullmatch(re.escape(wanted).replace(r"\*", ".*"), text) is not None
    return text == wanted


def matches(fields: dict[str, Any], attrs: dict[str, Any], groups: list[list[tuple[str, str, bool]]]) -> bool:
    for group in groups:
        ok = True
        for key, wanted, negate in group:
            if key == "":
                haystack = " ".join(str(fields.get(k) or "") for k in ("message", "span.name", "title", "metric.name"))
                found = wanted.lower() in haystack.lower()
            elif key == "has":
                found = field_value(fields, attrs, wanted) not in (None, "")
            else:
                found = _matches_term(field_value(fields, attrs, key), wanted)
            if found == negate:
                ok = False
                break
        if ok:
            return True
    return False


def select(rows: list[tuple[dict[str, Any], dict[str, Any]]], names: list[str]) -> list[dict[str, Any]]:
    """The requested fields of each row; with `count()` the rows are grouped by the other fields."""
    aggregates = [n for n in names if AGGREGATE.match(n)]
    unknown = [n for n in aggregates if n != "count()"]
    if unknown:
        raise ApiError(400, {"detail": f"{unknown[0]} is not a valid function"})
    if not aggregates:
        return [{n: field_value(f, a, n) for n in names} for f, a in rows]
    keys = [n for n in names if n not in aggregates]
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for fields, attrs in rows:
        group = tuple(field_value(fields, attrs, n) for n in keys)
        entry = grouped.setdefault(group, {**dict(zip(keys, group, strict=True)), "count()": 0})
        entry["count()"] += 1
    return list(grouped.values())


def sort_rows(rows: list[dict[str, Any]], sort: str | None, names: list[str]) -> None:
    if not sort:
        if "timestamp" in names:
            rows.sort(key=lambda r: str(r.get("timestamp") or ""), reverse=True)
        return
    field = sort.lstrip("-")
    if field not in names:
        raise ApiError(400, {"detail": f"Cannot sort by a field that is not selected: {field}"})
    rows.sort(key=lambda r: (r.get(field) is None, r.get(field) if r.get(field) is not None else 0),
              reverse=sort.startswith("-"))  # fmt: skip


def meta(names: list[str], dataset: str) -> dict[str, Any]:
    return {
        "fields": {n: FIELD_TYPES.get(n, "string") for n in names},
        "units": {n: UNITS.get(n) for n in names},
        "isMetricsData": False, "isMetricsExtractedData": False, "tips": {}, "datasetReason": "unchanged",
        "dataset": dataset, "dataScanned": "full",
    }  # fmt: skip
