"""How Sentry's answers are compared with what a stack declares: as Sentry means them, never byte by byte.

Sentry fills in fields nobody declared (resolved channel ids, labels, ids, timestamps), normalises
values (ids as numbers or strings, thresholds as ints or floats, lists in its own order) and leaves
fields out (a detector's ``queryType``; ``false`` for an empty legacy-browsers list). A refresh must
show real drift and nothing else, so every provider compares only the fields a stack declares, each
in the form Sentry means it. Fields a response carries that are not in this table are ignored (never
an error); a value outside a known set (a new enum member) is kept as Sentry sent it and shown as a
difference, never a crash.

The general rule, :func:`as_declared`: a live object is projected onto the shape of its declaration
before it is compared or stored, so a key the declaration does not have (``inputChannelId``, ``desc``,
``name`` on a rule node, ``targetDisplay``) never shows up as drift, while every declared key is still
compared. Items of a list are matched to the declared item they equal once projected; an item that
matches none (a real change) is projected onto the keys declared by any item of that list.

Fields compared, one line each (``Resource.field``: compared as, and why)

- ``Project.slug``, ``name``, ``subjectTemplate``: strings, as sent.
- ``Project.platform``, ``subjectPrefix``: strings, null = "" (Sentry answers null when unset).
- ``Project.resolveAge``: int, null/absent = 0 (Sentry's "never").
- ``Project.digestsMinDelay``, ``digestsMaxDelay``: ints (numbers may come back as floats).
- ``Project.teams``: sorted team slugs, from ``teams[]`` (detailed shape) or ``team`` (summary shape).
- ``Project.allowedDomains``, ``sensitiveFields``, ``safeFields``: sorted sets (Sentry keeps its own order).
- ``Project.scrubIPAddresses``, ``dataScrubber``, ``dataScrubberDefaults``, ``scrapeJavaScript``: bools.
- ``ClientKey.name``: string; ``isActive``: bool, absent = true.
- ``ClientKey.rateLimit``: ``{count, window}`` ints; null or a zero count/window = no limit (Sentry's forms).
- ``ClientKey.browserSdkVersion``: only when declared (Sentry fills in the project default).
- ``ClientKey.dynamicSdkLoaderOptions``: the declared sub-keys only, as bools (Sentry adds the others).
- ``ClientKey`` DSN variants (``cdn``, ``crons``, ``otlp_*``, ...), ``label``: outputs only, never compared.
- ``InboundFilter.active`` (boolean filters): bool, absent = false.
- ``InboundFilter.subfilters`` (legacy-browsers): sorted set; Sentry's ``false`` (stored "0") = ``[]``.
- ``InboundFilter`` legacy-browsers ``active: true`` (Sentry's "all", stored "1"): true, never a list.
- ``MetricMonitor.name``, ``aggregate``, ``dataset``: strings, from ``dataSources[0].queryObj.snubaQuery``.
- ``MetricMonitor.query``: string, null/absent = "".
- ``MetricMonitor.queryType``: int; absent (``snubaQuery`` has none) = derived from the dataset, as Sentry does.
- ``MetricMonitor.timeWindow``, ``comparisonDelta``: int seconds (numbers may come back as floats).
- ``MetricMonitor.environment``, ``description``: null/"" = none.
- ``MetricMonitor.owner``: ``type:id``; Sentry's ``{type, id, name}`` object is read as ``type:id``.
- ``MetricMonitor.eventTypes``: sorted set; ``detectionType``: string, absent = static.
- ``MetricMonitor.conditions``: type, comparison (numbers as floats), conditionResult; Sentry's ``id`` dropped.
- ``MetricMonitor.enabled``, ``Alert.enabled``: bool, absent = true.
- ``Alert.name``, ``environment``, ``owner``: strings, null = none.
- ``Alert.projects``, ``detectorIds``: sorted id strings (ids come back as strings or numbers).
- ``Alert.frequency``: int minutes from ``config.frequency``, absent = 30 (Sentry's default).
- ``Alert.triggers``, ``actionFilters``: logicType, conditions, actions as declared (:func:`as_declared`);
  Sentry's ``id``, ``status``, ``targetDisplay`` and ``data``/``config`` keys nobody declared dropped; ids as
  strings.
- ``IssueAlert.actionMatch``, ``filterMatch``: strings, absent = all; ``frequency``: int, absent = 30.
- ``IssueAlert.conditions``, ``filters``, ``actions``: nodes as declared; Sentry adds ``name`` labels,
  ``uuid``s and "" target ids; ids as strings.
- ``MetricAlert`` scalar fields (aggregate, query, dataset, queryType, timeWindow in minutes, ...): as declared,
  numbers as ints/floats.
- ``MetricAlert.triggers``: label, thresholds (floats), actions as declared; Sentry copies the rule's
  ``resolveThreshold`` onto each trigger and resolves ``inputChannelId`` from ``targetIdentifier``.
- Everywhere: ids, ``dateCreated``, ``dateUpdated``, ``createdBy``, ``latestGroup`` ... are never compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _template(items: Sequence[Any]) -> Any:
    """The union of the declared items' shapes (keys of every mapping; nested mappings merged)."""
    merged: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, Mapping):
            return None
        for key, value in item.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = _template([merged[key], value])
            elif key not in merged or isinstance(value, (Mapping, list)):
                merged[key] = value
    return merged


def as_declared(live: Any, declared: Any) -> Any:
    """`live` restricted to the shape of `declared`: the keys of mappings that the declaration has.

    Both values should already be normalised (ids as strings, numbers as floats, lists sorted); a
    declared key Sentry left out stays out (that is a difference the caller sees). Lists of mappings
    are matched item by item (see the module docstring); any other value is returned unchanged.
    """
    if isinstance(declared, Mapping) and isinstance(live, Mapping):
        return {k: as_declared(live[k], declared[k]) for k in declared if k in live}
    if isinstance(declared, (list, tuple)) and isinstance(live, (list, tuple)):
        if not declared or not all(isinstance(d, Mapping) for d in declared):
            return list(live)
        remaining = list(declared)
        template = _template(declared)
        out = []
        for item in live:
            if not isinstance(item, Mapping):
                out.append(item)
                continue
            for i, candidate in enumerate(remaining):
                projected = as_declared(item, candidate)
                if _canon(projected) == _canon(candidate):
                    out.append(projected)
                    del remaining[i]
                    break
            else:
                out.append(as_declared(item, template))
        return out
    return live


def as_int(value: Any) -> Any:
    """An int when `value` is a whole number (or its string), else `value` unchanged (kept and shown)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def as_float(value: Any) -> Any:
    """A float when `value` is a number, else `value` unchanged."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def unordered(value: Any) -> list[str]:
    """A set of strings, as Sentry keeps it in its own order: sorted, blanks dropped."""
    return sorted(str(v).strip() for v in (value or []) if str(v).strip())


def text_or_empty(value: Any) -> Any:
    """A string Sentry answers null for when unset: null = ""."""
    return value or ""


def text_or_none(value: Any) -> Any:
    """A string where null and "" both mean none."""
    return value or None


def int_or_none(value: Any) -> Any:
    return None if value is None else as_int(value)


def flag(default: bool) -> Any:
    """A boolean Sentry may leave out (or answer null for), meaning `default`."""

    def norm(value: Any) -> bool:
        return default if value is None else bool(value)

    norm.__name__ = f"flag_{str(default).lower()}"
    return norm


def bool_map(value: Any) -> Any:
    """A map of options as booleans."""
    return {k: bool(v) for k, v in value.items()} if isinstance(value, Mapping) else value


__all__ = [
    "as_declared", "as_float", "as_int", "bool_map", "flag", "int_or_none", "text_or_empty", "text_or_none",
    "unordered",
]
