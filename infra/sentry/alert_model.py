"""The Alert's typed inputs (a Sentry workflow), and how they meet Sentry: the body, the state, comparison."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field

from infra.fields import (
    ActionType,
    Bool,
    EnvName,
    Frequency,
    LogicType,
    Owner,
    ProjectSlug,
    TargetType,
    WebhookUrl,
    choice,
    text,
)
from infra.sentry.compare import as_declared, as_int, flag
from infra.sentry.shape import SentryModel, field, field_rule, props_of
from infra.vocabulary import FILTER_TYPES, NON_INTEGRATION_ACTIONS, TRIGGER_TYPES


def _id(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    return value


Id = Annotated[str, BeforeValidator(_id)]


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


def frequency(value: Any) -> Any:
    return as_int(value) if value is not None else 30


class Condition(SentryModel):
    """A workflow condition ``{type, comparison, conditionResult}``."""

    type: Annotated[str, text("a condition type")] = field("type", description="The condition type")
    comparison: Any = field("comparison", True, description="The type's parameter object (true for none)")
    result: Bool = field("conditionResult", True, description="The conditionResult")


class TriggerCondition(Condition):
    type: Annotated[str, choice(TRIGGER_TYPES)] = field("type", description="When the alert fires")


class FilterCondition(Condition):
    type: Annotated[str, choice(FILTER_TYPES)] = field("type", description="A filter of the issues it acts on")


class ActionConfig(SentryModel):
    target_type: TargetType = field("targetType", "issue_owners", description="Who is notified")
    target_identifier: Id | None = field("targetIdentifier", None, description="User/team id or channel")


class Action(SentryModel):
    """A workflow action; every type but email and webhook needs its integration's id."""

    type: ActionType = field("type", description="What it does")
    integration_id: Id | None = field("integrationId", None, description="The integration's id")
    data: dict[str, Any] = field("data", default_factory=dict, description="Extra action data")
    config: ActionConfig = field("config", default_factory=ActionConfig, description="Its target")

    @field_rule
    def _integration(self) -> Self:
        if self.type not in NON_INTEGRATION_ACTIONS and not self.integration_id:
            raise ValueError(f"a {self.type} action needs an integrationId")
        return self


class Triggers(SentryModel):
    logic_type: LogicType = field("logicType", "any-short", description="How the triggers combine")
    conditions: list[TriggerCondition] = field("conditions", default_factory=list, description="The triggers")


class ActionFilter(SentryModel):
    logic_type: LogicType = field("logicType", "all", description="How the conditions combine")
    conditions: list[FilterCondition] = field("conditions", default_factory=list, description="Filter conditions")
    actions: Annotated[list[Action], Field(min_length=1)] = field("actions", description="What it does")


class AlertInputs(SentryModel):
    """An alert (``sentrystacks:index:Alert``): a Sentry workflow on the issue streams of `projects` and on the
    detectors of `detectorIds`; found again by its exact name, unique in the organization."""

    name: Annotated[str, text("an alert name", max_len=256)] = field("name", description="The workflow's name")
    projects: list[ProjectSlug] = field("projects", default_factory=list, compare=norm_ids,
                                        description="Projects whose issues feed it")
    project_ids: list[Id] | None = field(
        "projectIds", None, sent=False, diff=False,
        description="The projects' numeric ids, in the order of projects (saves looking them up)")
    detector_ids: list[Id] | None = field("detectorIds", None, compare=norm_ids,
                                          description="Monitors (detectors) that also feed it")
    triggers: Triggers | None = field("triggers", None, compare=norm_triggers, description="When it fires")
    action_filters: list[ActionFilter] = field("actionFilters", default_factory=list, compare=norm_action_filters,
                                               description="Filters, each with its actions")
    frequency_minutes: Frequency = field("frequency", 30, compare=frequency,
                                         description="Minimum minutes between two firings for one issue")
    environment: EnvName | None = field("environment", None, unset="default", description="Sentry environment")
    owner: Owner | None = field("owner", None, unset="default", description="team:<id> or user:<id>")
    enabled: Bool = field("enabled", True, compare=flag(True), description="false keeps it but turns it off")
    adopt: Bool = field("adopt", False, sent=False, compare=bool, description="Adopt a workflow of that name")
    lookup_first: Bool | None = field(
        "lookupFirst", None, sent=False, diff=False,
        description="false: look the name up before the POST only when a killed run may have created it")
    webhook_urls: list[WebhookUrl] | None = field(
        "webhookUrls", None, sent=False, compare=norm_ids, unset="default",
        description="A webhook action's callback URLs: set on the WebHooks plugin of each of projects")

    @field_rule
    def _watches(self) -> Self:
        if not self.projects and self.detector_ids is None:  # detectorIds: [] = unattached, as in Sentry
            raise ValueError("an alert needs at least one project or detector to watch")
        return self

    def normalised(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(triggers, actionFilters) as compared."""
        props = props_of(self)
        return norm_triggers(props.get("triggers")), norm_action_filters(props.get("actionFilters"))

    def to_body(self, issue_stream_ids: Mapping[str, str]) -> dict[str, Any]:
        """Workflow body (POST and PUT: PUT replaces the whole workflow)."""
        detector_ids = sorted({*issue_stream_ids.values(), *norm_ids(self.detector_ids)}, key=lambda v: (len(v), v))
        triggers, groups = self.normalised()
        return {
            "name": self.name,
            "enabled": self.enabled,
            "config": {"frequency": self.frequency_minutes},
            "environment": self.environment,
            "owner": self.owner,
            "detectorIds": [int(v) if v.isdigit() else v for v in detector_ids],
            "triggers": {**triggers, "actions": []},
            "actionFilters": [
                {**group, "actions": [{**a, "status": "active"} for a in group["actions"]]} for group in groups
            ],
        }


class AlertState(AlertInputs):
    """What an Alert's state holds besides its inputs."""

    workflow_id: str | None = field("workflowId", None, sent=False, diff=False)
    organization: str | None = field("organization", None, sent=False, diff=False)
    issue_stream_detectors: dict[str, str] | None = field(
        "issueStreamDetectors", None, sent=False, diff=False,
        description="The watched projects' issue-stream detector ids, by project slug")
    date_created: str | None = field("dateCreated", None, sent=False, diff=False)


def outputs_from_api(
    workflow: Mapping[str, Any], inputs: AlertInputs, *, organization: str, issue_stream_ids: Mapping[str, str]
) -> dict[str, Any]:
    """State of a workflow. ``projects`` keeps the declared projects whose issue stream is still attached;
    other attached detectors appear in ``detectorIds``."""
    live_ids = set(norm_ids(workflow.get("detectorIds")))
    projects = [p for p in norm_ids(inputs.projects) if issue_stream_ids.get(p) in live_ids]
    stream_ids = {issue_stream_ids[p] for p in projects}
    config = workflow.get("config") if isinstance(workflow.get("config"), Mapping) else {}
    triggers, groups = inputs.normalised()
    outs = props_of(inputs)
    outs.update(
        name=workflow.get("name"),
        projects=projects,
        detectorIds=sorted(live_ids - stream_ids),
        triggers=norm_triggers(as_declared(norm_triggers(workflow.get("triggers")), triggers)),
        actionFilters=norm_action_filters(as_declared(norm_action_filters(workflow.get("actionFilters")), groups)),
        frequency=frequency((config or {}).get("frequency")),
        enabled=flag(True)(workflow.get("enabled")),
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


__all__ = [
    "AlertInputs",
    "norm_action",
    "norm_action_filters",
    "norm_condition",
    "norm_ids",
    "norm_triggers",
    "outputs_from_api",
]
