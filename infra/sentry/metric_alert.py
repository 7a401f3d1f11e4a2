"""MetricAlert: a legacy metric alert rule (``/organizations/{org}/alert-rules/``).

Only for self-hosted Sentry older than 26.7 (setting ``legacyAlerts``); refused against sentry.io,
where the API answers 410. ``timeWindow`` and ``comparisonDelta`` are in **minutes** here (detectors
use seconds). A trigger's ``actions`` may be empty (Sentry accepts and returns ``[]``). Found again by name
within its project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from infra.sentry import ids
from infra.sentry.base import PROVIDER_KEY, Checker, SentryProvider, declared, is_unknown, split_unknown
from infra.sentry.client import SentryClient
from infra.sentry.compare import as_declared, as_float, as_int
from infra.sentry.errors import SentryGone, SentryStateError
from infra.sentry.legacy_model import (
    GONE_ADVICE,
    METRIC_ACTION_TYPES,
    METRIC_TARGET_TYPES,
    METRIC_TIME_WINDOWS,
    REFUSAL,
    TRIGGER_LABELS,
    norm_triggers,
)
from infra.sentry.metric_monitor_model import DATASETS

INPUT_KEYS = ("project", "name", "aggregate", "timeWindow", "query", "thresholdType", "triggers",
              "resolveThreshold", "environment", "dataset", "queryType", "eventTypes", "owner",
              "comparisonDelta", "thresholdPeriod", "adopt")
COMPUTED = ("alertRuleId", "organization", "dateCreated")


def normalise(key: str, value: Any) -> Any:
    if key == "triggers":
        return norm_triggers(value)
    if key == "eventTypes":
        return sorted(value) if value else None
    if key in ("timeWindow", "thresholdType", "queryType", "comparisonDelta", "thresholdPeriod") and value is not None:
        return as_int(value)
    if key == "resolveThreshold" and value is not None:
        return as_float(value)
    if key == "query":
        return value or ""
    if key == "adopt":
        return bool(value)
    return value


@dataclass(frozen=True)
class MetricAlertInputs:
    project: str
    name: str
    fields: dict[str, Any]
    adopt: bool = False

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> MetricAlertInputs:
        skip = ("project", "name", "adopt")
        return MetricAlertInputs(
            project=str(props["project"]), name=str(props["name"]),
            fields={k: normalise(k, props[k]) for k in INPUT_KEYS if k not in skip and props.get(k) is not None},
            adopt=bool(props.get("adopt", False)),
        )

    def to_body(self) -> dict[str, Any]:
        return {"name": self.name, "projects": [self.project], **self.fields}


def outputs_from_api(rule: Mapping[str, Any], inputs: MetricAlertInputs, *, organization: str) -> dict[str, Any]:
    outs: dict[str, Any] = {"project": inputs.project, "adopt": inputs.adopt, "name": rule.get("name")}
    for key in inputs.fields:
        value = normalise(key, rule.get(key))
        if key == "triggers" and isinstance(value, list):  # Sentry adds inputChannelId, desc, resolveThreshold
            value = norm_triggers(as_declared(value, inputs.fields["triggers"]))
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


class MetricAlertProvider(SentryProvider):
    """CRUD for legacy metric alert rules."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        if self.configured_for_sentry_io:
            c.fail("name", REFUSAL.format(what="metric alert rules"))
        c.slug("project")
        c.str_("name", required=True, max_len=256)
        c.str_("aggregate", required=True)
        c.int_("timeWindow", required=True, allowed=METRIC_TIME_WINDOWS)
        c.str_("query", allow_empty=True)
        c.int_("thresholdType", required=True, allowed=(0, 1))
        c.number("resolveThreshold")
        c.str_("dataset", allowed=DATASETS)
        c.int_("queryType", allowed=(0, 1, 2))
        c.int_("comparisonDelta", minimum=1, maximum=128160)
        c.int_("thresholdPeriod", minimum=1, maximum=20)
        c.str_list("eventTypes")
        c.bool_("adopt")
        triggers = news.get("triggers")
        if triggers is None:
            c.fail("triggers", "triggers is required: [{label: critical, alertThreshold, actions: [...]}]")
        elif not is_unknown(triggers):
            self._check_triggers(c, triggers)
        return CheckResult(declared(news), c.failures)

    @staticmethod
    def _check_triggers(c: Checker, triggers: Any) -> None:
        if not isinstance(triggers, list) or not 1 <= len(triggers) <= 2:
            c.fail("triggers", "triggers must list 1 or 2 triggers (critical, then warning)")
            return
        for i, trigger in enumerate(triggers):
            if not isinstance(trigger, dict):
                c.fail("triggers", f"triggers[{i}] must be an object")
                continue
            if trigger.get("label") != TRIGGER_LABELS[i]:
                c.fail("triggers",
                       f"triggers[{i}].label must be {TRIGGER_LABELS[i]!r} (allowed order: critical, warning)")
            if not isinstance(trigger.get("alertThreshold"), (int, float)):
                c.fail("triggers", f"triggers[{i}].alertThreshold must be a number")
            actions = trigger.get("actions", [])
            if is_unknown(actions):
                continue
            if not isinstance(actions, list):
                c.fail("triggers", f"triggers[{i}].actions must be a list of actions (it may be empty)")
                continue
            for j, action in enumerate(actions):
                if not isinstance(action, dict):
                    c.fail("triggers", f"triggers[{i}].actions[{j}] must be an object")
                    continue
                if action.get("type") not in METRIC_ACTION_TYPES:
                    c.fail("triggers", f"triggers[{i}].actions[{j}].type {action.get('type')!r} is not allowed; "
                           f"allowed values: {', '.join(METRIC_ACTION_TYPES)}")
                if action.get("targetType") not in METRIC_TARGET_TYPES:
                    c.fail("triggers", f"triggers[{i}].actions[{j}].targetType {action.get('targetType')!r} is not "
                           f"allowed; allowed values: {', '.join(METRIC_TARGET_TYPES)}")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        known, unknown = split_unknown(olds, news, INPUT_KEYS)
        changed = [k for k in INPUT_KEYS
                   if k in unknown or (k in known and normalise(k, known[k]) != normalise(k, olds.get(k)))]
        replaces = ["project"] if "project" in changed else []
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=bool(replaces))

    def _call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except SentryGone as exc:
            raise SentryStateError(f"{exc}. {GONE_ADVICE}") from None

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = MetricAlertInputs.from_props(props)
        client, org = self.client, self.client.org
        what = f"metric alert rule '{inputs.name}' of project '{inputs.project}'"
        existing = self._call(find_alert_rule, client, org, inputs.project, inputs.name)
        if existing is not None and not inputs.adopt:
            raise SentryStateError(f"{what} already exists and this stack did not create it: set adoptExisting "
                                   "to manage it from this stack, or rename the rule")
        if existing is not None:
            rule = client.put(f"organizations/{org}/alert-rules/{existing['id']}/", inputs.to_body(), what=what)
        else:
            rule = self._call(client.create, f"organizations/{org}/alert-rules/", inputs.to_body(), what=what,
                              find=lambda: find_alert_rule(client, org, inputs.project, inputs.name))
        outs = outputs_from_api(rule, inputs, organization=org)
        return CreateResult(ids.make("alert-rule", org, str(rule["id"])), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        sid = ids.parse("alert-rule", id_)
        inputs = MetricAlertInputs.from_props(props)
        rule = self._call(self.client.get_or_none, f"organizations/{sid.org}/alert-rules/{sid.object_id}/",
                          what=f"metric alert rule '{inputs.name}'")
        if not isinstance(rule, dict):
            return ReadResult("", {})
        outs = outputs_from_api(rule, inputs, organization=sid.org)
        return ReadResult(id_, outs, {k: v for k, v in outs.items() if k in INPUT_KEYS and k != PROVIDER_KEY})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("alert-rule", id_)
        inputs = MetricAlertInputs.from_props(news)
        rule = self._call(self.client.put, f"organizations/{sid.org}/alert-rules/{sid.object_id}/", inputs.to_body(),
                          what=f"metric alert rule '{inputs.name}'")
        return UpdateResult(outputs_from_api(rule, inputs, organization=sid.org))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        sid = ids.parse("alert-rule", id_)
        self._call(self.client.delete, f"organizations/{sid.org}/alert-rules/{sid.object_id}/",
                   what=f"metric alert rule '{props.get('name')}'")


class MetricAlert(Resource, module="sentry", name="MetricAlert"):
    """A legacy metric alert rule (``pulumi-python:dynamic/sentry:MetricAlert``)."""

    alertRuleId: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED)}
        full.update(props)
        super().__init__(MetricAlertProvider(), resource_name, full, opts)


__all__ = ["MetricAlert", "MetricAlertInputs", "MetricAlertProvider", "find_alert_rule"]
