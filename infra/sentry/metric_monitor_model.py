"""Pure conversion for the MetricMonitor resource (a Sentry ``metric_issue`` detector)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.sentry.base import PROVIDER_KEY
from infra.sentry.compare import as_declared, as_float, as_int
from infra.vocabulary import (
    COMPARISON_DELTAS,
    DATASETS,
    DETECTION_TYPES,
    EVENT_TYPES,
    MONITOR_CONDITION_TYPES,
    MONITOR_RESULTS,
    MONITOR_WINDOWS,
    QUERY_TYPES,
)

# Sentry's value sets come from the one vocabulary module (re-exported here under the names providers use).
TIME_WINDOWS = MONITOR_WINDOWS  # seconds (not minutes!)
CONDITION_TYPES = MONITOR_CONDITION_TYPES
CONDITION_RESULTS = MONITOR_RESULTS
DATA_SOURCE = ("aggregate", "dataset", "query", "queryType", "timeWindow", "environment", "eventTypes")
MUTABLE = ("name", "aggregate", "dataset", "query", "queryType", "timeWindow", "environment", "eventTypes",
           "detectionType", "comparisonDelta", "conditions", "owner", "description", "enabled")
IDENTITY = ("project",)
INPUT_KEYS = (*IDENTITY, *MUTABLE, "adopt")
COMPUTED = ("detectorId", "projectId", "organization", "dateCreated")
NULLABLE = ("environment", "owner", "description", "comparisonDelta")


def norm_conditions(value: Any) -> list[dict[str, Any]]:
    out = []
    for cond in value or []:
        if not isinstance(cond, Mapping):
            continue
        out.append({"type": cond.get("type"), "comparison": as_float(cond.get("comparison")),
                    "conditionResult": as_int(cond.get("conditionResult", 75))})
    return sorted(out, key=_condition_order)


def _condition_order(cond: Mapping[str, Any]) -> tuple[float, str]:
    result = cond["conditionResult"]
    rank = -float(result) if isinstance(result, (int, float)) and not isinstance(result, bool) else 1.0
    return rank, json.dumps(cond, sort_keys=True, default=str)


def normalise(key: str, value: Any) -> Any:
    if key == "conditions":
        return norm_conditions(value)
    if key == "eventTypes":
        return sorted(str(v) for v in value or [])
    if key in ("timeWindow", "queryType", "comparisonDelta") and value is not None:
        return as_int(value)
    if key == "enabled":
        return True if value is None else bool(value)
    if key == "adopt":
        return bool(value)
    if key == "query":
        return value or ""
    if key in NULLABLE:
        return value or None
    return value


@dataclass(frozen=True)
class MetricMonitorInputs:
    """Checked inputs of a MetricMonitor. ``timeWindow`` and ``comparisonDelta`` are in seconds."""

    project: str
    name: str
    aggregate: str
    conditions: tuple[dict[str, Any], ...]
    dataset: str = "events"
    query: str = ""
    query_type: int | None = None
    time_window: int = 3600
    environment: str | None = None
    event_types: tuple[str, ...] | None = None
    detection_type: str = "static"
    comparison_delta: int | None = None
    owner: str | None = None
    description: str | None = None
    enabled: bool = True
    adopt: bool = False

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> MetricMonitorInputs:
        events = props.get("eventTypes")
        query_type = props.get("queryType")
        delta = props.get("comparisonDelta")
        return MetricMonitorInputs(
            project=str(props["project"]),
            name=str(props["name"]),
            aggregate=str(props["aggregate"]),
            conditions=tuple(norm_conditions(props.get("conditions"))),
            dataset=str(props.get("dataset") or "events"),
            query=str(props.get("query") or ""),
            query_type=int(query_type) if query_type is not None else None,
            time_window=int(props.get("timeWindow") or 3600),
            environment=props.get("environment") or None,
            event_types=tuple(normalise("eventTypes", events)) if events is not None else None,
            detection_type=str(props.get("detectionType") or "static"),
            comparison_delta=int(delta) if delta is not None else None,
            owner=props.get("owner") or None,
            description=props.get("description") or None,
            enabled=normalise("enabled", props.get("enabled")),
            adopt=bool(props.get("adopt", False)),
        )

    @property
    def effective_query_type(self) -> int:
        return self.query_type if self.query_type is not None else QUERY_TYPES.get(self.dataset, 0)

    def to_props(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "project": self.project, "name": self.name, "aggregate": self.aggregate,
            "conditions": list(self.conditions), "dataset": self.dataset, "query": self.query,
            "timeWindow": self.time_window, "detectionType": self.detection_type, "enabled": self.enabled,
            "adopt": self.adopt,
        }
        optional = {"queryType": self.query_type, "environment": self.environment, "owner": self.owner,
                    "description": self.description, "comparisonDelta": self.comparison_delta,
                    "eventTypes": list(self.event_types) if self.event_types is not None else None}
        props.update({k: v for k, v in optional.items() if v is not None})
        return props

    def to_body(self) -> dict[str, Any]:
        """Detector body for POST and PUT (a PUT carries the whole definition)."""
        source: dict[str, Any] = {
            "aggregate": self.aggregate, "dataset": self.dataset, "query": self.query,
            "queryType": self.effective_query_type, "timeWindow": self.time_window,
            "environment": self.environment,
        }
        if self.event_types is not None:
            source["eventTypes"] = list(self.event_types)
        config: dict[str, Any] = {"detectionType": self.detection_type}
        if self.comparison_delta is not None:
            config["comparisonDelta"] = self.comparison_delta
        return {
            "name": self.name,
            "type": "metric_issue",
            "dataSources": [source],
            "config": config,
            "conditionGroup": {"logicType": "any", "conditions": [dict(c) for c in self.conditions]},
            "owner": self.owner,
            "description": self.description,
            "enabled": self.enabled,
        }


def live_values(detector: Mapping[str, Any]) -> dict[str, Any]:
    """The managed fields of a detector JSON (data source from ``queryObj.snubaQuery`` when present)."""
    sources = detector.get("dataSources") or []
    source: Mapping[str, Any] = sources[0] if sources and isinstance(sources[0], Mapping) else {}
    query_obj = source.get("queryObj") if isinstance(source.get("queryObj"), Mapping) else None
    snuba = query_obj.get("snubaQuery") if query_obj and isinstance(query_obj.get("snubaQuery"), Mapping) else None
    data: Mapping[str, Any] = snuba or source
    config = detector.get("config") if isinstance(detector.get("config"), Mapping) else {}
    group = detector.get("conditionGroup") if isinstance(detector.get("conditionGroup"), Mapping) else {}
    owner = detector.get("owner")
    if isinstance(owner, Mapping):
        owner = f"{owner.get('type')}:{owner.get('id')}"
    query_type = data.get("queryType", query_obj.get("queryType") if query_obj else None)
    if query_type is None:  # Sentry's snubaQuery carries none: it is fixed by the dataset
        query_type = QUERY_TYPES.get(str(data.get("dataset") or "events"))
    return {
        "name": detector.get("name"),
        "aggregate": data.get("aggregate"),
        "dataset": data.get("dataset"),
        "query": data.get("query") or "",
        "queryType": query_type,
        "timeWindow": data.get("timeWindow"),
        "environment": data.get("environment") or None,
        "eventTypes": data.get("eventTypes"),
        "detectionType": (config or {}).get("detectionType", "static"),
        "comparisonDelta": (config or {}).get("comparisonDelta"),
        "conditions": norm_conditions((group or {}).get("conditions")),
        "owner": owner or None,
        "description": detector.get("description") or None,
        "enabled": normalise("enabled", detector.get("enabled")),
    }


def outputs_from_api(detector: Mapping[str, Any], inputs: MetricMonitorInputs, *, organization: str) -> dict[str, Any]:
    """State of a detector: declared fields with live values, plus ids."""
    live = live_values(detector)
    outs = inputs.to_props()
    declared = set(outs)
    for key in MUTABLE:
        if key in declared or (key in NULLABLE and live.get(key) is not None):
            value = normalise(key, live.get(key))
            if key == "conditions":  # as declared: e.g. server-added keys of an anomaly comparison
                value = norm_conditions(as_declared(value, outs["conditions"]))
            if value is None:
                outs.pop(key, None)
            else:
                outs[key] = value
    outs.update(
        detectorId=str(detector.get("id")),
        projectId=str(detector.get("projectId")),
        organization=organization,
        dateCreated=detector.get("dateCreated"),
    )
    return outs


def inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: outs[k] for k in INPUT_KEYS if outs.get(k) is not None and k != PROVIDER_KEY}


def changed_fields(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    changed = []
    for key in INPUT_KEYS:
        if key in NULLABLE or key == "adopt":
            if normalise(key, news.get(key)) != normalise(key, olds.get(key)):
                changed.append(key)
        elif key in news and normalise(key, news[key]) != normalise(key, olds.get(key)):
            changed.append(key)
    return changed


__all__ = [
    "COMPARISON_DELTAS",
    "COMPUTED",
    "CONDITION_RESULTS",
    "CONDITION_TYPES",
    "DATASETS",
    "DETECTION_TYPES",
    "EVENT_TYPES",
    "IDENTITY",
    "INPUT_KEYS",
    "MUTABLE",
    "QUERY_TYPES",
    "TIME_WINDOWS",
    "MetricMonitorInputs",
    "changed_fields",
    "inputs_from_outputs",
    "live_values",
    "norm_conditions",
    "normalise",
    "outputs_from_api",
]
