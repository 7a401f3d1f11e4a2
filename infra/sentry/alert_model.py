"""Pure conversion for the Alert resource (a Sentry workflow)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.sentry.base import PROVIDER_KEY
from infra.sentry.compare import as_declared, as_int
from infra.vocabulary import ACTION_TYPES, FILTER_TYPES, FREQUENCIES, LOGIC_TYPES, TARGET_TYPES, TRIGGER_TYPES

# Sentry's value sets come from the one vocabulary module (re-exported here under the names providers use).
FILTER_LOGIC_TYPES = LOGIC_TYPES
INPUT_KEYS = ("name", "projects", "detectorIds", "triggers", "actionFilters", "frequency", "environment",
              "owner", "enabled", "adopt", "webhookUrls")
COMPUTED = ("workflowId", "organization", "issueStreamDetectors", "dateCreated")


def _canon_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def norm_condition(cond: Mapping[str, Any]) -> dict[str, Any]:
    """A condition without server-added fields (``id``); ``conditionResult`` defaults to true."""
    result = cond.get("conditionResult", cond.get("condition_result", True))
    return {"type": cond.get("type"), "comparison": cond.get("comparison", True), "conditionResult": result}


def norm_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action without ``id``/``status``/``targetDisplay``; ids as strings."""
    config = dict(action.get("config") or {})
    config.pop("targetDisplay", None)
    if config.get("targetIdentifier") is not None:
        config["targetIdentifier"] = str(config["targetIdentifier"])
    integration = action.get("integrationId")
    data = {k: v for k, v in dict(action.get("data") or {}).items() if v is not None}
    return {
        "type": action.get("type"),
        "integrationId": str(integration) if integration not in (None, "") else None,
        "data": data,
        "config": {k: v for k, v in config.items() if v is not None},
    }


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=_canon_json)


def norm_triggers(value: Any) -> dict[str, Any]:
    src = value if isinstance(value, Mapping) else {}
    return {
        "logicType": src.get("logicType", src.get("logic_type", "any-short")),
        "conditions": _sorted([norm_condition(c) for c in src.get("conditions") or []]),
    }


def norm_action_filters(value: Any) -> list[dict[str, Any]]:
    groups = []
    for group in value or []:
        groups.append({
            "logicType": group.get("logicType", group.get("logic_type", "all")),
            "conditions": _sorted([norm_condition(c) for c in group.get("conditions") or []]),
            "actions": _sorted([norm_action(a) for a in group.get("actions") or []]),
        })
    return sorted(groups, key=_canon_json)


def norm_ids(value: Any) -> list[str]:
    return sorted({str(v) for v in value or []})


def normalise(key: str, value: Any) -> Any:
    if key == "triggers":
        return norm_triggers(value)
    if key == "actionFilters":
        return norm_action_filters(value)
    if key in ("projects", "detectorIds", "webhookUrls"):
        return norm_ids(value)
    if key == "frequency":
        return as_int(value) if value is not None else 30
    if key == "enabled":
        return True if value is None else bool(value)
    if key == "adopt":
        return bool(value)
    return value


@dataclass(frozen=True)
class AlertInputs:
    """Checked inputs of an Alert (workflow)."""

    name: str
    projects: tuple[str, ...] = ()
    detector_ids: tuple[str, ...] = ()
    triggers: dict[str, Any] | None = None
    action_filters: tuple[dict[str, Any], ...] = ()
    frequency: int = 30
    environment: str | None = None
    owner: str | None = None
    enabled: bool = True
    adopt: bool = False
    webhook_urls: tuple[str, ...] = ()  # the WebHooks plugin's callback URLs on each of `projects`

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> AlertInputs:
        return AlertInputs(
            name=str(props["name"]),
            projects=tuple(norm_ids(props.get("projects"))),
            detector_ids=tuple(norm_ids(props.get("detectorIds"))),
            triggers=norm_triggers(props.get("triggers")),
            action_filters=tuple(norm_action_filters(props.get("actionFilters"))),
            frequency=normalise("frequency", props.get("frequency")),
            environment=props.get("environment") or None,
            owner=props.get("owner") or None,
            enabled=normalise("enabled", props.get("enabled")),
            adopt=bool(props.get("adopt", False)),
            webhook_urls=tuple(norm_ids(props.get("webhookUrls"))),
        )

    def to_props(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "name": self.name, "projects": list(self.projects), "detectorIds": list(self.detector_ids),
            "triggers": self.triggers, "actionFilters": list(self.action_filters), "frequency": self.frequency,
            "enabled": self.enabled, "adopt": self.adopt,
        }
        if self.environment is not None:
            props["environment"] = self.environment
        if self.owner is not None:
            props["owner"] = self.owner
        if self.webhook_urls:
            props["webhookUrls"] = list(self.webhook_urls)
        return props

    def to_body(self, issue_stream_ids: Mapping[str, str]) -> dict[str, Any]:
        """Workflow body (POST and PUT: PUT replaces the whole workflow)."""
        detector_ids = sorted({*issue_stream_ids.values(), *self.detector_ids}, key=lambda v: (len(v), v))
        triggers = dict(self.triggers or norm_triggers(None))
        triggers["actions"] = []
        return {
            "name": self.name,
            "enabled": self.enabled,
            "config": {"frequency": self.frequency},
            "environment": self.environment,
            "owner": self.owner,
            "detectorIds": [int(v) if v.isdigit() else v for v in detector_ids],
            "triggers": triggers,
            "actionFilters": [
                {**group, "actions": [{**a, "status": "active"} for a in group["actions"]]}
                for group in self.action_filters
            ],
        }


def outputs_from_api(
    workflow: Mapping[str, Any], inputs: AlertInputs, *, organization: str, issue_stream_ids: Mapping[str, str]
) -> dict[str, Any]:
    """State of a workflow. ``projects`` keeps the declared projects whose issue stream is still attached;
    other attached detectors appear in ``detectorIds``."""
    live_ids = set(norm_ids(workflow.get("detectorIds")))
    projects = [p for p in inputs.projects if issue_stream_ids.get(p) in live_ids]
    stream_ids = {issue_stream_ids[p] for p in projects}
    config = workflow.get("config") if isinstance(workflow.get("config"), Mapping) else {}
    outs = inputs.to_props()
    outs.update(
        name=workflow.get("name"),
        projects=projects,
        detectorIds=sorted(live_ids - stream_ids),
        triggers=norm_triggers(as_declared(norm_triggers(workflow.get("triggers")), inputs.triggers)),
        actionFilters=norm_action_filters(as_declared(norm_action_filters(workflow.get("actionFilters")),
                                                      list(inputs.action_filters))),
        frequency=normalise("frequency", (config or {}).get("frequency")),
        enabled=normalise("enabled", workflow.get("enabled")),
        workflowId=str(workflow.get("id")),
        organization=organization,
        issueStreamDetectors=dict(issue_stream_ids),
        dateCreated=workflow.get("dateCreated"),
    )
    for key in ("environment", "owner"):
        if workflow.get(key) is not None:
            outs[key] = workflow.get(key)
        else:
            outs.pop(key, None)
    return outs


def inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: outs[k] for k in INPUT_KEYS if outs.get(k) is not None and k != PROVIDER_KEY}


def changed_fields(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    changed = []
    for key in INPUT_KEYS:
        if key in ("environment", "owner"):
            if news.get(key) != olds.get(key):
                changed.append(key)
        elif key in news and normalise(key, news[key]) != normalise(key, olds.get(key)):
            changed.append(key)
    return changed


__all__ = [
    "ACTION_TYPES",
    "COMPUTED",
    "FILTER_LOGIC_TYPES",
    "FILTER_TYPES",
    "FREQUENCIES",
    "INPUT_KEYS",
    "LOGIC_TYPES",
    "TARGET_TYPES",
    "TRIGGER_TYPES",
    "AlertInputs",
    "changed_fields",
    "inputs_from_outputs",
    "norm_action",
    "norm_action_filters",
    "norm_condition",
    "norm_triggers",
    "normalise",
    "outputs_from_api",
]
