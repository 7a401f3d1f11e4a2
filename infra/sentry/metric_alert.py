"""MetricAlert: a legacy metric alert rule (``/organizations/{org}/alert-rules/``).

Only for self-hosted Sentry older than 26.7 (setting ``legacyAlerts``); refused against sentry.io,
where the API answers 410. ``timeWindow`` and ``comparisonDelta`` are in **minutes** here (detectors
use seconds). A trigger's ``actions`` may be empty (Sentry accepts and returns ``[]``). Found again by name
within its project.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from infra.fields import Bool, Dataset, ProjectSlug, one_of_numbers, text, whole
from infra.sentry.bodies import body_of
from infra.sentry.client import SentryClient
from infra.sentry.compare import as_declared, as_float, int_or_none, text_or_empty
from infra.sentry.legacy_model import (
    METRIC_ACTION_TYPES,
    METRIC_TARGET_TYPES,
    METRIC_TIME_WINDOWS,
    TRIGGER_LABELS,
    norm_triggers,
)
from infra.sentry.legacy_rule import LegacyRuleProvider
from infra.sentry.shape import SentryModel, field, fields_of, is_deferred, normalised


def _sorted_or_none(value: Any) -> Any:
    return sorted(value) if value else None


def _float_or_none(value: Any) -> Any:
    return None if value is None else as_float(value)


class MetricAlertInputs(SentryModel):
    """A legacy metric alert rule (``sentrystacks:index:MetricAlert``; self-hosted Sentry before 26.7):
    ``timeWindow`` and ``comparisonDelta`` are in minutes here. Only the fields declared are compared."""

    project: ProjectSlug = field("project", sent=False, replace=True, description="Slug of the rule's project")
    name: Annotated[str, text("a rule name", max_len=256)] = field("name", description="The rule's name")
    aggregate: Annotated[str, text("an aggregate")] = field("aggregate", description="e.g. count()")
    time_window: Annotated[int, one_of_numbers(METRIC_TIME_WINDOWS)] = field(
        "timeWindow", compare=int_or_none, description="Minutes")
    query: Annotated[str, text("a query", allow_empty=True)] | None = field("query", None, compare=text_or_empty)
    threshold_type: Literal[0, 1] = field("thresholdType", compare=int_or_none, description="0 above, 1 below")
    triggers: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=2)] = field(
        "triggers", compare=norm_triggers, description="critical, then optionally warning")
    resolve_threshold: float | None = field("resolveThreshold", None, compare=_float_or_none)
    environment: str | None = field("environment", None)
    dataset: Dataset | None = field("dataset", None)
    query_type: Literal[0, 1, 2] | None = field("queryType", None, compare=int_or_none)
    event_types: list[str] | None = field("eventTypes", None, compare=_sorted_or_none)
    owner: str | None = field("owner", None)
    comparison_delta: Annotated[int, whole(1, 128160)] | None = field("comparisonDelta", None, compare=int_or_none)
    threshold_period: Annotated[int, whole(1, 20)] | None = field("thresholdPeriod", None, compare=int_or_none)
    adopt: Bool = field("adopt", False, sent=False, compare=bool, description="Adopt a rule of that name")

    @field_validator("triggers", mode="after")
    @classmethod
    def _triggers(cls, triggers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, trigger in enumerate([] if is_deferred(triggers) else triggers):
            if trigger.get("label") != TRIGGER_LABELS[i]:
                raise ValueError(f"triggers[{i}].label must be {TRIGGER_LABELS[i]!r} (allowed order: critical, "
                                 "warning)")
            if not isinstance(trigger.get("alertThreshold"), int | float):
                raise ValueError(f"triggers[{i}].alertThreshold must be a number")
            actions = trigger.get("actions", [])
            if not isinstance(actions, list):
                raise ValueError(f"triggers[{i}].actions must be a list of actions (it may be empty)")
            for j, action in enumerate(actions):
                if not isinstance(action, dict) or action.get("type") not in METRIC_ACTION_TYPES:
                    raise ValueError(f"triggers[{i}].actions[{j}].type must be one of "
                                     f"{', '.join(METRIC_ACTION_TYPES)}")
                if action.get("targetType") not in METRIC_TARGET_TYPES:
                    raise ValueError(f"triggers[{i}].actions[{j}].targetType must be one of "
                                     f"{', '.join(METRIC_TARGET_TYPES)}")
        return triggers

    def fields(self) -> dict[str, Any]:
        """The declared fields Sentry takes (the name apart), as compared."""
        compare = {key: meta.compare for _n, key, _i, meta in fields_of(MetricAlertInputs)}
        return {k: compare[k](v) for k, v in body_of(self, skip_none=True).items() if k != "name"}

    def to_body(self) -> dict[str, Any]:
        return {"name": self.name, "projects": [self.project], **self.fields()}


class MetricAlertState(MetricAlertInputs):
    alert_rule_id: str | None = field("alertRuleId", None, sent=False, diff=False)
    organization: str | None = field("organization", None, sent=False, diff=False)
    date_created: str | None = field("dateCreated", None, sent=False, diff=False)


def outputs_from_api(rule: Mapping[str, Any], inputs: MetricAlertInputs, *, organization: str) -> dict[str, Any]:
    outs: dict[str, Any] = {"project": inputs.project, "adopt": inputs.adopt, "name": rule.get("name")}
    declared = inputs.fields()
    for key in declared:
        value = normalised(MetricAlertInputs, key, rule.get(key))
        if key == "triggers" and isinstance(value, list):  # Sentry adds inputChannelId, desc, resolveThreshold
            value = norm_triggers(as_declared(value, declared["triggers"]))
        if value is not None:
            outs[key] = value
    outs.update(alertRuleId=str(rule.get("id")), organization=organization, dateCreated=rule.get("dateCreated"))
    return outs


def find_alert_rule(client: SentryClient, org: str, project: str, name: str) -> dict[str, Any] | None:
    for rule in client.paginate(f"organizations/{org}/alert-rules/", what="metric alert rules",
                                params={"project": project}):
        if rule.get("name") == name and project in (rule.get("projects") or [project]):
            return dict(rule)
    return None


class MetricAlertProvider(LegacyRuleProvider[MetricAlertInputs]):
    """CRUD for legacy metric alert rules."""

    inputs_type = MetricAlertInputs
    what, id_kind = "metric alert rule", "alert-rule"
    collection = "organizations/{org}/alert-rules/"
    find, outputs = staticmethod(find_alert_rule), staticmethod(outputs_from_api)


__all__ = ["MetricAlertInputs", "MetricAlertProvider", "find_alert_rule"]
