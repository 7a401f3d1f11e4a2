"""Pure conversion shared by the legacy alert resources (self-hosted Sentry before 26.7 only).

sentry.io retired ``/projects/{org}/{project}/rules/`` and ``/organizations/{org}/alert-rules/``: they
answer 410 Gone. The legacy resources refuse to run against sentry.io with :data:`REFUSAL`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from infra.vocabulary import METRIC_WINDOWS_MINUTES

REFUSAL = (
    "the legacy {what} API is retired on sentry.io (it answers 410 Gone); use the current resources "
    "(Alert for workflows, MetricMonitor for detectors) by turning legacyAlerts off. Legacy alerts are "
    "only for self-hosted Sentry older than 26.7"
)
GONE_ADVICE = (
    "This Sentry no longer serves the legacy alert APIs: turn legacyAlerts off to use Alert (workflows) "
    "and MetricMonitor (detectors)"
)
MATCHES = ("all", "any", "none")
ISSUE_ALERT_FREQUENCY = (5, 43200)  # minutes
METRIC_TIME_WINDOWS = METRIC_WINDOWS_MINUTES  # MINUTES (detectors use seconds)
TRIGGER_LABELS = ("critical", "warning")
METRIC_ACTION_TYPES = ("email", "slack", "msteams", "pagerduty", "opsgenie", "discord", "sentry_app")
METRIC_TARGET_TYPES = ("specific", "user", "team", "sentry_app")


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def norm_node(node: Mapping[str, Any]) -> dict[str, Any]:
    """A rule node without what Sentry adds (``name`` label, action ``uuid``); ids as strings."""
    out = {k: v for k, v in node.items() if k not in ("name", "uuid") and v is not None}
    if "targetIdentifier" in out:
        out["targetIdentifier"] = str(out["targetIdentifier"])
    return out


def norm_nodes(nodes: Any) -> list[dict[str, Any]]:
    return sorted((norm_node(n) for n in nodes or [] if isinstance(n, Mapping)), key=_canon)


_TRIGGER_DROP = ("id", "alertRuleId", "dateCreated", "thresholdType")
_ACTION_DROP = ("id", "alertRuleTriggerId", "dateCreated", "desc")


def norm_metric_action(action: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in action.items() if k not in _ACTION_DROP and v is not None}
    for key in ("targetIdentifier", "integrationId", "sentryAppId"):
        if key in out:
            out[key] = str(out[key])
    return out


def norm_triggers(triggers: Any) -> list[dict[str, Any]]:
    out = []
    for trigger in triggers or []:
        item = {k: v for k, v in trigger.items() if k not in _TRIGGER_DROP and v is not None}
        for key in ("alertThreshold", "resolveThreshold"):
            if isinstance(item.get(key), (int, float)):
                item[key] = float(item[key])
        item["actions"] = sorted((norm_metric_action(a) for a in trigger.get("actions") or []), key=_canon)
        out.append(item)
    return sorted(out, key=lambda t: TRIGGER_LABELS.index(t["label"]) if t.get("label") in TRIGGER_LABELS else 9)


_TRIGGER_NODES = {
    "first_seen_event": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition",
    "regression_event": "sentry.rules.conditions.regression_event.RegressionEventCondition",
    "reappeared_event": "sentry.rules.conditions.reappeared_event.ReappearedEventCondition",
    "new_high_priority_issue": "sentry.rules.conditions.high_priority_issue.NewHighPriorityIssueCondition",
    "existing_high_priority_issue": "sentry.rules.conditions.high_priority_issue.ExistingHighPriorityIssueCondition",
}
_FILTER_NODES = {
    "level": "sentry.rules.filters.level.LevelFilter",
    "tagged_event": "sentry.rules.filters.tagged_event.TaggedEventFilter",
    "event_attribute": "sentry.rules.filters.event_attribute.EventAttributeFilter",
    "issue_occurrences": "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter",
    "latest_release": "sentry.rules.filters.latest_release.LatestReleaseFilter",
    "age_comparison": "sentry.rules.filters.age_comparison.AgeComparisonFilter",
}
_FREQUENCY_NODE = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
_INTERVALS = {"1min": "1m", "5min": "5m", "15min": "15m", "1hr": "1h"}
_EMAIL_TARGETS = {"issue_owners": "IssueOwners", "team": "Team", "user": "Member"}


_SERVICE_ACTION = "sentry.rules.actions.notify_event_service.NotifyEventServiceAction"


class LegacyConversionError(ValueError):
    """A workflow-style definition that has no legacy equivalent."""


def _match(logic: str) -> str:
    return {"any-short": "any"}.get(logic, logic)


def issue_rule_from_workflow(
    triggers: Sequence[Mapping[str, Any]], trigger_logic: str, filters: Sequence[Mapping[str, Any]], filter_logic: str,
    actions: Sequence[Mapping[str, Any]], frequency: int,
) -> dict[str, Any]:
    """The legacy issue-rule fields for a workflow-style alert (conditions ``{type, comparison}``)."""
    conditions: list[dict[str, Any]] = []
    for cond in [*triggers, *filters]:
        kind, comparison = cond.get("type"), cond.get("comparison")
        if kind in _TRIGGER_NODES:
            conditions.append({"id": _TRIGGER_NODES[str(kind)]})
        elif kind == "event_frequency_count" and isinstance(comparison, Mapping):
            interval = str(comparison.get("interval", "1h"))
            conditions.append({"id": _FREQUENCY_NODE, "value": comparison.get("value"),
                               "interval": _INTERVALS.get(interval, interval), "comparisonType": "count"})
    nodes: list[dict[str, Any]] = []
    for cond in filters:
        kind, comparison = cond.get("type"), cond.get("comparison")
        if kind == "event_frequency_count":
            continue
        if kind not in _FILTER_NODES:
            raise LegacyConversionError(f"filter type {kind!r} has no legacy equivalent; allowed in legacy mode: "
                                        f"{', '.join(sorted(_FILTER_NODES))}, event_frequency_count")
        params = dict(comparison) if isinstance(comparison, Mapping) else {}
        if kind == "age_comparison" and "comparisonType" in params:
            params["comparison_type"] = params.pop("comparisonType")
        if kind == "level" and "level" in params:
            params["level"] = str(params["level"])
        nodes.append({"id": _FILTER_NODES[str(kind)], **params})
    legacy_actions = []
    for action in actions:
        config = action.get("config") or {}
        if action.get("type") == "webhook" and config.get("targetIdentifier"):
            # the WebHooks plugin, as legacy rules reach it: "Send a notification via webhooks"
            legacy_actions.append({"id": _SERVICE_ACTION, "service": str(config["targetIdentifier"])})
            continue
        if action.get("type") != "email" or config.get("targetType") not in _EMAIL_TARGETS:
            raise LegacyConversionError(
                f"action type {action.get('type')!r} with target {config.get('targetType')!r} has no legacy "
                "equivalent here; legacy mode supports email actions to issue_owners, team or user, and webhook "
                "actions (the WebHooks plugin)"
            )
        node: dict[str, Any] = {"id": "sentry.mail.actions.NotifyEmailAction",
                                "targetType": _EMAIL_TARGETS[str(config.get("targetType"))],
                                "fallthroughType": (action.get("data") or {}).get("fallthroughType", "ActiveMembers")}
        if config.get("targetIdentifier") is not None:
            node["targetIdentifier"] = str(config.get("targetIdentifier"))
        legacy_actions.append(node)
    rule: dict[str, Any] = {
        "actionMatch": _match(trigger_logic), "conditions": conditions, "actions": legacy_actions,
        "frequency": max(ISSUE_ALERT_FREQUENCY[0], frequency),
    }
    if nodes:
        rule["filters"], rule["filterMatch"] = nodes, _match(filter_logic)
    return rule


def metric_alert_from_monitor(
    conditions: Sequence[Mapping[str, Any]], time_window_seconds: int, actions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Legacy metric-alert fields (``timeWindow`` in minutes, triggers) for a detector-style monitor."""
    minutes = time_window_seconds // 60
    if minutes not in METRIC_TIME_WINDOWS or time_window_seconds % 60:
        raise LegacyConversionError(f"time window {time_window_seconds}s has no legacy equivalent; allowed: "
                                    f"{', '.join(str(m * 60) for m in METRIC_TIME_WINDOWS)} seconds")
    metric_actions = []
    for action in actions:
        config = action.get("config") or {}
        target = config.get("targetType")
        if action.get("type") != "email" or target not in ("user", "team"):
            raise LegacyConversionError("legacy metric alerts support email actions to a user or team only")
        metric_actions.append({"type": "email", "targetType": target,
                               "targetIdentifier": str(config.get("targetIdentifier"))})
    if not metric_actions:
        raise LegacyConversionError("a legacy metric alert needs at least one action: reference the monitor "
                                    "from an alert with an email action to a user or team")
    triggers, resolve, threshold_type = [], None, 0
    for cond in sorted(conditions, key=lambda c: -int(c.get("conditionResult", 0))):
        result, kind = int(cond.get("conditionResult", 0)), cond.get("type")
        if result == 0:
            resolve = cond.get("comparison")
            continue
        threshold_type = 0 if kind == "gt" else 1
        label = "critical" if result == 75 else "warning"
        triggers.append({"label": label, "alertThreshold": cond.get("comparison"), "actions": metric_actions})
    if not triggers or triggers[0]["label"] != "critical":
        raise LegacyConversionError("a legacy metric alert needs a high-priority (75) condition")
    fields: dict[str, Any] = {"timeWindow": minutes, "thresholdType": threshold_type, "triggers": triggers}
    if resolve is not None:
        fields["resolveThreshold"] = resolve
    return fields


__all__ = [
    "GONE_ADVICE",
    "ISSUE_ALERT_FREQUENCY",
    "MATCHES",
    "METRIC_ACTION_TYPES",
    "METRIC_TARGET_TYPES",
    "METRIC_TIME_WINDOWS",
    "REFUSAL",
    "TRIGGER_LABELS",
    "LegacyConversionError",
    "issue_rule_from_workflow",
    "metric_alert_from_monitor",
    "norm_metric_action",
    "norm_node",
    "norm_nodes",
    "norm_triggers",
]
