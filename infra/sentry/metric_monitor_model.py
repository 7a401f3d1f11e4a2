"""The MetricMonitor's typed inputs (a Sentry ``metric_issue`` detector), and how they meet Sentry.

Each field declares where the detector's body takes it (``dataSources.0.timeWindow``, ``config.detectionType``) and
where Sentry's answer holds it (a detector answers its data source under ``queryObj.snubaQuery``), so the body, the
values a refresh reads and the comparison come from one declaration. ``timeWindow`` and ``comparisonDelta`` are in
seconds (legacy metric alerts used minutes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field

from infra import fields
from infra.sentry.bodies import body_of, live_of
from infra.sentry.compare import as_declared, as_float, as_int, flag, int_or_none, text_or_empty, text_or_none
from infra.sentry.shape import SentryModel, field, field_rule, fields_of, normalised, props_of
from infra.vocabulary import QUERY_TYPES

_SOURCE = "dataSources.0"
_SNUBA = "dataSources.0.queryObj.snubaQuery"


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


def owner_text(value: Any) -> Any:
    """An owner as ``type:id``: Sentry answers ``{type, id, name}``; none = None."""
    if isinstance(value, Mapping):
        return f"{value.get('type')}:{value.get('id')}"
    return value or None


def sorted_texts(value: Any) -> list[str]:
    return sorted(str(v) for v in value or [])


def _in_source(name: str) -> str:
    return f"{_SNUBA}.{name}|{_SOURCE}.{name}"


class MonitorCondition(SentryModel):
    """A condition: ``type`` against the threshold ``comparison``, giving priority ``conditionResult``."""

    type: fields.MonitorConditionType = field("type", description="gt, lte or anomaly_detection")
    comparison: fields.Threshold | dict[str, Any] = field(
        "comparison", description="The threshold (anomaly_detection: its parameter object)")
    result: fields.MonitorResult = field("conditionResult", 75, description="Priority: 75 high, 50 low, 0 resolved")

    @field_rule
    def _threshold(self) -> Self:
        if self.type != "anomaly_detection" and not isinstance(self.comparison, int | float):
            raise ValueError("comparison must be a number (the threshold)")
        return self


class MetricMonitorInputs(SentryModel):
    """A metric monitor (``sentrystacks:index:MetricMonitor``), found again by its exact name within its project."""

    project: fields.ProjectSlug = field("project", sent=False, replace=True,
                                        description="Slug of the monitored project")
    name: Annotated[str, fields.text("a monitor name", max_len=200)] = field("name", description="The monitor's name")
    aggregate: fields.AggregateText = field("aggregate", body=f"{_SOURCE}.aggregate", read=_in_source("aggregate"),
                                     description="e.g. count() or p95(transaction.duration)")
    conditions: Annotated[list[MonitorCondition], Field(min_length=1)] = field(
        "conditions", body="conditionGroup.conditions", compare=norm_conditions, description="When it fires")
    dataset: fields.Dataset = field("dataset", "events", body=f"{_SOURCE}.dataset", read=_in_source("dataset"),
                             description="The dataset queried")
    query: fields.QueryText = field("query", "", body=f"{_SOURCE}.query", read=_in_source("query"),
                                    compare=text_or_empty, description="Event search query")
    query_type: Annotated[int, fields.one_of_numbers((0, 1, 2))] | None = field(
        "queryType", None, body=f"{_SOURCE}.queryType", read=_in_source("queryType"), compare=int_or_none,
        description="0 error, 1 transaction, 2 crash rate; default: the dataset's")
    time_window_seconds: fields.MonitorWindow = field(
        "timeWindow", 3600, body=f"{_SOURCE}.timeWindow", read=_in_source("timeWindow"), compare=int_or_none,
        description="Seconds (not minutes)")
    environment: fields.EnvName | None = field(
        "environment", None, body=f"{_SOURCE}.environment", read=_in_source("environment"), compare=text_or_none,
        unset="default", description="Sentry environment; none: every environment")
    event_types: list[fields.EventType] | None = field(
        "eventTypes", None, body=f"{_SOURCE}.eventTypes", read=_in_source("eventTypes"), compare=sorted_texts,
        description="Event types; default: the dataset's")
    detection_type: fields.DetectionType = field("detectionType", "static", body="config.detectionType",
                                          description="static, percent or dynamic")
    comparison_delta_seconds: fields.ComparisonDelta | None = field(
        "comparisonDelta", None, body="config.comparisonDelta", compare=int_or_none, unset="default",
        description="percent: compare with this many seconds earlier")
    owner: fields.Owner | None = field("owner", None, compare=owner_text, unset="default",
                                description="team:<id> or user:<id>")
    description: fields.Description | None = field("description", None, compare=text_or_none, unset="default")
    enabled: fields.Bool = field("enabled", True, compare=flag(True), description="false keeps it but turns it off")
    adopt: fields.Bool = field("adopt", False, sent=False, compare=bool, unset="default",
                        description="Adopt a monitor of that name that already exists")
    lookup_first: fields.Bool | None = field(
        "lookupFirst", None, sent=False, diff=False,
        description="false: look the name up before the POST only when a killed run may have created it")

    @field_rule
    def _query_type(self) -> Self:
        expected = QUERY_TYPES.get(self.dataset)
        if self.query_type is not None and expected is not None and self.query_type != expected:
            raise ValueError(f"queryType {self.query_type} does not match dataset {self.dataset!r} (Sentry refuses "
                             f"it); allowed for {self.dataset}: {expected}, or leave queryType out")
        return self

    @property
    def effective_query_type(self) -> int:
        return self.query_type if self.query_type is not None else QUERY_TYPES.get(self.dataset, 0)

    def to_body(self) -> dict[str, Any]:
        """Detector body for POST and PUT (a PUT carries the whole definition)."""
        body = body_of(self)
        source, config = body["dataSources"][0], body["config"]
        source["queryType"] = self.effective_query_type
        for part, key in ((source, "eventTypes"), (config, "comparisonDelta")):
            if part.get(key) is None:
                part.pop(key, None)
        body["conditionGroup"]["logicType"] = "any"
        return {**body, "type": "metric_issue"}


class MetricMonitorState(MetricMonitorInputs):
    """What a MetricMonitor's state holds besides its inputs."""

    detector_id: str | None = field("detectorId", None, sent=False, diff=False)
    project_id: str | None = field("projectId", None, sent=False, diff=False)
    organization: str | None = field("organization", None, sent=False, diff=False)
    date_created: str | None = field("dateCreated", None, sent=False, diff=False)


#: what a refresh reads back (the provider's own fields apart)
MUTABLE = tuple(key for _n, key, _i, meta in fields_of(MetricMonitorInputs) if meta.body is not None)
NULLABLE = ("environment", "owner", "description", "comparisonDelta")


def normalise(key: str, value: Any) -> Any:
    return normalised(MetricMonitorInputs, key, value)


def live_values(detector: Mapping[str, Any]) -> dict[str, Any]:
    """The managed fields of a detector JSON, normalised (a snubaQuery without queryType: the dataset's)."""
    values = live_of(MetricMonitorInputs, detector, fill=True)
    if values.get("queryType") is None:  # Sentry's snubaQuery carries none: it is fixed by the dataset
        values["queryType"] = QUERY_TYPES.get(str(values.get("dataset") or "events"))
    values["detectionType"] = values.get("detectionType") or "static"
    return values


def outputs_from_api(detector: Mapping[str, Any], inputs: MetricMonitorInputs, *, organization: str) -> dict[str, Any]:
    """State of a detector: declared fields with live values, plus ids."""
    live = live_values(detector)
    outs = props_of(inputs)
    declared = set(outs)
    for key in MUTABLE:
        if key in declared or (key in NULLABLE and live.get(key) is not None):
            value = live.get(key)
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


__all__ = [
    "MUTABLE",
    "NULLABLE",
    "MetricMonitorInputs",
    "MonitorCondition",
    "live_values",
    "norm_conditions",
    "normalise",
    "outputs_from_api",
    "owner_text",
]
