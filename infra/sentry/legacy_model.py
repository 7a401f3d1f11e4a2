"""Pure conversion shared by the legacy alert resources (self-hosted Sentry before 26.7 only).

sentry.io retired ``/projects/{org}/{project}/rules/`` and ``/organizations/{org}/alert-rules/``: they
answer 410 Gone. The legacy resources refuse to run against sentry.io with :data:`REFUSAL`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
METRIC_TIME_WINDOWS = (1, 5, 10, 15, 30, 60, 120, 240, 1440)  # MINUTES (detectors use seconds)
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


__all__ = [
    "GONE_ADVICE",
    "ISSUE_ALERT_FREQUENCY",
    "MATCHES",
    "METRIC_ACTION_TYPES",
    "METRIC_TARGET_TYPES",
    "METRIC_TIME_WINDOWS",
    "REFUSAL",
    "TRIGGER_LABELS",
    "norm_metric_action",
    "norm_node",
    "norm_nodes",
    "norm_triggers",
]
