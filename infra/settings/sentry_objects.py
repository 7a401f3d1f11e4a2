"""``sentry-stacks:keys``, ``alerts`` and ``monitors``: a stack's client keys and alerting."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, model_validator

from infra.fields import (
    MONITOR_WINDOWS_RULE,
    ActionType,
    AggregateText,
    BrowserSdkVersion,
    ComparisonDelta,
    Dataset,
    Description,
    DetectionType,
    EnvName,
    EventType,
    Frequency,
    LogicType,
    MonitorConditionType,
    MonitorResult,
    MonitorWindow,
    Owner,
    QueryText,
    RateCount,
    RateWindow,
    TargetType,
    Threshold,
    WebhookUrl,
)
from infra.settings.problems import MISSING, Issue, check, suggest
from infra.settings.types import Bool, Model, text
from infra.vocabulary import (
    ACTION_TYPES,
    COMPARISON_DELTAS,
    FILTER_TYPES,
    GENERATION_RE,
    GENERATION_RULE,
    NON_INTEGRATION_ACTIONS,
    TRIGGER_TYPES,
    WEBHOOKS_PLUGIN,
)

ALERT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
ALERT_NAME_RULE = "a name: letters, digits, spaces, '.', '-' and '_' (at most 64), starting with a letter or digit"
IDENT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: an alert's triggers when it gives none
DEFAULT_TRIGGER_TYPES = ("first_seen_event", "regression_event")

# --------------------------------------------------------------------------- client keys


class RateLimitSettings(Model):
    """At most ``count`` events per ``window`` seconds (applied when the plan allows key rate limits)."""

    count: RateCount = Field(description="count >= 1 events per window of 1..86400 seconds")
    window: RateWindow = Field(description="count >= 1 events per window of 1..86400 seconds")


class LoaderSettings(Model):
    """The JavaScript loader options of a key; unset = leave as Sentry has them."""

    has_replay: Bool | None = None
    has_performance: Bool | None = None
    has_debug: Bool | None = None
    has_feedback: Bool | None = None
    has_logs_and_metrics: Bool | None = None


def _generation(value: Any) -> Any:
    return {"active": value} if isinstance(value, bool) else value


class GenerationSettings(Model):
    """One client key (DSN) generation; ``true``/``false`` is short for ``{active: ...}``."""

    active: Bool = Field(True, description="false disables the key in Sentry (ingest answers 403)")
    rate_limit: RateLimitSettings | None = Field(None, description="Per-key event rate limit {count, window}")
    browser_sdk_version: BrowserSdkVersion | None = Field(
        None, description="Loader SDK version such as '8.x' or 'latest'")
    loader: LoaderSettings | None = Field(None, description="JavaScript loader options")


Generation = Annotated[
    GenerationSettings, BeforeValidator(_generation, json_schema_input_type=bool | GenerationSettings)
]


class ServiceKeysSettings(Model):
    """A service's client-key generations in this stack; ``current`` names the one whose DSN is rendered."""

    current: Annotated[str, text("the label of a key generation")] = Field(
        description="the generation whose DSN the service uses")
    generations: dict[str, Generation] = Field(
        description="Generation label -> {active, rateLimit, browserSdkVersion, loader}",
        json_schema_extra={"propertyNames": {"pattern": GENERATION_RE.pattern}})

    @model_validator(mode="after")
    def _current_is_active(self) -> Self:
        issues: list[Issue] = []
        if not self.generations:
            issues.append(Issue(("generations",), {},
                                "must list at least one key generation, e.g. {g1: {active: true}}"))
        for label, gen in self.generations.items():
            if not GENERATION_RE.match(label):
                issues.append(Issue(("generations", label), gen.model_dump(exclude_unset=True, by_alias=True),
                                    f"bad generation label '{label}': {GENERATION_RULE}"))
        current = self.generations.get(self.current)
        if self.generations and current is None:
            issues.append(Issue(("current",), self.current,
                                f"no such generation; generations: {', '.join(sorted(self.generations))}"))
        elif current is not None and not current.active:
            actives = ", ".join(sorted(g for g, s in self.generations.items() if s.active)) or "none"
            issues.append(Issue(("current",), self.current,
                                f"generation {self.current} is disabled (active: false) and a disabled key can never"
                                f" be current; make an active generation current (active: {actives})"))
        check(issues)
        return self


def check_keys(keys: Mapping[str, ServiceKeysSettings], owners: set[str], dsn_of: Mapping[str, str]) -> None:
    """Keys belong to services that own a project (paths relative to ``keys``)."""
    issues: list[Issue] = []
    for name, entry in sorted(keys.items()):
        if name in owners:
            continue
        if name in dsn_of and dsn_of[name] != name:
            msg = f"{name} uses the DSN of {dsn_of[name]} (dsnFrom); configure keys under {dsn_of[name]}"
        else:
            msg = f"must name a service with its own sentry project ({', '.join(sorted(owners)) or 'none'})"
        issues.append(Issue((name,), entry.model_dump(exclude_unset=True, by_alias=True), msg))
    check(issues)


# --------------------------------------------------------------------------- alerts


def _condition(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


class ConditionSettings(Model):
    """A workflow condition ``{type, comparison, result}``; a bare string is a type without parameters."""

    type: Annotated[str, text("a condition type such as first_seen_event, regression_event,"
                              " event_frequency_count, level", pattern=IDENT_RE)] = Field(
        description="the condition type")
    comparison: Any = Field(True, description="The type's parameter object (true for types without any)")
    result: Bool = Field(True, description="The conditionResult")


Condition = Annotated[ConditionSettings, BeforeValidator(_condition, json_schema_input_type=str | ConditionSettings)]


class ActionSettings(Model):
    """A workflow action; every type but email and webhook needs its integration's id."""

    type: ActionType = Field(description=f"allowed: {', '.join(ACTION_TYPES)}")
    target_type: TargetType = Field("issue_owners", description="Who is notified")
    target_identifier: Annotated[str, text("a user/team id or channel")] | None = Field(
        None, description="User/team id or channel (required with targetType user, team, specific)")
    integration_id: Annotated[str, text("an integration id")] | None = Field(
        None, description="The integration's id (required for every type but email)")
    data: dict[str, Any] = Field(default_factory=dict, description="Extra action data")
    urls: list[WebhookUrl] = Field(
        default_factory=list, description="webhook: callback URLs, set as the WebHooks plugin's URLs of the alert's"
        " projects (the plugin POSTs every firing of the project to all of them)")

    @model_validator(mode="before")
    @classmethod
    def _webhook(cls, value: Any) -> Any:
        """A webhook action goes to the WebHooks plugin (``targetType: specific``, ``targetIdentifier: webhooks``)."""
        if isinstance(value, dict) and value.get("type") == "webhook":
            return {"targetType": "specific", "targetIdentifier": WEBHOOKS_PLUGIN, **value}
        return value

    @model_validator(mode="after")
    def _needs(self) -> Self:
        issues: list[Issue] = []
        if self.urls and self.type != "webhook":
            issues.append(Issue(("urls",), self.urls, "only a webhook action has callback URLs"))
        if self.type not in NON_INTEGRATION_ACTIONS and self.integration_id is None:
            issues.append(Issue(("integrationId",), MISSING,
                                f"required for {self.type} actions: the id of the {self.type} integration"))
        if self.target_type in ("user", "team", "specific") and self.target_identifier is None:
            issues.append(Issue(("targetIdentifier",), MISSING, f"required with targetType {self.target_type}"))
        check(issues)
        return self


class AlertSettings(Model):
    """An alert (a Sentry workflow) on the issues of some services, and optionally on monitors."""

    services: list[str] = Field(description="Services that report to Sentry whose issues feed the alert")
    actions: list[ActionSettings] = Field(description="What the alert does, e.g. [{type: email}]")
    triggers: list[Condition] | None = Field(
        None, description="When it fires; default first_seen_event and regression_event")
    trigger_logic: LogicType = Field("any-short", description="How triggers combine")
    filters: list[Condition] = Field(default_factory=list, description="Action filter conditions")
    filter_logic: LogicType = Field("all", description="How filters combine")
    monitors: list[str] = Field(default_factory=list, description="Monitors (by name) that also feed it")
    frequency_minutes: Frequency = Field(
        30, description="Minimum minutes between two firings for one issue")
    environment: EnvName | None = Field(None, description="Sentry environment; default the stack's")
    owner: Owner | None = Field(None, description="team:<id> or user:<id>")
    enabled: Bool = Field(True, description="false keeps it but turns it off")

    def trigger_conditions(self) -> list[ConditionSettings]:
        """The triggers, or the default ones (a new issue, a regression) when none are given."""
        if self.triggers is not None:
            return list(self.triggers)
        return [ConditionSettings(type=kind) for kind in DEFAULT_TRIGGER_TYPES]

    @model_validator(mode="after")
    def _non_empty(self) -> Self:
        issues: list[Issue] = []
        if not self.services:
            issues.append(Issue(("services",), [], "must list at least one service that reports to Sentry"))
        if not self.actions:
            issues.append(Issue(("actions",), [],
                                "must list at least one action, e.g. [{type: email, targetType: issue_owners}]"))
        for field, conditions, allowed in (("triggers", self.triggers or [], TRIGGER_TYPES),
                                           ("filters", self.filters, FILTER_TYPES)):
            for i, cond in enumerate(conditions):
                if cond.type not in allowed:
                    issues.append(Issue((field, i, "type"), cond.type, f"unknown {field[:-1]} type;"
                                        f" {suggest(cond.type, allowed)}allowed: {', '.join(allowed)}"))
        check(issues)
        return self


# --------------------------------------------------------------------------- monitors


class MonitorConditionSettings(Model):
    """A metric monitor condition: ``type`` against the threshold ``comparison``, giving priority ``result``."""

    type: MonitorConditionType = Field("gt", description="Comparison")
    comparison: Threshold = Field(description="the threshold, a number")
    result: MonitorResult = Field(75, description="Priority: 75 high, 50 low, 0 resolved")


class MonitorSettings(Model):
    """A metric monitor (a Sentry detector) on one service's project."""

    service: str = Field(description="A service that reports to Sentry")
    aggregate: AggregateText = Field(description="an aggregate such as count() or p95(transaction.duration)")
    conditions: list[MonitorConditionSettings] = Field(description="At least one {type, comparison, result}")
    dataset: Dataset = Field("events", description="The dataset queried")
    query: QueryText = Field("", description="Event search query")
    time_window_seconds: MonitorWindow = Field(3600, description=MONITOR_WINDOWS_RULE)
    event_types: list[EventType] = Field(default_factory=list, description="Event types; default by dataset")
    detection_type: DetectionType = Field("static", description="How it detects")
    comparison_delta_seconds: ComparisonDelta | None = Field(
        None, description="detectionType percent: compare with this many seconds earlier")
    environment: EnvName | None = Field(None, description="Sentry environment; default the stack's")
    owner: Owner | None = Field(None, description="team:<id> or user:<id>")
    description: Description | None = Field(None, description="Description")
    enabled: Bool = Field(True, description="false keeps it but turns it off")

    @model_validator(mode="after")
    def _needs(self) -> Self:
        issues: list[Issue] = []
        if not self.conditions:
            issues.append(Issue(("conditions",), [],
                                "must list at least one condition, e.g. [{type: gt, comparison: 100, result: 75}]"))
        if self.detection_type == "percent" and self.comparison_delta_seconds is None:
            issues.append(Issue(("comparisonDeltaSeconds",), MISSING, "required with detectionType percent; one of"
                                f" {', '.join(map(str, COMPARISON_DELTAS))}"))
        check(issues)
        return self


def check_names(objects: Mapping[str, Any], kind: str) -> None:
    """Names become Sentry names and Pulumi logical names (lowercased, other characters as '-')."""
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for name in sorted(objects):
        body = objects[name]
        shown = body.model_dump(exclude_unset=True, by_alias=True) if isinstance(body, Model) else body
        if not ALERT_NAME_RE.match(name):
            issues.append(Issue((name,), shown, f"bad {kind} name '{name}': must be {ALERT_NAME_RULE}"))
            continue
        norm = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if norm in seen:
            issues.append(Issue((name,), shown, f"too close to the name '{seen[norm]}' (both become '{norm}');"
                                " rename one"))
        else:
            seen[norm] = name
    check(issues)


def check_references(
    alerts: Mapping[str, AlertSettings] | None,
    monitors: Mapping[str, MonitorSettings] | None,
    reporting: Mapping[str, Any] | None,
    monitor_names: set[str] | None,
) -> list[Issue]:
    """Alerts and monitors name services that report to Sentry, and alerts name declared monitors."""
    issues: list[Issue] = []
    allowed = ", ".join(sorted(reporting or ())) or "none"
    for name, monitor in sorted((monitors or {}).items()):
        if reporting is not None and monitor.service not in reporting:
            issues.append(Issue((name, "service"), monitor.service,
                                f"must name a service that reports to Sentry ({allowed})"))
    for name, alert in sorted((alerts or {}).items()):
        for i, svc in enumerate(alert.services if reporting is not None else ()):
            if svc not in reporting:  # type: ignore[operator]
                issues.append(Issue((name, "services", i), svc,
                                    f"must name a service that reports to Sentry ({allowed})"))
        for i, mon in enumerate(alert.monitors if monitor_names is not None else ()):
            if mon not in monitor_names:  # type: ignore[operator]
                issues.append(Issue((name, "monitors", i), mon,
                                    f"no such monitor; monitors: {', '.join(sorted(monitor_names or ())) or 'none'}"))
    return issues


__all__ = [
    "DEFAULT_TRIGGER_TYPES",
    "ActionSettings",
    "AlertSettings",
    "ConditionSettings",
    "GenerationSettings",
    "LoaderSettings",
    "MonitorConditionSettings",
    "MonitorSettings",
    "RateLimitSettings",
    "ServiceKeysSettings",
    "check_keys",
    "check_names",
    "check_references",
]
